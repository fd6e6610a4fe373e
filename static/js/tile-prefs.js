// The Frames tab's tile size and ROI overlay as the user last chose them (static/js/frames.js keeps them in
// localStorage), applied from <head> before the grid is drawn so that it does not jump. A file rather than an
// inline script: the Content-Security-Policy allows scripts from this site's files only.
try {
  const size = localStorage.getItem("hd.tileSize");
  if (size) document.documentElement.style.setProperty("--tile", size + "px");
  if (localStorage.getItem("hd.tileRois") === "off") document.documentElement.dataset.tileRois = "off";
} catch (e) {
  // storage disabled: the defaults apply
}
