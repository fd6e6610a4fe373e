// What changed in a frame's ROIs since the parent version: pure functions, no DOM (the frame page draws and
// lists the result; the parent's frame is the contract's `parent.frame`, viewer/contract.py).
//
// diffRois(rois, parentRois) -> {added, removed, changed, unchanged}
//   added      [index in rois]          ROIs the parent did not have
//   removed    [index in parentRois]    parent ROIs this frame no longer has
//   changed    [{index, parentIndex, fields}]   the same ROI, edited; `fields` names what differs, in the order
//              poly, labels, confidence, sources, shape, mask, meta, then any other key alphabetically
//   unchanged  [index in rois]          ROIs exactly as the parent had them
// Every list is in ascending index order.
//
// Which ROI is "the same ROI" in both, decided in three passes, each over the ROIs not matched yet, in order:
//   1. by `id`, when both ROIs carry the same one;
//   2. identical ROIs (every field but `id` equal, see `sameValue`), first with first: unchanged;
//   3. the remaining ones pairwise by the same labels and the same sources (as sets), the first such ROI of the
//      frame with the first such ROI of the parent, and so on: changed (a moved polygon, a new confidence).
// What is left is added (in the frame) or removed (in the parent).
// `id` is how ROIs are matched, never a changed field: the server gives an ROI saved without an id a new one,
// so an ROI written again without its id (a re-import) comes back under another id, and passes 2 and 3 still
// find it.
//
// Values are compared as JSON: object keys in any order, numbers by value; a missing key, null, {} and [] are
// all "empty" and equal (a frame label has no poly, whether it says `"poly": []` or nothing). `labels` and
// `sources` are sets (their order means nothing); `label` (ClearML's single-label spelling) is read as `labels`.
// A relabelled ROI without an id is therefore removed and added (pass 3 pairs same labels only); with an id it
// is changed in `labels`.

const FIELD_ORDER = ["poly", "labels", "confidence", "sources", "shape", "mask", "meta"];

/** The ROI's labels as a list (`labels`, or ClearML's `label`), [] when it has none. */
export function roiLabels(roi) {
  const labels = roi?.labels ?? roi?.label ?? [];
  return Array.isArray(labels) ? labels.map(String) : [String(labels)];
}

function isEmpty(value) {
  if (value === undefined || value === null) return true;
  if (Array.isArray(value)) return value.length === 0;
  return typeof value === "object" && Object.keys(value).length === 0;
}

/** Deep equality of JSON values (object keys in any order); missing, null, {} and [] are equal. */
export function sameValue(a, b) {
  if (isEmpty(a) || isEmpty(b)) return isEmpty(a) && isEmpty(b);
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((v, i) => sameValue(v, b[i]));
  }
  if (typeof a === "object" && typeof b === "object") {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const key of keys) if (!sameValue(a[key], b[key])) return false;
    return true;
  }
  return a === b;
}

const asSet = (list) => [...new Set(list.map(String))].sort();

/** The ROI without its id, `label` folded into `labels`, and labels and sources as sorted sets. */
function normalised(roi) {
  const { label: _label, id: _id, ...rest } = roi || {};
  const result = { ...rest, labels: asSet(roiLabels(roi)) };
  if (Array.isArray(rest.sources)) result.sources = asSet(rest.sources);
  return result;
}

/** The fields (all but `id`) in which two ROIs differ, in FIELD_ORDER, then any other key alphabetically. */
export function changedFields(roi, parentRoi) {
  const a = normalised(roi);
  const b = normalised(parentRoi);
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  const others = [...keys].filter((key) => !FIELD_ORDER.includes(key)).sort();
  return [...FIELD_ORDER, ...others].filter((key) => keys.has(key) && !sameValue(a[key], b[key]));
}

function hasId(roi) {
  return roi && roi.id !== undefined && roi.id !== null && roi.id !== "";
}

/** The labels and sources of an ROI as one key: ROIs with the same key can be "the same ROI, edited". */
function kindKey(roi) {
  return JSON.stringify([asSet(roiLabels(roi)), asSet(Array.isArray(roi?.sources) ? roi.sources : [])]);
}

/** Pairs (i, j) of ROIs not matched yet for which `match(rois[i], parentRois[j])`, first with first. */
function pairUp(rois, parentRois, pairs, used, match) {
  rois.forEach((roi, i) => {
    if (pairs.has(i)) return;
    const j = parentRois.findIndex((parent, k) => !used.has(k) && match(roi, parent));
    if (j < 0) return;
    pairs.set(i, j);
    used.add(j);
  });
}

/** The ROIs added, removed, changed and unchanged since the parent version (see the top of this module). */
export function diffRois(rois, parentRois) {
  const mine = Array.isArray(rois) ? rois : [];
  const theirs = Array.isArray(parentRois) ? parentRois : [];
  const pairs = new Map(); // index in mine -> index in theirs
  const used = new Set();
  pairUp(mine, theirs, pairs, used, (a, b) => hasId(a) && hasId(b) && String(a.id) === String(b.id));
  pairUp(mine, theirs, pairs, used, (a, b) => changedFields(a, b).length === 0);
  pairUp(mine, theirs, pairs, used, (a, b) => kindKey(a) === kindKey(b));

  const result = { added: [], removed: [], changed: [], unchanged: [] };
  mine.forEach((roi, index) => {
    if (!pairs.has(index)) {
      result.added.push(index);
      return;
    }
    const parentIndex = pairs.get(index);
    const fields = changedFields(roi, theirs[parentIndex]);
    if (fields.length) result.changed.push({ index, parentIndex, fields });
    else result.unchanged.push(index);
  });
  theirs.forEach((_, index) => { if (!used.has(index)) result.removed.push(index); });
  return result;
}
