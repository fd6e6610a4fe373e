// Frames tab: progressive enhancement of server-rendered pages (every link works without it).
// - toolbar selects apply at once, with a clean URL (empty and default values left out)
// - the tile size slider (remembered in localStorage)
// - the frame count under a filter, fetched after the page is shown
// - label counts for the pickers (shared with filters.js through labels())
// - placeholders for images that fail to load
// - the scroll position, remembered per URL when a frame is opened and restored when the grid is shown again
//   with the same URL (the frame page's Esc goes back to it: viewer/views/context.py back_url)
// - each thumbnail's ROIs and label chips that fit (tiles.js, shared with Split Preview)
// - the table's header sticks to the top of the page (its Columns chooser with it); a table wider than the
//   page scrolls in its own box instead, with the header and the chooser's column kept in view
// (The frame page has its own script: static/js/viewer/frame-page.js.)

import { setupChips, setupTileRois } from "./tiles.js";
import { readJson } from "./viewer/contract.js";

const DEFAULTS = { sort: "context", order: "asc", limit: "100", view: "grid" };
const TILE_KEY = "hd.tileSize";
const SCROLL_KEY = "hd.gridScroll:";

/** Navigate to this page with `params` (URLSearchParams), dropping empty and default values. */
export function navigate(params) {
  const clean = new URLSearchParams();
  for (const [key, value] of params) {
    if (value === "" || DEFAULTS[key] === value) continue;
    clean.append(key, value);
  }
  const query = clean.toString();
  window.location.assign(window.location.pathname + (query ? `?${query}` : ""));
}

/** The form's values as URLSearchParams; a new filter or sort starts again at page 1 (no cursor). */
export function formParams(form) {
  const params = new URLSearchParams();
  for (const [key, value] of new FormData(form)) params.append(key, value);
  params.delete("cursor");
  params.delete("page");
  return params;
}

let labelsPromise = null;

/** [{label, frame_count, roi_count, frame_label_count}] of the version, from the page or fetched once. */
export function labels() {
  if (labelsPromise) return labelsPromise;
  const embedded = readJson("fb-labels");
  const root = document.getElementById("frame-browser");
  if (embedded && Array.isArray(embedded.labels)) {
    labelsPromise = Promise.resolve(embedded.labels);
  } else if (root && root.dataset.labelsUrl) {
    labelsPromise = fetch(root.dataset.labelsUrl, { headers: { Accept: "application/json" } })
      .then((r) => (r.ok ? r.json() : { labels: [] }))
      .then((stats) => stats.labels || [])
      .catch(() => []);
  } else {
    labelsPromise = Promise.resolve([]);
  }
  return labelsPromise;
}

const fmt = new Intl.NumberFormat("en-US");

function setupToolbar() {
  const form = document.getElementById("fb-form");
  if (!form) return;
  // Controls outside the form (form="fb-form") do not bubble through it: listen on the document.
  document.addEventListener("change", (event) => {
    const control = event.target.closest("[data-auto-submit]");
    if (!control || control.form !== form) return;
    if (control.name === "sort" && control.value === "__meta__") {
      askMetaKey(control);
      return;
    }
    navigate(formParams(form));
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    navigate(formParams(form));
  });
}

function askMetaKey(select) {
  const input = document.createElement("input");
  input.type = "text";
  input.className = "fb-select";
  input.placeholder = "meta key, e.g. speed";
  input.setAttribute("aria-label", "Metadata key to sort by");
  input.id = "fb-sort-meta";
  select.hidden = true;
  select.after(input);
  input.focus();
  const done = (apply) => {
    const key = input.value.trim().replace(/^meta\./, "");
    if (apply && key) {
      const params = formParams(select.form);
      params.set("sort", `meta.${key}`);
      navigate(params);
    } else {
      input.remove();
      select.hidden = false;
      select.value = select.querySelector("option[selected]")?.value || "context";
    }
  };
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter") { e.preventDefault(); done(true); }
    if (e.key === "Escape") done(false);
  });
  input.addEventListener("blur", () => done(Boolean(input.value.trim())));
}

function setupTileSize() {
  const slider = document.getElementById("fb-tile-size");
  if (!slider) return;
  const stored = Number(localStorage.getItem(TILE_KEY));
  if (stored) slider.value = String(stored);
  const apply = () => {
    document.documentElement.style.setProperty("--tile", `${slider.value}px`);
  };
  slider.addEventListener("input", apply);
  slider.addEventListener("change", () => {
    try { localStorage.setItem(TILE_KEY, slider.value); } catch { /* private mode */ }
  });
  apply();
}

async function setupCount() {
  const node = document.getElementById("fb-count");
  const root = document.getElementById("frame-browser");
  if (!node || !node.dataset.pending || !root) return;
  try {
    const response = await fetch(root.dataset.countUrl, { headers: { Accept: "application/json" } });
    const body = await response.json();
    if (!response.ok) throw new Error("count failed");
    const strong = node.querySelector("strong");
    strong.textContent = fmt.format(body.count);
    strong.dataset.countValue = String(body.count);
    delete node.dataset.pending;
    root.dispatchEvent(new CustomEvent("fb:count", { detail: body.count })); // frames-jump.js: the last page
  } catch {
    node.querySelector("strong").textContent = "?";
  }
}

async function setupQuickLabels() {
  const select = document.getElementById("fb-label-pick");
  if (!select || select.options.length > 1) return; // filled by the server (published version)
  const chosen = new Set([...document.querySelectorAll("[data-quick-label]")].map((a) => a.dataset.quickLabel));
  for (const entry of await labels()) {
    if (chosen.has(entry.label)) continue;
    select.add(new Option(`${entry.label} (${fmt.format(entry.frame_count)})`, entry.label));
  }
}

function setupColumns() {
  const button = document.getElementById("fb-cols-apply");
  if (!button) return;
  button.addEventListener("click", () => {
    const keys = [...document.querySelectorAll("#fb-cols input:checked")].map((i) => i.value);
    const params = new URLSearchParams(window.location.search);
    if (keys.length) params.set("cols", keys.join(",")); else params.delete("cols");
    navigate(params);
  });
}

function setupExportMenu() {
  // A <details> menu stays open until toggled: close it once a format is chosen or the user clicks elsewhere.
  const menu = document.getElementById("fb-export-menu");
  if (!menu) return;
  menu.addEventListener("click", (event) => { if (event.target.closest("a[role=menuitem]")) menu.open = false; });
  document.addEventListener("click", (event) => { if (menu.open && !menu.contains(event.target)) menu.open = false; });
}

function placeholder(reason, failed) {
  const div = document.createElement("div");
  div.className = "tile-ph" + (failed ? " tile-ph-failed" : "");
  div.title = reason;
  div.innerHTML = `<span class="tile-ph-icon" aria-hidden="true">${failed ? "⚠" : "◷"}</span><span class="tile-ph-reason"></span>`;
  div.querySelector(".tile-ph-reason").textContent = reason;
  return div;
}

function setupImageErrors() {
  // `error` does not bubble: listen in the capture phase for every image of the page.
  document.addEventListener("error", (event) => {
    const img = event.target;
    if (!(img instanceof HTMLImageElement) || !img.closest(".tile-src")) return;
    img.closest(".tile-src").querySelector(".tile-rois")?.remove(); // nothing to draw on
    img.replaceWith(placeholder("image could not be loaded", true));
  }, true);
}

/** The sessionStorage key of a grid URL's scroll position: the same view gives the same key, whatever the
 * order of its parameters and whether defaults are spelled out (the server's links and this script's differ). */
export function scrollKey(url) {
  const parsed = new URL(url, window.location.href);
  const params = new URLSearchParams();
  for (const [key, value] of parsed.searchParams) {
    if (value !== "" && DEFAULTS[key] !== value) params.append(key, value);
  }
  params.sort();
  return `${SCROLL_KEY}${parsed.pathname}?${params}`;
}

function setupScrollMemory() {
  const root = document.getElementById("frame-browser");
  if (!root) return;
  const key = scrollKey(window.location.href);
  const box = document.getElementById("fb-table-wrap");
  root.addEventListener("click", (event) => {
    if (!event.target.closest("#fb-grid a[href], #fb-table a[href], #fb-contexts a[href]")) return;
    try {
      sessionStorage.setItem(key, String(Math.round(window.scrollY)));
      if (box) sessionStorage.setItem(`${key}#table`, String(Math.round(box.scrollTop)));
    } catch { /* storage off */ }
  });
  const restore = () => {
    let stored = null;
    try {
      stored = sessionStorage.getItem(key);
      if (box) box.scrollTop = Number(sessionStorage.getItem(`${key}#table`) || 0); // a boxed table's own scroll
    } catch { /* storage off */ }
    if (stored === null) return false;
    window.scrollTo(0, Number(stored));
    return Math.abs(window.scrollY - Number(stored)) <= 1;
  };
  // Tiles have a fixed aspect ratio, so the page is as tall as it will be once the styles apply; if it is
  // not yet (styles still loading), try again when everything has loaded.
  if (!restore() && document.readyState !== "complete") window.addEventListener("load", restore, { once: true });
  window.addEventListener("pageshow", (event) => { if (event.persisted) restore(); });
}

/** The table's header sticks to the page's top while the table fits the page; a wider table (many metadata
 * columns) scrolls in a box as tall as the window, its header at the box's top, the Columns cell at its right. */
function setupTable() {
  const box = document.getElementById("fb-table-wrap");
  const table = document.getElementById("fb-table");
  if (!box || !table) return;
  const fit = () => {
    box.classList.remove("fb-table-boxed");
    box.classList.add("fb-table-sticky");
    if (table.offsetWidth > box.clientWidth + 1) {
      box.classList.remove("fb-table-sticky");
      box.classList.add("fb-table-boxed");
    }
  };
  fit();
  window.addEventListener("resize", fit);
}

setupToolbar();
setupTileSize();
setupTable();
setupChips("#fb-grid .tile-info .chips, #fb-contexts .tile-info .chips", document.querySelector("#fb-grid, #fb-contexts"));
setupScrollMemory();
setupTileRois("#fb-grid [data-frame-id], #fb-table [data-frame-id], #fb-contexts [data-context-id]");
setupColumns();
setupExportMenu();
setupImageErrors();
setupCount();
setupQuickLabels();
