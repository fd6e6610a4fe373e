// Drawing shapes (rois.js) as SVG over an image, for the film strip's large image, and label chips. The frame
// page draws on a canvas instead (stage.js, roi-layer.js), which stays fast at any zoom and number of ROIs.
//
// The overlay's viewBox is the source's pixel size and the SVG is stretched over the image (the CSS gives both
// the same box), so a shape's coordinates are the source's pixels at any displayed size.

const SVG_NS = "http://www.w3.org/2000/svg";
const POINT_RADIUS = 3; // source pixels: key points on the film strip's large image

function svgElement(name, attributes = {}) {
  const node = document.createElementNS(SVG_NS, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  return node;
}

/** What a shape's tooltip says: its labels, and its confidence when it has one. */
export function shapeTitle(shape) {
  return shape.confidence === null ? shape.text : `${shape.text} · confidence ${shape.confidence}`;
}

function shapeNode(shape) {
  const group = svgElement("g", { class: "roi", "data-label": shape.text, "data-roi-index": shape.index });
  if (shape.id !== null) group.dataset.roiId = shape.id;
  group.style.setProperty("--c", shape.colour);
  const title = svgElement("title");
  title.textContent = shapeTitle(shape);
  group.append(title);
  for (const polygon of shape.polygons) {
    group.append(svgElement("polygon", { points: polygon.map(([x, y]) => `${x},${y}`).join(" "), "vector-effect": "non-scaling-stroke" }));
  }
  if (shape.ellipse) {
    const [cx, cy, rx, ry, angle] = shape.ellipse;
    group.append(svgElement("ellipse", { cx, cy, rx, ry, transform: `rotate(${angle} ${cx} ${cy})`, "vector-effect": "non-scaling-stroke" }));
  }
  for (const [x, y] of shape.points) group.append(svgElement("circle", { cx: x, cy: y, r: POINT_RADIUS, class: "roi-point" }));
  return group;
}

/** Draw `shapes` on the overlay `svg` of a source of `width` x `height` pixels (nothing when the size is unknown). */
export function drawShapes(svg, shapes, { width, height }) {
  svg.replaceChildren();
  if (!width || !height) {
    svg.removeAttribute("viewBox");
    return;
  }
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("preserveAspectRatio", "none");
  const fragment = document.createDocumentFragment();
  for (const shape of shapes) fragment.append(shapeNode(shape));
  svg.append(fragment);
}

/** A label chip (the look of the server's chips_html): a colour square, the label, an optional count. */
export function chip(label, colour, count = null) {
  const span = document.createElement("span");
  span.className = "chip";
  span.style.setProperty("--c", colour);
  span.textContent = label;
  if (count !== null) {
    const n = document.createElement("span");
    n.className = "chip-n";
    n.textContent = String(count);
    span.append(n);
  }
  return span;
}
