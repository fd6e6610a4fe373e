// The advanced frame filters (ClearML's): several filter blocks OR-ed; in each, ROI rules, a Lucene frame rule
// on meta.* and a source rule on sources.*, AND-ed. An ROI rule is either a set of labels with a confidence
// range or (its "Lucene" mode) a roi_query over one ROI's labels, confidence, id and meta.*; either way it
// includes or excludes frames with an ROI that satisfies all of it.
// The editor reads the `filters` JSON of the URL and writes it back on Apply; the server validates it and its
// errors (field + message, e.g. filters[0].frame_query) are shown under the input they concern.

import { formParams, labels, navigate } from "./frames.js";
import { readJson } from "./viewer/contract.js";
import { el } from "./dom.js";

const panel = document.getElementById("fb-advanced");
const blocksNode = document.getElementById("fb-blocks");
const fmt = new Intl.NumberFormat("en-US");
let blocks = [];
let labelList = [];

function normaliseRule(rule) {
  let names = rule.labels ?? rule.label ?? [];
  if (typeof names === "string") names = [names];
  const logic = rule.logic || (rule.must_not ? "exclude" : "include");
  const range = Array.isArray(rule.conf_range) ? rule.conf_range : null;
  const query = typeof rule.roi_query === "string" ? rule.roi_query : "";
  return { labels: names.map(String), logic, conf: range ? [range[0], range[1]] : ["", ""], query, mode: query ? "lucene" : "labels" };
}

function newRule() {
  return { labels: [], logic: "include", conf: ["", ""], query: "", mode: "labels" };
}

// A cheap check while typing (the server has the last word): brackets and quotes that do not close, and field
// names an ROI query does not know.
const ROI_FIELDS = /^(labels|label|label\.keyword|confidence|id|meta\.[^\s:]+)$/;

export function roiQueryHint(text) {
  let depth = 0;
  let range = 0;
  let quoted = false;
  for (const c of text) {
    if (c === '"') quoted = !quoted;
    if (quoted) continue;
    if (c === "(") depth += 1;
    if (c === ")") depth -= 1;
    if (c === "[" || c === "{") range += 1;
    if (c === "]" || c === "}") range -= 1;
    if (depth < 0) return "a ')' closes nothing";
  }
  if (quoted) return "a quote is not closed";
  if (depth > 0) return "a '(' is not closed";
  if (range !== 0) return "a range [a TO b] is not closed";
  const stripped = text.replace(/"[^"]*"/g, '""').replace(/[[{][^\]}]*[\]}]/g, "[]");
  for (const match of stripped.matchAll(/([A-Za-z_][\w.]*)\s*:/g)) {
    if (!ROI_FIELDS.test(match[1])) return `unknown field ${match[1]}: use labels, confidence, id or meta.<key>`;
  }
  return "";
}

function normalise(raw) {
  let list = raw;
  if (typeof list === "string") {
    try { list = list.trim() ? JSON.parse(list) : []; } catch { list = []; }
  }
  if (list && !Array.isArray(list)) list = [list];
  return (list || []).filter((b) => b && typeof b === "object").map((b) => ({
    rules: [...(b.rois || b.label_rules || []), ...(b.roi_query ? [{ roi_query: b.roi_query }] : [])].map(normaliseRule),
    frame_query: b.frame_query || "",
    sources_query: b.sources_query || "",
  }));
}

function serialise() {
  const out = [];
  for (const block of blocks) {
    const rois = [];
    for (const rule of block.rules) {
      if (rule.mode === "lucene") {
        if (rule.query.trim()) rois.push({ roi_query: rule.query.trim(), logic: rule.logic });
        continue;
      }
      const entry = {};
      if (rule.labels.length) entry.labels = rule.labels;
      entry.logic = rule.logic;
      const [low, high] = rule.conf;
      if (low !== "" || high !== "") entry.conf_range = [low === "" ? 0 : Number(low), high === "" ? 1 : Number(high)];
      if (entry.labels || entry.conf_range) rois.push(entry);
    }
    const item = {};
    if (rois.length) item.rois = rois;
    if (block.frame_query.trim()) item.frame_query = block.frame_query.trim();
    if (block.sources_query.trim()) item.sources_query = block.sources_query.trim();
    if (Object.keys(item).length) out.push(item);
  }
  return out;
}

function fieldError(errors, ...fields) {
  for (const field of fields) {
    for (const [key, message] of Object.entries(errors)) {
      if (key === field || key.startsWith(`${field}.`) || key.startsWith(`${field}[`)) {
        return el("div", { class: "fb-field-error", role: "alert", "data-field": key }, message);
      }
    }
  }
  return null;
}

function labelOptions() {
  const list = el("datalist", { id: "fb-label-options" });
  for (const entry of labelList) {
    list.append(el("option", { value: entry.label, label: `${fmt.format(entry.frame_count)} frames · ${fmt.format(entry.roi_count + (entry.frame_label_count || 0))} annotations` }));
  }
  return list;
}

function ruleNode(block, b, rule, r, errors) {
  const where = `filters[${b}].rois[${r}]`;
  const addLabel = (input) => {
    const value = input.value.trim();
    if (value && !rule.labels.includes(value)) rule.labels.push(value);
    render();
    document.querySelector(`[data-rule="${b}-${r}"] .fb-label-input`)?.focus();
  };
  const counts = Object.fromEntries(labelList.map((e) => [e.label, e.frame_count]));
  const chips = rule.labels.map((name, i) =>
    el("span", { class: "fb-chip fb-chip-active", title: counts[name] !== undefined ? `${fmt.format(counts[name])} frames` : "" },
      name,
      counts[name] !== undefined ? el("small", { class: "muted" }, ` ${fmt.format(counts[name])}`) : null,
      el("span", { role: "button", tabindex: "0", "aria-label": `Remove ${name}`, onclick: () => { rule.labels.splice(i, 1); render(); } }, "×")));
  const input = el("input", {
    type: "text", class: "fb-select fb-label-input", list: "fb-label-options", placeholder: rule.labels.length ? "and label…" : "label…",
    "aria-label": "Add a label to this rule", "data-testid": "rule-label-input",
    onkeydown: (e) => { if (e.key === "Enter") { e.preventDefault(); addLabel(e.target); } },
    onchange: (e) => { if (labelList.some((l) => l.label === e.target.value)) addLabel(e.target); },
  });
  const conf = (i) => el("input", {
    type: "number", min: "0", max: "1", step: "0.05", value: rule.conf[i], placeholder: i ? "1" : "0",
    "aria-label": i ? "Confidence at most" : "Confidence at least",
    oninput: (e) => { rule.conf[i] = e.target.value; },
  });
  const logic = el("select", {
    class: `fb-select fb-logic ${rule.logic}`, "aria-label": "Include or exclude",
    onchange: (e) => { rule.logic = e.target.value; render(); },
  }, el("option", { value: "include", selected: rule.logic === "include" }, "include"),
     el("option", { value: "exclude", selected: rule.logic === "exclude" }, "exclude"));
  const mode = el("span", { class: "fb-seg fb-rule-mode", role: "group", "aria-label": "Rule kind" },
    ...[["labels", "Labels", "A set of labels on one ROI, with a confidence range"],
      ["lucene", "Lucene", "A Lucene query over one ROI: labels, confidence, id, meta.*"]].map(([value, text, title]) =>
      el("button", {
        type: "button", class: `fb-seg-item${rule.mode === value ? " on" : ""}`, "data-mode": value, title,
        style: `border: 0; font: inherit; font-size: 12px; cursor: pointer;${rule.mode === value ? "" : " background: #fff;"}`,
        "aria-pressed": String(rule.mode === value),
        onclick: () => { switchMode(rule, value); render(); document.querySelector(`[data-rule="${b}-${r}"] input`)?.focus(); },
      }, text)));
  const remove = el("button", { type: "button", class: "fb-x", title: "Remove this rule", "aria-label": "Remove this rule", onclick: () => { block.rules.splice(r, 1); render(); } }, "×");
  if (rule.mode === "lucene") return luceneRuleNode(rule, b, r, logic, mode, remove, errors);
  return el("div", { class: "fb-rule-wrap" },
    el("div", { class: "fb-rule", "data-rule": `${b}-${r}`, "data-mode": "labels" },
      logic, mode,
      el("span", { class: "fb-rule-labels" }, chips, input),
      el("span", { class: "fb-conf", title: "ROI confidence range" }, "conf", conf(0), "–", conf(1)),
      remove),
    fieldError(errors, where));
}

// Switching keeps what was chosen: labels and a confidence range become the query that means the same.
function switchMode(rule, mode) {
  if (mode === rule.mode) return;
  if (mode === "lucene" && !rule.query.trim()) {
    const parts = rule.labels.map((name) => `labels:${/^[\w-]+$/.test(name) ? name : JSON.stringify(name)}`);
    const [low, high] = rule.conf;
    if (low !== "" || high !== "") parts.push(`confidence:[${low === "" ? 0 : low} TO ${high === "" ? 1 : high}]`);
    rule.query = parts.join(" AND ");
  }
  rule.mode = mode;
}

function luceneRuleNode(rule, b, r, logic, mode, remove, errors) {
  const where = `filters[${b}].rois[${r}]`;
  const serverError = fieldError(errors, where);
  const hint = el("div", { class: "fb-hint", "data-hint-for": `${where}.roi_query` },
    "All conditions on the same ROI · labels, confidence, id, meta.<key> · a bare word is a label");
  const showHint = (text) => {
    const problem = roiQueryHint(text);
    hint.className = problem ? "fb-field-error" : "fb-hint";
    hint.setAttribute("role", problem ? "alert" : "note");
    hint.textContent = problem || "All conditions on the same ROI · labels, confidence, id, meta.<key> · a bare word is a label";
    input.classList.toggle("invalid", Boolean(problem || (serverError && text === rule.serverText)));
  };
  const input = el("input", {
    type: "text", class: `fb-query fb-roi-query${serverError ? " invalid" : ""}`, value: rule.query, spellcheck: "false", autocomplete: "off",
    placeholder: "labels:car AND confidence:[0.5 TO 1] AND meta.occluded:false", "aria-label": "ROI query (Lucene)",
    "data-query": "roi_query",
    oninput: (e) => { rule.query = e.target.value; showHint(e.target.value); },
    onkeydown: (e) => { if (e.key === "Enter") { e.preventDefault(); apply(); } },
  });
  rule.serverText = rule.query;
  return el("div", { class: "fb-rule-wrap" },
    el("div", { class: "fb-rule", "data-rule": `${b}-${r}`, "data-mode": "lucene" },
      logic, mode, el("span", { class: "fb-rule-query", style: "flex: 1 1 340px; min-width: 220px" }, input), remove),
    serverError || hint);
}

function queryRow(block, b, key, title, placeholder, hint, errors) {
  const error = fieldError(errors, `filters[${b}].${key}`);
  return el("div", { class: "fb-row" },
    el("label", { class: "fb-label", for: `fb-${key}-${b}` }, title),
    el("div", {},
      el("input", {
        type: "text", id: `fb-${key}-${b}`, class: `fb-query${error ? " invalid" : ""}`, value: block[key], placeholder,
        spellcheck: "false", autocomplete: "off", "data-query": key,
        oninput: (e) => { block[key] = e.target.value; },
        onkeydown: (e) => { if (e.key === "Enter") { e.preventDefault(); apply(); } },
      }),
      error || el("div", { class: "fb-hint" }, hint)));
}

let currentErrors = {};

function render() {
  const errors = currentErrors;
  blocksNode.replaceChildren();
  const general = fieldError(errors, "filters");
  if (general && !Object.keys(errors).some((k) => k.startsWith("filters["))) blocksNode.append(general);
  blocks.forEach((block, b) => {
    if (b > 0) blocksNode.append(el("div", { class: "fb-or" }, "OR"));
    const rules = block.rules.map((rule, r) => ruleNode(block, b, rule, r, errors));
    blocksNode.append(el("div", { class: "fb-block", "data-block": String(b) },
      el("div", { class: "fb-block-head" },
        el("span", { class: "fb-block-title" }, `Filter ${b + 1}`),
        el("span", { class: "muted small" }, "all rules must match"),
        el("button", { type: "button", class: "fb-x", title: "Remove this filter", "aria-label": `Remove filter ${b + 1}`, onclick: () => { blocks.splice(b, 1); if (!blocks.length) blocks.push(emptyBlock()); render(); } }, "×")),
      el("div", { class: "fb-row" },
        el("span", { class: "fb-label" }, "ROI rules"),
        el("div", { class: "fb-rules" }, rules,
          el("button", { type: "button", class: "btn btn-sm fb-add-rule", onclick: () => { block.rules.push(newRule()); render(); } }, "+ ROI rule"))),
      queryRow(block, b, "frame_query", "Frame rule", 'meta.weather:sunny AND meta.speed:[10 TO 60]', "Lucene on meta.* (and id, context_id, timestamp)", errors),
      queryRow(block, b, "sources_query", "Source rule", "sources.content_type:image* OR sources.id:front", "Lucene on sources.* (id, uri, content_type, width, height, meta.*)", errors)));
  });
  blocksNode.append(labelOptions());
}

function emptyBlock() {
  return { rules: [], frame_query: "", sources_query: "" };
}

function apply() {
  const form = document.getElementById("fb-form");
  const params = formParams(form);
  const json = serialise();
  params.delete("filters");
  params.delete("frame_query");
  params.delete("sources_query");
  params.delete("roi_query");
  if (json.length) params.set("filters", JSON.stringify(json));
  navigate(params);
}

// The Sample by Property panel (templates/viewer/partials/frames_sample.html): its fields belong to the toolbar's
// form, so the form's submit (frames.js) applies them; here only the toggle and a new seed.
function initSample() {
  const samplePanel = document.getElementById("fb-sample-panel");
  const toggle = document.getElementById("fb-sample-toggle");
  if (!samplePanel || !toggle) return;
  const show = (open) => {
    samplePanel.hidden = !open;
    toggle.setAttribute("aria-expanded", String(open));
  };
  if (samplePanel.querySelector(".fb-field-error")) show(true);
  toggle.addEventListener("click", () => {
    show(samplePanel.hidden);
    if (!samplePanel.hidden) document.getElementById("fb-sample-by")?.focus();
  });
  document.getElementById("fb-sample-reseed")?.addEventListener("click", () => {
    const seed = document.getElementById("fb-sample-seed");
    if (seed) seed.value = String(Math.floor(Math.random() * 100000));
  });
}

async function init() {
  initSample();
  if (!panel || !blocksNode) return;
  currentErrors = readJson("fb-error-fields") || {};
  blocks = normalise(readJson("fb-filters-json") || "");
  const url = new URLSearchParams(window.location.search);
  if (!blocks.length && (url.get("frame_query") || url.get("sources_query") || url.get("roi_query"))) {
    blocks = normalise([{ roi_query: url.get("roi_query") || "", frame_query: url.get("frame_query") || "", sources_query: url.get("sources_query") || "" }]);
  }
  if (!blocks.length) blocks.push(emptyBlock());
  render();
  const toggle = document.getElementById("fb-filters-toggle");
  toggle?.addEventListener("click", () => {
    panel.hidden = !panel.hidden;
    toggle.setAttribute("aria-expanded", String(!panel.hidden));
    toggle.classList.toggle("on", !panel.hidden);
    if (!panel.hidden) panel.querySelector("input")?.focus();
  });
  document.getElementById("fb-add-filter")?.addEventListener("click", () => { blocks.push(emptyBlock()); render(); });
  document.getElementById("fb-apply-filters")?.addEventListener("click", apply);
  labelList = await labels();
  render();
}

init();
