// Editing ROIs for the annotator: pure functions from an ROI (ClearML frame JSON, with the `shape` field of
// frames/shapes.py) to a new ROI, in the source's pixels, and the checks the annotator shows beside a field
// before anything is saved (the server checks them again: frames/schema.py). No DOM.

import { POLY_SEPARATOR, splitPoly, toPoints } from "./rois.js";

const clamp = (value, low, high) => Math.min(high, Math.max(low, value));

/** A point kept inside an image of `width` x `height` (shapes snap to the image bounds). */
export function clampPoint([x, y], { width, height }) {
  return [clamp(x, 0, width), clamp(y, 0, height)];
}

/** Polygons (lists of [x, y]) as ClearML's flat poly, -999999999 between them. */
export function toPoly(polygons) {
  const flat = [];
  polygons.forEach((polygon, i) => {
    if (i) flat.push(POLY_SEPARATOR);
    for (const [x, y] of polygon) flat.push(x, y);
  });
  return flat;
}

function polygonsOf(roi) {
  return splitPoly(roi.poly).map(toPoints);
}

/** The ROI moved by (dx, dy), kept inside the image as a whole (it stops at the edge, it is not squashed). */
export function moveRoi(roi, dx, dy, size) {
  const points = roiPoints(roi);
  if (!points.length) return structuredClone(roi);
  const xs = points.map(([x]) => x);
  const ys = points.map(([, y]) => y);
  const mx = clamp(dx, -Math.min(...xs), size.width - Math.max(...xs));
  const my = clamp(dy, -Math.min(...ys), size.height - Math.max(...ys));
  const moved = structuredClone(roi);
  if (roi.poly?.length) moved.poly = toPoly(polygonsOf(roi).map((polygon) => polygon.map(([x, y]) => [x + mx, y + my])));
  const shape = moved.shape;
  if (shape?.type === "box") shape.xywh = [shape.xywh[0] + mx, shape.xywh[1] + my, shape.xywh[2], shape.xywh[3]];
  if (shape?.type === "ellipse") shape.xyrrt = [shape.xyrrt[0] + mx, shape.xyrrt[1] + my, ...shape.xyrrt.slice(2)];
  if (shape?.type === "points") shape.xy = shape.xy.map((value, i) => value + (i % 2 ? my : mx));
  return moved;
}

/** The ROI with every point inside the image (a shape pasted from a larger image snaps to its edges). */
export function clampRoi(roi, size) {
  const clamped = structuredClone(roi);
  if (roi.poly?.length) clamped.poly = toPoly(polygonsOf(roi).map((polygon) => polygon.map((point) => clampPoint(point, size))));
  const shape = clamped.shape;
  if (shape?.type === "box") {
    const [x, y, w, h] = shape.xywh;
    const [left, top] = clampPoint([x, y], size);
    const [right, bottom] = clampPoint([x + w, y + h], size);
    shape.xywh = [left, top, right - left, bottom - top];
  }
  if (shape?.type === "ellipse") {
    const [cx, cy] = clampPoint(shape.xyrrt, size);
    const [, , rx, ry, ...rest] = shape.xyrrt;
    shape.xyrrt = [cx, cy, Math.min(rx, cx, size.width - cx), Math.min(ry, cy, size.height - cy), ...rest];
  }
  if (shape?.type === "points") shape.xy = toPoints(shape.xy).flatMap((point) => clampPoint(point, size));
  return clamped;
}

/** Every point an ROI is drawn through (for bounds): poly vertices, a box's corners, an ellipse's extent, key points. */
export function roiPoints(roi) {
  const shape = roi.shape;
  if (shape?.type === "box") {
    const [x, y, w, h] = shape.xywh;
    return [[x, y], [x + w, y + h]];
  }
  if (shape?.type === "ellipse") {
    const [cx, cy, rx, ry] = shape.xyrrt;
    const r = Math.max(rx, ry); // any rotation stays inside the circle of the larger radius
    return [[cx - r, cy - r], [cx + r, cy + r]];
  }
  if (shape?.type === "points") return toPoints(shape.xy);
  return polygonsOf(roi).flat();
}

/** Polygon `part`'s vertex `index` moved to `point` (clamped to the image). */
export function moveVertex(roi, part, index, point, size) {
  const polygons = polygonsOf(roi);
  polygons[part][index] = clampPoint(point, size);
  return { ...structuredClone(roi), poly: toPoly(polygons) };
}

/** A vertex inserted after `index` in polygon `part` (on an edge the user clicked). */
export function insertVertex(roi, part, index, point, size) {
  const polygons = polygonsOf(roi);
  polygons[part].splice(index + 1, 0, clampPoint(point, size));
  return { ...structuredClone(roi), poly: toPoly(polygons) };
}

/** Vertex `index` of polygon `part` removed; null when the polygon would keep fewer than 3 points. */
export function deleteVertex(roi, part, index) {
  const polygons = polygonsOf(roi);
  if (polygons[part].length <= 3) return null;
  polygons[part].splice(index, 1);
  return { ...structuredClone(roi), poly: toPoly(polygons) };
}

/** What is wrong with an ROI, as [{field, message}] the annotator shows beside each field ([] when nothing). */
export function roiProblems(roi) {
  const problems = [];
  const add = (field, message) => problems.push({ field, message });
  (roi.labels || []).forEach((label, i) => {
    if (typeof label !== "string" || !label.trim()) add(`labels[${i}]`, "a label cannot be empty");
    else if (label.length > 255) add(`labels[${i}]`, "a label has at most 255 characters");
  });
  if (roi.confidence !== undefined && roi.confidence !== null) {
    const value = Number(roi.confidence);
    if (!Number.isFinite(value) || value < 0 || value > 1) add("confidence", "the confidence is a number from 0 to 1");
  }
  polygonsOf(roi).forEach((polygon, i) => {
    if (polygon.length < 3) add(`poly[${i}]`, "a polygon needs at least 3 points");
  });
  const shape = roi.shape;
  if (shape?.type === "box" && !(shape.xywh[2] > 0 && shape.xywh[3] > 0)) add("shape.xywh", "a box needs a width and a height");
  if (shape?.type === "ellipse" && !(shape.xyrrt[2] > 0 && shape.xyrrt[3] > 0)) add("shape.xyrrt", "an ellipse needs two radii");
  if (shape?.type === "points" && shape.xy.length < 2) add("shape.xy", "key points need at least one point");
  return problems;
}

/** Metadata typed as JSON text: {value} when it is a JSON object, else {error} saying where it is wrong. */
export function parseMeta(text) {
  if (!text.trim()) return { value: {} };
  try {
    const value = JSON.parse(text);
    if (value === null || typeof value !== "object" || Array.isArray(value)) return { error: "metadata is a JSON object: {...}" };
    return { value };
  } catch (exc) {
    return { error: `not valid JSON: ${exc.message}` };
  }
}
