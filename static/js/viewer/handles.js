// The annotator's geometry: new shapes from what the user drew, the handles of a selected shape and what
// dragging one does. Pure functions on ROIs (ClearML frame JSON with frames/shapes.py's `shape`), in the source's
// pixels, every point kept inside the image (shapes snap to the image bounds). No DOM.

import { clampPoint, toPoly } from "./edit.js";
import { boxCorners, rotate } from "./geometry.js";
import { splitPoly, toPoints } from "./rois.js";

const round = (value) => Math.round(value * 100) / 100; // a hundredth of a pixel: short JSON, no visible loss

function corners(a, b, size) {
  const [x0, y0] = clampPoint(a, size);
  const [x1, y1] = clampPoint(b, size);
  return { left: Math.min(x0, x1), top: Math.min(y0, y1), width: Math.abs(x1 - x0), height: Math.abs(y1 - y0) };
}

/** The `shape` of a box dragged from corner `a` to corner `b`. */
export function boxShape(a, b, size) {
  const { left, top, width, height } = corners(a, b, size);
  return { type: "box", xywh: [left, top, width, height].map(round), angle: 0 };
}

/** The `shape` of the ellipse inside the box dragged from `a` to `b`. */
export function ellipseShape(a, b, size) {
  const { left, top, width, height } = corners(a, b, size);
  return { type: "ellipse", xyrrt: [left + width / 2, top + height / 2, width / 2, height / 2, 0].map(round) };
}

/** The ClearML poly of a polygon clicked point by point. */
export function polygonPoly(points, size) {
  return toPoly([points.map((point) => clampPoint(point, size).map(round))]);
}

/** The `shape` of key points clicked one by one. */
export function pointsShape(points, size) {
  return { type: "points", xy: points.flatMap((point) => clampPoint(point, size).map(round)) };
}

/** The handles of an ROI, each {kind, point, ...}: `vertex` (polygon `part`, `index`), `midpoint` (drag to add a
 * vertex after `index`), `corner` (a box's corner `index`, clockwise from top left), `axis` (an ellipse's axis
 * end: `axis` 0 for rx, 1 for ry, `sign` ±1), `point` (key point `index`). */
export function handlesOf(roi) {
  const shape = roi.shape;
  if (shape?.type === "box") return boxCorners(shape.xywh, shape.angle || 0).map((point, index) => ({ kind: "corner", index, point }));
  if (shape?.type === "ellipse") {
    const [cx, cy, rx, ry, angle = 0] = shape.xyrrt;
    const ends = [[cx + rx, cy, 0, 1], [cx - rx, cy, 0, -1], [cx, cy + ry, 1, 1], [cx, cy - ry, 1, -1]];
    return ends.map(([x, y, axis, sign]) => ({ kind: "axis", axis, sign, point: rotate([x, y], [cx, cy], angle) }));
  }
  if (shape?.type === "points") return toPoints(shape.xy).map((point, index) => ({ kind: "point", index, point }));
  const handles = [];
  splitPoly(roi.poly).map(toPoints).forEach((polygon, part) => {
    polygon.forEach((point, index) => {
      const next = polygon[(index + 1) % polygon.length];
      handles.push({ kind: "vertex", part, index, point });
      handles.push({ kind: "midpoint", part, index, point: [(point[0] + next[0]) / 2, (point[1] + next[1]) / 2] });
    });
  });
  return handles;
}

/** The handle nearest `point` within `tolerance` (vertices and corners before midpoints), or null. */
export function handleAt(handles, point, tolerance) {
  let best = null;
  let bestScore = Infinity;
  for (const handle of handles) {
    const distance = Math.hypot(handle.point[0] - point[0], handle.point[1] - point[1]);
    const score = distance + (handle.kind === "midpoint" ? tolerance / 2 : 0);
    if (distance <= tolerance && score < bestScore) {
      best = handle;
      bestScore = score;
    }
  }
  return best;
}

/** The ROI after dragging `handle` to `point`. A midpoint handle must be turned into a vertex first
 * (edit.js insertVertex, then drag the new vertex). */
export function dragHandle(roi, handle, point, size) {
  const at = clampPoint(point, size).map(round);
  const moved = structuredClone(roi);
  if (handle.kind === "vertex") {
    const polygons = splitPoly(roi.poly).map(toPoints);
    polygons[handle.part][handle.index] = at;
    moved.poly = toPoly(polygons);
  } else if (handle.kind === "point") {
    moved.shape.xy[2 * handle.index] = at[0];
    moved.shape.xy[2 * handle.index + 1] = at[1];
  } else if (handle.kind === "corner") {
    moved.shape.xywh = resizedBox(roi.shape, handle.index, at);
  } else if (handle.kind === "axis") {
    const [cx, cy, rx, ry, angle = 0] = roi.shape.xyrrt;
    const [lx, ly] = rotate(at, [cx, cy], -angle); // the pointer in the ellipse's own axes
    const radius = round(Math.abs(handle.axis === 0 ? lx - cx : ly - cy));
    moved.shape.xyrrt = handle.axis === 0 ? [cx, cy, radius, ry, angle] : [cx, cy, rx, radius, angle];
  }
  return moved;
}

/** A box's xywh with corner `index` at `point` and the opposite corner where it was (turned boxes too: the
 * corners are worked out in the box's own axes, then its centre is turned back). */
function resizedBox({ xywh, angle = 0 }, index, point) {
  const [left, top, width, height] = xywh;
  const centre = [left + width / 2, top + height / 2];
  const local = boxCorners(xywh, 0);
  const fixed = local[(index + 2) % 4];
  const dragged = rotate(point, centre, -angle);
  const minX = Math.min(fixed[0], dragged[0]);
  const minY = Math.min(fixed[1], dragged[1]);
  const w = Math.abs(dragged[0] - fixed[0]);
  const h = Math.abs(dragged[1] - fixed[1]);
  const [cx, cy] = rotate([minX + w / 2, minY + h / 2], centre, angle);
  return [cx - w / 2, cy - h / 2, w, h].map(round);
}
