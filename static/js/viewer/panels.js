// The frame page's side panels that are built from the frame contract: the list of objects (ROIs) with their
// show/hide boxes, the frame labels, the list of changes since the parent version, and the metadata tree.

import { chip } from "./draw.js";

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function confidenceText(confidence) {
  return confidence === null || confidence === undefined ? "" : Number(confidence).toFixed(2);
}

/** One row per object ROI: a show/hide box, its colour, labels, kind, confidence and the sources it is on.
 * `onToggle(index, shown)`, `onSelect(index)`, `onHover(index | null)`; with `multipleSources` the row says which
 * sources the ROI is drawn on. Returns the rows by ROI index. */
export function renderObjectList(list, shapes, { onToggle, onSelect, onHover, multipleSources }) {
  const rows = new Map();
  list.replaceChildren(...shapes.map((shape) => {
    const row = element("li", "fv-obj");
    row.dataset.roiIndex = shape.index;
    row.style.setProperty("--c", shape.colour);
    row.tabIndex = 0;
    const box = element("input");
    box.type = "checkbox";
    box.checked = true;
    box.setAttribute("aria-label", `Show ${shape.text} (ROI ${shape.index})`);
    box.addEventListener("change", () => onToggle(shape.index, box.checked));
    box.addEventListener("click", (event) => event.stopPropagation());
    const swatch = element("span", "fv-obj-swatch");
    const text = element("span", "fv-obj-text", shape.text);
    const what = shape.kind === "points" ? `${shape.points.length} points` : shape.kind;
    const kind = element("span", "fv-obj-kind", multipleSources ? `${what} · ${shape.sources.join(", ")}` : what);
    const confidence = element("span", "fv-obj-conf num", confidenceText(shape.confidence));
    row.append(box, swatch, text, kind, confidence);
    row.title = shape.confidence === null ? shape.text : `${shape.text} · confidence ${shape.confidence}`;
    row.addEventListener("click", () => onSelect(shape.index));
    row.addEventListener("keydown", (event) => {
      if (event.key === "Enter") onSelect(shape.index);
    });
    row.addEventListener("mouseenter", () => onHover(shape.index));
    row.addEventListener("mouseleave", () => onHover(null));
    rows.set(shape.index, row);
    return row;
  }));
  return rows;
}

/** The frame labels (ROIs without geometry) as chips with their confidence. */
export function renderFrameLabels(container, labels) {
  if (!labels.length) {
    container.replaceChildren(element("p", "muted small", "No frame labels."));
    return;
  }
  container.replaceChildren(...labels.map((entry) => {
    const node = chip(entry.text, entry.colour);
    node.dataset.roiIndex = entry.index;
    if (entry.confidence !== null) node.append(element("span", "chip-n", confidenceText(entry.confidence)));
    return node;
  }));
}

/** The changes since the parent version: one row per added, changed and removed ROI, in its diff style.
 * `onSelect(index)` for the ROIs of this version. */
export function renderChanges(container, diff, { rois, parentRois, styles, onSelect }) {
  const rows = [];
  const describe = (roi) => {
    const labels = roi.labels ?? roi.label ?? [];
    return (typeof labels === "string" ? labels : labels.join(", ")) || "(no label)";
  };
  const row = (kind, text, detail, index) => {
    const li = element("li", `fv-change fv-change-${kind}`);
    li.style.setProperty("--c", styles[kind].colour);
    li.append(element("span", "fv-change-kind", styles[kind].label), element("span", "fv-change-text", text));
    if (detail) li.append(element("span", "fv-change-detail muted", detail));
    if (index !== null) {
      li.dataset.roiIndex = index;
      li.addEventListener("click", () => onSelect(index));
    }
    rows.push(li);
  };
  for (const index of diff.added) row("added", describe(rois[index]), "", index);
  for (const change of diff.changed) row("changed", describe(rois[change.index]), change.fields.join(", "), change.index);
  for (const index of diff.removed) row("removed", describe(parentRois[index]), "", null);
  if (!rows.length) rows.push(element("li", "muted small", "No ROI changed since the parent version."));
  container.replaceChildren(diffLegend(styles), ...rows);
}

/** How each kind of change is drawn: a line in its colour, dashed for geometry that is no longer there. */
function diffLegend(styles) {
  const legend = element("li", "fv-diff-legend");
  for (const kind of ["added", "changed", "before", "removed", "unchanged"]) {
    const entry = element("span", "fv-diff-key");
    const line = element("span", `fv-diff-line${styles[kind].dash.length ? " is-dashed" : ""}`);
    line.style.setProperty("--c", styles[kind].colour);
    entry.append(line, document.createTextNode(styles[kind].label));
    legend.append(entry);
  }
  return legend;
}

function leaf(value) {
  const kind = value === null ? "null" : typeof value;
  const text = kind === "string" ? JSON.stringify(value) : String(value);
  return element("span", `fv-tree-value fv-tree-${kind}`, text);
}

/** A JSON value as a tree: objects and arrays fold (<details>), leaves show their type by colour. */
export function treeNode(key, value, open = true) {
  if (value === null || typeof value !== "object") {
    const item = element("div", "fv-tree-leaf");
    item.append(element("span", "fv-tree-key", key), leaf(value));
    return item;
  }
  const entries = Array.isArray(value) ? value.map((v, i) => [`[${i}]`, v]) : Object.entries(value);
  const details = element("details", "fv-tree-branch");
  details.open = open;
  const summary = element("summary");
  summary.append(element("span", "fv-tree-key", key), element("span", "fv-tree-count muted", Array.isArray(value) ? `[${entries.length}]` : `{${entries.length}}`));
  details.append(summary, ...entries.map(([k, v]) => treeNode(k, v, entries.length <= 20)));
  return details;
}

/** The metadata of a frame as trees: the frame's, each source's and each ROI's `meta` that has any. */
export function renderMetadata(container, frame) {
  const sections = [["Frame", frame.meta]];
  for (const source of frame.sources || []) sections.push([`Source ${source.id ?? "default"}`, source.meta]);
  (frame.rois || []).forEach((roi, index) => {
    const labels = roi.labels ?? [];
    sections.push([`ROI ${index}${labels.length ? ` · ${labels.join(", ")}` : ""}`, roi.meta]);
  });
  const filled = sections.filter(([, meta]) => meta && typeof meta === "object" && Object.keys(meta).length);
  if (!filled.length) {
    container.replaceChildren(element("p", "muted small", "No metadata."));
    return;
  }
  container.replaceChildren(...filled.map(([title, meta]) => treeNode(title, meta, filled.length <= 8)));
}

/** Buttons with `data-copy="<selector>"` copy that element's text to the clipboard and say whether it worked. */
export function wireCopyButtons(root) {
  for (const button of root.querySelectorAll("[data-copy]")) {
    const label = button.textContent;
    button.addEventListener("click", async (event) => {
      event.preventDefault();
      const text = document.querySelector(button.dataset.copy)?.textContent || "";
      try {
        await navigator.clipboard.writeText(text);
        button.textContent = "Copied";
      } catch {
        button.textContent = "Copy failed";
      }
      setTimeout(() => { button.textContent = label; }, 1500);
    });
  }
}
