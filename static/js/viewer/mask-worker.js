// The mask worker (a module Web Worker; mask-layer.js starts one per page): it fetches each mask's lossless
// PNG, decodes it to its exact RGBA values, keeps them, and on each request colours them (masks.js) and sends
// back an ImageBitmap (transferred). The page's thread never touches a mask's pixels.
//
// Messages in (each with `id`, the layer's):
//   {type: "load", id, url, lookup}  -> {type: "loaded", id, width, height, values, counts, hasAlpha, decoder, ms}
//                                       or {type: "failed", id, message}
//   {type: "colour", id, request, options} -> {type: "coloured", id, request, bitmap, ms} (options: colourize's)
//   {type: "pixels", id, request}   -> {type: "pixels", id, request, width, height, data} (the decoded values)
//   {type: "drop", id}              (forget the mask)
// A failure while colouring answers {type: "failed", id, request, message}.

import { analyseMask, colourize, decodePng, labelResolver, pngDecodable, pngHeader } from "./masks.js";

const masks = new Map(); // id -> Promise of {width, height, pixels, analysis, resolve, out}

/** Exact RGBA values of a PNG: the browser's decoder when every pixel is opaque (a canvas keeps them exactly);
 * decodePng when the PNG can hold transparency (a canvas premultiplies and would change their RGB). */
async function decode(blob) {
  const bytes = new Uint8Array(await blob.arrayBuffer());
  const header = pngHeader(bytes);
  if (header?.hasTransparency && pngDecodable(header)) return { ...(await decodePng(bytes)), decoder: "png" };
  const bitmap = await createImageBitmap(blob, { colorSpaceConversion: "none", premultiplyAlpha: "none" });
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
  return { width: canvas.width, height: canvas.height, data, decoder: "browser" };
}

async function load({ url, lookup }) {
  const response = await fetch(url, { credentials: "same-origin" });
  if (!response.ok) throw new Error(`the mask image answered ${response.status}`);
  const started = performance.now();
  const { width, height, data, decoder } = await decode(await response.blob());
  const decoded = performance.now();
  const analysis = analyseMask(data);
  const analysed = performance.now();
  const mask = { width, height, pixels: data, analysis, resolve: labelResolver(lookup), out: new Uint8ClampedArray(data.length) };
  const ms = { decode: decoded - started, count: analysed - decoded };
  return { mask, ms, decoder };
}

async function colour(mask, options) {
  const started = performance.now();
  colourize(mask.pixels, mask.out, mask.analysis, mask.resolve, options);
  const coloured = performance.now();
  const bitmap = await createImageBitmap(new ImageData(mask.out, mask.width, mask.height));
  return { bitmap, ms: { colour: coloured - started, bitmap: performance.now() - coloured } };
}

async function handle(message) {
  const { type, id, request } = message;
  if (type === "load") {
    const loading = load(message);
    masks.set(id, loading.then(({ mask }) => mask, () => null)); // a failed load answers "failed" below
    const { mask, ms, decoder } = await loading;
    const { values, counts, hasAlpha } = mask.analysis;
    self.postMessage({ type: "loaded", id, width: mask.width, height: mask.height, values, counts, hasAlpha, decoder, ms });
    return;
  }
  if (type === "drop") {
    masks.delete(id);
    return;
  }
  const mask = await masks.get(id);
  if (!mask) throw new Error("this mask is not loaded");
  if (type === "colour") {
    const { bitmap, ms } = await colour(mask, message.options);
    self.postMessage({ type: "coloured", id, request, bitmap, ms }, [bitmap]);
  } else if (type === "pixels") {
    const data = mask.pixels.slice();
    self.postMessage({ type: "pixels", id, request, width: mask.width, height: mask.height, data }, [data.buffer]);
  }
}

self.addEventListener("message", (event) => {
  handle(event.data).catch((error) => {
    if (event.data.type === "load") masks.delete(event.data.id);
    self.postMessage({ type: "failed", id: event.data.id, request: event.data.request, message: String(error?.message || error) });
  });
});
