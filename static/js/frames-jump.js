// Jump anywhere on the Frames tab (issue 13, item 7): the "Go to page" box, the position slider, and the page
// label of a page reached by a cursor whose number the server could not check at once (it asks
// /frames/position/ after the page is shown, and shows the number only when the server found it).
// Both controls submit the #fb-jump form (the view's fields, page=N, no cursor): the URL keeps the page.
// In Group by URL (data-unit="contexts") the pages are pages of contexts: how many there are comes with a jump,
// or from the position answer (its `total`, shared with the jump controls as the fb:position event).
const fmt = new Intl.NumberFormat("en-US");
const KEYBOARD_SETTLE_MS = 700; // arrow keys move the slider page by page; jump once the user pauses

function knownCount() {
  const value = document.querySelector("#fb-count [data-count-value]")?.dataset.countValue;
  return value ? Number(value) : null;
}

function setupJump() {
  const form = document.getElementById("fb-jump");
  const slider = document.getElementById("fb-position");
  const input = document.getElementById("fb-page-input");
  const preview = document.getElementById("fb-position-preview");
  if (!form || !slider || !input) return;
  const limit = Number(form.dataset.limit) || 100;
  const contexts = form.dataset.unit === "contexts";
  let count = contexts ? null : knownCount();

  const setLast = (last) => {
    form.dataset.lastPage = String(last);
    slider.max = String(last);
    input.max = String(last);
    slider.disabled = last < 2;
  };
  if (!form.dataset.lastPage && contexts) {
    document.addEventListener("fb:position", (event) => {
      count = event.detail.total;
      setLast(Math.max(1, Math.ceil(count / limit)));
    });
    if (form.dataset.totalUrl) fetchPosition(form.dataset.totalUrl).catch(() => {});
  } else if (!form.dataset.lastPage) {
    document.getElementById("frame-browser")?.addEventListener("fb:count", (event) => {
      count = event.detail;
      setLast(Math.max(1, Math.ceil(count / limit)));
    });
    if (count !== null) setLast(Math.max(1, Math.ceil(count / limit)));
  }
  const describe = (page) => {
    const first = (page - 1) * limit + 1;
    const last = count !== null ? Math.min(page * limit, count) : page * limit;
    return `page ${fmt.format(page)} · ${contexts ? "contexts " : ""}${fmt.format(first)}–${fmt.format(last)}`;
  };
  const go = (page) => {
    input.value = String(page);
    form.requestSubmit();
  };

  let keyboard = false;
  let settle = null;
  slider.addEventListener("keydown", () => { keyboard = true; });
  slider.addEventListener("pointerdown", () => { keyboard = false; });
  slider.addEventListener("input", () => {
    const text = describe(Number(slider.value));
    if (preview) preview.textContent = text;
    slider.setAttribute("aria-valuetext", text);
  });
  slider.addEventListener("change", () => {
    clearTimeout(settle);
    const page = Number(slider.value);
    if (keyboard) settle = setTimeout(() => go(page), KEYBOARD_SETTLE_MS);
    else go(page);
  });
  slider.addEventListener("keydown", (event) => {
    if (event.key === "Enter") { clearTimeout(settle); go(Number(slider.value)); }
  });
}

async function fetchPosition(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error("position failed");
  const body = await response.json();
  document.dispatchEvent(new CustomEvent("fb:position", { detail: body }));
  const of = document.querySelector("[data-context-range] [data-of]");
  if (body.unit === "contexts") {
    if (of) of.textContent = `of ${fmt.format(body.total)}`;
    const last = Math.max(1, Math.ceil(body.total / body.limit));
    for (const node of document.querySelectorAll("[data-page-label]")) {
      if (!node.nextElementSibling?.matches("[data-page-of]")) node.insertAdjacentHTML("afterend", `<span class="fb-page-of" data-page-of>of ${fmt.format(last)}</span>`);
    }
  }
  return body;
}

async function setupPositionLabel() {
  const label = document.querySelector("[data-page-label][data-position-url]");
  if (!label) return;
  try {
    const body = await fetchPosition(label.dataset.positionUrl);
    const shown = document.querySelectorAll(".fb-grid > li, .fb-table tbody tr").length;
    const contextRange = document.querySelector("[data-context-range] [data-range]");
    if (contextRange && shown) contextRange.textContent = `${fmt.format(body.offset + 1)}–${fmt.format(body.offset + shown)}`;
    const range = document.getElementById("fb-range");
    if (range && shown) {
      range.textContent = `showing ${fmt.format(body.offset + 1)}–${fmt.format(body.offset + shown)}`;
      range.hidden = false;
    }
    const last = Math.max(1, Math.ceil(body.total / body.limit));
    for (const node of document.querySelectorAll("[data-page-label]")) {
      node.textContent = body.page ? `page ${fmt.format(body.page)}` : `frames from ${fmt.format(body.offset + 1)}`;
      if (body.page && !node.nextElementSibling?.matches("[data-page-of]")) {
        node.insertAdjacentHTML("afterend", `<span class="fb-page-of" data-page-of>of ${fmt.format(last)}</span>`);
      }
    }
    const slider = document.getElementById("fb-position");
    if (slider && body.page) slider.value = String(body.page);
  } catch {
    for (const node of document.querySelectorAll("[data-page-label]")) node.textContent = "page ?";
  }
}

setupJump();
setupPositionLabel();
