// The annotator on the frame page (loaded by frame-page.js only on a draft the user may annotate): the tool bar
// (tools, default label, undo, redo, copy, paste, save and the saved/unsaved/saving/failed marker), the keys,
// the panels (roi-editor.js), autosave when moving to another frame and the question before leaving otherwise.

import { Annotator } from "./annotator.js";
import { RoiEditor, FrameEditor } from "./roi-editor.js";
import { TOOLS, Tools } from "./tools.js";
import { clampRoi } from "./edit.js";
import { isFrameLabel } from "./rois.js";

const STATUS_TEXT = { saved: "All changes saved", unsaved: "Unsaved changes", saving: "Saving…", failed: "Not saved" };

// The annotator's keys, listed in the `?` overlay after the viewer's (keys.js).
export const ANNOTATOR_KEYS = Object.freeze([
  ...Object.values(TOOLS).map((tool) => ({ keys: [tool.key], what: `${tool.name} tool · ${tool.what}` })),
  { keys: ["Enter"], what: "Close the polygon / finish the key points" },
  { keys: ["Backspace"], what: "While drawing: remove the last point" },
  { keys: ["Del"], what: "Delete the selected shape" },
  { keys: ["Ctrl+Z", "Ctrl+Y"], what: "Undo / redo (Ctrl+Shift+Z redoes too)" },
  { keys: ["Ctrl+S"], what: "Save (moving to another frame saves too)" },
  { keys: ["Ctrl+C", "Ctrl+Shift+C", "Ctrl+V"], what: "Copy the selected shape / all shapes; paste them (on any frame, same position)" },
  { keys: ["Alt+click"], what: "Delete a polygon vertex or a key point" },
]);

function button(text, title, action) {
  const node = document.createElement("button");
  node.type = "button";
  node.className = "btn btn-sm";
  node.textContent = text;
  node.title = title;
  node.dataset.annotate = action;
  return node;
}

class AnnotatorBar {
  constructor(page, annotator, tools) {
    this.page = page;
    this.annotator = annotator;
    this.tools = tools;
    this.bar = page.root.querySelector("#frame-annotate");
    this.toolButtons = Object.entries(TOOLS).map(([name, tool]) => {
      const node = button(tool.name, `${tool.what} (${tool.key})`, `tool-${name}`);
      node.addEventListener("click", () => tools.setTool(name));
      node.dataset.tool = name;
      return node;
    });
    this.bar.querySelector("[data-tools]").append(...this.toolButtons);
    const actions = {
      undo: () => annotator.undo(), redo: () => annotator.redo(), save: () => annotator.save(),
      copy: () => copySelected(page, annotator), "copy-all": () => copyAll(page, annotator), paste: () => paste(page, annotator),
      "lock-all": () => annotator.setAllLocked(annotator.locked.size < annotator.state.rois.length),
    };
    for (const node of page.root.querySelectorAll("[data-annotate]")) {
      if (actions[node.dataset.annotate]) node.addEventListener("click", () => actions[node.dataset.annotate]());
    }
    const label = this.bar.querySelector("#frame-default-label");
    label.value = annotator.defaultLabel;
    label.addEventListener("change", () => annotator.setDefaultLabel(label.value.trim()));
    this.marker = this.bar.querySelector("#frame-save-status");
    annotator.subscribe(() => this.render());
    this.render();
  }

  render() {
    const { annotator, tools } = this;
    for (const node of this.toolButtons) node.setAttribute("aria-pressed", String(node.dataset.tool === tools.tool));
    this.bar.querySelector("[data-annotate='undo']").disabled = !annotator.history.canUndo();
    this.bar.querySelector("[data-annotate='redo']").disabled = !annotator.history.canRedo();
    this.bar.querySelector("[data-annotate='paste']").disabled = !annotator.clipboard();
    const locked = annotator.locked;
    const lockAll = this.page.root.querySelector("[data-annotate='lock-all']");
    lockAll.textContent = locked.size && locked.size === annotator.state.rois.length ? "Unlock all" : "Lock all";
    for (const [index, row] of this.page.rows) row.classList.toggle("is-locked", locked.has(index));
    this.marker.dataset.status = annotator.status;
    this.marker.textContent = STATUS_TEXT[annotator.status];
    const detail = this.bar.querySelector("#frame-annotate-message");
    detail.textContent = annotator.statusDetail || (tools.draft ? drawingHint(tools.draft) : "");
    this.page.root.dataset.saveStatus = annotator.status;
  }
}

function drawingHint(draft) {
  const n = draft.points.length;
  return draft.tool === "polygon"
    ? `${n} point${n === 1 ? "" : "s"}: click the first point or press Enter to close, Esc to cancel`
    : `${n} key point${n === 1 ? "" : "s"}: Enter to finish, Esc to cancel`;
}

function copySelected(page, annotator) {
  const copied = annotator.copy(page.selected === null ? [] : [page.selected]);
  annotator.setStatus(annotator.status, copied ? "Copied the selected shape: paste it here or on another frame (Ctrl+V)." : "Select a shape to copy first.");
}

function copyAll(page, annotator) {
  const copied = annotator.copy(annotator.state.rois.map((_, i) => i));
  annotator.setStatus(annotator.status, copied ? `Copied ${copied} shape${copied > 1 ? "s" : ""}: paste them on another frame (Ctrl+V).` : "This frame has no shapes to copy.");
}

/** Paste the copied shapes at the same position on the source on show, kept inside its image. */
function paste(page, annotator) {
  const clipboard = annotator.clipboard();
  const view = page.active;
  if (!clipboard?.rois?.length || !view?.stage) return;
  const size = view.stage.size;
  const rois = clipboard.rois.filter((roi) => !isFrameLabel(roi)).map((roi) => {
    const pasted = structuredClone(roi);
    if (page.ids.length > 1) pasted.sources = [view.id];
    else delete pasted.sources;
    return clampRoi(pasted, size);
  });
  annotator.addRois(rois);
  annotator.setStatus(annotator.status, `Pasted ${rois.length} shape${rois.length > 1 ? "s" : ""}.`);
}

/** The annotator's keys; run before the viewer's (capture), which get what the annotator does not use. */
function installKeys(page, annotator, tools) {
  document.addEventListener("keydown", (event) => {
    const inField = event.target.closest?.("input, textarea, select, [contenteditable]");
    const ctrl = event.ctrlKey || event.metaKey;
    const key = event.key.toLowerCase();
    let handled = true;
    if (ctrl && key === "s") annotator.save();
    else if (inField) handled = false;
    else if (ctrl && (key === "y" || (key === "z" && event.shiftKey))) annotator.redo();
    else if (ctrl && key === "z") annotator.undo();
    else if (ctrl && key === "c") (event.shiftKey ? copyAll : copySelected)(page, annotator);
    else if (ctrl && key === "v") paste(page, annotator);
    else if (ctrl || event.altKey) handled = false;
    else if (event.key === "Enter") handled = tools.finishDraft();
    else if (event.key === "Escape") handled = tools.cancelDraft() || (tools.tool !== "select" && (tools.setTool("select"), true));
    else if (event.key === "Backspace") handled = tools.undoDraftPoint() || deleteSelected(page, annotator);
    else if (event.key === "Delete") handled = deleteSelected(page, annotator);
    else {
      const tool = Object.entries(TOOLS).find(([, t]) => t.key === key && !event.shiftKey);
      if (tool) tools.setTool(tool[0]);
      else handled = false;
    }
    if (!handled) return;
    event.preventDefault();
    event.stopImmediatePropagation();
  }, { capture: true });
}

function deleteSelected(page, annotator) {
  if (page.selected === null) return false;
  annotator.deleteRoi(page.selected);
  return true;
}

/** Moving to another frame by its links saves first (frame-page.js leaveTo); anything else that leaves the page
 * with unsaved changes asks first. */
function guardLeaving(page, annotator) {
  page.root.addEventListener("click", (event) => {
    const link = event.target.closest?.("a[data-nav]");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey || !annotator.dirty) return;
    event.preventDefault();
    page.leaveTo(link.href);
  });
  window.addEventListener("beforeunload", (event) => {
    if (!annotator.dirty) return;
    event.preventDefault();
    event.returnValue = ""; // older browsers show the question only with a return value
  });
}

async function loadLabelOptions(page) {
  const list = page.root.querySelector("#frame-label-options");
  const names = new Set(page.frame.rois.flatMap((roi) => roi.labels || []));
  try {
    const response = await fetch(page.contract.edit.labels_url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    if (response.ok) for (const entry of (await response.json()).labels || []) names.add(entry.label);
  } catch {
    // the labels of this frame still complete
  }
  list.replaceChildren(...[...names].sort().map((name) => Object.assign(document.createElement("option"), { value: name })));
}

export function attachAnnotator(page, csrfToken) {
  const annotator = new Annotator(page, page.contract, csrfToken);
  const tools = new Tools(page, annotator);
  annotator.tools = tools;
  new AnnotatorBar(page, annotator, tools);
  new RoiEditor(page, annotator);
  new FrameEditor(page, annotator);
  installKeys(page, annotator, tools);
  guardLeaving(page, annotator);
  loadLabelOptions(page);
  page.keys.addHelp(ANNOTATOR_KEYS);
  annotator.notify();
  return annotator;
}
