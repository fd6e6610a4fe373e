// The sources of a frame on screen: one Stage (stage.js) per source with its ROI layer, the image/preview
// switch, the deep-zoom pyramid that replaces the image once the workers have made it, and the FrameGroup
// layout (one source at a time, or all side by side).

import { RoiLayer } from "./roi-layer.js";
import { Stage, tileSourceFor } from "./stage.js";

const PYRAMID_POLL_MS = 1500;

/** The source's pixel size from the frame ({width: 0, height: 0} when the frame does not say). */
function declaredSize(source) {
  return { width: Number(source?.width) || 0, height: Number(source?.height) || 0 };
}

/** The size of what OpenSeadragon opened, for sources whose frame gives none. */
function openedSize(stage) {
  const item = stage.viewer.world.getItemAt(0);
  const size = item?.getContentSize();
  return size ? { width: size.x, height: size.y } : { width: 0, height: 0 };
}

export class SourceView {
  /**
   * @param {HTMLElement} figure  the template's figure for this source (.fv-source)
   * @param {object} source  frame.sources[i]
   * @param {object} media  contract.sources[i]
   * @param {object[]} shapes  the shapes on this source (rois.js shapesOnSource)
   * @param {object} filter  what the user hides, shared by every source (roi-layer.js roiFilter)
   */
  constructor(figure, source, media, shapes, filter) {
    this.figure = figure;
    this.source = source;
    this.media = media;
    this.id = media.id;
    this.which = "image";
    this.status = figure.querySelector(".fv-source-status");
    this.layer = new RoiLayer(shapes, filter);
    this.stage = null;
    const tileSource = tileSourceFor(media, "image");
    const viewport = figure.querySelector(".fv-viewport");
    if (!tileSource || !viewport) return;
    const size = declaredSize(source);
    this.stage = new Stage(viewport, size, tileSource);
    this.stage.addLayer(this.layer);
    this.stage.viewer.addHandler("open", () => this.opened());
    this.stage.viewer.addHandler("open-failed", () => this.openFailed());
    this.ready = new Promise((resolve) => { this.resolveReady = resolve; });
    if (media.note) this.setStatus(`Shown by your browser · no preview: ${media.note}`, "failed");
    this.watchPyramid();
  }

  opened() {
    if (!this.source?.width || !this.source?.height) this.stage.size = openedSize(this.stage);
    this.figure.dataset.shown = this.shownKind();
    this.figure.dispatchEvent(new CustomEvent("fv-shown", { bubbles: true, detail: { which: this.which } }));
    this.stage.redraw();
    this.resolveReady?.();
  }

  /** The image failed (a source the server cannot read): fall back on the preview once. */
  openFailed() {
    if (this.which === "image" && this.media.preview && this.media.preview !== this.media.image) {
      this.show("preview");
      return;
    }
    this.setStatus("The image could not be loaded", "failed");
    this.resolveReady?.();
  }

  shownKind() {
    if (this.which === "preview") return "preview";
    return this.media.pyramid?.state === "ready" ? "pyramid" : "image";
  }

  /** Whether the image/preview switch means anything for this source. */
  hasPreviewChoice() {
    return Boolean(this.media.preview && this.media.image && this.media.preview !== this.media.image);
  }

  show(which) {
    if (!this.stage || which === this.which) return;
    const tileSource = tileSourceFor(this.media, which);
    if (!tileSource) return;
    this.which = which;
    this.stage.open(tileSource);
  }

  setStatus(text, kind = "") {
    if (!this.status) return;
    this.status.textContent = text;
    this.status.dataset.kind = kind;
    this.status.hidden = !text;
  }

  /** A source larger than the view is shown through a tiled pyramid the workers make on first view: ask for
   * it, say so, and swap it in (keeping the view) when it is ready. */
  async watchPyramid() {
    const pyramid = this.media.pyramid;
    if (!pyramid || pyramid.state === "ready") {
      if (pyramid) this.setStatus("Deep zoom", "ready");
      return;
    }
    while (true) {
      this.setStatus(pyramid.state === "failed" ? `Deep zoom failed: ${pyramid.reason}` : "Making deep zoom tiles…", pyramid.state);
      if (pyramid.state === "failed") return;
      let answer;
      try {
        const response = await fetch(pyramid.status_url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
        answer = response.ok ? await response.json() : undefined;
      } catch {
        answer = undefined; // the server did not answer: ask again
      }
      if (answer === null) { // the source no longer needs a pyramid (edited meanwhile)
        this.setStatus("");
        return;
      }
      if (answer) Object.assign(pyramid, answer);
      if (pyramid.state === "ready") {
        this.setStatus("Deep zoom", "ready");
        if (this.which === "image") this.stage.open(tileSourceFor(this.media, "image"));
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, PYRAMID_POLL_MS));
    }
  }
}

/** Build one SourceView per figure of the page, in the contract's order. */
export function sourceViews(root, contract, shapesFor, filter) {
  const figures = [...root.querySelectorAll(".fv-source[data-source-id]")];
  const sources = contract.frame.sources || [];
  return figures.map((figure, i) => new SourceView(figure, sources[i], contract.sources[i], shapesFor(contract.sources[i].id), filter));
}
