// The dataset list and dataset page, enhanced (everything also works without JavaScript; the IDs are shown as
// text there):
// - Copy ID buttons (`data-copy-id="<id>"`, rendered hidden and shown here): copy the id, say "Copied" on the
//   button, and record what was copied in `data-copied` and the #copy-status live region (screen readers, tests).
//   The frame page has its own copy buttons (static/js/viewer/panels.js, which copies an element's text).
// - The project picker of the list submits its form on change.
// - The version tree search (#version-search) filters the tree as one types: matches are marked, their
//   ancestors stay visible, everything else is hidden; ?find= is kept in the URL so it can be shared.

const RESET_AFTER_MS = 1500;

/** Copies text: the Clipboard API where the page is a secure context, else a hidden textarea and execCommand
 * (plain-http deployments have no navigator.clipboard). Resolves true when it worked. */
export async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch {
      // denied (no permission, page not focused): try the old way
    }
  }
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.style.position = "fixed";
  area.style.opacity = "0";
  document.body.append(area);
  area.select();
  let copied = false;
  try {
    copied = document.execCommand("copy");
  } catch {
    copied = false;
  }
  area.remove();
  return copied;
}

function wireCopyIdButtons(root) {
  const status = document.getElementById("copy-status");
  for (const button of root.querySelectorAll("[data-copy-id]")) {
    const label = button.textContent;
    button.hidden = false;
    button.addEventListener("click", async (event) => {
      event.preventDefault();
      event.stopPropagation();
      const id = button.dataset.copyId;
      const copied = await copyText(id);
      button.textContent = copied ? "Copied" : "Copy failed";
      button.classList.toggle("copied", copied);
      if (copied) button.dataset.copied = id;
      if (status) status.textContent = copied ? `Copied ${id}` : `Could not copy ${id}`;
      setTimeout(() => {
        button.textContent = label;
        button.classList.remove("copied");
      }, RESET_AFTER_MS);
    });
  }
}

function wireAutosubmit(root) {
  for (const select of root.querySelectorAll("select[data-autosubmit]")) {
    select.addEventListener("change", () => select.form.requestSubmit());
  }
}

/** Which versions the text finds (name, id or description, any case) and which to show: those and their
 * ancestors. Same rule as viewer/listing.py versions_matching. */
function findVersions(nodes, text) {
  const needle = text.trim().toLowerCase();
  const matches = new Set();
  const shown = new Set();
  if (!needle) return { matches, shown, active: false };
  const parentOf = new Map(nodes.map((node) => [node.dataset.versionId, node.dataset.parentId || ""]));
  for (const node of nodes) {
    const haystack = `${node.dataset.versionName}\n${node.dataset.versionId}\n${node.dataset.versionDescription || ""}`.toLowerCase();
    if (haystack.includes(needle)) matches.add(node.dataset.versionId);
  }
  for (let id of matches) {
    while (id && !shown.has(id)) {
      shown.add(id);
      id = parentOf.get(id) || "";
    }
  }
  return { matches, shown, active: true };
}

function wireVersionSearch(root) {
  const input = root.querySelector("#version-search");
  if (!input) return;
  const count = root.querySelector("#version-search-count");
  const nodes = [...root.querySelectorAll("[data-version-id][data-version-name]")];
  const apply = () => {
    const { matches, shown, active } = findVersions(nodes, input.value);
    for (const node of nodes) {
      const id = node.dataset.versionId;
      const container = node.closest("li, tr") || node;
      container.hidden = active && !shown.has(id);
      node.classList.toggle("is-match", active && matches.has(id));
    }
    if (count) count.textContent = active ? `${matches.size} of ${nodes.length} version${nodes.length === 1 ? "" : "s"}` : "";
    const url = new URL(window.location.href);
    if (input.value.trim()) url.searchParams.set("find", input.value.trim());
    else url.searchParams.delete("find");
    window.history.replaceState(null, "", url);
  };
  input.addEventListener("input", apply);
  input.form?.addEventListener("submit", (event) => {
    event.preventDefault();
    apply();
  });
}

function init() {
  document.documentElement.classList.add("ds-js");
  wireCopyIdButtons(document);
  wireAutosubmit(document);
  wireVersionSearch(document);
}

init();
