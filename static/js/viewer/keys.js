// The frame page's keyboard: one table of keys, read by the key handler and by the `?` overlay, so the
// overlay always lists what the keys do.

export const KEYS = Object.freeze([
  { keys: ["←", "→"], match: ["ArrowLeft", "ArrowRight"], action: ["previous", "next"], what: "Previous / next frame in the current filter and order" },
  { keys: ["Shift+←", "Shift+→"], match: ["Shift+ArrowLeft", "Shift+ArrowRight"], action: ["back10", "forward10"], what: "10 frames back / forward" },
  { keys: [",", "."], match: [",", "."], action: ["previousConfident", "nextConfident"], what: "Previous / next frame with an ROI at or above the minimum confidence" },
  { keys: ["[", "]"], match: ["[", "]"], action: ["previousInContext", "nextInContext"], what: "Previous / next frame of the same context (film strip order)" },
  { keys: ["+", "−"], match: ["+", "-"], action: ["zoomIn", "zoomOut"], what: "Zoom in / out (or the mouse wheel)" },
  { keys: ["0", "1"], match: ["0", "1"], action: ["fit", "oneToOne"], what: "Fit the image / show it at 100% (1:1)" },
  { keys: ["Space+drag"], match: [], action: [], what: "Pan (dragging the image pans too)" },
  { keys: ["h"], match: ["h"], action: ["toggleRois"], what: "Hide / show all ROIs" },
  { keys: ["m"], match: ["m"], action: ["toggleMasks"], what: "Hide / show the mask overlays" },
  { keys: ["c"], match: ["c"], action: ["toggleCompare"], what: "Compare with the parent version (on a child version)" },
  { keys: ["p"], match: ["p"], action: ["togglePreview"], what: "Switch between the source image and its preview" },
  { keys: ["s"], match: ["s"], action: ["nextSource"], what: "Next source of a FrameGroup" },
  { keys: ["a"], match: ["a"], action: ["toggleAllSources"], what: "All sources side by side / one at a time" },
  { keys: ["Esc"], match: ["Escape"], action: ["back"], what: "Back to the frames, where you were (closes this help first)" },
  { keys: ["?"], match: ["?"], action: ["help"], what: "Show / hide this list" },
]);

/** The name of a keydown event as KEYS writes it ("Shift+ArrowLeft", ",", "?"). */
export function keyName(event) {
  const printable = event.key.length === 1;
  return !printable && event.shiftKey ? `Shift+${event.key}` : event.key;
}

/** The action of a keydown event, or null. */
export function actionFor(event) {
  if (event.altKey || event.ctrlKey || event.metaKey) return null;
  const name = keyName(event);
  for (const row of KEYS) {
    const at = row.match.indexOf(name);
    if (at >= 0) return row.action[at];
  }
  return null;
}

function helpRow(row) {
  const item = document.createElement("div");
  item.className = "fv-help-row";
  const keys = document.createElement("span");
  keys.className = "fv-help-keys";
  for (const key of row.keys) {
    const kbd = document.createElement("kbd");
    kbd.textContent = key;
    keys.append(kbd);
  }
  const what = document.createElement("span");
  what.textContent = row.what;
  item.append(keys, what);
  return item;
}

/** Fill the help overlay's list from KEYS, then `extra` rows ({keys, what}) under "Annotating" when given. */
export function renderHelp(list, extra = []) {
  const rows = KEYS.map(helpRow);
  if (extra.length) {
    const head = document.createElement("h3");
    head.className = "fv-subhead";
    head.textContent = "Annotating";
    rows.push(head, ...extra.map((row) => {
      const item = helpRow(row);
      item.classList.add("is-annotating");
      return item;
    }));
  }
  list.replaceChildren(...rows);
}
