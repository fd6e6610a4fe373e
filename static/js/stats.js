// Statistics tab: load what has to be counted after the page has painted (it may count a million frames
// the first time), and sort the label tables by a click on the label or a numeric column.

function sortable(table) {
  const headers = [...table.tHead.rows[0].cells];
  headers.forEach((th, column) => {
    if (!th.classList.contains("num") && column !== 0) return;
    th.style.cursor = "pointer";
    th.title = "Sort";
    th.addEventListener("click", () => {
      const descending = th.dataset.dir !== "desc";
      headers.forEach((h) => delete h.dataset.dir);
      th.dataset.dir = descending ? "desc" : "asc";
      const rows = [...table.tBodies[0].rows];
      const key = (row) => {
        const text = row.cells[column].textContent.trim();
        const number = Number(text.replace(/[,%]/g, ""));
        return Number.isNaN(number) ? text.toLowerCase() : number;
      };
      rows.sort((a, b) => {
        const x = key(a), y = key(b);
        return (x < y ? -1 : x > y ? 1 : 0) * (descending ? -1 : 1);
      });
      table.tBodies[0].append(...rows);
    });
  });
}

// Parts that are counted on demand (labels of a draft or under a filter, a metadata key): fetched after
// the first paint, then put in place.
// 202 means a worker's job or another request is counting the same thing: its note (which names the job,
// kept moving by jobs.js) takes the place of the "Counting…" line, and we ask again shortly.
async function load(part, delay = 800) {
  try {
    const response = await fetch(part.dataset.statsSrc, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } });
    if (response.status === 202) {
      const note = part.querySelector("[data-loading], [data-pending]");
      if (note) note.outerHTML = await response.text();
      setTimeout(() => load(part, Math.min(delay * 1.5, 5000)), delay);
      return;
    }
    if (!response.ok) throw new Error(response.statusText);
    part.innerHTML = await response.text();
    part.querySelectorAll("table[data-sortable]").forEach(sortable);
  } catch (error) {
    part.innerHTML = '<div class="field-error" role="alert">Could not count this; reload the page to retry.</div>';
  }
}
document.querySelectorAll("[data-stats-src]").forEach((part) => load(part));
document.querySelectorAll("table[data-sortable]").forEach(sortable);
