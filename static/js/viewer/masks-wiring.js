// The mask overlays of the frame page (filled in once mask-layer.js lands).
export function attachMasks() {
  return null;
}
