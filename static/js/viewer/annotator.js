// The annotator: what the user changes in a frame (its ROIs and its metadata), undo and redo over every change,
// the saved / unsaved / saving / failed marker, Save (PUT to the frame's REST URL with its ETag in If-Match, the
// same service every API client goes through), autosave when moving to another frame, the question before
// leaving with unsaved changes, and the refused save when someone else saved the frame meanwhile (conflict.js
// says what they changed; the user reloads or overwrites knowingly). tools.js draws and reshapes, panels in
// annotator-panel.js edit labels and metadata; both change the frame only through `apply`.

import { showConflict } from "./conflict.js";
import { roiProblems } from "./edit.js";
import { History } from "./history.js";
import { isFrameLabel } from "./rois.js";

const CLIPBOARD_KEY = "hyperdata.annotator.clipboard";
const DEFAULT_LABEL_KEY = "hyperdata.annotator.defaultLabel";

function readStored(key, fallback) {
  try {
    return JSON.parse(localStorage.getItem(key)) ?? fallback;
  } catch {
    return fallback;
  }
}

function store(key, value) {
  try {
    localStorage.setItem(key, JSON.stringify(value));
  } catch {
    // private mode or full storage: copy and paste work within this page only
  }
}

/** What the user edits of a frame: a deep copy of its ROIs and metadata. */
function editable(frame) {
  return structuredClone({ rois: frame.rois || [], meta: frame.meta || {} });
}

export class Annotator {
  constructor(page, contract, csrfToken) {
    this.page = page;
    this.contract = contract;
    this.csrfToken = csrfToken;
    this.saved = contract.frame; // the frame as the server last said it is
    this.etag = contract.etag;
    this.state = editable(contract.frame);
    this.history = new History(this.state);
    this.locked = new Set(); // ROI indexes that cannot be moved or reshaped
    this.invalid = new Map(); // field key -> {message, text}: text the user typed that is not valid yet (metadata JSON)
    this.status = "saved";
    this.defaultLabel = readStored(DEFAULT_LABEL_KEY, "");
    this.listeners = new Set();
    this.tools = null; // tools.js, set by annotator-panel.js
  }

  /** The page selected another ROI (or none): its handles and its panel follow. */
  selectionChanged() {
    this.tools?.showSelection();
    this.notify();
  }

  /** The pointer over `shape` (or none): what it can do there. */
  cursor(shape) {
    if (this.tools?.tool !== "select") return "crosshair";
    if (!shape) return "";
    return this.locked.has(shape.index) ? "pointer" : "move";
  }

  /** Call `listener(annotator)` after every change of state, selection, status or tool. */
  subscribe(listener) {
    this.listeners.add(listener);
  }

  notify() {
    for (const listener of this.listeners) listener(this);
  }

  // -- changes ------------------------------------------------------------------------------------------------

  /** Make `next` ({rois, meta}) the frame being edited: one step of undo. */
  apply(next, { select } = {}) {
    this.state = next;
    this.history.record(next);
    this.show(select);
  }

  /** Show the current state everywhere (the stage, the objects list, the panels). */
  show(select = this.page.selected) {
    this.page.setRois(this.state.rois);
    if (select !== undefined) this.page.select(select ?? null, { toggle: false });
    this.setStatus(this.history.dirty ? "unsaved" : "saved");
  }

  /** A copy of the state with `change(copy)` applied, recorded as one step. */
  change(change, options) {
    const next = structuredClone(this.state);
    change(next);
    this.apply(next, options);
  }

  updateRoi(index, roi) {
    this.change((next) => { next.rois[index] = roi; }, { select: isFrameLabel(roi) ? undefined : index });
  }

  /** Add ROIs (drawn or pasted) with the default label when they have none; the last one is selected. */
  addRois(rois) {
    if (!rois.length) return;
    const label = this.defaultLabel.trim();
    this.change((next) => {
      for (const roi of rois) next.rois.push(label && !(roi.labels || []).length ? { ...roi, labels: [label] } : roi);
    }, { select: this.state.rois.length + rois.length - 1 });
  }

  deleteRoi(index) {
    if (index === null || index === undefined || !this.state.rois[index]) return;
    this.locked = shiftIndexes(this.locked, index);
    this.invalid = shiftInvalid(this.invalid, index);
    this.page.filter.hidden = shiftIndexes(this.page.filter.hidden, index);
    this.change((next) => { next.rois.splice(index, 1); }, { select: null });
  }

  setMeta(meta) {
    this.change((next) => { next.meta = meta; });
  }

  undo() {
    this.restore(this.history.undo());
  }

  redo() {
    this.restore(this.history.redo());
  }

  restore(state) {
    if (!state) return;
    this.state = state;
    const count = state.rois.length;
    this.locked = new Set([...this.locked].filter((i) => i < count));
    this.invalid.clear(); // the panels show the restored values again
    this.show(this.page.selected !== null && this.page.selected < count ? this.page.selected : null);
  }

  setLocked(index, locked) {
    if (locked) this.locked.add(index);
    else this.locked.delete(index);
    this.notify();
  }

  setAllLocked(locked) {
    this.locked = locked ? new Set(this.state.rois.map((_, i) => i)) : new Set();
    this.notify();
  }

  setDefaultLabel(label) {
    this.defaultLabel = label;
    store(DEFAULT_LABEL_KEY, label);
  }

  /** Text typed into field `key` that cannot be applied (invalid JSON): saving is refused until it is fixed. */
  setInvalid(key, message, text = "") {
    if (message) this.invalid.set(key, { message, text });
    else this.invalid.delete(key);
    this.notify();
  }

  // -- copy and paste (across frames: the clipboard is kept in localStorage) -----------------------------------

  copy(indexes) {
    const rois = indexes.map((i) => this.state.rois[i]).filter((roi) => roi && !isFrameLabel(roi));
    if (!rois.length) return 0;
    store(CLIPBOARD_KEY, { frame: this.saved.id, rois: rois.map(({ id, ...roi }) => roi) }); // pasted ROIs are new ROIs
    return rois.length;
  }

  clipboard() {
    return readStored(CLIPBOARD_KEY, null);
  }

  // -- saving -------------------------------------------------------------------------------------------------

  /** Problems that refuse a save: [{index, field, message}] (index null for the frame's metadata). */
  problems() {
    const found = [];
    this.state.rois.forEach((roi, index) => {
      for (const problem of roiProblems(roi)) found.push({ index, ...problem });
    });
    for (const [key, { message }] of this.invalid) found.push({ index: null, field: key, message });
    return found;
  }

  get dirty() {
    return this.history.dirty;
  }

  setStatus(status, detail = "") {
    this.status = status;
    this.statusDetail = detail;
    this.notify();
  }

  /** Save the frame (a PUT with If-Match); `overwrite` is the ETag of a newer save the user chose to replace
   * ("" to save a frame someone deleted meanwhile again, without a precondition). Resolves to true when the
   * frame on the server is what the user sees. */
  async save({ overwrite = null } = {}) {
    if (!this.dirty && overwrite === null) return true;
    const problems = this.problems();
    if (problems.length) {
      const first = problems[0];
      if (first.index !== null) this.page.select(first.index, { reveal: true, toggle: false });
      this.setStatus("failed", `Not saved: ${problems.length} problem${problems.length > 1 ? "s" : ""} to fix (${first.message})`);
      return false;
    }
    const at = this.history.at;
    const sent = structuredClone(this.state);
    this.setStatus("saving");
    let response;
    try {
      response = await fetch(this.contract.api_url, {
        method: "PUT",
        credentials: "same-origin",
        headers: this.headers(overwrite ?? this.etag),
        body: JSON.stringify({ ...this.saved, rois: sent.rois, meta: sent.meta }),
      });
    } catch {
      this.setStatus("failed", "Not saved: the server could not be reached. Your changes are kept here; try again.");
      return false;
    }
    const body = await response.json().catch(() => ({}));
    if (response.status === 412) return this.conflicted(body);
    if (!response.ok) {
      const errors = (body.errors || []).map((e) => `${e.field}: ${e.message}`).join("; ");
      this.setStatus("failed", `Not saved (${response.status}): ${errors || body.detail || response.statusText}`);
      return false;
    }
    this.saved = body;
    this.etag = response.headers.get("ETag") || `"${body.saved}"`;
    this.history.markSavedAt(at);
    const stored = editable(body);
    if (this.history.at === at && JSON.stringify(stored) !== JSON.stringify(this.state)) {
      // The server gave new ROIs their ids: keep them, so the next save does not give them new ones.
      this.state = stored;
      this.history.replaceCurrent(this.state);
      this.page.setRois(this.state.rois);
    }
    this.setStatus(this.dirty ? "unsaved" : "saved");
    return !this.dirty;
  }

  headers(ifMatch) {
    const headers = { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": this.csrfToken };
    if (ifMatch) headers["If-Match"] = ifMatch;
    return headers;
  }

  /** Someone else saved the frame since it was read: show what they changed; nothing is overwritten unless the
   * user says so. */
  conflicted(body) {
    const current = body.current || null;
    this.setStatus("failed", "Not saved: someone else saved this frame meanwhile.");
    showConflict(this.page.root, {
      mine: this.state,
      base: this.saved,
      theirs: current,
      onReload: () => {
        this.history.markSaved(); // nothing to ask about: the user chose to drop their changes
        window.location.reload();
      },
      onOverwrite: () => this.save({ overwrite: current ? `"${current.saved}"` : "" }),
    });
    return false;
  }

  /** Before moving to another frame: save unsaved changes; false (stay) when they could not be saved. */
  async beforeLeaving() {
    if (!this.dirty) return true;
    return this.save();
  }
}

/** Invalid text typed for ROI fields after ROI `removed` was deleted: its own is dropped (it cannot be fixed
 * any more), that of the ROIs above it moves down by one with them. */
function shiftInvalid(invalid, removed) {
  const next = new Map();
  for (const [key, entry] of invalid) {
    const index = Number(/^rois\[(\d+)\]/.exec(key)?.[1] ?? -1);
    if (index === removed) continue;
    const moved = index > removed ? key.replace(`rois[${index}]`, `rois[${index - 1}]`) : key;
    next.set(moved, { ...entry, message: entry.message.replace(key, moved) });
  }
  return next;
}

/** Indexes after ROI `removed` was deleted: those above it move down by one. */
function shiftIndexes(indexes, removed) {
  const next = new Set();
  for (const i of indexes) if (i !== removed) next.add(i > removed ? i - 1 : i);
  return next;
}
