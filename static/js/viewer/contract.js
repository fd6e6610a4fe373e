// The frame contract: the JSON island the frame page embeds (viewer/contract.py documents every field).
//
// {frame, etag, api_url, sources: [{id, image, preview, reason, masks: [{id, image, reason}]}], mask_labels}
// `frame` is the frame as the REST API returns it; `sources` follows frame.sources in order.

/** The JSON of a `json_script` island, or null when the page has none (or it does not parse). */
export function readJson(id) {
  const node = document.getElementById(id);
  if (!node) return null;
  try {
    return JSON.parse(node.textContent);
  } catch {
    return null;
  }
}

/** The contract embedded under `id`, or null when the page has none. */
export function readContract(id = "frame-contract") {
  return readJson(id);
}
