// The frame page: every source in a zoomable stage with its ROIs (and masks) drawn from the frame contract,
// the objects list with show/hide and the minimum-confidence slider, highlight from list to image and back,
// the FrameGroup source switcher, the image/preview switch, compare with the parent version, the metadata
// tree, and the keyboard (keys.js). The server renders the page's frame; this module brings it to life.

import { readContract } from "./contract.js";
import { FrameKeys } from "./frame-keys.js";
import { attachMasks } from "./masks-wiring.js";
import { renderFrameLabels, renderMetadata, renderObjectList, wireCopyButtons } from "./panels.js";
import { roiFilter } from "./roi-layer.js";
import { aboveConfidence, frameLabels, roiShape, roiSourceIds, shapeAt, shapesOnSource, sourceIds } from "./rois.js";
import { sourceViews } from "./sources.js";

const PREFS_KEY = "hyperdata.viewer";
const HIT_TOLERANCE = 6; // CSS pixels

function loadPrefs() {
  try {
    return JSON.parse(localStorage.getItem(PREFS_KEY)) || {};
  } catch {
    return {};
  }
}

function savePrefs(prefs) {
  try {
    localStorage.setItem(PREFS_KEY, JSON.stringify(prefs));
  } catch {
    // private mode or full storage: the preferences last for this page only
  }
}

/** Scroll the objects list (only it, not the page) so that `row` shows. */
function scrollIntoList(row) {
  const list = row.parentElement;
  const at = row.getBoundingClientRect();
  const box = list.getBoundingClientRect();
  if (at.top < box.top) list.scrollTop -= box.top - at.top;
  else if (at.bottom > box.bottom) list.scrollTop += at.bottom - box.bottom;
}

class FramePage {
  constructor(root, contract) {
    this.root = root;
    this.contract = contract;
    this.frame = contract.frame;
    this.prefs = { minConfidence: 0, layout: "single", ...loadPrefs() };
    const ids = sourceIds(this.frame.sources);
    this.ids = ids;
    this.shapes = this.listedShapes();
    this.filter = roiFilter(); // one for all sources: hiding an ROI hides it wherever it is drawn
    this.views = sourceViews(root, contract, (id) => shapesOnSource(this.frame.rois, id, ids), this.filter);
    this.active = this.views.find((view) => view.stage) || null;
    this.selected = null;
  }

  /** One entry per ROI with geometry, across all sources: what the objects list shows. */
  listedShapes() {
    const rois = this.frame.rois || [];
    return rois.map((roi, index) => roiShape(roi, index)).filter(Boolean)
      .map((shape) => ({ ...shape, sources: roiSourceIds(rois[shape.index], this.ids) }));
  }

  init() {
    this.setupObjects();
    this.setupConfidence();
    this.setupSources();
    this.setupZoom();
    this.setupPointer();
    this.setupCompare();
    wireCopyButtons(this.root);
    this.keys = new FrameKeys(this);
    this.masks = attachMasks(this);
    renderFrameLabels(this.root.querySelector("#frame-labels"), frameLabels(this.frame.rois));
    renderMetadata(this.root.querySelector("#frame-meta-tree"), this.frame);
    this.applyLayout(this.prefs.layout);
    window.hyperdataViewer = this; // for the browser tests and the benchmark: the page's state, read-only use
    if (this.contract.edit?.editable) this.startAnnotator();
    if (this.contract.sources.some((media) => media.video)) import("./video.js").then(({ attachVideo }) => attachVideo(this));
  }

  /** On a draft the user may annotate: the annotator's modules, loaded only then. */
  async startAnnotator() {
    const { attachAnnotator } = await import("./annotator-panel.js");
    this.annotator = attachAnnotator(this, this.root.dataset.csrf);
    this.root.dataset.annotator = "ready";
  }

  /** Show `rois` as the frame's ROIs (the annotator changed them): shapes, lists and every source's layer. */
  setRois(rois) {
    this.frame = { ...this.frame, rois };
    this.shapes = this.listedShapes();
    for (const view of this.views) view.layer.setShapes(shapesOnSource(rois, view.id, this.ids));
    this.renderObjects();
    this.refreshRows();
    if (this.selected !== null && !this.shapes.some((shape) => shape.index === this.selected)) this.selected = null;
    this.select(this.selected, { toggle: false });
    this.compare?.update();
    this.redrawAll();
  }

  /** ROI `index` is being dragged (null: no longer): the layers leave it out, the annotator draws it. */
  setEditing(index) {
    for (const view of this.views) view.layer.setEditing(index);
    this.redrawAll();
  }

  /** The ROI drawn under a source pixel of `view`, within a few screen pixels of its outline. */
  shapeUnder(view, point) {
    return shapeAt(view.layer.visibleShapes(), point, HIT_TOLERANCE / view.stage.transform().scale);
  }

  /** Go to another frame's page, saving the annotator's changes first (stay when they could not be saved). */
  async leaveTo(url) {
    if (this.annotator && !(await this.annotator.beforeLeaving())) return;
    window.location.assign(url);
  }

  redrawAll() {
    for (const view of this.views) {
      view.layer.changed();
      view.stage?.redraw();
    }
  }

  // -- objects: list, show/hide, highlight ------------------------------------------------------------------

  setupObjects() {
    this.renderObjects();
    const all = this.root.querySelector("#frame-objects-all");
    all.addEventListener("change", () => this.setAllHidden(!all.checked));
  }

  renderObjects() {
    const list = this.root.querySelector("#frame-objects");
    this.rows = renderObjectList(list, this.shapes, {
      onToggle: (index, shown) => this.setHidden(index, !shown),
      onSelect: (index) => this.select(index, { reveal: true }),
      onHover: (index) => this.highlight(index ?? this.selected),
      multipleSources: this.ids.length > 1,
    });
    this.root.querySelector("#frame-objects-count").textContent = String(this.shapes.length);
  }

  setHidden(index, hidden) {
    if (hidden) this.filter.hidden.add(index);
    else this.filter.hidden.delete(index);
    this.refreshRows();
    this.redrawAll();
  }

  setAllHidden(hidden) {
    this.filter.allHidden = hidden;
    this.root.querySelector("#frame-objects-all").checked = !hidden;
    this.root.dataset.roisHidden = String(hidden);
    this.refreshRows();
    this.redrawAll();
  }

  /** Rows say whether their ROI is drawn: hidden by its box, by "all", or by the minimum confidence. */
  refreshRows() {
    const { hidden, allHidden } = this.filter;
    let shown = 0;
    for (const shape of this.shapes) {
      const row = this.rows.get(shape.index);
      const byConfidence = !aboveConfidence(shape, this.filter.minConfidence);
      row.classList.toggle("is-below", byConfidence);
      row.classList.toggle("is-hidden", allHidden || hidden.has(shape.index));
      row.querySelector("input").checked = !hidden.has(shape.index);
      const drawn = !byConfidence && !allHidden && !hidden.has(shape.index);
      row.dataset.drawn = String(drawn);
      if (drawn) shown += 1;
    }
    this.root.querySelector("#frame-objects-shown").textContent = String(shown);
  }

  highlight(index) {
    for (const view of this.views) {
      if (view.layer.highlighted === index) continue;
      view.layer.highlighted = index;
      view.stage?.redraw();
    }
    for (const [i, row] of this.rows) row.classList.toggle("is-highlighted", i === index);
  }

  /** Select ROI `index` (null: none); selecting the selected ROI again unselects it, unless `toggle` is false. */
  select(index, { reveal = false, toggle = true } = {}) {
    this.selected = this.selected === index && !reveal && toggle ? null : index;
    this.annotator?.selectionChanged();
    this.highlight(this.selected);
    for (const [i, row] of this.rows) row.classList.toggle("is-selected", i === this.selected);
    if (this.selected === null) return;
    const row = this.rows.get(this.selected);
    if (row) scrollIntoList(row);
    const shape = this.shapes.find((s) => s.index === this.selected);
    if (!reveal || !shape) return;
    const view = this.views.find((v) => v.stage && shape.sources.includes(v.id) && !v.figure.classList.contains("is-offstage"));
    view?.stage.reveal(shape.bbox);
  }

  setupConfidence() {
    const slider = this.root.querySelector("#frame-min-confidence");
    const output = this.root.querySelector("#frame-min-confidence-value");
    const apply = () => {
      this.prefs.minConfidence = Number(slider.value);
      output.textContent = this.prefs.minConfidence.toFixed(2);
      this.filter.minConfidence = this.prefs.minConfidence;
      this.refreshRows();
      this.redrawAll();
    };
    slider.value = String(this.prefs.minConfidence);
    slider.addEventListener("input", apply);
    slider.addEventListener("change", () => savePrefs(this.prefs));
    apply();
  }

  // -- sources: switcher, layout, image or preview ----------------------------------------------------------

  setupSources() {
    for (const button of this.root.querySelectorAll("[data-show-source]")) {
      button.addEventListener("click", () => this.showSource(button.dataset.showSource));
    }
    this.root.querySelector("#frame-all-sources")?.addEventListener("click", () => this.applyLayout(this.prefs.layout === "all" ? "single" : "all"));
    for (const button of this.root.querySelectorAll("[data-show-kind]")) {
      button.addEventListener("click", () => this.showKind(button.dataset.showKind));
    }
    this.root.addEventListener("fv-shown", () => this.refreshKindButtons());
    const previewable = this.views.some((view) => view.hasPreviewChoice());
    const switcher = this.root.querySelector("#frame-image-switch");
    if (switcher) switcher.hidden = !previewable;
  }

  showSource(id) {
    const view = this.views.find((v) => v.id === id);
    if (!view) return;
    this.active = view;
    this.applyLayout("single");
    this.masks?.showSource();
  }

  applyLayout(layout) {
    const multi = this.views.length > 1;
    this.prefs.layout = multi ? layout : "single";
    const stageArea = this.root.querySelector(".fv-stage");
    const before = stageArea.dataset.layout;
    stageArea.dataset.layout = this.prefs.layout;
    const moved = [];
    for (const view of this.views) {
      // Off-stage sources keep their size (hidden, not removed from the layout), so their viewers stay ready.
      const offstage = this.prefs.layout === "single" && view !== this.active && Boolean(this.active);
      if (view.figure.classList.contains("is-offstage") !== offstage || before !== this.prefs.layout) moved.push(view);
      view.figure.classList.toggle("is-offstage", offstage);
      view.figure.setAttribute("aria-hidden", String(offstage));
    }
    // Once every figure is in its new place (their sizes depend on each other), fit those that moved.
    for (const view of moved) if (!view.figure.classList.contains("is-offstage")) view.stage?.refit();
    for (const button of this.root.querySelectorAll("[data-show-source]")) {
      button.setAttribute("aria-pressed", String(this.prefs.layout === "single" && button.dataset.showSource === this.active?.id));
    }
    this.root.querySelector("#frame-all-sources")?.setAttribute("aria-pressed", String(this.prefs.layout === "all"));
    savePrefs(this.prefs);
    this.updateZoomField();
  }

  cycleSource() {
    if (this.views.length < 2) return;
    const at = this.views.indexOf(this.active);
    this.showSource(this.views[(at + 1) % this.views.length].id);
  }

  showKind(which) {
    for (const view of this.views) view.show(which);
  }

  /** The Source/Preview buttons say what is on show (a source whose image failed shows its preview). */
  refreshKindButtons() {
    const which = this.views.some((view) => view.which === "image") ? "image" : "preview";
    for (const button of this.root.querySelectorAll("[data-show-kind]")) button.setAttribute("aria-pressed", String(button.dataset.showKind === which));
  }

  // -- zoom -------------------------------------------------------------------------------------------------

  setupZoom() {
    const actions = { "zoom-in": "zoomIn", "zoom-out": "zoomOut", fit: "fit", "one-to-one": "oneToOne" };
    for (const [name, action] of Object.entries(actions)) {
      this.root.querySelector(`[data-zoom="${name}"]`)?.addEventListener("click", () => this.zoom(action));
    }
    const field = this.root.querySelector("#frame-zoom");
    field?.addEventListener("change", () => {
      const percent = parseFloat(field.value);
      if (Number.isFinite(percent) && percent > 0) this.active?.stage?.setZoomPercent(percent);
      field.blur(); // the field shows the zoom reached ("250%") again
      this.updateZoomField();
    });
    for (const view of this.views) {
      view.stage?.viewer.addHandler("zoom", () => {
        if (view === this.active) this.updateZoomField();
      });
      view.stage?.viewer.addHandler("animation-finish", () => {
        if (view === this.active) this.updateZoomField();
      });
    }
  }

  zoom(action) {
    const stage = this.active?.stage;
    if (!stage) return;
    if (action === "oneToOne") stage.setZoomPercent(100);
    else stage[action]();
  }

  updateZoomField() {
    const field = this.root.querySelector("#frame-zoom");
    const stage = this.active?.stage;
    if (field && stage && document.activeElement !== field) {
      requestAnimationFrame(() => { field.value = `${Math.round(stage.zoomPercent())}%`; });
    }
  }

  // -- pointer: hover tooltip, click to select ---------------------------------------------------------------

  setupPointer() {
    for (const view of this.views) {
      if (!view.stage) continue;
      const tip = view.figure.querySelector(".fv-tip");
      if (tip) view.stage.element.append(tip); // positioned in the viewport's own coordinates, as the pointer is
      view.stage.onPointer({
        move: (point, event) => {
          this.active = this.prefs.layout === "all" ? view : this.active;
          this.annotator?.tools.hover(view, point);
          if (this.annotator?.tools.dragging) return; // the dragged shape is drawn alone: no hover highlight
          const shape = this.shapeUnder(view, point);
          this.highlight(shape ? shape.index : this.selected);
          view.stage.element.style.cursor = this.annotator?.cursor(shape) ?? (shape ? "pointer" : "");
          if (!tip) return;
          tip.hidden = !shape;
          if (shape) {
            tip.textContent = shape.confidence === null ? shape.text : `${shape.text} · ${Number(shape.confidence).toFixed(2)}`;
            tip.style.left = `${event.position.x + 14}px`;
            tip.style.top = `${event.position.y + 14}px`;
          }
        },
        leave: () => {
          if (tip) tip.hidden = true;
          this.highlight(this.selected);
        },
        click: (point) => {
          if (this.annotator?.tools.click(view, point)) return;
          const shape = this.shapeUnder(view, point);
          this.select(shape ? shape.index : null);
        },
      });
    }
  }

  // -- compare with the parent version ----------------------------------------------------------------------

  /** On a child version: the ROIs' changes since the parent version (compare.js is loaded only then). */
  async setupCompare() {
    if (!this.root.querySelector("#frame-compare") || !this.contract.parent) return;
    const { Compare } = await import("./compare.js");
    this.compare = new Compare(this);
  }

  get comparing() {
    return Boolean(this.compare?.on);
  }

  setComparing(on) {
    this.compare?.set(on);
  }
}

function init() {
  const root = document.getElementById("frame-view");
  const contract = readContract();
  if (!root || !contract) return;
  new FramePage(root, contract).init();
}

init();
