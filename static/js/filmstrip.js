// The context view (Group by URL): a context's frames in timestamp order as a film strip, the selected frame
// large with its ROIs, play/pause at the frames' own timing, step with buttons or arrow keys, a timestamp readout.
//
// Playback is driven by requestAnimationFrame: a frame stays up for the gap to the next frame's timestamp
// (divided by the speed; 100 ms when timestamps do not increase), and the next few images are preloaded and
// decoded ahead, so a 300-frame video plays through its per-frame previews without flicker. When an image is
// late the clock waits for it instead of skipping.
//
// The ROIs are drawn by the viewer module (static/js/viewer/), as on the frame page: each strip frame carries
// its rois and source ids, and those of its first source are drawn over the large image.

import { chip, drawShapes } from "./viewer/draw.js";
import { shapesOnSource } from "./viewer/rois.js";

const PRELOAD_AHEAD = 8; // while paused; one second of frames ahead while playing
const PRELOAD_PLAYING = 30;
const DEFAULT_STEP_MS = 100;
const MAX_STEP_MS = 2000;

const data = JSON.parse(document.getElementById("cx-data")?.textContent || "null");
const root = document.getElementById("context-view");

const $ = (id) => document.getElementById(id);
const ui = {
  image: $("cx-image"), overlay: $("cx-overlay"), placeholder: $("cx-placeholder"), reason: $("cx-reason"),
  canvas: $("cx-canvas"), labels: $("cx-labels"), strip: $("cx-strip"), time: $("cx-time"), index: $("cx-index"),
  scrub: $("cx-scrub"), play: $("cx-play"), speed: $("cx-speed"), open: $("cx-open"), total: $("cx-total"),
  first: $("cx-first"), prev: $("cx-prev"), next: $("cx-next"), last: $("cx-last"),
};

const frames = data ? data.frames : [];
let nextCursor = data ? data.next : null;
let loadingMore = null;
let current = -1;
let playing = false;
let dueAt = 0;
let waitingFor = -1;
const cache = new Map(); // url -> {img, ready: Promise}

// Playing shows the small previews (made ahead by the workers, so 30 fps keep up); a paused or stepped-to
// frame shows its large image (the original, or a large rendition the server makes on first view), with the
// small preview in its place until the large one is decoded.
function imageFor(frame) {
  return (playing && frame.thumb) || frame.image || frame.thumb || null;
}

function preload(url) {
  if (!url) return null;
  let entry = cache.get(url);
  if (!entry) {
    const img = new Image();
    img.decoding = "async";
    img.src = url;
    entry = { img, ok: false, done: false };
    entry.ready = img.decode().then(() => { entry.ok = true; }, () => {}).finally(() => { entry.done = true; });
    cache.set(url, entry);
    if (cache.size > 400) cache.delete(cache.keys().next().value);
  }
  return entry;
}

function preloadAround(index) {
  const ahead = playing ? PRELOAD_PLAYING : PRELOAD_AHEAD;
  // Large images only for the neighbours (each may be rendered by the server on first view); small ones further.
  for (let i = index + 1; i <= Math.min(frames.length - 1, index + ahead); i++) {
    preload(i === index + 1 ? imageFor(frames[i]) : frames[i].thumb || imageFor(frames[i]));
  }
  if (index > 0) preload(imageFor(frames[index - 1]));
}

function formatTime(ms) {
  const seconds = ms / 1000;
  if (seconds >= 60) {
    const m = Math.floor(seconds / 60);
    return `${m}:${(seconds - m * 60).toFixed(3).padStart(6, "0")}`;
  }
  return `${seconds.toFixed(3)} s`;
}

/** How a frame is placed in its context: its TIFF page, else its time. */
function position(frame) {
  return frame.page === null || frame.page === undefined ? formatTime(frame.timestamp) : `page ${frame.page + 1}`;
}

function totalFrames() {
  return Number(ui.total?.dataset.total || frames.length);
}

function drawRois(frame, width, height) {
  const ids = frame.source_ids || [];
  drawShapes(ui.overlay, shapesOnSource(frame.rois, ids[0] ?? "default", ids), { width, height });
}

function show(index, { scroll = true } = {}) {
  if (!frames.length) return;
  index = Math.max(0, Math.min(frames.length - 1, index));
  const frame = frames[index];
  const url = imageFor(frame);
  current = index;
  if (url) {
    const entry = preload(url);
    ui.image.hidden = false;
    ui.placeholder.hidden = true;
    const shown = entry.ok || !frame.thumb || url === frame.thumb ? url : frame.thumb;
    if (ui.image.getAttribute("src") !== shown) ui.image.src = shown;
    if (shown !== url) entry.ready.then(() => { if (current === index && entry.ok) ui.image.src = url; });
    const size = () => {
      const w = frame.width || entry.img.naturalWidth;
      const h = frame.height || entry.img.naturalHeight;
      if (w && h) ui.canvas.style.setProperty("--ar", `${w} / ${h}`);
      drawRois(frame, w, h);
    };
    if (frame.width && frame.height) size(); else entry.ready.then(() => { if (current === index) size(); });
  } else {
    ui.image.hidden = true;
    ui.image.removeAttribute("src");
    ui.placeholder.hidden = false;
    ui.reason.textContent = frame.reason || "no preview";
    drawRois(frame, 0, 0); // nothing to draw on
  }
  ui.labels.replaceChildren(...(frame.chips || []).map((entry) => chip(entry.label, entry.colour)));
  root.dataset.index = String(index);
  ui.time.textContent = position(frame);
  ui.time.dataset.timestamp = String(frame.timestamp);
  ui.index.textContent = `frame ${index + 1} / ${totalFrames()}`;
  ui.scrub.value = String(index);
  ui.open.href = frame.href;
  ui.first.disabled = ui.prev.disabled = index === 0;
  ui.next.disabled = ui.last.disabled = index === frames.length - 1 && !nextCursor;
  for (const cell of ui.strip.querySelectorAll(".cx-cell.on")) cell.classList.remove("on");
  const cell = ui.strip.children[index];
  if (cell) {
    cell.classList.add("on");
    cell.setAttribute("aria-current", "true");
    if (scroll) centre(cell);
  }
  preloadAround(index);
  if (index >= frames.length - PRELOAD_AHEAD * 2) loadMore();
}

/** Scroll the strip (only the strip, never the page) so the cell is in the middle. */
function centre(cell) {
  const left = cell.offsetLeft - (ui.strip.clientWidth - cell.offsetWidth) / 2; // the strip is the offsetParent
  ui.strip.scrollTo({ left: Math.max(0, left), behavior: playing ? "instant" : "smooth" });
}

function remember() {
  const url = new URL(window.location.href);
  url.searchParams.set("frame", frames[current]?.id ?? "");
  history.replaceState(null, "", url);
}

function cellFor(frame, index) {
  const li = document.createElement("li");
  li.className = "cx-cell";
  li.dataset.index = String(index);
  li.dataset.frameId = frame.id;
  li.title = `${frame.id} · ${position(frame)}`;
  const media = document.createElement("div");
  media.className = "tile-media";
  const fig = document.createElement("figure");
  fig.className = "tile-src";
  if (frame.thumb) {
    const img = document.createElement("img");
    img.loading = "lazy";
    img.decoding = "async";
    img.alt = frame.id;
    img.draggable = false;
    img.src = frame.thumb;
    fig.append(img);
  } else {
    const ph = document.createElement("div");
    ph.className = "tile-ph" + ((frame.reason || "").includes("failed") ? " tile-ph-failed" : "");
    ph.title = frame.reason || "";
    ph.innerHTML = '<span class="tile-ph-icon" aria-hidden="true">◷</span>';
    fig.append(ph);
  }
  media.append(fig);
  const ts = document.createElement("span");
  ts.className = "cx-cell-ts";
  ts.textContent = position(frame);
  li.append(media, ts);
  return li;
}

function appendCells(from) {
  const fragment = document.createDocumentFragment();
  for (let i = from; i < frames.length; i++) fragment.append(cellFor(frames[i], i));
  ui.strip.append(fragment);
  ui.scrub.max = String(Math.max(0, frames.length - 1));
}

function loadMore() {
  if (!nextCursor || loadingMore) return loadingMore;
  const url = `${data.more_url}&cursor=${encodeURIComponent(nextCursor)}`;
  loadingMore = fetch(url, { headers: { Accept: "application/json" } })
    .then((r) => (r.ok ? r.json() : Promise.reject(new Error(String(r.status)))))
    .then((page) => {
      const from = frames.length;
      frames.push(...page.frames);
      nextCursor = page.next;
      appendCells(from);
      if (current >= 0) show(current, { scroll: false });
    })
    .catch(() => { nextCursor = null; })
    .finally(() => { loadingMore = null; });
  return loadingMore;
}

function stepDuration(index) {
  const a = frames[index];
  const b = frames[index + 1];
  const gap = b ? b.timestamp - a.timestamp : DEFAULT_STEP_MS;
  const ms = gap > 0 && gap <= MAX_STEP_MS ? gap : DEFAULT_STEP_MS;
  return ms / Number(ui.speed.value || 1);
}

function tick(now) {
  if (!playing) return;
  if (now >= dueAt) {
    if (current >= frames.length - 1) {
      if (nextCursor) {
        loadMore();
      } else {
        pause();
        return;
      }
    } else {
      const entry = preload(imageFor(frames[current + 1]));
      if (entry && !entry.done && waitingFor !== current + 1) {
        waitingFor = current + 1; // the image is late: hold this frame (counted, for tests and tuning)
        root.dataset.stalls = String(Number(root.dataset.stalls || 0) + 1);
      }
      if (!entry || entry.done) {
        show(current + 1);
        // Keep the timeline: the next frame is due one gap after this one was due, unless we fell behind.
        const late = now - dueAt > stepDuration(current);
        dueAt = (late ? now : dueAt) + stepDuration(current);
      }
    }
  }
  requestAnimationFrame(tick);
}

function play() {
  if (!frames.length) return;
  if (current >= frames.length - 1 && !nextCursor) show(0);
  playing = true;
  ui.play.setAttribute("aria-pressed", "true");
  ui.play.querySelector(".cx-play-text").textContent = "Pause";
  root.dataset.playing = "1";
  preloadAround(current);
  dueAt = performance.now() + stepDuration(current);
  requestAnimationFrame(tick);
}

function pause() {
  const wasPlaying = playing;
  playing = false;
  ui.play.setAttribute("aria-pressed", "false");
  ui.play.querySelector(".cx-play-text").textContent = "Play";
  delete root.dataset.playing;
  if (wasPlaying && current >= 0) show(current, { scroll: false }); // the large image of the frame paused on
  remember();
}

async function step(delta) {
  pause();
  if (delta > 0 && current >= frames.length - 1 && nextCursor) await loadMore();
  show(current + delta);
  remember();
}

function init() {
  if (!data || !root || !ui.strip) return;
  appendCells(0);
  ui.strip.addEventListener("click", (event) => {
    const cell = event.target.closest(".cx-cell");
    if (!cell) return;
    pause();
    show(Number(cell.dataset.index));
    remember();
  });
  ui.strip.addEventListener("scroll", () => {
    const { scrollLeft, clientWidth, scrollWidth } = ui.strip;
    if (scrollLeft + clientWidth > scrollWidth - 600) loadMore();
  }, { passive: true });
  ui.play.addEventListener("click", () => (playing ? pause() : play()));
  ui.prev.addEventListener("click", () => step(-1));
  ui.next.addEventListener("click", () => step(1));
  ui.first.addEventListener("click", () => { pause(); show(0); remember(); });
  ui.last.addEventListener("click", () => { pause(); show(frames.length - 1); remember(); });
  ui.scrub.addEventListener("input", () => { pause(); show(Number(ui.scrub.value)); });
  ui.scrub.addEventListener("change", remember);
  ui.speed.addEventListener("change", () => { if (playing) dueAt = performance.now() + stepDuration(current); });
  document.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey || event.target.closest("input[type=text], textarea, select")) return;
    if (event.key === "ArrowRight") { event.preventDefault(); step(1); }
    else if (event.key === "ArrowLeft") { event.preventDefault(); step(-1); }
    else if (event.key === " " || event.key === "k") { event.preventDefault(); playing ? pause() : play(); }
    else if (event.key === "Home") { event.preventDefault(); pause(); show(0); }
    else if (event.key === "End") { event.preventDefault(); pause(); show(frames.length - 1); }
  });
  ui.image.addEventListener("error", () => {
    const frame = frames[current];
    if (!frame) return;
    if (frame.thumb && ui.image.getAttribute("src") !== frame.thumb) {
      frame.image = frame.thumb; // the original could not be shown: fall back to the preview
      ui.image.src = frame.thumb;
      return;
    }
    ui.image.hidden = true;
    ui.placeholder.hidden = false;
    ui.reason.textContent = "image could not be loaded";
  });
  const wanted = root.dataset.selected;
  const start = wanted ? Math.max(0, frames.findIndex((f) => f.id === wanted)) : 0;
  show(start, { scroll: true });
}

init();
