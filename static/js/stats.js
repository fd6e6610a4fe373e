// Statistics tab: load what has to be counted after the page has painted (it may count a million frames
// the first time), draw each chart from the numbers the server sent with it (Chart.js, vendored in
// static/vendor/chartjs-4.6.2/), save a chart as PNG or its numbers as CSV, and sort the label tables.

const GRID = "#eef0f3";
const TEXT = "#4b5563";
const charts = new Map(); // canvas id -> Chart

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

const number = (value) => Number(value).toLocaleString("en-US");

// A PNG saved from a canvas is transparent where nothing was drawn: paint the background white first.
const whiteBackground = {
  id: "whiteBackground",
  beforeDraw(chart) {
    const { ctx, width, height } = chart;
    ctx.save();
    ctx.globalCompositeOperation = "destination-over";
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, width, height);
    ctx.restore();
  },
};

function axis(title, extra = {}) {
  return {
    title: { display: Boolean(title), text: title, color: TEXT, font: { weight: "600" } },
    grid: { color: GRID },
    ticks: { color: TEXT },
    ...extra,
  };
}

// Chart.js configuration for one spec from viewer/charts.py.
function config(spec) {
  // One colour for a whole bar series; one per slice for a doughnut (even a single slice).
  const colours = (dataset) => (dataset.colors.length === 1 && spec.type !== "doughnut" ? dataset.colors[0] : dataset.colors);
  const datasets = spec.datasets.map((d) => ({
    label: d.label, data: d.data, backgroundColor: colours(d), borderColor: spec.type === "doughnut" ? "#fff" : colours(d),
    borderWidth: spec.type === "doughnut" ? 1 : 0, barPercentage: spec.type === "histogram" ? 1 : 0.8,
    categoryPercentage: spec.type === "histogram" ? 0.96 : 0.9,
  }));
  const percent = (index) => (spec.percent ? ` (${spec.percent[index].toFixed(1)}%)` : "");
  const base = {
    data: { labels: spec.labels, datasets },
    plugins: [whiteBackground],
    options: { responsive: true, maintainAspectRatio: false, animation: false, plugins: { title: { display: false } } },
  };
  if (spec.type === "doughnut") {
    base.type = "doughnut";
    base.options.plugins.legend = {
      position: "right",
      labels: {
        color: TEXT, boxWidth: 12,
        // Each legend entry says the label, its count and its share, so the saved PNG carries the numbers.
        generateLabels: (chart) => chart.data.labels.map((label, i) => ({
          text: `${label}: ${number(spec.datasets[0].data[i])}${percent(i)}`,
          fillStyle: datasets[0].backgroundColor[i], strokeStyle: "#fff", fontColor: TEXT, index: i,
          hidden: !chart.getDataVisibility(i),
        })),
      },
      onClick: (event, item, legend) => { legend.chart.toggleDataVisibility(item.index); legend.chart.update(); },
    };
    base.options.plugins.tooltip = { callbacks: { label: (ctx) => ` ${number(ctx.parsed)} ${spec.datasets[0].label}${percent(ctx.dataIndex)}` } };
    return base;
  }
  base.type = "bar";
  if (spec.type === "hbar") {
    base.options.indexAxis = "y";
    base.options.scales = {
      x: axis(spec.x_title, { beginAtZero: true, ticks: { color: TEXT, precision: 0 } }),
      y: axis(spec.y_title, { grid: { display: false } }),
    };
    base.options.plugins.legend = { display: false };
    base.options.plugins.tooltip = { callbacks: { label: (ctx) => ` ${number(ctx.parsed.x)} ${spec.datasets[0].label}${percent(ctx.dataIndex)}` } };
    return base;
  }
  base.options.scales = {
    x: axis(spec.x_title, { stacked: spec.stacked, grid: { display: false }, ticks: { color: TEXT, maxRotation: 45, autoSkip: true } }),
    y: axis(spec.y_title, { stacked: spec.stacked, beginAtZero: true, ticks: { color: TEXT, precision: 0 } }),
  };
  base.options.plugins.legend = { display: spec.stacked, position: "top", labels: { color: TEXT, boxWidth: 12 } };
  base.options.plugins.tooltip = { mode: "index", callbacks: { label: (ctx) => ` ${ctx.dataset.label}: ${number(ctx.parsed.y)}` } };
  return base;
}

function csvText(table) {
  const cell = (value) => {
    const text = String(value ?? "");
    return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  return [table.header, ...table.rows].map((row) => row.map(cell).join(",")).join("\r\n") + "\r\n";
}

function save(href, filename) {
  const link = document.createElement("a");
  link.href = href;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
}

function draw(figure) {
  const canvas = figure.querySelector("canvas");
  const island = figure.querySelector('script[type="application/json"]');
  if (!canvas || !island || typeof window.Chart !== "function") return;
  const spec = JSON.parse(island.textContent);
  charts.get(canvas.id)?.destroy();
  const box = figure.querySelector(".stats-chart-box");
  if (spec.type === "hbar") box.style.height = `${Math.max(140, 34 + spec.labels.length * 24)}px`;
  const chart = new window.Chart(canvas, config(spec));
  charts.set(canvas.id, chart);
  figure.dataset.drawn = "true";
  figure.querySelector('[data-export="png"]').onclick = () => save(chart.toBase64Image("image/png", 1), `${spec.filename}.png`);
  figure.querySelector('[data-export="csv"]').onclick = () => {
    const url = URL.createObjectURL(new Blob([csvText(spec.csv)], { type: "text/csv;charset=utf-8" }));
    save(url, `${spec.filename}.csv`);
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  };
}

function settle(root) {
  root.querySelectorAll("table[data-sortable]").forEach(sortable);
  root.querySelectorAll("figure.stats-chart").forEach(draw);
}

// Parts that are counted on demand (labels of a draft or under a filter, a metadata key, ROI confidence):
// fetched after the first paint, then put in place.
// 202 means a worker's job or another request is counting the same thing: its note (which names the job,
// kept moving by jobs.js) takes the place of the "Counting…" line, and we ask again shortly. 400 says which
// parameter is wrong, in place.
async function load(part, delay = 800) {
  try {
    const response = await fetch(part.dataset.statsSrc, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } });
    if (response.status === 202) {
      const note = part.querySelector("[data-loading], [data-pending]");
      if (note) note.outerHTML = await response.text();
      setTimeout(() => load(part, Math.min(delay * 1.5, 5000)), delay);
      return;
    }
    if (!response.ok && response.status !== 400) throw new Error(response.statusText);
    part.innerHTML = await response.text();
    settle(part);
  } catch (error) {
    part.innerHTML = '<div class="field-error" role="alert">Could not count this; reload the page to retry.</div>';
  }
}

function start() {
  document.querySelectorAll("[data-stats-src]").forEach((part) => load(part));
  settle(document);
}

// Chart.js is a deferred classic script before this module: it has run by now, unless it failed to load.
start();
