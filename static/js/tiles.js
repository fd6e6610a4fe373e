// Thumbnails as the Frames tab and Split Preview show them: each tile's ROIs drawn by the viewer's module
// (draw.js, as on the film strip) from the JSON island the server sends with the page (#fb-rois), with a switch
// remembered in localStorage, and label chips that do not fit a tile ending with "+N" (its title lists the rest).

import { readJson } from "./viewer/contract.js";
import { drawShapes } from "./viewer/draw.js";
import { shapesOnSource } from "./viewer/rois.js";

const ROIS_KEY = "hd.tileRois";
const SVG_NS = "http://www.w3.org/2000/svg";

/** Draw the ROIs of every thumbnail on the page (once): an SVG over each preview whose source size is known,
 * placed as `object-fit: contain` places the picture, so the shapes sit on it whatever its aspect ratio. */
let roisDrawn = false;
function drawTileRois(items) {
  if (roisDrawn) return;
  roisDrawn = true;
  const island = readJson("fb-rois");
  if (!island) return;
  for (const item of document.querySelectorAll(items)) {
    const entry = island[item.dataset.frameId ?? item.dataset.contextId];
    if (!entry || !entry.rois.length) continue;
    for (const figure of item.querySelectorAll(".tile-src[data-w][data-h]")) {
      const shapes = shapesOnSource(entry.rois, figure.dataset.sourceId, entry.sources);
      if (!shapes.length || !figure.querySelector("img")) continue;
      const width = Number(figure.dataset.w);
      const height = Number(figure.dataset.h);
      const svg = document.createElementNS(SVG_NS, "svg");
      svg.setAttribute("class", "fv-overlay tile-rois");
      svg.setAttribute("aria-hidden", "true");
      drawShapes(svg, shapes, { width, height });
      svg.setAttribute("preserveAspectRatio", "xMidYMid meet"); // where object-fit: contain puts the picture
      svg.style.setProperty("--point-r", `${Math.max(width, height) / 60}px`); // key points readable at any size
      figure.append(svg);
    }
  }
}

function roisShown() {
  try {
    if (localStorage.getItem(ROIS_KEY) === "off") return false; // pages without the head script (Split Preview)
  } catch {
    // private mode: the page's own state only
  }
  return document.documentElement.dataset.tileRois !== "off";
}

/** Draw the thumbnails' ROIs of the items `items` (a selector) unless the user switched them off; the switch
 * (#fb-rois-toggle, when the page has one) turns them on and off and is remembered. */
export function setupTileRois(items) {
  const button = document.getElementById("fb-rois-toggle");
  const apply = (shown) => {
    document.documentElement.dataset.tileRois = shown ? "on" : "off";
    if (button) {
      button.classList.toggle("on", shown);
      button.setAttribute("aria-checked", String(shown));
    }
    if (shown) drawTileRois(items);
  };
  apply(roisShown());
  button?.addEventListener("click", () => {
    const shown = !roisShown();
    try { localStorage.setItem(ROIS_KEY, shown ? "on" : "off"); } catch { /* private mode */ }
    apply(shown);
  });
}

function chipText(chip) {
  const label = chip.firstChild?.textContent || "";
  const count = chip.querySelector(".chip-n")?.textContent;
  return chip.classList.contains("chip-frame") ? `${label} (frame label)` : count ? `${label} (${count})` : label;
}

/** Hide the chips of a tile that do not fit its two rows and end the rest with "+N" (a title lists them). */
function fitChips(container) {
  const chips = [...container.querySelectorAll(":scope > .chip:not(.chip-more)")];
  const fits = (chip) => chip.offsetTop + chip.offsetHeight <= container.clientHeight;
  let shown = chips.findIndex((chip) => !fits(chip));
  if (shown < 0) return;
  const more = document.createElement("span");
  more.className = "chip chip-more";
  container.append(more);
  const update = () => {
    chips.forEach((chip, i) => { chip.hidden = i >= shown; });
    more.textContent = `+${chips.length - shown}`;
    more.title = chips.slice(shown).map(chipText).join(", ");
    more.setAttribute("aria-label", `${chips.length - shown} more: ${more.title}`);
  };
  update();
  while (shown > 0 && !fits(more)) {
    shown -= 1;
    update();
  }
}

/** Fit the chips of the tiles `selector` names, again whenever `observed` (their grid) changes size. */
export function setupChips(selector, observed) {
  const refit = () => {
    const all = [...document.querySelectorAll(selector)];
    for (const container of all) {
      container.querySelector(".chip-more")?.remove();
      for (const chip of container.children) chip.hidden = false;
    }
    // One layout for all, then only the tiles whose chips overflow are fitted chip by chip.
    all.filter((c) => c.scrollHeight > c.clientHeight + 1).forEach(fitChips);
  };
  let pending = 0;
  const later = () => {
    cancelAnimationFrame(pending);
    pending = requestAnimationFrame(refit);
  };
  refit();
  if (observed && window.ResizeObserver) new ResizeObserver(later).observe(observed);
  document.getElementById("fb-tile-size")?.addEventListener("input", later);
}

