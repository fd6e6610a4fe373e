// What the annotator draws over one source (a stage layer, stage.js): the ROI being dragged (the ROI layer leaves
// it out meanwhile, so the other ROIs stay one cached drawing), the handles of the selected ROI, and the shape
// being drawn with the line to the pointer.

import { handlesOf } from "./handles.js";
import { shapePath } from "./roi-layer.js";

const HANDLE = 4; // half a handle's side, CSS pixels
const LINE = 2;
const DRAFT_COLOUR = "#ffcc00";

export class EditLayer {
  constructor() {
    this.volatile = true; // redrawn on every pointer move over the layers under it, which the stage keeps (stage.js)
    this.live = null; // {shape} the ROI being dragged, drawn as it is now
    this.selected = null; // {roi, shape, locked} the selected ROI of this source
    this.draft = null; // {tool, points: [[x, y]...], pointer: [x, y] | null}
  }

  draw(ctx, { scale }) {
    ctx.lineJoin = "round";
    const focus = this.live || this.selected;
    if (focus) this.drawShape(ctx, focus.shape, scale, this.live ? 0.3 : 0);
    if (this.selected && !this.selected.locked) this.drawHandles(ctx, this.live?.roi || this.selected.roi, focus.shape.colour, scale);
    if (this.selected?.locked) this.drawLock(ctx, this.selected.shape, scale);
    if (this.draft) this.drawDraft(ctx, scale);
  }

  drawShape(ctx, shape, scale, fill) {
    const path = shapePath(shape);
    if (fill) {
      ctx.globalAlpha = fill;
      ctx.fillStyle = shape.colour;
      ctx.fill(path);
      ctx.globalAlpha = 1;
    }
    ctx.lineWidth = (LINE + 3) / scale;
    ctx.strokeStyle = "#fff";
    ctx.stroke(path);
    ctx.lineWidth = LINE / scale;
    ctx.strokeStyle = shape.colour;
    ctx.stroke(path);
    for (const point of shape.points) {
      ctx.beginPath();
      ctx.arc(point[0], point[1], (HANDLE + 1) / scale, 0, 2 * Math.PI);
      ctx.fillStyle = shape.colour;
      ctx.fill();
    }
  }

  drawHandles(ctx, roi, colour, scale) {
    const handles = handlesOf(roi);
    const mids = new Path2D();
    const main = new Path2D();
    for (const handle of handles) {
      const [x, y] = handle.point;
      if (handle.kind === "midpoint") {
        mids.moveTo(x + (HANDLE * 0.8) / scale, y);
        mids.arc(x, y, (HANDLE * 0.8) / scale, 0, 2 * Math.PI);
      } else {
        const half = HANDLE / scale;
        main.rect(x - half, y - half, 2 * half, 2 * half);
      }
    }
    ctx.lineWidth = 1.5 / scale;
    ctx.fillStyle = "#fff";
    ctx.strokeStyle = colour;
    ctx.fill(main);
    ctx.stroke(main);
    // Midpoints (drag one to add a vertex): the label's colour with a white ring, so they read as handles too.
    ctx.fillStyle = colour;
    ctx.strokeStyle = "#fff";
    ctx.fill(mids);
    ctx.stroke(mids);
  }

  drawLock(ctx, shape, scale) {
    ctx.setLineDash([4 / scale, 3 / scale]);
    ctx.lineWidth = 1.5 / scale;
    ctx.strokeStyle = "#fff";
    ctx.stroke(shapePath(shape));
    ctx.setLineDash([]);
  }

  drawDraft(ctx, scale) {
    const { tool, points, pointer } = this.draft;
    ctx.lineWidth = LINE / scale;
    ctx.strokeStyle = DRAFT_COLOUR;
    ctx.fillStyle = DRAFT_COLOUR;
    if (tool === "box" || tool === "ellipse") {
      const [[x0, y0], [x1, y1]] = [points[0], pointer || points[0]];
      ctx.beginPath();
      if (tool === "box") ctx.rect(Math.min(x0, x1), Math.min(y0, y1), Math.abs(x1 - x0), Math.abs(y1 - y0));
      else ctx.ellipse((x0 + x1) / 2, (y0 + y1) / 2, Math.abs(x1 - x0) / 2, Math.abs(y1 - y0) / 2, 0, 0, 2 * Math.PI);
      ctx.stroke();
      return;
    }
    if (tool === "polygon" && points.length) {
      ctx.beginPath();
      points.forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
      if (pointer) ctx.lineTo(pointer[0], pointer[1]);
      ctx.stroke();
    }
    for (const [i, point] of points.entries()) {
      ctx.beginPath();
      // The first vertex of a polygon is larger: clicking it closes the polygon.
      const radius = (tool === "polygon" && i === 0 ? HANDLE + 2 : HANDLE) / scale;
      ctx.arc(point[0], point[1], radius, 0, 2 * Math.PI);
      ctx.fill();
      ctx.strokeStyle = "#000";
      ctx.lineWidth = 1 / scale;
      ctx.stroke();
    }
  }
}
