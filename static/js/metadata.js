// Metadata tab: the mask-label table and the JSON textarea edit the same thing. A change in the table
// rewrites `mask_labels._all_` in the JSON; typing valid JSON rebuilds the table. The server validates on
// save (services.version_update) and shows its errors next to the JSON and the row they name.

const form = document.getElementById("metadata-form");
const textarea = document.getElementById("id_metadata");
const table = document.getElementById("mask-table");
const status = document.getElementById("json-status");

const hex = (rgb) => "#" + rgb.map((v) => Math.max(0, Math.min(255, v | 0)).toString(16).padStart(2, "0")).join("");
const rgbOf = (value) => [1, 3, 5].map((i) => parseInt(value.slice(i, i + 2), 16));

// Indented JSON where short arrays and small flat objects stay on one line (as viewer/jsonfmt.py writes it).
const WIDTH = 72;
const isObj = (v) => v !== null && typeof v === "object";
const flat = (v) => !isObj(v) || Object.values(v).every((m) => !isObj(m) || (Array.isArray(m) && m.every((x) => !isObj(x))));
function inlineJson(value) {
  if (Array.isArray(value)) return "[" + value.map(inlineJson).join(", ") + "]";
  if (isObj(value)) return "{" + Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}: ${inlineJson(v)}`).join(", ") + "}";
  return JSON.stringify(value);
}
function compactJson(value, level = 0) {
  const inline = inlineJson(value);
  const empty = isObj(value) && Object.keys(value).length === 0;
  if (!isObj(value) || empty || (flat(value) && inline.length + 2 * level <= WIDTH)) return inline;
  const pad = "  ".repeat(level), inner = "  ".repeat(level + 1);
  if (Array.isArray(value)) return "[\n" + value.map((v) => inner + compactJson(v, level + 1)).join(",\n") + "\n" + pad + "]";
  return "{\n" + Object.entries(value).map(([k, v]) => `${inner}${JSON.stringify(k)}: ${compactJson(v, level + 1)}`).join(",\n") + "\n" + pad + "}";
}

function parse() {
  const text = textarea.value.trim();
  if (!text) return { value: {} };
  try {
    const value = JSON.parse(text);
    if (value === null || typeof value !== "object" || Array.isArray(value)) return { error: "must be a JSON object ({...})" };
    return { value };
  } catch (error) {
    return { error: error.message };
  }
}

function showStatus(result) {
  if (!status) return;
  status.textContent = result.error ? `✗ ${result.error}` : "✓ valid JSON";
  status.style.color = result.error ? "var(--danger)" : "var(--green)";
}

function rowHtml(entry) {
  const value = Array.isArray(entry.value) ? entry.value : [];
  const rgb = value.length === 1 ? [value[0], value[0], value[0]] : [0, 1, 2].map((i) => (Number.isInteger(value[i]) ? value[i] : 0));
  const labels = Array.isArray(entry.labels) ? entry.labels.join(", ") : "";
  const tr = document.createElement("tr");
  tr.innerHTML = `
    <td><input type="color" aria-label="Colour" data-k="colour"></td>
    <td class="rgb">${["Red", "Green", "Blue"].map((name, i) => `<input type="number" min="0" max="255" aria-label="${name}" data-k="c${i}">`).join(" ")}</td>
    <td><input type="text" aria-label="Labels" placeholder="label, label" data-k="labels"></td>
    <td><button type="button" class="btn btn-sm btn-icon btn-danger" data-remove title="Remove this row">✕</button></td>`;
  tr.querySelector("[data-k=colour]").value = hex(rgb);
  rgb.forEach((v, i) => (tr.querySelector(`[data-k=c${i}]`).value = v));
  tr.querySelector("[data-k=labels]").value = labels;
  return tr;
}

function rows() {
  return [...table.tBodies[0].rows].filter((row) => !row.classList.contains("empty-row"));
}

function tableEntries() {
  return rows().map((row) => ({
    value: [0, 1, 2].map((i) => {
      const raw = row.querySelector(`[data-k=c${i}]`).value;
      const number = Number(raw);
      return raw === "" || Number.isNaN(number) ? raw : number;
    }),
    labels: row.querySelector("[data-k=labels]").value.split(",").map((s) => s.trim()).filter(Boolean),
  }));
}

function checkRow(row) {
  let ok = true;
  for (let i = 0; i < 3; i++) {
    const input = row.querySelector(`[data-k=c${i}]`);
    const n = Number(input.value);
    const good = input.value !== "" && Number.isInteger(n) && n >= 0 && n <= 255;
    input.style.borderColor = good ? "" : "var(--danger)";
    ok = ok && good;
  }
  row.classList.toggle("row-error", !ok);
}

function tableToJson() {
  const result = parse();
  if (result.error) {
    showStatus({ error: `${result.error} — fix the JSON before editing the table` });
    return;
  }
  const metadata = result.value;
  const maskLabels = metadata.mask_labels && typeof metadata.mask_labels === "object" && !Array.isArray(metadata.mask_labels) ? metadata.mask_labels : {};
  maskLabels._all_ = tableEntries();
  metadata.mask_labels = maskLabels;
  textarea.value = compactJson(metadata);
  showStatus({ value: metadata });
}

function jsonToTable() {
  const result = parse();
  showStatus(result);
  const inputs = table.querySelectorAll("input, button");
  inputs.forEach((input) => (input.disabled = Boolean(result.error)));
  if (result.error) return;
  const entries = result.value.mask_labels && Array.isArray(result.value.mask_labels._all_) ? result.value.mask_labels._all_ : [];
  table.tBodies[0].replaceChildren(...entries.map((entry) => rowHtml(entry || {})));
}

if (form && textarea && table && !form.hasAttribute("data-readonly")) {
  const initial = parse();
  showStatus(initial);
  if (initial.error) table.querySelectorAll("input, button").forEach((input) => (input.disabled = true));
  table.addEventListener("input", (event) => {
    const row = event.target.closest("tr");
    if (!row) return;
    if (event.target.dataset.k === "colour") {
      rgbOf(event.target.value).forEach((v, i) => (row.querySelector(`[data-k=c${i}]`).value = v));
    } else if (/^c\d$/.test(event.target.dataset.k || "")) {
      const rgb = [0, 1, 2].map((i) => Number(row.querySelector(`[data-k=c${i}]`).value) || 0);
      row.querySelector("[data-k=colour]").value = hex(rgb);
    }
    checkRow(row);
    tableToJson();
  });
  table.addEventListener("click", (event) => {
    const remove = event.target.closest("[data-remove]");
    if (!remove) return;
    remove.closest("tr").remove();
    tableToJson();
  });
  document.getElementById("mask-add")?.addEventListener("click", () => {
    table.querySelector(".empty-row")?.remove();
    const used = new Set(rows().map((row) => row.querySelector("[data-k=colour]").value));
    let rgb;
    do rgb = [0, 1, 2].map(() => 40 + Math.floor(Math.random() * 200)); while (used.has(hex(rgb)));
    const row = rowHtml({ value: rgb, labels: [] });
    table.tBodies[0].append(row);
    tableToJson();
    row.querySelector("[data-k=labels]").focus();
  });
  textarea.addEventListener("input", jsonToTable);
}
