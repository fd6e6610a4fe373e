// One mask of one source as a layer of the stage: the mask worker (mask-worker.js) decodes and colours it, this
// keeps the coloured ImageBitmap and draws it. draw() is one drawImage, so the stage can call it on every
// viewport change; colouring happens only when the mode, tint or a label's colour or visibility changes.
//
//   const layer = new MaskLayer({media, maskLabels, rois, sourceId, sourceIds, width, height});
//   layer.onchange = () => stage.redraw();   // or layer.addEventListener("change", ...)
//   await layer.load();                       // never throws: layer.error says why it shows nothing
//   stage.addLayer(layer);

import { DEFAULT_TINT, NEUTRAL, labelResolver, maskLookup, maskStats } from "./masks.js";

export const MODES = Object.freeze(["labels", "alpha"]);
export const DEFAULT_OPACITY = 0.6;

let router = null;

/** The page's one mask worker, and the layers its answers go to. */
function maskWorker() {
  if (router) return router;
  const worker = new Worker(new URL("./mask-worker.js", import.meta.url), { type: "module" });
  const layers = new Map();
  worker.addEventListener("message", (event) => layers.get(event.data.id)?.receive(event.data));
  worker.addEventListener("error", (event) => {
    for (const layer of layers.values()) layer.receive({ type: "failed", message: event.message || "the mask worker failed" });
  });
  router = { worker, layers, post: (message, transfer = []) => worker.postMessage(message, transfer) };
  return router;
}

let nextId = 1;

/** drawImage's arguments for the part of the bitmap (stretched over width x height) that the canvas shows, in
 * whole mask pixels: zoomed in, the canvas rasterises a few of them instead of the whole mask. Null if none. */
function visiblePart(ctx, bitmap, width, height) {
  const { a, b, c, d, e, f } = ctx.getTransform();
  if (b || c || a <= 0 || d <= 0) return [0, 0, bitmap.width, bitmap.height, 0, 0, width, height]; // rotated: all
  const sx = bitmap.width / width, sy = bitmap.height / height; // mask pixels per source pixel
  const left = Math.max(0, Math.floor((-e / a) * sx)), top = Math.max(0, Math.floor((-f / d) * sy));
  const right = Math.min(bitmap.width, Math.ceil(((ctx.canvas.width - e) / a) * sx));
  const bottom = Math.min(bitmap.height, Math.ceil(((ctx.canvas.height - f) / d) * sy));
  if (right <= left || bottom <= top) return null;
  return [left, top, right - left, bottom - top, left / sx, top / sy, (right - left) / sx, (bottom - top) / sy];
}

export class MaskLayer extends EventTarget {
  /**
   * media: the contract's mask entry {id, image, reason}; maskLabels: the contract's mask_labels; rois, sourceId,
   * sourceIds: the frame's ROIs and this source's id among the frame's source ids (for the deprecated per-ROI
   * `mask.value`); width, height: the source's pixel size the mask is stretched to (the mask's own when 0).
   */
  constructor({ media, maskLabels = {}, rois = [], sourceId = null, sourceIds = null, width = 0, height = 0 }) {
    super();
    this.key = `mask-${nextId++}`;
    this.id = String(media?.id ?? "");
    this.url = media?.image || null;
    this.width = width;
    this.height = height;
    this.lookup = maskLookup({ maskId: this.id, maskLabels, rois, sourceId, sourceIds });
    this.resolve = labelResolver(this.lookup);
    this.visible = true;
    this.opacity = DEFAULT_OPACITY;
    this.mode = "labels";
    this.tint = DEFAULT_TINT;
    this.hidden = [];
    this.colours = {};
    this.showUnlabelled = false;
    this.ready = false;
    this.error = this.url ? "" : media?.reason || "no mask image";
    this.bitmap = null;
    this.counts = null; // {values, counts, hasAlpha} of the decoded mask
    this.timings = {}; // ms of the last decode, count, colour and bitmap, as the worker measured them
    this.onchange = null;
    this.requests = new Map(); // request number -> resolve, for answers awaited by a promise
    this.nextRequest = 1;
    this.colouring = false; // a colour request is in the worker
    this.stale = false; // options changed while it was
  }

  /** Decode and colour the mask; resolves with the layer once its first bitmap is ready, or once it failed. */
  load() {
    if (this.loading) return this.loading;
    if (!this.url) return (this.loading = Promise.resolve(this));
    this.router = maskWorker();
    this.router.layers.set(this.key, this);
    this.loading = new Promise((resolve) => { this.settle = resolve; });
    const url = new URL(this.url, globalThis.location?.href).href;
    this.router.post({ type: "load", id: this.key, url, lookup: this.lookup });
    return this.loading;
  }

  /** The stats of the legend (masks.js maskStats): labels present with counts, unlabelled values; null until loaded. */
  get stats() {
    if (!this.counts) return null;
    this.cachedStats ??= { ...maskStats(this.counts, this.resolve, { colours: this.colours, hidden: this.hidden }), hasAlpha: this.counts.hasAlpha };
    return this.cachedStats;
  }

  setVisible(visible) {
    this.visible = !!visible;
    this.changed("visible");
  }

  setOpacity(opacity) {
    this.opacity = Math.min(1, Math.max(0, Number(opacity) || 0));
    this.changed("opacity");
  }

  setMode(mode) {
    if (!MODES.includes(mode)) throw new RangeError(`mode: one of ${MODES.join(", ")}`);
    this.mode = mode;
    this.recolour();
  }

  setTint(colour) {
    this.tint = colour;
    if (this.mode === "alpha") this.recolour();
  }

  setLabelVisible(label, visible) {
    this.hidden = this.hidden.filter((hidden) => hidden !== label);
    if (!visible) this.hidden.push(label);
    this.cachedStats = null;
    this.changed("stats");
    if (this.mode === "labels") this.recolour();
  }

  setLabelColour(label, colour) {
    this.colours = { ...this.colours, [label]: colour };
    this.cachedStats = null;
    this.changed("stats");
    if (this.mode === "labels") this.recolour();
  }

  setShowUnlabelled(show) {
    this.showUnlabelled = !!show;
    if (this.mode === "labels") this.recolour();
  }

  /** Draw on a context already in the source's pixel coordinates: the mask over (0,0)-(width,height). */
  draw(ctx) {
    if (!this.visible || !this.bitmap || this.opacity <= 0) return;
    ctx.save();
    ctx.globalAlpha = this.opacity;
    ctx.imageSmoothingEnabled = false;
    const part = visiblePart(ctx, this.bitmap, this.width, this.height);
    if (part) ctx.drawImage(this.bitmap, ...part);
    ctx.restore();
  }

  /** The decoded mask's exact RGBA values ({width, height, data}), copied out of the worker (tests, pickers). */
  pixels() {
    return this.ask({ type: "pixels" });
  }

  /** Forget the mask in the worker and free the bitmap. */
  destroy() {
    this.router?.post({ type: "drop", id: this.key });
    this.router?.layers.delete(this.key);
    this.bitmap?.close();
    this.bitmap = null;
    this.settle?.(this); // a load still in the worker ends now
  }

  // ------------------------------------------------------------------------------------------------ inner

  options() {
    const { mode, tint, hidden, colours, showUnlabelled } = this;
    return { mode, tint, hidden, colours, showUnlabelled, neutral: NEUTRAL };
  }

  recolour() {
    if (!this.counts) return; // the first colouring, after the load, uses the options as they are then
    if (this.colouring) {
      this.stale = true;
      return;
    }
    this.colouring = true;
    this.router.post({ type: "colour", id: this.key, options: this.options() });
  }

  ask(message) {
    if (!this.router) return Promise.reject(new Error("the mask is not loaded"));
    const request = this.nextRequest++;
    return new Promise((resolve, reject) => {
      this.requests.set(request, { resolve, reject });
      this.router.post({ ...message, id: this.key, request });
    });
  }

  receive(message) {
    const waiting = message.request !== undefined ? this.requests.get(message.request) : null;
    if (waiting) {
      this.requests.delete(message.request);
      if (message.type === "failed") waiting.reject(new Error(message.message));
      else waiting.resolve({ width: message.width, height: message.height, data: message.data });
    } else if (message.type === "loaded") {
      this.loaded(message);
    } else if (message.type === "coloured") {
      this.coloured(message);
    } else if (message.type === "failed") {
      this.failed(message.message);
    }
  }

  loaded({ width, height, values, counts, hasAlpha, decoder, ms }) {
    this.maskWidth = width;
    this.maskHeight = height;
    if (!this.width || !this.height) [this.width, this.height] = [width, height];
    this.counts = { values, counts, hasAlpha };
    this.cachedStats = null;
    this.decoder = decoder;
    Object.assign(this.timings, ms);
    this.recolour();
  }

  coloured({ bitmap, ms }) {
    this.bitmap?.close();
    this.bitmap = bitmap;
    this.colouring = false;
    Object.assign(this.timings, ms);
    if (this.stale) {
      this.stale = false;
      this.recolour();
    }
    if (!this.ready) {
      this.ready = true;
      this.settle?.(this);
    }
    this.changed("bitmap");
  }

  failed(message) {
    this.error = message;
    this.colouring = false;
    this.settle?.(this);
    this.changed("error");
  }

  changed(what) {
    this.onchange?.(this, what);
    this.dispatchEvent(new CustomEvent("change", { detail: { what } }));
  }
}

/** One MaskLayer per mask of a source, from the frame contract (readContract) and the source's index in it. */
export function maskLayersOf(contract, sourceIndex, { width = 0, height = 0 } = {}) {
  const media = contract.sources[sourceIndex];
  const sourceIds = contract.sources.map((source) => source.id);
  return (media?.masks || []).map((mask) => new MaskLayer({
    media: mask, maskLabels: contract.mask_labels, rois: contract.frame.rois, sourceId: media.id, sourceIds, width, height,
  }));
}
