// The frame page's mask overlays: one MaskLayer (mask-layer.js) per mask of each source, drawn under the ROIs
// on that source's stage, and the Masks panel (mask-panel.js) for the source on show.

import { maskLayersOf } from "./mask-layer.js";
import { renderMaskPanel } from "./mask-panel.js";

/** Attach the masks of every source of `page` (frame-page.js); returns {showSource(), toggleAll(), layers}. */
export function attachMasks(page) {
  const container = page.root.querySelector("[data-panel='masks']");
  const layers = new Map(); // source id -> its MaskLayers
  page.views.forEach((view, index) => {
    if (!view.stage) return;
    const ofSource = maskLayersOf(page.contract, index, view.stage.size);
    for (const layer of ofSource) {
      layer.onchange = () => view.stage.redraw();
      view.stage.addLayer(layer, { under: true });
      layer.load();
    }
    layers.set(view.id, ofSource);
  });
  const all = () => [...layers.values()].flat();
  let panel = null;
  const showSource = () => {
    if (!container) return;
    container.hidden = !all().length;
    if (!container.hidden) panel = renderMaskPanel(container, layers.get(page.active?.id) || [], { onChange: () => page.active?.stage?.redraw() });
  };
  showSource();
  return {
    layers,
    showSource,
    toggleAll() {
      const shown = all().some((layer) => layer.visible);
      for (const layer of all()) layer.setVisible(!shown);
      panel?.refresh();
    },
  };
}
