// Mask overlays as pure functions (no DOM): which labels each RGB value of a mask stands for, the values a mask
// holds and how many pixels each covers, and the mask coloured for display. mask-worker.js runs them off the main
// thread; mask-layer.js and mask-panel.js show the result.
//
// Values. A value is an RGB triple; packed, it is the integer 0xRRGGBB. A rule of the lookup may hold -1 in a
// channel: any value of that channel matches (ClearML's `mask: {id, value: [-1, 1, 255]}`).
//
// Pixels are RGBA bytes (ImageData's layout) read four at a time through a Uint32Array: on the little-endian
// machines browsers run on, a pixel's 32-bit word is A<<24 | B<<16 | G<<8 | R.

import { UNLABELLED, labelColour } from "./colours.js";
import { roiLabels, roiSourceIds } from "./rois.js";

export const ANY = -1; // a rule's channel that matches every value
export const NEUTRAL = UNLABELLED; // values without a label, when the user asks to see them: as ROIs without one
export const DEFAULT_TINT = "#ff00ff";

if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1) throw new Error("masks.js reads pixels as little-endian words");

/** [r, g, b] as 0xRRGGBB. */
export function packRgb([r, g, b]) {
  return ((r & 255) << 16) | ((g & 255) << 8) | (b & 255);
}

/** 0xRRGGBB as [r, g, b]. */
export function unpackRgb(packed) {
  return [(packed >> 16) & 255, (packed >> 8) & 255, packed & 255];
}

/** "#rrggbb" as [r, g, b]. */
export function hexRgb(hex) {
  const n = parseInt(String(hex).replace(/^#/, ""), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** "rgb(r, g, b)" of a packed value, as the panel and CSS write it. */
export function rgbText(packed) {
  return `rgb(${unpackRgb(packed).join(", ")})`;
}

// A pixel's 32-bit word (A<<24 | B<<16 | G<<8 | R): its colour with alpha `a`, and back.
const word = ([r, g, b], a) => ((a << 24) | (b << 16) | (g << 8) | r) >>> 0;
const wordToPacked = (w) => ((w & 255) << 16) | (w & 0xff00) | ((w >>> 16) & 255);

// ------------------------------------------------------------------------------------------------- the lookup

/** A rule's value as [r, g, b] with -1 for "any", or null when it is not one (a rule that names no colour). */
function ruleValue(value) {
  if (!Array.isArray(value) || value.length < 3) return null;
  const rgb = value.slice(0, 3).map(Number);
  return rgb.every((c) => Number.isInteger(c) && (c === ANY || (c >= 0 && c <= 255))) ? rgb : null;
}

function ruleLabels(labels) {
  if (typeof labels === "string") return [labels];
  return Array.isArray(labels) ? labels.map(String) : [];
}

/** Rules [{value, labels}] of a list of mask_labels entries, malformed entries left out. */
function rulesOf(entries) {
  const rules = [];
  for (const entry of Array.isArray(entries) ? entries : []) {
    const value = ruleValue(entry?.value);
    if (value) rules.push({ value, labels: ruleLabels(entry.labels ?? entry.label) });
  }
  return rules;
}

/** The deprecated per-ROI form: the ROIs of the frame whose `mask.id` is this mask's, on this source. */
function roiRules(rois, maskId, sourceId, sourceIds) {
  const rules = [];
  for (const roi of Array.isArray(rois) ? rois : []) {
    if (!roi?.mask || String(roi.mask.id) !== String(maskId)) continue;
    if (sourceId != null && sourceIds && !roiSourceIds(roi, sourceIds).includes(String(sourceId))) continue;
    const value = ruleValue(roi.mask.value);
    if (value) rules.push({ value, labels: roiLabels(roi) });
  }
  return rules;
}

/**
 * The lookup of one mask: its RGB values' labels, as plain data (it is posted to the worker).
 *
 * From the version's `maskLabels` (ClearML's mask_labels: `{"_all_" | <mask id>: [{value: [r, g, b], labels}]}`):
 * the entries under this mask's id, then the `_all_` ones; a value's labels are those of the first group that
 * has it, so a mask's own entries win over `_all_`. When the map has no entry for this mask (neither its id nor
 * `_all_`), the frame's ROIs of the deprecated form `{mask: {id: <mask id>, value: [r, g, b]}, labels}` on this
 * source make it. Within a group an exact value wins over rules with -1, and the labels of rules that match
 * equally well are joined in order.
 *
 * Returns {from: "mask_labels" | "rois" | "none", groups: [[{value, labels}], ...]} (most specific first).
 */
export function maskLookup({ maskId, maskLabels = {}, rois = [], sourceId = null, sourceIds = null }) {
  const map = maskLabels && typeof maskLabels === "object" ? maskLabels : {};
  const own = Object.hasOwn(map, String(maskId)) ? rulesOf(map[String(maskId)]) : [];
  const all = String(maskId) !== "_all_" ? rulesOf(map._all_) : [];
  if (own.length || all.length) return { from: "mask_labels", groups: [own, all].filter((g) => g.length) };
  const fromRois = roiRules(rois, maskId, sourceId, sourceIds);
  return fromRois.length ? { from: "rois", groups: [fromRois] } : { from: "none", groups: [] };
}

const matches = (rule, rgb) => rule.value.every((c, i) => c === ANY || c === rgb[i]);
const isExact = (rule) => !rule.value.includes(ANY);

function joined(rules) {
  const labels = [];
  for (const rule of rules) for (const label of rule.labels) if (!labels.includes(label)) labels.push(label);
  return labels;
}

/** A function packed value -> labels ([] when none) for a lookup, each value resolved once. */
export function labelResolver(lookup) {
  const cache = new Map();
  return (packed) => {
    let labels = cache.get(packed);
    if (labels === undefined) {
      labels = [];
      const rgb = unpackRgb(packed);
      for (const group of lookup.groups) {
        const hits = group.filter((rule) => matches(rule, rgb));
        const exact = hits.filter(isExact);
        if (hits.length) {
          labels = joined(exact.length ? exact : hits);
          break;
        }
      }
      cache.set(packed, labels);
    }
    return labels;
  };
}

// ----------------------------------------------------------------------------------------------- the counts

/**
 * The values of an RGBA pixel buffer in one pass: `values` (packed, in order of first appearance), `counts`
 * (pixels per value), `index` (each pixel's position in `values`), `hasAlpha` (some pixel is not opaque).
 * The index makes every later colouring one table look-up per pixel.
 */
export function analyseMask(pixels) {
  const words = new Uint32Array(pixels.buffer, pixels.byteOffset, pixels.length >> 2);
  let analysis = indexValues(words, new Uint16Array(words.length));
  if (!analysis) analysis = indexValues(words, new Uint32Array(words.length)); // over 65536 values: rare
  return analysis;
}

function indexValues(words, index) {
  const limit = index instanceof Uint16Array ? 65536 : Infinity;
  const seen = new Map(); // pixel word without its alpha -> position in values
  const values = [];
  const counts = [];
  let last = -1;
  let position = 0;
  let alphas = 0xff000000;
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    const rgb = w & 0xffffff;
    if (rgb !== last) {
      position = seen.get(rgb);
      if (position === undefined) {
        if (values.length === limit) return null;
        position = values.length;
        seen.set(rgb, position);
        values.push(wordToPacked(rgb));
        counts.push(0);
      }
      last = rgb;
    }
    index[i] = position;
    counts[position]++;
    alphas &= w;
  }
  return { values: Uint32Array.from(values), counts: Float64Array.from(counts), index, hasAlpha: alphas >>> 24 !== 255 };
}

/**
 * What a mask holds, for the legend: `labels` [{label, colour, count, share, visible}] by count, `unlabelled`
 * [{value, rgb, count, share}] by count (values no rule names), `total` pixels. A pixel counts for each of its
 * value's labels. `colours` overrides label colours, `hidden` lists hidden labels.
 */
export function maskStats({ values, counts }, resolve, { colours = {}, hidden = [] } = {}) {
  const total = counts.reduce((sum, n) => sum + n, 0);
  const share = (n) => (total ? n / total : 0);
  const perLabel = new Map();
  const unlabelled = [];
  values.forEach((packed, i) => {
    const labels = resolve(packed);
    if (!labels.length) unlabelled.push({ value: unpackRgb(packed), rgb: rgbText(packed), count: counts[i], share: share(counts[i]) });
    for (const label of labels) perLabel.set(label, (perLabel.get(label) || 0) + counts[i]);
  });
  const byCount = (a, b) => b.count - a.count || (a.label ?? a.rgb).localeCompare(b.label ?? b.rgb);
  const labels = [...perLabel].map(([label, count]) => ({
    label, count, share: share(count), colour: colours[label] || labelColour(label), visible: !hidden.includes(label),
  }));
  return { total, labels: labels.sort(byCount), unlabelled: unlabelled.sort(byCount) };
}

// ----------------------------------------------------------------------------------------------- colouring

/** Rec. 601 luma of a pixel word, in integers (grey v gives v): the opacity of an opaque mask in alpha mode. */
export function luma(r, g, b) {
  return (r * 77 + g * 150 + b * 29 + 128) >> 8;
}

/** Each value's output word in label mode: its first visible label's colour, else transparent (or neutral). */
function labelTable(values, resolve, { colours = {}, hidden = [], showUnlabelled = false, neutral = NEUTRAL }) {
  const hiddenSet = new Set(hidden);
  const cache = new Map(); // a colour's word, parsed once
  const wordOf = (hex) => cache.get(hex) ?? cache.set(hex, word(hexRgb(hex), 255)).get(hex);
  const table = new Uint32Array(values.length);
  values.forEach((packed, i) => {
    const labels = resolve(packed);
    const shown = labels.find((label) => !hiddenSet.has(label));
    if (shown !== undefined) table[i] = wordOf(colours[shown] || labelColour(shown));
    else if (!labels.length && showUnlabelled) table[i] = wordOf(neutral);
  });
  return table;
}

/**
 * Colour a mask into `out` (RGBA bytes of the same size; it may be `pixels` itself, to colour in place).
 * `analysis` is analyseMask(pixels); `options`:
 * - mode "labels": each pixel in its value's first visible label's colour (`colours` overrides labelColour,
 *   `hidden` lists hidden labels), opaque; transparent where the value has no label or only hidden ones, or
 *   `neutral` where it has none and `showUnlabelled` is set. The pixel's own alpha is not used.
 * - mode "alpha": the mask as opacity, in `tint`: the pixel's alpha when the mask has an alpha channel (some
 *   pixel not opaque), else its luma (luma(): grey level v is opacity v/255; black is transparent).
 * `resolve` is labelResolver(lookup); alpha mode does not use it. Returns `out`.
 */
export function colourize(pixels, out, analysis, resolve, options = {}) {
  const { values, index, hasAlpha } = analysis;
  const target = new Uint32Array(out.buffer, out.byteOffset, out.length >> 2);
  if (options.mode === "alpha") {
    const tint = word(hexRgb(options.tint || DEFAULT_TINT), 0);
    if (hasAlpha) {
      const source = new Uint32Array(pixels.buffer, pixels.byteOffset, pixels.length >> 2);
      for (let i = 0; i < target.length; i++) target[i] = (tint | (source[i] & 0xff000000)) >>> 0;
      return out;
    }
    const table = values.map((packed) => (tint | (luma(...unpackRgb(packed)) << 24)) >>> 0);
    return paint(target, index, table, out);
  }
  return paint(target, index, labelTable(values, resolve, options), out);
}

function paint(target, index, table, out) {
  for (let i = 0; i < target.length; i++) target[i] = table[index[i]];
  return out;
}

// --------------------------------------------------------------------------------------------- PNG decoding

const PNG_SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];
const CHANNELS = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 }; // by PNG colour type

/** The PNG's header ({width, height, depth, colourType, interlaced, hasTransparency}), or null if not a PNG. */
export function pngHeader(bytes) {
  if (bytes.length < 33 || PNG_SIGNATURE.some((b, i) => bytes[i] !== b)) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const header = {
    width: view.getUint32(16), height: view.getUint32(20), depth: bytes[24], colourType: bytes[25],
    interlaced: bytes[28] !== 0, hasTransparency: bytes[25] === 4 || bytes[25] === 6,
  };
  for (const chunk of pngChunks(bytes)) {
    if (chunk.type === "tRNS") header.hasTransparency = true;
    if (chunk.type === "IDAT") break;
  }
  return header;
}

function* pngChunks(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 8; at + 8 <= bytes.length; ) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    yield { type, data: bytes.subarray(at + 8, at + 8 + length) };
    at += 12 + length;
  }
}

/** Whether decodePng decodes this PNG (8-bit, not interlaced); others go through the browser's decoder. */
export function pngDecodable(header) {
  return !!header && header.depth === 8 && !header.interlaced && header.colourType in CHANNELS;
}

/**
 * An 8-bit, non-interlaced PNG decoded to exact RGBA bytes ({width, height, data}). A canvas keeps pixels
 * premultiplied by their alpha, which changes the RGB of every pixel that is not opaque; this does not.
 * Inflating is the browser's (DecompressionStream); un-filtering and expanding are here.
 */
export async function decodePng(bytes) {
  const header = pngHeader(bytes);
  if (!pngDecodable(header)) throw new Error("decodePng reads 8-bit, non-interlaced PNGs only");
  let palette = null;
  let transparency = null;
  const idat = [];
  for (const chunk of pngChunks(bytes)) {
    if (chunk.type === "PLTE") palette = chunk.data;
    else if (chunk.type === "tRNS") transparency = chunk.data;
    else if (chunk.type === "IDAT") idat.push(chunk.data);
    else if (chunk.type === "IEND") break;
  }
  const stream = new Blob(idat).stream().pipeThrough(new DecompressionStream("deflate"));
  const raw = new Uint8Array(await new Response(stream).arrayBuffer());
  const channels = CHANNELS[header.colourType];
  const rows = unfilter(raw, header.width, header.height, channels);
  return { width: header.width, height: header.height, data: expand(rows, header, channels, palette, transparency) };
}

function unfilter(raw, width, height, bpp) {
  const stride = width * bpp;
  if (raw.length < height * (stride + 1)) throw new Error("the PNG's image data is truncated");
  const rows = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const at = y * stride;
    const up = y ? at - stride : -1;
    for (let x = 0; x < stride; x++) {
      const a = x >= bpp ? rows[at + x - bpp] : 0;
      const b = up >= 0 ? rows[up + x] : 0;
      const c = up >= 0 && x >= bpp ? rows[up + x - bpp] : 0;
      let predicted = 0;
      if (filter === 1) predicted = a;
      else if (filter === 2) predicted = b;
      else if (filter === 3) predicted = (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
        predicted = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      } else if (filter !== 0) throw new Error(`unknown PNG filter ${filter}`);
      rows[at + x] = (line[x] + predicted) & 255;
    }
  }
  return rows;
}

function expand(rows, { width, height, colourType }, channels, palette, transparency) {
  const data = new Uint8ClampedArray(width * height * 4);
  const key = transparency && colourType === 2 && transparency.length >= 6 ? [transparency[1], transparency[3], transparency[5]] : null;
  const greyKey = transparency && colourType === 0 && transparency.length >= 2 ? transparency[1] : -1;
  for (let i = 0, o = 0; o < data.length; i += channels, o += 4) {
    let r, g, b, a = 255;
    if (colourType === 3) {
      const entry = rows[i];
      [r, g, b] = palette ? [palette[3 * entry], palette[3 * entry + 1], palette[3 * entry + 2]] : [0, 0, 0];
      if (transparency && entry < transparency.length) a = transparency[entry];
    } else if (colourType === 0 || colourType === 4) {
      r = g = b = rows[i];
      if (colourType === 4) a = rows[i + 1];
      else if (r === greyKey) a = 0;
    } else {
      [r, g, b] = [rows[i], rows[i + 1], rows[i + 2]];
      if (colourType === 6) a = rows[i + 3];
      else if (key && r === key[0] && g === key[1] && b === key[2]) a = 0;
    }
    data[o] = r; data[o + 1] = g; data[o + 2] = b; data[o + 3] = a;
  }
  return data;
}
