// The Import tab's report (templates/viewer/version_import.html), drawn from a job's `result` as
// frames.services.imports.ImportResult.as_dict() gives it: cards (frames, labels, problems, time), the labels
// with their ROI counts, the reader's notes, and the problems (file, line, column, field, message; the report
// keeps the first ones, `problem_count` counts them all). static/js/import.js calls showReport.

const $ = (id) => document.getElementById(id);
export const number = (value) => Number(value || 0).toLocaleString("en-US");
export const plural = (n, unit) => `${number(n)} ${unit}${n === 1 ? "" : "s"}`;
export const duration = (seconds) => (seconds < 1 ? `${Math.round((seconds || 0) * 1000)} ms` : `${Number(seconds).toFixed(1)} s`);

export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  element.append(...children.filter((child) => child !== null && child !== undefined));
  return element;
}

function card(label, value, sub, id) {
  return h("div", { class: "card", id }, h("div", { class: "card-label" }, label), h("div", { class: "card-value" }, value), sub ? h("div", { class: "card-sub" }, sub) : null);
}

export function showReport(report) {
  const labels = Object.entries(report.labels || {}).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const rois = labels.reduce((sum, [, n]) => sum + n, 0);
  $("import-cards").replaceChildren(
    report.dry_run || !report.ok
      ? card(report.dry_run ? "Frames to import" : "Valid frames", number(report.frames), report.dry_run ? "read and valid" : "none imported", "import-card-frames")
      : card("Frames imported", number(report.frames), `${number(report.added)} added · ${number(report.replaced)} replaced`, "import-card-frames"),
    card("Labels", number(labels.length), `${plural(rois, "ROI")}`, "import-card-labels"),
    card("Problems", number(report.problem_count), report.problem_count ? "nothing is imported" : "none", "import-card-problems"),
    card("Time", duration(report.seconds), report.generated_files ? `${plural(report.generated_files, "file")} generated` : report.format, "import-card-time"),
  );
  $("import-cards").hidden = false;
  $("import-cards").querySelector("#import-card-problems").classList.toggle("im-card-bad", report.problem_count > 0);

  const peak = labels.length ? labels[0][1] : 0;
  $("import-labels").tBodies[0].replaceChildren(...labels.map(([label, count]) => h("tr", { "data-label": label },
    h("td", {}, h("span", { class: "im-label" }, label)), h("td", { class: "num" }, number(count)),
    h("td", { class: "im-bar-col" }, h("span", { class: "im-bar", style: `width: ${Math.max(2, Math.round((count / peak) * 100))}%` })))));
  $("import-label-count").textContent = number(labels.length);
  $("import-labels-block").hidden = !labels.length;

  const notes = report.notes || [];
  $("import-notes").replaceChildren(...notes.map((note) => h("li", {}, note)));
  $("import-note-count").textContent = number(notes.length);
  $("import-notes-block").hidden = !notes.length;

  const problems = report.problems || [];
  $("import-problems").tBodies[0].replaceChildren(...problems.map((p) => h("tr", {},
    h("td", { class: "mono" }, p.file || ""), h("td", { class: "num" }, p.line ?? ""), h("td", { class: "num" }, p.column ?? ""),
    h("td", { class: "mono" }, p.field || ""), h("td", {}, p.message || ""))));
  $("import-problem-count").textContent = number(report.problem_count);
  $("import-problems-more").hidden = report.problem_count <= problems.length;
  $("import-problems-more").textContent = `The first ${number(problems.length)} of ${number(report.problem_count)} problems are listed.`;
  $("import-problems-block").hidden = !problems.length;
}
