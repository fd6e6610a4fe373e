// The frame page: each source's ROIs drawn over its image from the frame contract (the JSON island), a label
// legend under each source, the preview when the large image cannot be shown, previous/next with the arrow
// keys, and the raw JSON's copy button. The server renders the images and the panels; this draws on them.

import { readContract, sourceMedia } from "./contract.js";
import { chip, drawShapes } from "./draw.js";
import { legendEntries, shapesOnSource, sourceIds } from "./rois.js";

/** The source's pixel size: as the frame says, else the image's own once it is loaded (or its preview's,
 * when the image fails and the preview takes its place). */
function sourceSize(source, img) {
  if (source.width && source.height) return Promise.resolve({ width: source.width, height: source.height });
  if (!img) return Promise.resolve({ width: 0, height: 0 });
  const natural = () => ({ width: img.naturalWidth, height: img.naturalHeight });
  if (img.complete) return Promise.resolve(natural());
  return new Promise((resolve) => {
    img.addEventListener("load", () => resolve(natural()), { once: true });
  });
}

function placeholder(reason) {
  const div = document.createElement("div");
  div.className = "tile-ph tile-ph-failed";
  div.title = reason;
  div.innerHTML = '<span class="tile-ph-icon" aria-hidden="true">⚠</span><span class="tile-ph-reason"></span>';
  div.querySelector(".tile-ph-reason").textContent = reason;
  return div;
}

/** An image that fails to load shows the source's preview instead, and a placeholder when that fails too. */
function fallBackOnError(img, media) {
  let fallback = media && media.preview !== media.image ? media.preview : null;
  const fail = () => {
    if (fallback) {
      img.src = fallback;
      fallback = null;
    } else {
      img.replaceWith(placeholder("image could not be loaded"));
    }
  };
  img.addEventListener("error", fail);
  if (img.complete && !img.naturalWidth) fail(); // it failed before this module ran
}

async function drawSource(figure, source, contract, ids) {
  const id = figure.dataset.sourceId;
  const img = figure.querySelector(".fv-image");
  if (img) fallBackOnError(img, sourceMedia(contract, id));
  const shapes = shapesOnSource(contract.frame.rois, id, ids);
  const size = await sourceSize(source, img);
  const canvas = figure.querySelector(".fv-canvas");
  if (size.width && size.height) {
    canvas.style.setProperty("--w", String(size.width));
    canvas.style.setProperty("--h", String(size.height));
  }
  drawShapes(figure.querySelector(".fv-overlay"), shapes, size);
  figure.dataset.drawn = String(shapes.length);
  if (shapes.length) {
    const legend = document.createElement("div");
    legend.className = "fv-legend";
    legend.append(...legendEntries(shapes).map((entry) => chip(entry.text, entry.colour, entry.count)));
    figure.append(legend);
  }
}

function setupKeys() {
  document.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey || event.target.closest("input, textarea, select")) return;
    const which = { ArrowLeft: "previous", ArrowRight: "next" }[event.key];
    const link = which && document.querySelector(`[data-nav="${which}"]`);
    if (link) {
      event.preventDefault();
      window.location.assign(link.href);
    }
  });
}

function setupCopy() {
  for (const button of document.querySelectorAll("[data-copy]")) {
    button.addEventListener("click", async (event) => {
      event.preventDefault();
      const text = document.querySelector(button.dataset.copy)?.textContent || "";
      try {
        await navigator.clipboard.writeText(text);
        button.textContent = "Copied";
      } catch {
        button.textContent = "Copy failed";
      }
      setTimeout(() => { button.textContent = "Copy"; }, 1500);
    });
  }
}

function init() {
  const root = document.getElementById("frame-view");
  const contract = readContract();
  if (!root || !contract) return;
  setupKeys();
  setupCopy();
  const sources = contract.frame.sources || [];
  const ids = sourceIds(sources);
  const figures = root.querySelectorAll(".fv-source[data-source-id]");
  // The template renders one figure per source, in the contract's order.
  figures.forEach((figure, i) => drawSource(figure, sources[i], contract, ids));
}

init();
