// Geometry of the viewer's shapes, in the source's pixels: pure functions, no DOM.
//
// Boxes and ellipses turn about their centre, clockwise in degrees (image y points down), as frames/schema.py
// documents them. Outlines are lists of [x, y] points; an ellipse's outline is a polygon of ELLIPSE_STEPS
// points, used for bounds and hit tests (drawing uses the exact curve).

export const ELLIPSE_STEPS = 64;

const radians = (degrees) => ((degrees || 0) * Math.PI) / 180;

/** [x, y] turned `degrees` clockwise about [cx, cy]. */
export function rotate([x, y], [cx, cy], degrees) {
  const a = radians(degrees);
  const cos = Math.cos(a);
  const sin = Math.sin(a);
  const dx = x - cx;
  const dy = y - cy;
  return [cx + dx * cos - dy * sin, cy + dx * sin + dy * cos];
}

/** The four corners of a box [left, top, width, height] turned `angle` degrees about its centre. */
export function boxCorners([left, top, width, height], angle = 0) {
  const centre = [left + width / 2, top + height / 2];
  const corners = [[left, top], [left + width, top], [left + width, top + height], [left, top + height]];
  return angle ? corners.map((corner) => rotate(corner, centre, angle)) : corners;
}

/** An ellipse [cx, cy, rx, ry, angle] as a polygon of `steps` points. */
export function ellipsePoints([cx, cy, rx, ry, angle = 0], steps = ELLIPSE_STEPS) {
  const points = [];
  for (let i = 0; i < steps; i += 1) {
    const t = (2 * Math.PI * i) / steps;
    points.push(rotate([cx + rx * Math.cos(t), cy + ry * Math.sin(t)], [cx, cy], angle));
  }
  return points;
}

/** [minX, minY, maxX, maxY] of lists of points (null when there are none). */
export function bounds(pointLists) {
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (const points of pointLists) {
    for (const [x, y] of points) {
      if (x < minX) minX = x;
      if (y < minY) minY = y;
      if (x > maxX) maxX = x;
      if (y > maxY) maxY = y;
    }
  }
  return minX === Infinity ? null : [minX, minY, maxX, maxY];
}

/** Whether [x, y] is inside the polygon (even-odd rule, as the canvas fills it). */
export function insidePolygon([x, y], polygon) {
  let inside = false;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i, i += 1) {
    const [xi, yi] = polygon[i];
    const [xj, yj] = polygon[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** The distance from [x, y] to the segment [a, b]. */
export function segmentDistance([x, y], [ax, ay], [bx, by]) {
  const dx = bx - ax;
  const dy = by - ay;
  const length2 = dx * dx + dy * dy;
  const t = length2 ? Math.max(0, Math.min(1, ((x - ax) * dx + (y - ay) * dy) / length2)) : 0;
  return Math.hypot(x - (ax + t * dx), y - (ay + t * dy));
}

/** The distance from [x, y] to a polygon's outline. */
export function outlineDistance(point, polygon) {
  let best = Infinity;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i, i += 1) {
    best = Math.min(best, segmentDistance(point, polygon[j], polygon[i]));
  }
  return best;
}

/** The area of a polygon (shoelace formula), for picking the smallest of overlapping shapes. */
export function polygonArea(polygon) {
  let twice = 0;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i, i += 1) {
    twice += polygon[j][0] * polygon[i][1] - polygon[i][0] * polygon[j][1];
  }
  return Math.abs(twice) / 2;
}
