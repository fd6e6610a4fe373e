// The ROIs of one source as a stage layer (stage.js): outlines and a light fill in each label's colour, key
// points as dots, the highlighted ROI on top, and in compare mode the changes since the parent version.
//
// Shapes are turned into Path2D objects once, in source pixels, and batched by style: a redraw on every
// viewport change is a few fill() and stroke() calls whatever the number of ROIs (bench/viewer.py measures it).

import { aboveConfidence } from "./rois.js";

const LINE = 2; // CSS pixels, at every zoom
const POINT_RADIUS = 4;
const FILL_ALPHA = 0.16;
// Compare mode: what each kind of change looks like (and its legend in the side panel).
export const DIFF_STYLES = Object.freeze({
  added: { colour: "#1a9e3f", dash: [], label: "added" },
  changed: { colour: "#e08a00", dash: [], label: "changed" },
  before: { colour: "#e08a00", dash: [6, 4], label: "before the change" },
  removed: { colour: "#d62728", dash: [6, 4], label: "removed" },
  unchanged: { colour: "#8a929c", dash: [], label: "unchanged" },
});

/** A Path2D of a shape's area (polygons and ellipses; key points have none). */
export function shapePath(shape) {
  const path = new Path2D();
  for (const polygon of shape.polygons) {
    polygon.forEach(([x, y], i) => (i ? path.lineTo(x, y) : path.moveTo(x, y)));
    path.closePath();
  }
  if (shape.ellipse) {
    const [cx, cy, rx, ry, angle] = shape.ellipse;
    path.ellipse(cx, cy, rx, ry, (angle * Math.PI) / 180, 0, 2 * Math.PI);
    path.closePath();
  }
  return path;
}

/** A line about LINE pixels wide as two 1 px strokes a pixel apart: software rasterisers (no GPU) draw 1 px lines
 * an order of magnitude faster than wider ones (bench/viewer.py: 500 polygons, 4 ms against 66 ms). */
function strokeTwice(ctx, path, scale) {
  const shift = (LINE - 1) / Math.SQRT2 / scale;
  ctx.stroke(path);
  ctx.translate(shift, shift);
  ctx.stroke(path);
  ctx.translate(-shift, -shift);
}

/** What the user hides, shared by the layers of every source of a frame (frame-page.js changes it). */
export function roiFilter() {
  return { hidden: new Set(), allHidden: false, minConfidence: 0 }; // hidden: ROI indexes hidden one by one
}

export class RoiLayer {
  constructor(shapes, filter = roiFilter()) {
    this.setShapes(shapes);
    this.filter = filter;
    this.editing = null; // the index of an ROI the annotator is dragging: it draws it (edit-layer.js)
    this.highlighted = null; // an ROI index
    this.diff = null; // {status: Map(index -> "added"|"changed"|"unchanged"), ghosts: [{shape, kind}]}
    this.batches = null;
  }

  setShapes(shapes) {
    this.shapes = shapes;
    this.byIndex = new Map(shapes.map((shape) => [shape.index, shape]));
    this.paths = new Map(shapes.map((shape) => [shape, shapePath(shape)]));
    this.batches = null;
  }

  setEditing(index) {
    if (this.editing === index) return;
    this.editing = index;
    this.batches = null;
  }

  /** The shapes on screen: not hidden, above the minimum confidence. */
  visibleShapes() {
    return this.shapes.filter((shape) => this.isVisible(shape.index));
  }

  /** Whether ROI `index` is drawn on this source. */
  isVisible(index) {
    const shape = this.byIndex.get(index);
    const { hidden, allHidden, minConfidence } = this.filter;
    return Boolean(shape) && !allHidden && !hidden.has(index) && aboveConfidence(shape, minConfidence);
  }

  /** Whether this layer draws ROI `index` now (the annotator draws the one it drags). */
  draws(index) {
    return index !== this.editing && this.isVisible(index);
  }

  changed() {
    this.batches = null;
  }

  /** Shapes grouped by how they are drawn: [{style: {colour, dash}, path, points: [[x, y]...]}]. */
  buildBatches() {
    const batches = new Map();
    const add = (shape, style, path) => {
      const key = `${style.colour}|${style.dash.join(",")}`;
      const batch = batches.get(key) || { style, path: new Path2D(), points: [] };
      batch.path.addPath(path);
      batch.points.push(...shape.points);
      batches.set(key, batch);
    };
    for (const shape of this.visibleShapes()) {
      if (shape.index === this.editing) continue;
      const style = this.diff ? DIFF_STYLES[this.diff.status.get(shape.index) || "unchanged"] : { colour: shape.colour, dash: [] };
      add(shape, style, this.paths.get(shape));
    }
    for (const ghost of this.diff?.ghosts || []) {
      if (aboveConfidence(ghost.shape, this.filter.minConfidence)) add(ghost.shape, DIFF_STYLES[ghost.kind], shapePath(ghost.shape));
    }
    return [...batches.values()];
  }

  draw(ctx, { scale }) {
    if (!this.batches) this.batches = this.buildBatches();
    ctx.lineJoin = "round";
    ctx.lineWidth = 1 / scale;
    for (const { style, path, points } of this.batches) {
      ctx.setLineDash(style.dash.map((d) => d / scale));
      ctx.fillStyle = style.colour;
      ctx.strokeStyle = style.colour;
      if (!style.dash.length) {
        ctx.globalAlpha = FILL_ALPHA;
        ctx.fill(path); // nonzero: where two ROIs of one colour overlap, both fill
      }
      ctx.globalAlpha = 1;
      strokeTwice(ctx, path, scale);
      this.drawPoints(ctx, points, POINT_RADIUS / scale);
    }
    this.drawHighlight(ctx, scale);
  }

  drawPoints(ctx, points, radius) {
    if (!points.length) return;
    const path = new Path2D();
    for (const [x, y] of points) {
      path.moveTo(x + radius, y);
      path.arc(x, y, radius, 0, 2 * Math.PI);
    }
    ctx.fill(path);
    ctx.save();
    ctx.strokeStyle = "#fff";
    ctx.lineWidth = radius / POINT_RADIUS; // 1 screen pixel
    ctx.setLineDash([]);
    ctx.stroke(path);
    ctx.restore();
  }

  drawHighlight(ctx, scale) {
    const shape = this.byIndex.get(this.highlighted);
    if (!shape || !this.draws(shape.index)) return;
    const path = this.paths.get(shape);
    ctx.setLineDash([]);
    ctx.globalAlpha = 0.38;
    ctx.fillStyle = shape.colour;
    ctx.fill(path); // nonzero: where two ROIs of one colour overlap, both fill
    ctx.globalAlpha = 1;
    ctx.lineWidth = (LINE + 4) / scale;
    ctx.strokeStyle = "#fff";
    ctx.stroke(path);
    ctx.lineWidth = (LINE + 1) / scale;
    ctx.strokeStyle = shape.colour;
    ctx.stroke(path);
    ctx.fillStyle = shape.colour;
    this.drawPoints(ctx, shape.points, (POINT_RADIUS + 2) / scale);
  }
}
