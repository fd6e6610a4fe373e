// The Import tab (templates/viewer/version_import.html): sends the form to the REST API and follows the job.
//
// - "Check" posts the form to POST /api/versions/<v>/imports/ with dry_run=true (multipart: the file goes
//   along; an XMLHttpRequest, for the upload's progress), then polls GET /api/jobs/<id>/ every second and
//   shows the report: frames, labels with counts, notes, problems (file, line, column, field, message).
// - When the check found frames and no problem, "Import N frames" posts the same form with total=N, and the
//   job's done/total drives the progress bar; at the end a summary and a link to the version's frames. A run
//   that fails shows its error and its problems the same way.
// - A refused request (400, {errors: [{field, message}]}) puts each message beside its field.
// - Changing the form after a check asks for a new check before importing.

import { duration, h, number, plural, showReport } from "./import-report.js";

const POLL_MS = 1000;
const ACTIVE = new Set(["queued", "running"]);
const STATE_LABELS = { queued: "Queued", running: "Running", done: "Done", failed: "Failed", cancelled: "Cancelled" };

const page = document.getElementById("import-page");
const form = document.getElementById("import-form");
const $ = (id) => document.getElementById(id);

let checked = null; // {signature, frames} of the last check that found frames and no problem
let running = null; // the job being followed
let sent = null; // signature() of the input the last request sent
let lastChecked = null; // signature() of the input the last finished check read

function jobUrl(template, id) {
  return template.replace(page.dataset.slot, encodeURIComponent(id));
}

// -- the form ----------------------------------------------------------------------------------------------

function chosenFormat() {
  return form.querySelector("input[name=format]:checked");
}

function mode() {
  return form.querySelector("input[name=mode]:checked").value;
}

/** What the form would send, as text: a check is for exactly this input. */
function signature() {
  const file = $("import-file").files[0];
  return JSON.stringify([
    chosenFormat().value, mode(), mode() === "upload" && file ? [file.name, file.size, file.lastModified] : $("import-path").value.trim(),
    $("import-media-root").value.trim(), $("import-options").value.trim(), $("import-lenient").checked,
  ]);
}

/** The options text with the Lenient checkbox merged in; text that is not a JSON object goes as it is, so the
 * server names the mistake. */
function optionsText() {
  const text = $("import-options").value.trim() || "{}";
  const lenient = !$("import-lenient-field").hidden && $("import-lenient").checked;
  if (!lenient) return text;
  try {
    const options = JSON.parse(text);
    if (options && typeof options === "object" && !Array.isArray(options)) return JSON.stringify({ ...options, lenient: true });
  } catch {
    // sent as typed: the 400 says what is wrong with it
  }
  return text;
}

function formData({ dryRun, total }) {
  const data = new FormData();
  data.append("format", chosenFormat().value);
  if (mode() === "upload") {
    const file = $("import-file").files[0];
    if (file) data.append("file", file, file.name);
  } else {
    data.append("path", $("import-path").value.trim());
  }
  data.append("media_root", $("import-media-root").value.trim());
  data.append("options", optionsText());
  data.append("dry_run", dryRun ? "true" : "false");
  if (total !== undefined) data.append("total", String(total));
  return data;
}

function showFormatHelp() {
  const format = chosenFormat();
  for (const help of form.querySelectorAll("[data-help-for]")) help.hidden = help.dataset.helpFor !== format.value;
  $("import-lenient-field").hidden = !format.dataset.lenient;
  $("import-file").accept = format.dataset.accept;
}

function showMode() {
  for (const part of form.querySelectorAll("[data-mode]")) part.hidden = part.dataset.mode !== mode();
}

function clearErrors() {
  for (const slot of form.querySelectorAll("[data-error-for]")) {
    slot.hidden = true;
    slot.textContent = "";
  }
  for (const field of form.querySelectorAll("[aria-invalid]")) field.removeAttribute("aria-invalid");
  $("import-error").hidden = true;
}

/** Each {field, message} beside its field; what has no field of the form goes to the box above the buttons. */
function showErrors(errors) {
  const general = [];
  for (const { field, message } of errors) {
    const slot = form.querySelector(`[data-error-for="${CSS.escape(field || "")}"]`);
    if (slot && !slot.parentElement.closest("[hidden]")) {
      slot.textContent = slot.textContent ? `${slot.textContent} ${message}` : message;
      slot.hidden = false;
      slot.parentElement.querySelector("input:not([type=radio]), textarea")?.setAttribute("aria-invalid", "true");
    } else {
      general.push(field ? `${field}: ${message}` : message);
    }
  }
  if (general.length) {
    $("import-error").textContent = general.join(" · ");
    $("import-error").hidden = false;
  }
}

function updateRunButton() {
  const button = $("import-run");
  const ready = checked && checked.signature === signature() && !running;
  button.disabled = !ready;
  button.classList.toggle("btn-primary", Boolean(ready));
  $("import-check").classList.toggle("btn-primary", !ready);
  button.textContent = ready ? `Import ${plural(checked.frames, "frame")}` : "Import";
  button.title = ready ? "Write these frames into the draft: all or nothing" : "Check the input first";
  if (lastChecked && lastChecked !== signature() && !running) $("import-run-hint").textContent = "The input changed since the check: check it again.";
}

// -- sending and following -----------------------------------------------------------------------------------

function post(data, onUpload) {
  return new Promise((resolve) => {
    const request = new XMLHttpRequest();
    request.open("POST", page.dataset.api);
    request.setRequestHeader("X-CSRFToken", page.dataset.csrf);
    request.setRequestHeader("Accept", "application/json");
    request.upload.onprogress = (event) => event.lengthComputable && onUpload(event.loaded / event.total);
    request.onload = () => {
      let body = null;
      try {
        body = JSON.parse(request.responseText);
      } catch {
        body = { detail: request.responseText.slice(0, 300) };
      }
      resolve({ status: request.status, body });
    };
    request.onerror = () => resolve({ status: 0, body: { detail: "the server could not be reached" } });
    request.send(data);
  });
}

function errorsOf(body) {
  if (Array.isArray(body?.errors)) return body.errors;
  return [{ field: "", message: body?.detail || body?.message || "the request was refused" }];
}

async function start({ dryRun }) {
  clearErrors();
  const total = dryRun ? undefined : checked.frames;
  sent = signature();
  setBusy(true);
  showProgress({ title: dryRun ? "Checking" : "Importing", message: mode() === "upload" ? "Uploading…" : "Sending…" });
  const result = $("import-result");
  if (result.getBoundingClientRect().top > window.innerHeight - 80) result.scrollIntoView({ block: "start", behavior: "smooth" }); // narrow screens: it is below the form
  const answer = await post(formData({ dryRun, total }), (share) => {
    setBar(share, `${Math.round(share * 100)} % uploaded`);
    $("import-message").textContent = share < 1 ? "Uploading…" : "Uploaded; waiting for a worker…";
  });
  if (answer.status !== 202) {
    setBusy(false);
    resetResult();
    showErrors(errorsOf(answer.body));
    return;
  }
  running = { ...answer.body, dryRun };
  document.dispatchEvent(new Event("hyperdata:jobs-changed"));
  $("import-job-link").href = jobUrl(page.dataset.jobPage, running.id);
  $("import-job-link").hidden = false;
  $("import-cancel").hidden = false;
  follow(running);
}

async function follow(job) {
  showJob(job);
  if (!ACTIVE.has(job.state)) {
    finish(job);
    return;
  }
  setTimeout(async () => {
    try {
      const response = await fetch(jobUrl(page.dataset.job, job.id), { headers: { Accept: "application/json" }, credentials: "same-origin" });
      follow(response.ok ? { ...(await response.json()), dryRun: job.dryRun } : job);
    } catch {
      follow(job); // a dropped request: try again next second
    }
  }, POLL_MS);
}

async function cancel() {
  if (!running) return;
  $("import-cancel").disabled = true;
  await fetch(jobUrl(page.dataset.cancel, running.id), {
    method: "POST", headers: { "X-CSRFToken": page.dataset.csrf, Accept: "application/json" }, credentials: "same-origin",
  });
}

function setBusy(busy) {
  $("import-check").disabled = busy;
  for (const fieldset of form.querySelectorAll("fieldset")) fieldset.disabled = busy;
  form.classList.toggle("im-busy", busy);
  if (busy) $("import-run").disabled = true;
}

// -- what the right-hand panel shows -------------------------------------------------------------------------

function resetResult() {
  $("import-result-title").textContent = "How it works";
  $("import-state").hidden = true;
  $("import-intro").hidden = false;
  for (const id of ["import-progress", "import-outcome", "import-cards", "import-labels-block", "import-notes-block", "import-problems-block"]) $(id).hidden = true;
}

function showProgress({ title, message }) {
  resetResult();
  $("import-intro").hidden = true;
  $("import-result-title").textContent = title;
  $("import-progress").hidden = false;
  $("import-job-link").hidden = true;
  $("import-cancel").hidden = true;
  $("import-cancel").disabled = false;
  $("import-message").textContent = message;
  setBar(null, "");
}

/** share in 0..1, or null for "unknown" (an indeterminate bar). */
function setBar(share, count) {
  const bar = $("import-bar");
  bar.classList.toggle("indeterminate", share === null);
  bar.firstElementChild.style.width = `${share === null ? 0 : Math.min(100, share * 100)}%`;
  if (share === null) bar.removeAttribute("aria-valuenow");
  else bar.setAttribute("aria-valuenow", String(Math.round(share * 100)));
  bar.setAttribute("aria-valuemax", "100");
  $("import-count").textContent = count;
}

function showJob(job) {
  const state = $("import-state");
  state.hidden = false;
  state.className = `job-state job-state-${job.state}`;
  state.textContent = STATE_LABELS[job.state] || job.state;
  const bar = $("import-bar");
  for (const name of ["done", "failed", "cancelled"]) bar.classList.toggle(`job-bar-${name}`, job.state === name);
  // Nothing reported yet (the worker reports every 10,000 frames): an indeterminate bar, not one stuck at 0.
  if (job.total && !job.done && ACTIVE.has(job.state)) setBar(null, `0 / ${number(job.total)}`);
  else if (job.total) setBar(job.done / job.total, `${number(job.done)} / ${number(job.total)}`);
  else setBar(job.state === "done" ? 1 : null, job.done ? `${number(job.done)} frames read` : "");
  $("import-message").textContent = job.state === "queued" ? "Waiting for a worker…" : job.message || "Reading…";
}

function finish(job) {
  running = null;
  setBusy(false);
  $("import-cancel").hidden = true;
  $("import-progress").hidden = job.state !== "done" || job.dryRun; // the bar stays only under a finished import
  $("import-message").textContent = job.state === "done" ? "Finished." : "";
  const report = job.result && typeof job.result === "object" ? job.result : null;
  const jobLink = () => h("a", { href: jobUrl(page.dataset.jobPage, job.id) }, "Job page");
  if (job.dryRun) {
    lastChecked = sent;
    $("import-result-title").textContent = "Check";
    if (job.state === "done" && report) showCheck(report);
    else outcome("alert-error", `The check ${job.state === "cancelled" ? "was cancelled" : `failed: ${job.error || "see the job page"}`}. `, jobLink());
  } else {
    $("import-result-title").textContent = "Import";
    if (job.state === "done" && report) showImported(report);
    else if (job.state === "cancelled") {
      // A worker stops at its next progress report and rolls back, but one that reached the end first has written.
      outcome("alert-warn", h("strong", {}, "Cancelled."), " Whether the worker stopped before writing depends on how far it had got: ",
        h("a", { href: page.dataset.frames }, "the Frames tab"), " shows what the version holds. ", jobLink());
    } else if (report && report.problem_count) {
      outcome("alert-error", h("strong", {}, `${plural(report.problem_count, "problem")}:`), " nothing was imported. Fix the input and check it again. ", jobLink());
    } else outcome("alert-error", `${job.error || "The import failed"}: nothing was imported. `, jobLink());
    if (job.state !== "done") $("import-run-hint").textContent = "Nothing was imported: check the input again.";
    checked = lastChecked = null;
  }
  if (report) showReport(report);
  updateRunButton();
}

function outcome(kind, ...content) {
  const box = $("import-outcome");
  box.className = `alert ${kind}`;
  box.replaceChildren(...content);
  box.hidden = false;
}

function showCheck(report) {
  if (report.ok && report.frames > 0) {
    checked = { signature: sent, frames: report.frames };
    outcome("im-ok", h("strong", {}, `${plural(report.frames, "frame")} can be imported.`), " Nothing was written yet: import them with the button below the form.");
    $("import-run-hint").textContent = "Writes all of them, or nothing if anything fails.";
  } else if (report.ok) {
    checked = null;
    outcome("alert-warn", h("strong", {}, "Nothing to import:"), " the input holds no frames.");
  } else {
    checked = null;
    outcome("alert-error", h("strong", {}, `${plural(report.problem_count, "problem")}:`), ` ${report.frames ? `${plural(report.frames, "frame")} could be read, but ` : ""}an import would write nothing. Fix them and check again.`);
    $("import-run-hint").textContent = "Fix the problems and check again.";
  }
}

function showImported(report) {
  const frames = h("a", { href: page.dataset.frames, id: "import-frames-link" }, "Open the frames →");
  outcome("im-ok", h("strong", {}, `Imported ${plural(report.frames, "frame")}`),
    ` (${number(report.added)} added, ${number(report.replaced)} replaced) in ${duration(report.seconds)}. `, frames);
  $("import-run-hint").textContent = "Done. Check another input to import more.";
  const count = document.querySelector(".vh-meta strong.num");
  if (count && report.added) count.textContent = number(Number(count.textContent.replace(/\D/g, "")) + report.added);
}

// -- wiring ----------------------------------------------------------------------------------------------------

if (page && form) {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!running) start({ dryRun: true });
  });
  $("import-run").addEventListener("click", () => {
    if (!running && checked && checked.signature === signature()) start({ dryRun: false });
  });
  $("import-cancel").addEventListener("click", cancel);
  // A field's error goes as the user edits it: on input for text (a change event comes on blur, i.e. when the
  // Check button is pressed, and the layout would shift under the pointer), on change for the rest.
  const clearFieldError = (target) => {
    target.closest(".field, .im-fieldset")?.querySelector("[data-error-for]")?.setAttribute("hidden", "");
    target.removeAttribute("aria-invalid");
  };
  form.addEventListener("change", (event) => {
    if (event.target.name === "format") showFormatHelp();
    if (event.target.name === "mode") showMode();
    if (!event.target.matches("input[type=text], textarea")) clearFieldError(event.target);
    updateRunButton();
  });
  form.addEventListener("input", (event) => {
    if (event.target.matches("input[type=text], textarea")) clearFieldError(event.target);
    updateRunButton();
  });
  showFormatHelp();
  showMode();
  updateRunButton();
}
