// Jobs, live: the top bar's Jobs menu (templates/base.html) and the job rows of the page (the Jobs page, a
// job's page, a version's Info tab, the Statistics tab's "Counting…" note).
//
// - One poll of GET /api/jobs/?active=true: every 2 s while a job is queued or running, every 20 s when none
//   (a hidden tab: every 20 s), and only once the page has loaded, so it never delays the first paint.
// - The menu lists the signed-in user's own jobs (staff get everyone's from the API; the menu keeps theirs).
//   A job that leaves the active list is read once more (GET /api/jobs/<id>/) and stays in the menu for a
//   while as done, cancelled or failed (with its error) instead of vanishing.
// - Rows marked [data-job-id][data-job-active] are updated from the same poll (a job the poll does not list,
//   e.g. another member's, is read by its id); the parts to update are marked data-cell="state", "progress",
//   "message", "error", "started", "finished", "duration", "elapsed", "actions".
// - [data-job-cancel] buttons post to /api/jobs/<id>/cancel/ with the page's CSRF token in X-CSRFToken (DRF's
//   session authentication wants it there); the worker stops at its next progress report.
// - Another module that started a job can ask for a poll now: document.dispatchEvent(new Event("hyperdata:jobs-changed")).

const FAST_MS = 2000;
const SLOW_MS = 20000;
const SHOW_ENDED_MS = { done: 8000, cancelled: 8000, failed: 30000 };
const ACTIVE = new Set(["queued", "running"]);
const STATE_LABELS = { queued: "Queued", running: "Running", done: "Done", failed: "Failed", cancelled: "Cancelled" };

const menu = document.getElementById("jobs-menu");
const button = document.getElementById("jobs-button");
const panel = document.getElementById("jobs-panel");
const list = document.getElementById("jobs-list");
const empty = document.getElementById("jobs-empty");
const count = document.getElementById("jobs-count");
const { api, csrf, user: username, page: jobsPage } = menu ? menu.dataset : {};

let mine = new Map(); // id -> job: the user's queued and running jobs at the last poll
const ended = new Map(); // id -> {job, until}: the user's jobs that ended while the page was open
let timer = null;
let timerDelay = 0;
let endedTimer = null; // takes ended jobs out of the menu when their time is up
let polling = null;
let clockOffset = 0; // the server's clock minus the browser's (ms), so "running 12 s" is right on both

// -- small DOM and text helpers ------------------------------------------------------------------------------

function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  element.append(...children);
  return element;
}

const now = () => Date.now() + clockOffset;
const number = (value) => Number(value).toLocaleString("en-US");
const utc = (iso) => new Date(iso).toISOString().slice(0, 19).replace("T", " ");

function plural(n, unit) {
  return `${n} ${unit}${n === 1 ? "" : "s"}`;
}

// As the server's `ago` filter writes it: the largest unit only.
function ago(iso) {
  const seconds = (now() - Date.parse(iso)) / 1000;
  if (seconds < 60) return "a moment ago";
  const units = [["year", 365 * 86400], ["month", 30 * 86400], ["week", 7 * 86400], ["day", 86400], ["hour", 3600], ["minute", 60]];
  const [unit, size] = units.find(([, size]) => seconds >= size);
  return `${plural(Math.floor(seconds / size), unit)} ago`;
}

// As viewer/templatetags/job_tags.py writes a running time: the two largest units.
function span(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 1) return "<1 s";
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
}

function ranFor(job) {
  if (!job.started) return "";
  const end = job.finished ? Date.parse(job.finished) : now();
  return `${ACTIVE.has(job.state) ? "running" : "ran"} ${span((end - Date.parse(job.started)) / 1000)}`;
}

function timeElement(iso, format) {
  return h("time", { datetime: iso, title: `${utc(iso)} UTC` }, format === "full" ? `${utc(iso)} UTC` : ago(iso));
}

// -- the parts of a job that change, as the templates draw them -----------------------------------------------

function progressParts(job) {
  const indeterminate = ACTIVE.has(job.state) && !job.total;
  const bar = h("div", {
    class: `job-bar job-bar-${job.state}${indeterminate ? " indeterminate" : ""}`,
    role: "progressbar", "aria-label": "Progress", "aria-valuemin": "0",
  });
  if (job.total) {
    bar.setAttribute("aria-valuemax", job.total);
    bar.setAttribute("aria-valuenow", job.done);
  }
  const fill = h("span");
  fill.style.width = `${job.progress == null ? 0 : Math.round(job.progress * 1000) / 10}%`;
  bar.append(fill);
  const text = job.total ? `${number(job.done)} / ${number(job.total)}` : job.done ? number(job.done) : "";
  return [bar, h("span", { class: "job-count num" }, text)];
}

const CELLS = {
  state(element, job) {
    element.className = `job-state job-state-${job.state}`;
    element.textContent = STATE_LABELS[job.state] || job.state;
  },
  progress: (element, job) => element.replaceChildren(...progressParts(job)),
  message(element, job) {
    element.textContent = job.message;
  },
  error(element, job) {
    element.textContent = job.error;
    element.title = job.error;
  },
  started(element, job) {
    const format = element.dataset.format;
    if (job.started) element.replaceChildren(timeElement(job.started, format));
    else if (format === "full") element.replaceChildren(h("span", { class: "muted" }, "not yet"));
    else element.replaceChildren(h("span", { class: "muted" }, "queued ", timeElement(job.created, format)));
  },
  finished(element, job) {
    const format = element.dataset.format;
    if (job.finished) element.replaceChildren(timeElement(job.finished, format));
    else element.replaceChildren(format === "full" ? h("span", { class: "muted" }, "not yet") : "");
  },
  duration(element, job) {
    element.textContent = ranFor(job);
  },
  elapsed(element, job) { // the menu's: how long it has been queued, then how long it has run
    element.textContent = job.started ? ranFor(job) : `queued ${span((now() - Date.parse(job.created)) / 1000)}`;
  },
  actions(element, job) {
    if (!ACTIVE.has(job.state)) element.querySelectorAll("[data-job-cancel]").forEach((cancel) => cancel.remove());
  },
};

function fill(element, job) {
  for (const cell of element.querySelectorAll("[data-cell]")) CELLS[cell.dataset.cell]?.(cell, job);
  element.classList.toggle("job-ended", !ACTIVE.has(job.state));
}

// -- the API ------------------------------------------------------------------------------------------------------

async function getJson(url, options = {}) {
  const response = await fetch(url, { credentials: "same-origin", ...options, headers: { Accept: "application/json", ...options.headers } });
  const served = Date.parse(response.headers.get("Date") || "");
  if (!Number.isNaN(served) && Math.abs(served - Date.now()) > 2000) clockOffset = served - Date.now();
  const body = await response.json().catch(() => ({}));
  return { response, body };
}

async function getJob(id) {
  const { response, body } = await getJson(`${api}${encodeURIComponent(id)}/`);
  return response.ok ? body : null;
}

// -- the menu -----------------------------------------------------------------------------------------------------

function menuItem(job) {
  const subject = job.subject || job.kind;
  return h("li", { class: "job-item", "data-job-id": job.id },
    h("div", { class: "job-item-head" },
      h("a", { class: "job-subject", href: `${jobsPage}${encodeURIComponent(job.id)}/`, title: subject }, subject),
      h("span", { class: "job-state", "data-cell": "state" })),
    h("div", { class: "job-item-meta" }, h("span", { class: "job-kind" }, job.kind), h("span", { "data-cell": "elapsed" })),
    h("div", { class: "job-progress", "data-cell": "progress" }),
    h("div", { class: "job-item-foot" },
      h("span", { class: "job-message", "data-cell": "message" }),
      h("span", { "data-cell": "actions" }, h("button", { type: "button", class: "btn btn-sm btn-danger", "data-job-cancel": job.id }, "Cancel"))),
    h("div", { class: "job-error", "data-cell": "error" }));
}

function renderMenu() {
  const time = Date.now();
  for (const [id, { until }] of ended) if (until < time) ended.delete(id);
  const jobs = [...mine.values(), ...[...ended.values()].map(({ job }) => job)]
    .sort((a, b) => Date.parse(b.created) - Date.parse(a.created));
  const items = new Map([...list.children].map((item) => [item.dataset.jobId, item]));
  const wanted = jobs.map((job) => {
    const item = items.get(job.id) || menuItem(job);
    fill(item, job);
    return item;
  });
  // Put back only when the list changed: re-inserting items would take the focus off a Cancel button.
  if (wanted.length !== list.children.length || wanted.some((item, index) => list.children[index] !== item)) list.replaceChildren(...wanted);
  empty.hidden = jobs.length > 0;
  count.hidden = mine.size === 0;
  count.textContent = String(mine.size);
  menu.classList.toggle("has-active", mine.size > 0);
  menu.classList.toggle("has-failed", [...ended.values()].some(({ job }) => job.state === "failed"));
  menu.classList.toggle("has-done", [...ended.values()].some(({ job }) => job.state === "done"));
  button.title = mine.size ? `${plural(mine.size, "job")} queued or running` : "Your jobs";
  clearTimeout(endedTimer);
  if (ended.size) endedTimer = setTimeout(renderMenu, Math.max(250, Math.min(...[...ended.values()].map(({ until }) => until)) - time + 50));
}

function open(show) {
  panel.hidden = !show;
  button.setAttribute("aria-expanded", String(show));
  menu.classList.toggle("open", show);
  if (show) poll();
}

// -- polling ------------------------------------------------------------------------------------------------------

async function updateRows(known) {
  const rows = [...document.querySelectorAll("[data-job-id][data-job-active]")];
  const unknown = [...new Set(rows.map((row) => row.dataset.jobId).filter((id) => !known.has(id)))];
  for (const job of await Promise.all(unknown.map(getJob))) if (job) known.set(job.id, job);
  for (const row of rows) {
    const job = known.get(row.dataset.jobId);
    if (!job) continue;
    fill(row, job);
    if (!ACTIVE.has(job.state)) row.removeAttribute("data-job-active");
  }
}

async function refresh() {
  const { response, body } = await getJson(`${api}?active=true&limit=100`);
  if (!response.ok) throw new Error(`${response.status}`);
  const known = new Map(body.results.map((job) => [job.id, job]));
  const stillMine = new Map(body.results.filter((job) => job.user === username).map((job) => [job.id, job]));
  const gone = [...mine.keys()].filter((id) => !stillMine.has(id));
  for (const job of await Promise.all(gone.map(getJob))) {
    if (!job) continue;
    known.set(job.id, job);
    ended.set(job.id, { job, until: Date.now() + (SHOW_ENDED_MS[job.state] || SHOW_ENDED_MS.done) });
  }
  mine = stillMine;
  await updateRows(known);
  renderMenu();
}

function schedule(delay) {
  clearTimeout(timer);
  timerDelay = document.hidden ? Math.max(delay, SLOW_MS) : delay;
  timer = setTimeout(poll, timerDelay);
}

function poll() {
  if (polling) return polling;
  polling = refresh()
    .catch(() => {}) // offline, or signed out in another tab: ask again at the slow pace
    .finally(() => {
      polling = null;
      const busy = mine.size > 0 || document.querySelector("[data-job-id][data-job-active]") !== null;
      schedule(busy ? FAST_MS : SLOW_MS);
    });
  return polling;
}

async function cancel(cancelButton) {
  const id = cancelButton.dataset.jobCancel;
  cancelButton.disabled = true;
  cancelButton.textContent = "Cancelling…";
  const { response, body } = await getJson(`${api}${encodeURIComponent(id)}/cancel/`, {
    method: "POST", headers: { "X-CSRFToken": csrf },
  }).catch((error) => ({ response: { ok: false, status: 0 }, body: { detail: error.message } }));
  if (!response.ok && response.status !== 409) { // 409: it ended meanwhile; the poll shows how
    cancelButton.replaceWith(h("span", { class: "field-error small", role: "alert" }, body.detail || "Could not cancel the job."));
  }
  poll();
}

function start() {
  document.addEventListener("click", (event) => {
    const cancelButton = event.target.closest("[data-job-cancel]");
    if (cancelButton) {
      event.preventDefault();
      if (!cancelButton.disabled) cancel(cancelButton);
      return;
    }
    if (event.target.closest("#jobs-button") && event.button === 0 && !event.metaKey && !event.ctrlKey && !event.shiftKey) {
      event.preventDefault(); // without this module the button is a link to the Jobs page
      open(panel.hidden);
    } else if (!panel.hidden && !menu.contains(event.target)) {
      open(false);
    }
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !panel.hidden) {
      open(false);
      button.focus();
    }
  });
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) poll();
  });
  document.addEventListener("hyperdata:jobs-changed", () => poll());
  // A job row put in the page later (the Statistics tab's "Counting…" note) makes the slow pace fast.
  new MutationObserver((records) => {
    const added = records.some((record) => [...record.addedNodes].some((node) =>
      node.nodeType === Node.ELEMENT_NODE && (node.matches("[data-job-active]") || node.querySelector("[data-job-active]"))));
    if (added && timerDelay > FAST_MS && !polling) schedule(FAST_MS);
  }).observe(document.body, { childList: true, subtree: true });
  poll();
}

if (menu) {
  if (document.readyState === "complete") start();
  else window.addEventListener("load", start, { once: true });
}
