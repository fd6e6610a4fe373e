// One source on screen: OpenSeadragon (static/vendor/openseadragon-*/) shows the image, or its deep-zoom
// pyramid, and handles wheel, drag, pinch and keyboard-free zooming; one <canvas> on top of it draws the
// overlays (ROIs, masks, the diff) in the source's pixel coordinates, redrawn on every viewport change so they
// stay aligned at every zoom.
//
// Layers: `stage.addLayer(layer)`, where `layer.draw(ctx, view)` draws with `ctx` already transformed so that
// (0, 0)-(width, height) is the source in its own pixels; `view` is {scale (screen pixels per source pixel,
// CSS), dpr}. Layers are drawn in the order they were added; a `volatile` layer (the annotator's, which changes
// on every pointer move) is drawn after the others, which `redrawLive` copies from their last drawing.

const OSD = globalThis.OpenSeadragon;
const ZOOM_STEP = 1.25;
export const MAX_ZOOM_PERCENT = 3200;

/** What OpenSeadragon opens for `media` (a contract source entry) and `which` ("image" | "preview"): the
 * deep-zoom pyramid when it is ready and the image is wanted, else the one picture. */
export function tileSourceFor(media, which) {
  const pyramid = media.pyramid;
  if (which === "image" && pyramid && pyramid.state === "ready") {
    return {
      width: pyramid.width,
      height: pyramid.height,
      tileSize: pyramid.tile_size,
      tileOverlap: pyramid.overlap,
      minLevel: 0,
      maxLevel: pyramid.max_level,
      getTileUrl: (level, x, y) => pyramid.tile_url.replace("{level}", level).replace("{x}", x).replace("{y}", y),
    };
  }
  const url = which === "preview" ? media.preview || media.image : media.image || media.preview;
  return url ? { type: "image", url, buildPyramid: false } : null;
}

/** A copy of `source` (a canvas), in `into` when given (a canvas kept for the purpose). */
function copyOf(source, into = document.createElement("canvas")) {
  into.width = source.width;
  into.height = source.height;
  into.getContext("2d").drawImage(source, 0, 0);
  return into;
}

export class Stage {
  /**
   * @param {HTMLElement} element  where the viewer goes (it fills it)
   * @param {{width: number, height: number}} size  the source's size in pixels (what overlays are drawn in)
   * @param {object} tileSource  see tileSourceFor
   */
  constructor(element, size, tileSource) {
    this.element = element;
    this.size = size;
    this.layers = [];
    this.pending = 0;
    this.viewer = OSD({
      element,
      tileSources: tileSource,
      drawer: "canvas",
      showNavigationControl: false,
      crossOriginPolicy: false,
      animationTime: 0.25,
      springStiffness: 9,
      zoomPerScroll: ZOOM_STEP,
      zoomPerClick: 1,
      minZoomImageRatio: 0.1,
      maxZoomPixelRatio: 64,
      visibilityRatio: 0.1,
      preserveImageSizeOnResize: false, // a resized stage keeps showing the same part of the image
      gestureSettingsMouse: { clickToZoom: false, dblClickToZoom: true },
    });
    // The page handles the keys (frame-page.js); OpenSeadragon's own would pan on the arrow keys.
    this.viewer.addHandler("canvas-key", (event) => { event.preventDefaultAction = true; });
    this.overlay = document.createElement("canvas");
    this.overlay.className = "fv-overlay-canvas";
    this.viewer.canvas.append(this.overlay);
    this.viewer.addHandler("update-viewport", () => this.draw());
    this.fitted = true; // OpenSeadragon opens an image fitted
    this.viewer.addHandler("resize", () => {
      // An image viewer keeps a fitted image fitted; OpenSeadragon applies the new size after this event.
      if (this.fitted) requestAnimationFrame(() => this.viewer.viewport.goHome(true));
      this.redraw();
    });
    for (const name of ["canvas-drag", "canvas-scroll", "canvas-double-click", "canvas-pinch"]) {
      this.viewer.addHandler(name, () => { this.fitted = false; }); // the user took over the view
    }
    this.viewer.addHandler("open", () => this.redraw());
    this.animating = false;
    this.viewer.addHandler("animation-start", () => { this.animating = true; });
    this.viewer.addHandler("animation-finish", () => {
      this.animating = false;
      this.redraw();
    });
  }

  /** Draw `layer` from now on: on top of the others, or under them (`{under: true}`: masks go under ROIs). */
  addLayer(layer, { under = false } = {}) {
    if (under) this.layers.unshift(layer);
    else this.layers.push(layer);
    this.redraw();
    return layer;
  }

  /** Draw on the next animation frame (many calls make one drawing), sharp: a layer changed. */
  redraw() {
    this.snapshot = null;
    this.base = null;
    this.schedule(false);
  }

  /** Draw on the next animation frame, when only the volatile layers changed (`layer.volatile`: the annotator's
   * shape under the pointer): the others are copied from what they drew last, whatever their number. */
  redrawLive() {
    this.schedule(true);
  }

  schedule(live) {
    this.pendingLive = this.pending ? this.pendingLive && live : live;
    if (this.pending) return;
    this.pending = requestAnimationFrame(() => {
      this.pending = 0;
      this.draw({ live: this.pendingLive });
    });
  }

  /** Screen (CSS) pixels per source pixel, and where the source's origin is, relative to the viewer. */
  transform() {
    const viewport = this.viewer.viewport;
    const origin = viewport.pixelFromPoint(new OSD.Point(0, 0), true);
    const unit = viewport.pixelFromPoint(new OSD.Point(1, 0), true);
    return { scale: (unit.x - origin.x) / this.size.width, x: origin.x, y: origin.y };
  }

  draw({ live = false } = {}) {
    const canvas = this.overlay;
    const dpr = window.devicePixelRatio || 1;
    const width = Math.round(this.viewer.canvas.clientWidth * dpr);
    const height = Math.round(this.viewer.canvas.clientHeight * dpr);
    if (canvas.width !== width || canvas.height !== height) {
      canvas.width = width;
      canvas.height = height;
      this.snapshot = null;
    }
    const ctx = canvas.getContext("2d");
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, width, height);
    if (!this.size.width) return;
    const { scale, x, y } = this.transform();
    ctx.setTransform(dpr * scale, 0, 0, dpr * scale, dpr * x, dpr * y);
    if (this.animating && this.snapshot) {
      // While the view moves, the last sharp drawing moves with it: one drawImage a frame, whatever the number
      // of ROIs (rasterising hundreds of outlines costs tens of ms a frame without a GPU). Sharp again at rest.
      const shot = this.snapshot;
      ctx.drawImage(shot.canvas, shot.x, shot.y, shot.width, shot.height);
      return;
    }
    const view = { scale, dpr };
    const key = `${scale}|${x}|${y}|${width}|${height}`;
    if (live && this.base?.key === key) {
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.drawImage(this.base.canvas, 0, 0);
      ctx.setTransform(dpr * scale, 0, 0, dpr * scale, dpr * x, dpr * y);
    } else {
      this.drawLayers(ctx, view, (layer) => !layer.volatile);
      if (live) this.base = { key, canvas: copyOf(canvas, this.base?.canvas) };
    }
    this.drawLayers(ctx, view, (layer) => layer.volatile);
    if (live) this.snapshot = null; // taken again by the next full drawing
    else this.keepSnapshot({ scale, x, y, dpr });
  }

  drawLayers(ctx, view, which) {
    for (const layer of this.layers) {
      if (!which(layer)) continue;
      ctx.save();
      layer.draw(ctx, view);
      ctx.restore();
    }
  }

  /** Keep what the overlay shows now, with the source rectangle it covers, for drawing while the view moves. */
  keepSnapshot({ scale, x, y, dpr }) {
    const canvas = copyOf(this.overlay, this.snapshot?.canvas);
    this.snapshot = { canvas, x: -x / scale, y: -y / scale, width: canvas.width / dpr / scale, height: canvas.height / dpr / scale };
  }

  /** A source pixel [x, y] as a point in the viewer element (CSS pixels). */
  imageToScreen([x, y]) {
    const t = this.transform();
    return [t.x + x * t.scale, t.y + y * t.scale];
  }

  /** A point of the viewer element (CSS pixels) as a source pixel [x, y]. */
  screenToImage([x, y]) {
    const t = this.transform();
    return [(x - t.x) / t.scale, (y - t.y) / t.scale];
  }

  /** The zoom as a percentage: 100 is one source pixel per CSS pixel. */
  zoomPercent() {
    return this.transform().scale * 100;
  }

  setZoomPercent(percent, immediately = false) {
    const current = this.zoomPercent();
    const wanted = Math.min(MAX_ZOOM_PERCENT, Math.max(1, percent));
    if (!current) return;
    const viewport = this.viewer.viewport;
    this.fitted = false;
    viewport.zoomTo(viewport.getZoom(true) * (wanted / current), null, immediately);
  }

  zoomIn() {
    this.fitted = false;
    this.viewer.viewport.zoomBy(ZOOM_STEP);
  }

  zoomOut() {
    this.fitted = false;
    this.viewer.viewport.zoomBy(1 / ZOOM_STEP);
  }

  /** Show the whole image; it stays fitted when the stage changes size, until the user zooms or pans. */
  fit(immediately = false) {
    this.fitted = true;
    this.viewer.viewport.goHome(immediately);
  }

  /** After the stage's box changed size (a source brought on stage, the layout switched): fit the image now,
   * and again when OpenSeadragon measures the new size on its next update (the "resize" handler above). */
  refit() {
    this.fit(true);
    this.viewer.forceResize();
  }

  /** Centre the view on a source rectangle [minX, minY, maxX, maxY], zooming out if it does not fit. */
  reveal([minX, minY, maxX, maxY]) {
    const w = this.size.width;
    const viewport = this.viewer.viewport;
    const bounds = viewport.getBounds(true);
    const rect = new OSD.Rect(minX / w, minY / w, Math.max(1, maxX - minX) / w, Math.max(1, maxY - minY) / w);
    const inside = rect.x >= bounds.x && rect.y >= bounds.y && rect.x + rect.width <= bounds.x + bounds.width
      && rect.y + rect.height <= bounds.y + bounds.height;
    if (inside) return;
    this.fitted = false;
    if (rect.width <= bounds.width && rect.height <= bounds.height) viewport.panTo(rect.getCenter());
    else viewport.fitBounds(new OSD.Rect(rect.x - rect.width * 0.1, rect.y - rect.height * 0.1, rect.width * 1.2, rect.height * 1.2));
  }

  /** Show another picture of the same source (image or preview), keeping the view where it is. */
  open(tileSource) {
    // Keep the view of the picture on show; after a picture that failed to open there is none: fit.
    const bounds = this.viewer.world.getItemCount() ? this.viewer.viewport.getBounds(true) : null;
    this.viewer.addOnceHandler("open", () => (bounds ? this.viewer.viewport.fitBounds(bounds, true) : this.fit(true)));
    this.viewer.open(tileSource);
  }

  /** Call `handler(point, event)` with the source pixel under the pointer (null when it leaves). */
  onPointer({ move, leave, click }) {
    this.tracker = new OSD.MouseTracker({
      element: this.viewer.canvas,
      moveHandler: (event) => move?.(this.screenToImage([event.position.x, event.position.y]), event),
      leaveHandler: (event) => leave?.(event),
    });
    this.viewer.addHandler("canvas-click", (event) => {
      if (event.quick) click?.(this.screenToImage([event.position.x, event.position.y]), event);
    });
  }
}
