// Statistics tab: load the metadata-key distribution after the page has painted (it may count a million
// frames the first time), and sort the label tables by a click on a numeric column.

const body = document.getElementById("meta-distribution-body");
if (body && body.dataset.src) {
  fetch(body.dataset.src, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
    .then((response) => (response.ok ? response.text() : Promise.reject(new Error(response.statusText))))
    .then((html) => {
      body.innerHTML = html;
    })
    .catch(() => {
      body.innerHTML = '<div class="field-error" role="alert">Could not load the distribution; press Show to retry.</div>';
    });
}

for (const table of document.querySelectorAll("table[data-sortable]")) {
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
