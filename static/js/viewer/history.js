// Undo and redo for the annotator: a stack of the frame's states (its ROIs and metadata). Pure (no DOM): the page records a state
// after every change and puts back what undo or redo returns. States are deep-copied in and out, so nothing the
// page mutates later changes the history.

const copy = (value) => structuredClone(value);

export class History {
  /** `initial`: the frame's ROIs as loaded (or saved); `limit`: how many changes are kept. */
  constructor(initial, { limit = 200 } = {}) {
    this.states = [copy(initial)];
    this.at = 0;
    this.limit = limit;
    this.savedAt = 0;
  }

  /** Record the state after a change; anything that was undone is dropped (a new branch). */
  record(state) {
    this.states = this.states.slice(0, this.at + 1);
    this.states.push(copy(state));
    if (this.states.length > this.limit + 1) {
      this.states.shift();
      this.savedAt -= 1; // the saved state may fall off the start: then it is no longer reachable (-1 and below)
    }
    this.at = this.states.length - 1;
  }

  canUndo() {
    return this.at > 0;
  }

  canRedo() {
    return this.at < this.states.length - 1;
  }

  /** The state before the last change (null when there is none). */
  undo() {
    if (!this.canUndo()) return null;
    this.at -= 1;
    return copy(this.states[this.at]);
  }

  /** The state the last undo went back from (null when there is none). */
  redo() {
    if (!this.canRedo()) return null;
    this.at += 1;
    return copy(this.states[this.at]);
  }

  current() {
    return copy(this.states[this.at]);
  }

  /** The current state was saved: `dirty` is false until the next change, undo or redo. */
  markSaved() {
    this.savedAt = this.at;
  }

  /** State `at` (a position read before an asynchronous save) was saved. */
  markSavedAt(at) {
    this.savedAt = at;
  }

  /** Put `state` in place of the current one, not as a new step (the saved frame as the server returned it). */
  replaceCurrent(state) {
    this.states[this.at] = copy(state);
  }

  get dirty() {
    return this.at !== this.savedAt;
  }
}
