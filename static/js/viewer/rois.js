// The ROIs of a ClearML frame as shapes to draw on one source: pure functions, no DOM (draw.js draws them).
//
// A shape is {kind, index, id, labels, text, colour, confidence, polygons}: `index` is the ROI's position in
// frame.rois, `polygons` a list of polygons, each a list of [x, y] in the source's pixels. Only polygons today
// (`kind: "polygon"`); boxes, ellipses and key points are further kinds of the same object.

import { roiColour } from "./colours.js";

export const POLY_SEPARATOR = -999999999; // frames/schema.py POLY_SEPARATOR: ends one polygon of a multi-part poly

/** A flat ClearML poly split into its polygons, each flat [x0, y0, x1, y1, ...] (frames/schema.py split_poly). */
export function splitPoly(poly) {
  const parts = [];
  let current = [];
  for (const value of poly || []) {
    if (value === POLY_SEPARATOR) {
      parts.push(current);
      current = [];
    } else {
      current.push(value);
    }
  }
  if (current.length || parts.length) parts.push(current);
  return parts;
}

/** [x0, y0, x1, y1, ...] as [[x0, y0], [x1, y1], ...] (a trailing odd value is left out). */
export function toPoints(flat) {
  const points = [];
  for (let i = 0; i + 1 < flat.length; i += 2) points.push([flat[i], flat[i + 1]]);
  return points;
}

/** An ROI's labels: `labels`, or ClearML's older single `label`. */
export function roiLabels(roi) {
  const labels = roi.labels ?? roi.label ?? [];
  return typeof labels === "string" ? [labels] : labels.map(String);
}

/** A frame label: an ROI with neither a poly nor a mask (it labels the whole frame). */
export function isFrameLabel(roi) {
  return !(roi.poly && roi.poly.length) && !roi.mask;
}

/** The ids of a frame's sources, in order ("default" for a source that names none). */
export function sourceIds(sources) {
  return (sources || []).map((source) => String(source?.id ?? "default"));
}

/** The sources an ROI belongs to: those it names; one that names none belongs to the first (ClearML's "default"). */
export function roiSourceIds(roi, ids) {
  const named = (roi.sources || []).map(String);
  return named.length ? named : [ids[0] ?? "default"];
}

/** The shape of one ROI (frame.rois[index]), or null when it has nothing to draw. */
export function roiShape(roi, index) {
  const polygons = splitPoly(roi.poly).filter((part) => part.length >= 4).map(toPoints);
  if (!polygons.length) return null;
  const labels = roiLabels(roi);
  return {
    kind: "polygon",
    index,
    id: roi.id ?? null,
    labels,
    text: labels.join(", ") || "(no label)",
    colour: roiColour(labels),
    confidence: roi.confidence ?? null,
    polygons,
  };
}

/** The shapes to draw on source `sourceId` of a frame whose sources are `ids` (see sourceIds). */
export function shapesOnSource(rois, sourceId, ids) {
  const shapes = [];
  (rois || []).forEach((roi, index) => {
    if (!roiSourceIds(roi, ids).includes(String(sourceId))) return;
    const shape = roiShape(roi, index);
    if (shape) shapes.push(shape);
  });
  return shapes;
}

/** One legend entry per label text of `shapes`: {text, colour, count}, by text. */
export function legendEntries(shapes) {
  const entries = new Map();
  for (const shape of shapes) {
    const entry = entries.get(shape.text) || { text: shape.text, colour: shape.colour, count: 0 };
    entry.count += 1;
    entries.set(shape.text, entry);
  }
  return [...entries.values()].sort((a, b) => (a.text < b.text ? -1 : a.text > b.text ? 1 : 0));
}
