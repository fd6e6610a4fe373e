// The annotator's side panels: the selected ROI (labels typed with autocomplete, confidence, box or ellipse
// numbers, metadata as JSON, lock, show, delete) and the frame's own labels and metadata. Each field applies
// its value as one undoable change; what is wrong is said beside the field (edit.js roiProblems, parseMeta) and
// refuses the save until it is fixed.

import { chip } from "./draw.js";
import { labelColour } from "./colours.js";
import { parseMeta } from "./edit.js";
import { isFrameLabel, roiLabels, roiShape } from "./rois.js";

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function field(labelText, control, errorFor) {
  const wrap = element("div", "fv-field");
  const label = element("label", "fv-field-label", labelText);
  if (control.id) label.htmlFor = control.id;
  const error = element("div", "fv-field-error");
  error.dataset.errorFor = errorFor;
  error.setAttribute("role", "alert");
  wrap.append(label, control, error);
  return wrap;
}

function input(id, attributes = {}) {
  const node = element("input", "fv-input");
  node.id = id;
  Object.assign(node, attributes);
  return node;
}

/** A chip with a remove button; `onRemove()` when it is pressed. */
function removableChip(text, onRemove) {
  const node = chip(text, labelColour(text));
  const remove = element("button", "fv-chip-remove", "×");
  remove.type = "button";
  remove.setAttribute("aria-label", `Remove label ${text}`);
  remove.addEventListener("click", onRemove);
  node.append(remove);
  return node;
}

/** A label field with autocomplete (#frame-label-options) and an Add button; `onAdd(label)` with a non-empty label. */
function labelAdder(id, placeholder, onAdd) {
  const box = input(id, { placeholder, autocomplete: "off" });
  box.setAttribute("list", "frame-label-options");
  const add = element("button", "btn btn-sm", "Add");
  add.type = "button";
  const row = element("div", "fv-label-adder");
  row.append(box, add);
  const wrap = field("Add a label", row, id);
  const error = wrap.querySelector(".fv-field-error");
  const submit = () => {
    const label = box.value.trim();
    error.textContent = label ? "" : "a label cannot be empty";
    if (label) onAdd(label);
  };
  add.addEventListener("click", submit);
  box.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      submit();
    }
  });
  wrap.querySelector("label").htmlFor = id;
  return wrap;
}

/** A JSON textarea: errors in place while typing, the value applied when it is valid and the field is left. */
function jsonEditor(id, given, annotator, key, onApply) {
  const value = given || {};
  // Invalid text typed before the panel was drawn again (another of its fields changed) is shown again with its
  // error, not the saved value: the refused save still counts it.
  const typed = annotator.invalid.get(key)?.text;
  const area = element("textarea", "fv-json-edit");
  area.id = id;
  area.spellcheck = false;
  area.rows = Math.min(10, Math.max(3, JSON.stringify(value, null, 2).split("\n").length));
  area.value = typed ?? (Object.keys(value).length ? JSON.stringify(value, null, 2) : "");
  area.placeholder = '{"key": "value"}';
  const wrap = field("Metadata (JSON)", area, key);
  const error = wrap.querySelector(".fv-field-error");
  const check = () => {
    const parsed = parseMeta(area.value);
    error.textContent = parsed.error || "";
    area.setAttribute("aria-invalid", String(Boolean(parsed.error)));
    annotator.setInvalid(key, parsed.error ? `${key}: ${parsed.error}` : null, area.value);
    return parsed;
  };
  if (typed !== undefined) {
    error.textContent = parseMeta(typed).error || "";
    area.setAttribute("aria-invalid", "true");
  }
  area.addEventListener("input", check);
  area.addEventListener("change", () => {
    const parsed = check();
    if (!parsed.error && JSON.stringify(parsed.value) !== JSON.stringify(value)) onApply(parsed.value);
  });
  return wrap;
}

const GEOMETRY_FIELDS = {
  box: { key: "xywh", names: ["x", "y", "width", "height"], field: "shape.xywh" },
  ellipse: { key: "xyrrt", names: ["centre x", "centre y", "radius x", "radius y", "angle"], field: "shape.xyrrt" },
};

export class RoiEditor {
  constructor(page, annotator) {
    this.page = page;
    this.annotator = annotator;
    this.body = page.root.querySelector("#roi-editor");
    this.shown = null;
    annotator.subscribe(() => this.render());
  }

  render() {
    const index = this.page.selected;
    const roi = index === null ? null : this.annotator.state.rois[index];
    const key = roi ? `${index}|${JSON.stringify(roi)}|${this.annotator.locked.has(index)}|${this.page.filter.hidden.has(index)}` : "";
    if (key !== this.shown) {
      this.shown = key;
      this.body.replaceChildren(...(roi ? this.fields(index, roi) : [element("p", "muted small", "Select a shape to edit its labels, confidence and metadata, or draw one with the tools above.")]));
      this.body.dataset.roiIndex = roi ? String(index) : "";
    }
    this.showProblems(index);
  }

  fields(index, roi) {
    const annotator = this.annotator;
    const update = (change) => {
      const next = structuredClone(annotator.state.rois[index]);
      change(next);
      annotator.updateRoi(index, next);
    };
    const shape = roiShape(roi, index);
    const head = element("div", "fv-editor-head");
    head.append(element("strong", "", shape ? `${shape.kind} #${index}` : `ROI #${index}`), element("span", "muted small mono", roi.id ? String(roi.id) : "new"));
    const labels = element("div", "fv-frame-labels fv-roi-labels");
    roiLabels(roi).forEach((label, i) => labels.append(removableChip(label, () => update((next) => {
      next.labels = roiLabels(next).filter((_, at) => at !== i);
      delete next.label;
    }))));
    if (!roiLabels(roi).length) labels.append(element("span", "muted small", "No label yet."));
    const labelsField = field("Labels", labels, "labels");
    const adder = labelAdder("roi-label-input", "person, car…", (label) => update((next) => {
      next.labels = [...new Set([...roiLabels(next), label])];
      delete next.label;
    }));
    const confidence = input("roi-confidence", { type: "number", step: "0.01", min: "0", max: "1", value: roi.confidence ?? "" });
    confidence.addEventListener("change", () => update((next) => {
      if (confidence.value === "") delete next.confidence;
      else next.confidence = Number(confidence.value);
    }));
    const parts = [head, labelsField, adder, field("Confidence (0 to 1)", confidence, "confidence"), ...this.geometry(roi, update)];
    parts.push(jsonEditor("roi-meta", roi.meta, annotator, `rois[${index}].meta`, (meta) => update((next) => { next.meta = meta; })));
    parts.push(this.switches(index));
    return parts;
  }

  /** Numbers of a box or an ellipse (a polygon says how many vertices it has). */
  geometry(roi, update) {
    const spec = GEOMETRY_FIELDS[roi.shape?.type];
    if (!spec) {
      const kind = roiShape(roi, 0)?.kind;
      const count = kind === "polygon" ? roi.poly.filter((v) => v !== -999999999).length / 2 : roi.shape?.xy?.length / 2;
      const text = kind === "polygon" ? `${count} vertices · drag a vertex to move it, a midpoint to add one, Alt+click to delete one`
        : `${count} key points · drag to move, Alt+click to delete`;
      return [element("p", "muted small fv-geometry-note", text)];
    }
    const grid = element("div", "fv-geometry");
    const values = spec.key === "xywh" ? [...roi.shape.xywh, roi.shape.angle || 0] : roi.shape.xyrrt;
    const names = spec.key === "xywh" ? [...spec.names, "angle"] : spec.names;
    names.forEach((name, i) => {
      const box = input(`roi-geometry-${i}`, { type: "number", step: "any", value: values[i] ?? 0 });
      box.setAttribute("aria-label", name);
      box.addEventListener("change", () => update((next) => {
        const number = Number(box.value);
        if (!Number.isFinite(number)) return;
        if (spec.key === "xywh" && i === 4) next.shape.angle = number;
        else next.shape[spec.key][i] = number;
      }));
      const cell = element("label", "fv-geometry-cell", name);
      cell.append(box);
      grid.append(cell);
    });
    return [field(roi.shape.type === "box" ? "Box" : "Ellipse", grid, spec.field)];
  }

  switches(index) {
    const annotator = this.annotator;
    const row = element("div", "fv-editor-switches");
    const lock = input("roi-locked", { type: "checkbox", checked: annotator.locked.has(index) });
    lock.addEventListener("change", () => annotator.setLocked(index, lock.checked));
    const shown = input("roi-shown", { type: "checkbox", checked: !this.page.filter.hidden.has(index) });
    shown.addEventListener("change", () => this.page.setHidden(index, !shown.checked));
    const remove = element("button", "btn btn-sm btn-danger", "Delete shape");
    remove.type = "button";
    remove.id = "roi-delete";
    remove.title = "Delete this shape (Del)";
    remove.addEventListener("click", () => annotator.deleteRoi(index));
    const lockLabel = element("label", "fv-toggle small", " Locked");
    lockLabel.prepend(lock);
    const shownLabel = element("label", "fv-toggle small", " Shown");
    shownLabel.prepend(shown);
    row.append(lockLabel, shownLabel, remove);
    return row;
  }

  /** Say beside each field what is wrong with the selected ROI now. */
  showProblems(index) {
    const problems = index === null ? [] : this.annotator.problems().filter((p) => p.index === index);
    for (const error of this.body.querySelectorAll(".fv-field-error")) {
      const name = error.dataset.errorFor;
      if (name === "roi-label-input" || name.endsWith(".meta")) continue; // these fields say it themselves
      const found = problems.filter((p) => p.field === name || p.field.startsWith(`${name}[`));
      error.textContent = found.map((p) => p.message).join("; ");
    }
  }
}

/** The frame's own labels (ROIs without geometry) and its metadata, editable. */
export class FrameEditor {
  constructor(page, annotator) {
    this.page = page;
    this.annotator = annotator;
    this.labels = page.root.querySelector("#frame-labels");
    this.meta = page.root.querySelector("#frame-meta-edit");
    this.shown = null;
    annotator.subscribe(() => this.render());
  }

  render() {
    const { rois, meta } = this.annotator.state;
    const key = JSON.stringify([rois.filter(isFrameLabel), meta]);
    if (key === this.shown) return;
    this.shown = key;
    this.renderLabels(rois);
    this.meta.replaceChildren(jsonEditor("frame-meta-input", meta, this.annotator, "meta", (value) => this.annotator.setMeta(value)));
  }

  renderLabels(rois) {
    const annotator = this.annotator;
    const chips = element("div", "fv-frame-labels");
    rois.forEach((roi, index) => {
      if (!isFrameLabel(roi)) return;
      roiLabels(roi).forEach((label, i) => chips.append(removableChip(label, () => {
        const left = roiLabels(roi).filter((_, at) => at !== i);
        if (left.length) annotator.updateRoi(index, { ...roi, labels: left });
        else annotator.deleteRoi(index);
      })));
    });
    this.renderTitle(rois);
    if (!chips.children.length) chips.append(element("span", "muted small", "No frame labels."));
    const adder = labelAdder("frame-label-input", "e.g. night, rainy", (label) => annotator.change((next) => {
      next.rois.push({ labels: [label] });
    }));
    this.labels.replaceChildren(chips, adder);
  }

  /** The frame labels beside the frame's name, as they are now. */
  renderTitle(rois) {
    const title = this.page.root.querySelector("#frame-title-labels");
    const chips = element("div", "chips");
    for (const label of new Set(rois.filter(isFrameLabel).flatMap(roiLabels))) {
      const node = chip(label, labelColour(label));
      node.classList.add("chip-frame");
      chips.append(node);
    }
    title?.replaceChildren(chips);
  }
}
