// The refused save: someone else saved the frame after this page read it. The dialog says who changed what
// (their save against the frame this page started from, and the user's own changes), and offers to reload
// their version or to overwrite it knowingly. Never a silent overwrite.

import { diffRois, roiLabels, sameValue } from "./diff.js";
import { isFrameLabel } from "./rois.js";

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

const labelsOf = (rois, indexes) => indexes.map((i) => roiLabels(rois[i]).join(", ") || "(no label)").join("; ");

/** "1 ROI: car" / "2 frame labels: night; rainy", by what the ROIs are. */
function counted(rois, indexes) {
  const frameLabels = indexes.filter((i) => isFrameLabel(rois[i]));
  const shapes = indexes.filter((i) => !isFrameLabel(rois[i]));
  const part = (list, noun) => `${list.length} ${noun}${list.length > 1 ? "s" : ""}: ${labelsOf(rois, list)}`;
  return [shapes.length ? part(shapes, "ROI") : "", frameLabels.length ? part(frameLabels, "frame label") : ""].filter(Boolean).join(", ");
}

/** Lines saying how `after` ({rois, meta}) differs from `before` (a frame): ROIs added, removed, changed and
 * metadata keys. */
export function changeLines(after, before) {
  const diff = diffRois(after.rois || [], before.rois || []);
  const lines = [];
  if (diff.added.length) lines.push(`added ${counted(after.rois, diff.added)}`);
  if (diff.removed.length) lines.push(`removed ${counted(before.rois, diff.removed)}`);
  for (const change of diff.changed) {
    lines.push(`changed ${roiLabels(after.rois[change.index]).join(", ") || "(no label)"}: ${change.fields.join(", ")}`);
  }
  const keys = new Set([...Object.keys(after.meta || {}), ...Object.keys(before.meta || {})]);
  const metaChanged = [...keys].filter((key) => !sameValue((after.meta || {})[key], (before.meta || {})[key]));
  if (metaChanged.length) lines.push(`metadata: ${metaChanged.join(", ")}`);
  return lines;
}

function list(lines, empty) {
  const ul = element("ul", "fv-conflict-list");
  for (const line of lines.length ? lines : [empty]) ul.append(element("li", "", line));
  return ul;
}

/** Show the conflict dialog in `root`; `theirs` is the frame as saved now (null when it was deleted). */
export function showConflict(root, { mine, base, theirs, onReload, onOverwrite }) {
  root.querySelector("#frame-conflict")?.remove();
  const dialog = element("div", "fv-help fv-conflict");
  dialog.id = "frame-conflict";
  dialog.setAttribute("role", "alertdialog");
  dialog.setAttribute("aria-label", "This frame was saved by someone else");
  const card = element("div", "fv-help-card");
  const when = theirs ? new Date(theirs.saved).toLocaleString() : "";
  card.append(
    element("h2", "", theirs ? "Someone else saved this frame" : "Someone else deleted this frame"),
    element("p", "", theirs
      ? `Your changes were not saved: this frame was saved again at ${when}, after you opened it.`
      : "Your changes were not saved: this frame was deleted after you opened it."),
  );
  if (theirs) card.append(element("h3", "fv-subhead", "What they changed"), list(changeLines(theirs, base), "nothing you can see (only fields this page does not edit)"));
  card.append(element("h3", "fv-subhead", "Your unsaved changes"), list(changeLines(mine, base), "none"));
  const actions = element("div", "fv-conflict-actions");
  const reload = element("button", "btn btn-sm", "Reload their version");
  reload.type = "button";
  reload.dataset.conflict = "reload";
  reload.title = "Drop your changes and show the frame as it is saved now";
  const overwrite = element("button", "btn btn-sm btn-danger", theirs ? "Overwrite with mine" : "Save mine again");
  overwrite.type = "button";
  overwrite.dataset.conflict = "overwrite";
  overwrite.title = "Replace their save with your version of the frame";
  const cancel = element("button", "btn btn-sm", "Keep editing");
  cancel.type = "button";
  cancel.dataset.conflict = "cancel";
  actions.append(reload, overwrite, cancel);
  card.append(actions);
  dialog.append(card);
  const close = () => dialog.remove();
  reload.addEventListener("click", () => { close(); onReload(); });
  overwrite.addEventListener("click", () => { close(); onOverwrite(); });
  cancel.addEventListener("click", close);
  root.append(dialog);
  overwrite.focus();
}
