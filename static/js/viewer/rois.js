// The ROIs of a ClearML frame as shapes to draw on one source: pure functions, no DOM (draw.js and stage.js
// draw them).
//
// A shape is {kind, index, id, labels, text, colour, confidence, meta, polygons, ellipse, points, outlines,
// bbox, area}, all in the source's pixels:
//   kind      "polygon" (ClearML's poly, several polygons when -999999999 separates them), "box", "ellipse"
//             or "points" (key points), from the ROI's `shape` when it has one (frames/schema.py), else `poly`
//   index     the ROI's position in frame.rois
//   polygons  what is outlined: the polygons of a poly, a box's four corners; [] for ellipses and points
//   ellipse   [cx, cy, rx, ry, angle] of an ellipse, else null
//   points    the key points, [[x, y], ...], else []
//   outlines  polygons for bounds and hit tests (an ellipse's as a polygon)

import { roiColour } from "./colours.js";
import { boxCorners, bounds, ellipsePoints, insidePolygon, outlineDistance, polygonArea } from "./geometry.js";

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

/** A frame label: an ROI with no poly, no shape and no mask (it labels the whole frame). */
export function isFrameLabel(roi) {
  return !(roi.poly && roi.poly.length) && !roi.shape && !roi.mask;
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

/** The geometry of an ROI: {kind, polygons, ellipse, points, outlines}, or null when it has nothing to draw. */
export function roiGeometry(roi) {
  const shape = roi.shape;
  if (shape?.type === "box" && shape.xywh?.length === 4) {
    const corners = boxCorners(shape.xywh, shape.angle || 0);
    return { kind: "box", polygons: [corners], ellipse: null, points: [], outlines: [corners] };
  }
  if (shape?.type === "ellipse" && shape.xyrrt?.length >= 4) {
    const [cx, cy, rx, ry, angle = 0] = shape.xyrrt;
    const ellipse = [cx, cy, rx, ry, angle];
    return { kind: "ellipse", polygons: [], ellipse, points: [], outlines: [ellipsePoints(ellipse)] };
  }
  if (shape?.type === "points" && shape.xy?.length >= 2) {
    const points = toPoints(shape.xy);
    return { kind: "points", polygons: [], ellipse: null, points, outlines: [] };
  }
  const polygons = splitPoly(roi.poly).filter((part) => part.length >= 4).map(toPoints);
  if (!polygons.length) return null;
  return { kind: "polygon", polygons, ellipse: null, points: [], outlines: polygons };
}

/** The shape of one ROI (frame.rois[index]), or null when it has nothing to draw. */
export function roiShape(roi, index) {
  const geometry = roiGeometry(roi);
  if (!geometry) return null;
  const labels = roiLabels(roi);
  const box = bounds([...geometry.outlines, geometry.points]);
  return {
    ...geometry,
    index,
    id: roi.id ?? null,
    labels,
    text: labels.join(", ") || "(no label)",
    colour: roiColour(labels),
    confidence: roi.confidence ?? null,
    meta: roi.meta ?? null,
    bbox: box,
    area: geometry.outlines.reduce((sum, outline) => sum + polygonArea(outline), 0),
  };
}

/** The frame labels of a frame (ROIs that label the whole frame): [{index, labels, text, colour, confidence}]. */
export function frameLabels(rois) {
  const result = [];
  (rois || []).forEach((roi, index) => {
    if (!isFrameLabel(roi)) return;
    const labels = roiLabels(roi);
    result.push({ index, labels, text: labels.join(", ") || "(no label)", colour: roiColour(labels), confidence: roi.confidence ?? null });
  });
  return result;
}

/** Whether a shape passes the minimum confidence: one without a confidence always does. */
export function aboveConfidence(shape, minimum) {
  return shape.confidence === null || shape.confidence === undefined || shape.confidence >= minimum;
}

/** The shape under `point` (image pixels): a key point or outline within `tolerance`, else the smallest
 * shape that contains it; null when none. */
export function shapeAt(shapes, point, tolerance) {
  let best = null;
  let bestScore = Infinity;
  const consider = (shape, score) => {
    if (score < bestScore) {
      best = shape;
      bestScore = score;
    }
  };
  for (const shape of shapes) {
    const [minX, minY, maxX, maxY] = shape.bbox;
    if (point[0] < minX - tolerance || point[0] > maxX + tolerance || point[1] < minY - tolerance || point[1] > maxY + tolerance) continue;
    for (const [x, y] of shape.points) {
      if (Math.hypot(point[0] - x, point[1] - y) <= tolerance) consider(shape, -1); // points win over areas
    }
    for (const outline of shape.outlines) {
      if (outlineDistance(point, outline) <= tolerance) consider(shape, 0);
      else if (insidePolygon(point, outline)) consider(shape, shape.area || 1);
    }
  }
  return best;
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
