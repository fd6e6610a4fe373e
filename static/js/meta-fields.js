// The "Fields" section of the frames filter editor: one control per typed metadata field of the version
// (GET /api/versions/<id>/meta-schema/?seen=true): a range for numbers and dates, a picker of the values the
// frames hold (and the schema lists) for categories and booleans, a text box for strings and UUIDs.
// "Add to frame rule" turns what is filled in into a Lucene clause (meta.speed:[10 TO 60] AND
// (meta.weather:"rain" OR meta.weather:"sun")) and ANDs it into the first filter's frame rule, so the editor
// (filters.js) and the URL carry it as any typed query: the server's Lucene filter does the rest.

import { el } from "./dom.js";

const panel = document.getElementById("fb-advanced");
const blocksNode = document.getElementById("fb-blocks");
const fmt = new Intl.NumberFormat("en-US");
const NUMBERS = ["integer", "float"];
const CATEGORIES = ["categorical_int", "categorical_string", "boolean"];

function versionId() {
  const match = window.location.pathname.match(/^\/versions\/([^/]+)\//);
  return match ? match[1] : null;
}

// A Lucene term for one value: numbers and booleans bare (they match the typed JSON value), text quoted.
function term(value) {
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(String(value));
}

function bound(text, quoted) {
  const value = text.trim();
  if (!value) return "*";
  return quoted ? JSON.stringify(value) : value;
}

/** The Lucene clause of one field's control, or "" when nothing is picked. */
export function fieldClause(field, state) {
  const name = `meta.${field.path}`;
  if (NUMBERS.includes(field.type) || field.type === "datetime") {
    const quoted = field.type === "datetime";
    const [low, high] = [bound(state.low || "", quoted), bound(state.high || "", quoted)];
    return low === "*" && high === "*" ? "" : `${name}:[${low} TO ${high}]`;
  }
  if (CATEGORIES.includes(field.type)) {
    const picked = state.picked || [];
    if (!picked.length) return "";
    const terms = picked.map((value) => `${name}:${term(value)}`);
    return terms.length === 1 ? terms[0] : `(${terms.join(" OR ")})`;
  }
  const text = (state.text || "").trim();
  return text ? `${name}:${JSON.stringify(text)}` : "";
}

function choices(field) {
  const counts = new Map((field.seen || []).map((entry) => [JSON.stringify(entry.value), entry]));
  const listed = field.type === "boolean" ? [true, false] : field.values || [];
  const values = [...listed.map((value) => ({ value, count: counts.get(JSON.stringify(value))?.count ?? 0 }))];
  for (const entry of field.seen || []) {
    if (!values.some((v) => JSON.stringify(v.value) === JSON.stringify(entry.value))) values.push(entry);
  }
  return values;
}

function rangeControl(field, state, index) {
  const kind = field.type === "datetime" ? "datetime-local" : "number";
  const input = (which, label) => el("input", {
    type: kind, class: "fb-select fb-field-bound", step: field.type === "integer" ? "1" : field.type === "float" ? "any" : "1",
    "aria-label": `${field.name} ${label}`, "data-bound": which, id: `fb-field-${index}-${which}`,
    oninput: (e) => { state[which] = e.target.value; },
  });
  return el("span", { class: "fb-field-range" }, input("low", "from"), " – ", input("high", "to"));
}

function pickerControl(field, state) {
  state.picked = [];
  const options = choices(field);
  if (!options.length) return el("span", { class: "muted small" }, "no values in the frames yet");
  return el("span", { class: "fb-field-values", role: "group", style: "display: flex; flex-wrap: wrap; gap: 6px", "aria-label": `${field.name} values` },
    options.map((entry) => el("label", { class: "fb-chip", title: `${fmt.format(entry.count)} frames` },
      el("input", {
        type: "checkbox", value: JSON.stringify(entry.value), "aria-label": `${field.name} ${String(entry.value)}`,
        onchange: (e) => {
          state.picked = state.picked.filter((v) => JSON.stringify(v) !== e.target.value);
          if (e.target.checked) state.picked.push(entry.value);
        },
      }),
      ` ${String(entry.value)} `, el("small", { class: "muted" }, fmt.format(entry.count)))));
}

function textControl(field, state) {
  return el("input", {
    type: "text", class: "fb-select", placeholder: field.type === "uuid" ? "123e4567-…" : "exact value",
    "aria-label": `${field.name} equals`, oninput: (e) => { state.text = e.target.value; },
  });
}

function fieldRow(field, index) {
  const state = {};
  let control;
  if (NUMBERS.includes(field.type) || field.type === "datetime") control = rangeControl(field, state, index);
  else if (CATEGORIES.includes(field.type)) control = pickerControl(field, state);
  else control = textControl(field, state);
  const row = el("div", { class: "fb-row fb-field", "data-path": field.path, "data-type": field.type },
    el("span", { class: "fb-label", title: `meta.${field.path} (${field.type})` }, field.name,
      el("small", { class: "muted" }, ` ${field.type.startsWith("categorical_") ? "category" : field.type}`)),
    el("div", { style: "display: flex; flex-wrap: wrap; gap: 6px; align-items: center" }, control));
  return { row, clause: () => fieldClause(field, state) };
}

// ANDs the clause into the first filter's frame rule; filters.js keeps its state from the input event.
function addToFrameRule(clause) {
  const input = document.getElementById("fb-frame_query-0");
  if (!input) return;
  const current = input.value.trim();
  input.value = current ? `${current.includes(" OR ") ? `(${current})` : current} AND ${clause}` : clause;
  input.dispatchEvent(new Event("input", { bubbles: true }));
  input.focus();
}

async function build(id) {
  const response = await fetch(`/api/versions/${id}/meta-schema/?seen=true`, { headers: { Accept: "application/json" } });
  if (!response.ok) return;
  const { fields } = await response.json();
  if (!fields || !fields.length) return;
  const rows = fields.map(fieldRow);
  const note = el("span", { class: "muted small", id: "fb-fields-note" }, "Typed metadata: pick ranges and values");
  const add = el("button", {
    type: "button", class: "btn btn-sm", id: "fb-fields-add",
    onclick: () => {
      const clause = rows.map((r) => r.clause()).filter(Boolean).join(" AND ");
      if (!clause) { note.textContent = "Nothing picked yet: fill in a range or pick a value"; return; }
      addToFrameRule(clause);
      note.textContent = `Added to the frame rule of Filter 1: ${clause}`;
    },
  }, "Add to frame rule");
  panel.insertBefore(el("section", { class: "fb-block fb-fields", id: "fb-fields", "aria-label": "Typed metadata fields", style: "margin-bottom: 10px" },
    el("div", { class: "fb-block-head" }, el("span", { class: "fb-block-title" }, "Fields"), note),
    rows.map((r) => r.row),
    el("div", { class: "fb-row" }, el("span", {}), el("div", {}, add))), blocksNode);
}

// Fetched when the filter editor is first shown: the values seen are counted over the whole version, work a
// page view that never opens the editor should not cause.
function init() {
  const id = versionId();
  if (!panel || !blocksNode || !id) return;
  let built = false;
  const open = () => {
    if (built || panel.hidden) return;
    built = true;
    build(id);
  };
  open();
  document.getElementById("fb-filters-toggle")?.addEventListener("click", () => setTimeout(open));
}

init();
