// One colour per label, computed exactly as viewer/tiles.py `label_colour` computes it, so the ROIs drawn here
// match the label chips the server renders: 32-bit FNV-1a over the UTF-8 bytes of the salted label, modulo the
// palette. tests/test_viewer_module.py checks that both agree (palette, salt, non-ASCII labels).

export const PALETTE = Object.freeze([
  "#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#17becf", "#f032e6", "#9acd32", "#d62728", "#1f77b4",
  "#ff9f1c", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#469990", "#bcbd22", "#000075", "#9a6324", "#008080",
]);
export const LABEL_SALT = "14226:"; // see viewer/tiles.py: common labels fall on distinct colours under it
export const UNLABELLED = "#808080"; // an ROI without a label

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const utf8 = new TextEncoder(); // a lone surrogate becomes U+FFFD, as in the Python twin

/** 32-bit FNV-1a of a byte array, as an unsigned integer. */
export function fnv1a32(bytes) {
  let hash = FNV_OFFSET;
  for (const byte of bytes) hash = Math.imul(hash ^ byte, FNV_PRIME) >>> 0; // multiplication modulo 2^32
  return hash;
}

/** The palette colour of a label ("#rrggbb"). */
export function labelColour(label) {
  return PALETTE[fnv1a32(utf8.encode(LABEL_SALT + String(label))) % PALETTE.length];
}

/** The colour an ROI is drawn in: its first label's. */
export function roiColour(labels) {
  return labels.length ? labelColour(labels[0]) : UNLABELLED;
}
