// Compare with the parent version (on a child version's frame page): the ROIs added, changed and removed since
// the parent, coloured on every source with the removed and former shapes as dashed ghosts, and listed in the
// Changes panel. Recomputed when the annotator changes the frame's ROIs.

import { diffRois } from "./diff.js";
import { renderChanges } from "./panels.js";
import { DIFF_STYLES } from "./roi-layer.js";
import { roiShape, roiSourceIds } from "./rois.js";

export class Compare {
  constructor(page) {
    this.page = page;
    this.on = false;
    this.toggle = page.root.querySelector("#frame-compare");
    this.parentRois = page.contract.parent.frame?.rois || [];
    this.toggle.addEventListener("change", () => this.set(this.toggle.checked));
    this.update();
  }

  /** Compare the frame's ROIs as they are now with the parent's. */
  update() {
    const rois = this.page.frame.rois || [];
    this.diff = diffRois(rois, this.parentRois);
    renderChanges(this.page.root.querySelector("#frame-changes"), this.diff, {
      rois, parentRois: this.parentRois, styles: DIFF_STYLES, onSelect: (index) => this.page.select(index, { reveal: true }),
    });
    if (this.on) this.set(true);
  }

  set(on) {
    const page = this.page;
    this.on = on;
    this.toggle.checked = on;
    page.root.dataset.comparing = String(on);
    page.root.querySelector("[data-panel='changes']").hidden = !on;
    const status = new Map();
    for (const index of this.diff.added) status.set(index, "added");
    for (const change of this.diff.changed) status.set(change.index, "changed");
    for (const view of page.views) {
      const ghosts = [
        ...this.diff.removed.map((index) => this.ghost(view, index, "removed")),
        ...this.diff.changed.map((change) => this.ghost(view, change.parentIndex, "before")),
      ].filter(Boolean);
      view.layer.diff = on ? { status, ghosts } : null;
    }
    page.redrawAll();
  }

  /** The parent's ROI `index` drawn as a ghost of `kind` on `view`, or null when it is not on that source. */
  ghost(view, index, kind) {
    const roi = this.parentRois[index];
    if (!roi || !roiSourceIds(roi, this.page.ids).includes(view.id)) return null;
    const shape = roiShape(roi, index);
    return shape ? { shape, kind } : null;
  }
}
