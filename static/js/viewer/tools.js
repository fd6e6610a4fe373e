// The annotator's pointer: the drawing tools (box and ellipse by dragging, polygon by clicking vertices, key
// points by clicking) and, with the select tool, moving a shape by dragging it, reshaping it by its handles
// (a midpoint handle adds a vertex; Alt+click on a vertex or key point deletes it). Drags the annotator takes
// are kept from OpenSeadragon (`preventDefaultAction`); dragging empty image, or anything with Space held,
// pans as in the viewer. Every finished gesture is one `annotator.apply` (one undo step).

import { deleteVertex, insertVertex, moveRoi } from "./edit.js";
import { EditLayer } from "./edit-layer.js";
import { boxShape, dragHandle, ellipseShape, handleAt, handlesOf, pointsShape, polygonPoly } from "./handles.js";
import { roiShape, roiSourceIds } from "./rois.js";

export const TOOLS = Object.freeze({
  select: { key: "v", name: "Select", what: "Select, move and reshape shapes" },
  box: { key: "b", name: "Box", what: "Draw a box: drag from corner to corner" },
  ellipse: { key: "e", name: "Ellipse", what: "Draw an ellipse: drag across it" },
  polygon: { key: "g", name: "Polygon", what: "Draw a polygon: click each vertex; click the first one or press Enter to close, Esc cancels" },
  points: { key: "k", name: "Key points", what: "Place key points: click each; Enter finishes, Esc cancels" },
});
const HIT = 7; // CSS pixels around a handle or vertex that still catch the pointer

export class Tools {
  constructor(page, annotator) {
    this.page = page;
    this.annotator = annotator;
    this.tool = "select";
    this.drag = null; // {kind: "create" | "move" | "handle", view, ...}
    this.draft = null; // {tool, view, points} a polygon or key points being clicked
    this.panning = false; // Space is held: the pointer pans
    this.pressEdited = false; // the last press changed the frame itself (Alt+click deleted a vertex)
    this.layers = new Map();
    for (const view of page.views) if (view.stage) this.attach(view);
    document.addEventListener("keydown", (event) => { if (event.key === " ") this.panning = true; });
    document.addEventListener("keyup", (event) => { if (event.key === " ") this.panning = false; });
  }

  attach(view) {
    const layer = view.stage.addLayer(new EditLayer());
    this.layers.set(view, layer);
    const viewer = view.stage.viewer;
    viewer.addHandler("canvas-press", (event) => this.press(view, event));
    viewer.addHandler("canvas-drag", (event) => this.dragTo(view, event));
    viewer.addHandler("canvas-drag-end", (event) => { if (this.drag) event.preventDefaultAction = true; });
    viewer.addHandler("canvas-release", () => this.release(view));
    viewer.addHandler("canvas-double-click", (event) => { if (this.tool !== "select") event.preventDefaultAction = true; });
  }

  setTool(tool) {
    if (!TOOLS[tool]) return;
    this.cancelDraft();
    this.tool = tool;
    this.page.root.dataset.tool = tool;
    this.annotator.notify();
  }

  size(view) {
    return view.stage.size;
  }

  point(view, event) {
    return view.stage.screenToImage([event.position.x, event.position.y]);
  }

  tolerance(view) {
    return HIT / view.stage.transform().scale;
  }

  // -- press, drag, release -----------------------------------------------------------------------------------

  press(view, event) {
    this.drag = null;
    this.pressEdited = false; // its click must then not change the selection
    if (this.panning || !view.stage.size.width) return;
    const point = this.point(view, event);
    if (this.tool === "box" || this.tool === "ellipse") {
      this.drag = { kind: "create", view, start: point };
      return;
    }
    if (this.tool === "select") this.grab(view, point, event.originalEvent);
  }

  /** With the select tool: take a handle of the selected ROI, else the shape under the pointer. */
  grab(view, point, original) {
    const { annotator, page } = this;
    const index = page.selected;
    const roi = annotator.state.rois[index];
    if (roi && this.onView(view, index) && !annotator.locked.has(index)) {
      const handle = handleAt(handlesOf(roi), point, this.tolerance(view));
      if (handle && original?.altKey) {
        this.deletePoint(index, roi, handle);
        this.pressEdited = true;
        return;
      }
      if (handle) {
        this.drag = handle.kind === "midpoint"
          ? { kind: "handle", view, index, roi: insertVertex(roi, handle.part, handle.index, point, this.size(view)), handle: { kind: "vertex", part: handle.part, index: handle.index + 1 } }
          : { kind: "handle", view, index, roi, handle };
        return;
      }
    }
    const shape = page.shapeUnder(view, point);
    if (!shape) return;
    page.select(shape.index, { toggle: false });
    if (!annotator.locked.has(shape.index)) this.drag = { kind: "move", view, index: shape.index, roi: annotator.state.rois[shape.index], start: point };
  }

  dragTo(view, event) {
    const drag = this.drag;
    if (!drag || drag.view !== view) return;
    event.preventDefaultAction = true; // the annotator's drag, not a pan
    const point = this.point(view, event);
    const layer = this.layers.get(view);
    if (drag.kind === "create") {
      drag.end = point;
      layer.draft = { tool: this.tool, points: [drag.start], pointer: point };
    } else {
      drag.live = drag.kind === "move"
        ? moveRoi(drag.roi, point[0] - drag.start[0], point[1] - drag.start[1], this.size(view))
        : dragHandle(drag.roi, drag.handle, point, this.size(view));
      if (!drag.started) this.page.setEditing(drag.index); // the ROI layer leaves it out while it moves
      drag.started = true;
      layer.live = { roi: drag.live, shape: roiShape(drag.live, drag.index) };
    }
    view.stage.redrawLive();
  }

  /** A shape is being dragged or drawn by dragging (the page leaves hover highlighting alone meanwhile). */
  get dragging() {
    return Boolean(this.drag);
  }

  release(view) {
    const drag = this.drag;
    this.drag = null;
    if (!drag || drag.view !== view) return;
    const layer = this.layers.get(view);
    layer.draft = null;
    layer.live = null;
    if (drag.kind === "create") {
      this.finishCreate(view, drag);
      return;
    }
    if (drag.started) this.page.setEditing(null);
    if (drag.live) this.annotator.updateRoi(drag.index, drag.live);
    else view.stage.redraw();
  }

  finishCreate(view, drag) {
    const pointer = drag.end || drag.start;
    const shape = this.tool === "box" ? boxShape(drag.start, pointer, this.size(view)) : ellipseShape(drag.start, pointer, this.size(view));
    const [, , w, h] = shape.xywh || [0, 0, shape.xyrrt[2], shape.xyrrt[3]];
    if (!(w > 0 && h > 0)) {
      this.annotator.setStatus(this.annotator.status, `Drag to draw a${this.tool === "box" ? " box" : "n ellipse"}: it needs a width and a height.`);
      view.stage.redraw();
      return;
    }
    this.annotator.addRois([this.newRoi(view, { shape })]);
  }

  // -- clicks: polygon vertices, key points, selection ------------------------------------------------------

  /** A quick click on source `view` at `point`; true when the annotator used it. */
  click(view, point) {
    if (this.tool === "polygon" || this.tool === "points") {
      this.addDraftPoint(view, point);
      return true;
    }
    if (this.tool !== "select" || this.pressEdited) return true;
    const shape = this.page.shapeUnder(view, point);
    this.page.select(shape ? shape.index : null, { toggle: false });
    return true;
  }

  addDraftPoint(view, point) {
    if (this.draft && this.draft.view !== view) this.cancelDraft();
    this.draft ||= { tool: this.tool, view, points: [] };
    const points = this.draft.points;
    const first = points[0];
    const closes = this.tool === "polygon" && points.length >= 3 && Math.hypot(first[0] - point[0], first[1] - point[1]) <= this.tolerance(view);
    if (closes) {
      this.finishDraft();
      return;
    }
    points.push(point);
    this.showDraft();
  }

  /** The pointer moved over `view` (frame-page.js passes every move): the line to the next vertex follows it. */
  hover(view, point) {
    const layer = this.layers.get(view);
    if (!layer) return;
    layer.lastPointer = point;
    if (this.draft?.view === view) {
      layer.draft = { tool: this.draft.tool, points: this.draft.points, pointer: point };
      view.stage.redrawLive();
    }
  }

  showDraft() {
    const { view, tool, points } = this.draft;
    const layer = this.layers.get(view);
    layer.draft = { tool, points, pointer: layer.lastPointer };
    view.stage.redrawLive();
    this.annotator.notify();
  }

  /** Enter: close the polygon, or finish the key points. */
  finishDraft() {
    const draft = this.draft;
    if (!draft) return false;
    const size = this.size(draft.view);
    if (draft.tool === "polygon" && draft.points.length < 3) {
      this.annotator.setStatus(this.annotator.status, "A polygon needs at least 3 points: click more, or Esc to cancel.");
      return true;
    }
    const roi = draft.tool === "polygon" ? { poly: polygonPoly(draft.points, size) } : { shape: pointsShape(draft.points, size) };
    this.cancelDraft();
    this.annotator.addRois([this.newRoi(draft.view, roi)]);
    return true;
  }

  /** Backspace while drawing: drop the last point. */
  undoDraftPoint() {
    if (!this.draft?.points.length) return false;
    this.draft.points.pop();
    this.showDraft();
    return true;
  }

  cancelDraft() {
    if (!this.draft) return false;
    const layer = this.layers.get(this.draft.view);
    layer.draft = null;
    this.draft.view.stage.redraw();
    this.draft = null;
    this.annotator.notify();
    return true;
  }

  // -- helpers ----------------------------------------------------------------------------------------------

  /** A new ROI on `view`: it names its source when the frame has several (ClearML: none means the first). */
  newRoi(view, geometry) {
    const roi = { labels: [], ...geometry };
    if (this.page.ids.length > 1) roi.sources = [view.id];
    return roi;
  }

  onView(view, index) {
    const roi = this.annotator.state.rois[index];
    return Boolean(roi) && roiSourceIds(roi, this.page.ids).includes(view.id) && view.layer.isVisible(index);
  }

  deletePoint(index, roi, handle) {
    let next = null;
    if (handle.kind === "vertex") next = deleteVertex(roi, handle.part, handle.index);
    if (handle.kind === "point" && roi.shape.xy.length > 2) {
      next = structuredClone(roi);
      next.shape.xy.splice(2 * handle.index, 2);
    }
    if (next) this.annotator.updateRoi(index, next);
    else this.annotator.setStatus(this.annotator.status, "A shape keeps at least 3 vertices (1 key point): delete the shape instead (Del).");
  }

  /** The selected ROI's handles are drawn on the sources it is on. */
  showSelection() {
    const index = this.page.selected;
    const roi = this.annotator.state.rois[index];
    for (const [view, layer] of this.layers) {
      const shown = roi && this.onView(view, index) ? roiShape(roi, index) : null;
      layer.selected = shown ? { roi, shape: shown, locked: this.annotator.locked.has(index) } : null;
      view.stage.redraw();
    }
  }
}
