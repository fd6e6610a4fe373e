// The masks side panel: per MaskLayer (mask-layer.js) an eye toggle, an opacity slider, the mode (labels or
// alpha, with the tint in alpha mode), the legend of the labels the mask holds (colour, show/hide, pixel share)
// and the RGB values it holds that no label names. Styles: static/css/viewer-masks.css.
//
//   renderMaskPanel(document.querySelector('[data-panel="masks"]'), layers, {onChange: () => stage.redraw()});
//
// Every control has an accessible name that says which mask (and label) it is for: "Show mask seg",
// "Opacity of mask seg", radios "Labels" / "Alpha" in the group "Mode of mask seg", "Tint of mask seg",
// "Show label car in mask seg", "Colour of label car in mask seg", "Show unlabelled values of mask seg".

const EYE = '<svg viewBox="0 0 16 16" aria-hidden="true"><path d="M1 8s2.6-5 7-5 7 5 7 5-2.6 5-7 5-7-5-7-5Z"/><circle cx="8" cy="8" r="2.2"/></svg>';

let panels = 0;
const VALUES_LISTED = 64; // a mask of many values (a photo given as a mask) lists the largest ones

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key === "html") node.innerHTML = value;
    else if (value !== false && value !== null && value !== undefined) node.setAttribute(key, value === true ? "" : String(value));
  }
  node.append(...children);
  return node;
}

/** A share of the pixels as the legend says it: "42%", "3.5%", "<0.1%". */
export function shareText(share) {
  if (share <= 0) return "0%";
  if (share < 0.001) return "<0.1%";
  const percent = share * 100;
  return `${percent >= 10 ? Math.round(percent) : percent.toFixed(1)}%`;
}

const pixelsText = (n) => `${Number(n).toLocaleString("en")} px`;

/**
 * Fill `container` (the `<section class="fv-panel" data-panel="masks">`) with the controls of `layers`.
 * `onChange({layer, what})` runs after each change the user makes (what: visible, opacity, mode, tint, label,
 * colour, unlabelled); the layers' own "change" events say when a new bitmap is ready. Returns {refresh()},
 * which re-reads every layer's state (after the page changed a layer itself).
 */
export function renderMaskPanel(container, layers, { onChange = () => {} } = {}) {
  const panel = ++panels;
  container.classList.add("mk-panel");
  const heading = el("h2", { text: "Masks" });
  const list = el("div", { class: "mk-list" });
  container.replaceChildren(heading, list);
  if (!layers.length) list.append(el("p", { class: "muted small", text: "No masks on this source." }));
  const views = layers.map((layer, i) => maskView(layer, `mk${panel}-${i}`, (what) => onChange({ layer, what })));
  list.append(...views.map((view) => view.node));
  return { refresh: () => views.forEach((view) => view.refresh()) };
}

function maskView(layer, key, notify) {
  const name = layer.id || "(no id)";
  const eye = el("button", { type: "button", class: "mk-eye", "aria-label": `Show mask ${name}`, title: "Show or hide this mask", html: EYE });
  const status = el("span", { class: "mk-status", role: "status" });
  const head = el("div", { class: "mk-head" }, eye, el("span", { class: "mk-name mono", text: name }), status);

  const slider = el("input", { type: "range", min: 0, max: 100, step: 1, "aria-label": `Opacity of mask ${name}` });
  const percent = el("output", { class: "mk-percent", "aria-hidden": "true" });
  const opacity = el("div", { class: "mk-row" }, el("span", { class: "mk-key", text: "Opacity" }), slider, percent);

  const radios = Object.fromEntries(["labels", "alpha"].map((mode) => [mode, el("input", { type: "radio", name: `${key}-mode`, value: mode })]));
  const modes = el("div", { class: "mk-modes", role: "radiogroup", "aria-label": `Mode of mask ${name}` },
    el("label", {}, radios.labels, el("span", { text: "Labels" })),
    el("label", {}, radios.alpha, el("span", { text: "Alpha" })));
  const tint = el("input", { type: "color", class: "mk-tint", "aria-label": `Tint of mask ${name}`, title: "Tint" });
  const mode = el("div", { class: "mk-row" }, el("span", { class: "mk-key", text: "Mode" }), modes, tint);

  const details = el("div", { class: "mk-details" });
  const node = el("div", { class: "mk-mask", role: "group", "aria-label": `Mask ${name}`, "data-mask-id": layer.id }, head, opacity, mode, details);

  eye.addEventListener("click", () => {
    layer.setVisible(!layer.visible);
    refresh();
    notify("visible");
  });
  slider.addEventListener("input", () => {
    layer.setOpacity(slider.valueAsNumber / 100);
    percent.value = `${slider.value}%`;
    notify("opacity");
  });
  for (const radio of Object.values(radios)) {
    radio.addEventListener("change", () => {
      layer.setMode(radio.value);
      refresh();
      notify("mode");
    });
  }
  tint.addEventListener("input", () => {
    layer.setTint(tint.value);
    notify("tint");
  });

  let drawn = null; // the counts the details show: rebuilt once loaded, else updated in place (a colour being
  // picked keeps its input)
  function refresh() {
    eye.setAttribute("aria-pressed", String(layer.visible));
    node.classList.toggle("mk-hidden", !layer.visible);
    slider.value = String(Math.round(layer.opacity * 100));
    percent.value = `${slider.value}%`;
    radios[layer.mode].checked = true;
    tint.value = layer.tint;
    tint.hidden = layer.mode !== "alpha";
    status.textContent = layer.error ? layer.error : layer.ready ? "" : "loading…";
    status.classList.toggle("mk-error", !!layer.error);
    node.classList.toggle("mk-failed", !!layer.error);
    const stats = layer.stats;
    if (layer.counts !== drawn) {
      drawn = layer.counts;
      details.replaceChildren(...(stats ? detailsOf(layer, stats, name, notify) : []));
    }
    for (const row of details.querySelectorAll("[data-label]")) {
      const label = row.dataset.label;
      const entry = stats.labels.find((l) => l.label === label);
      row.querySelector(".mk-show").checked = entry.visible;
      row.querySelector(".mk-colour").value = entry.colour;
      row.classList.toggle("mk-off", !entry.visible);
    }
    details.classList.toggle("mk-alpha", layer.mode === "alpha");
  }
  layer.addEventListener("change", refresh);
  refresh();
  return { node, refresh };
}

function detailsOf(layer, stats, name, notify) {
  const nodes = [];
  const where = ` in mask ${name}`;
  if (stats.labels.length) {
    const rows = stats.labels.map((entry) => {
      const show = el("input", { type: "checkbox", class: "mk-show", "aria-label": `Show label ${entry.label}${where}` });
      const colour = el("input", { type: "color", class: "mk-colour", "aria-label": `Colour of label ${entry.label}${where}` });
      show.addEventListener("change", () => {
        layer.setLabelVisible(entry.label, show.checked);
        notify("label");
      });
      colour.addEventListener("input", () => {
        layer.setLabelColour(entry.label, colour.value);
        notify("colour");
      });
      return el("li", { class: "mk-label", "data-label": entry.label, title: pixelsText(entry.count) },
        show, colour,
        el("span", { class: "mk-label-name", text: entry.label || "(empty label)" }),
        el("span", { class: "mk-share", text: shareText(entry.share) }),
        el("span", { class: "mk-bar", style: `--share: ${(entry.share * 100).toFixed(2)}%`, "aria-hidden": "true" }));
    });
    nodes.push(el("h3", { text: "Labels" }), el("ul", { class: "mk-legend", "aria-label": `Labels${where}` }, ...rows));
  } else {
    nodes.push(el("p", { class: "muted small mk-none", text: noLabelsText(layer) }));
  }
  if (stats.unlabelled.length) {
    const show = el("input", { type: "checkbox", class: "mk-show-unlabelled", "aria-label": `Show unlabelled values of mask ${name}` });
    show.checked = layer.showUnlabelled;
    show.addEventListener("change", () => {
      layer.setShowUnlabelled(show.checked);
      notify("unlabelled");
    });
    const rows = stats.unlabelled.slice(0, VALUES_LISTED).map((entry) => el("li", { class: "mk-value", "data-rgb": entry.rgb },
      el("span", { class: "mk-swatch", style: `background: ${entry.rgb}`, "aria-hidden": "true" }),
      el("span", { class: "mk-rgb mono", text: entry.rgb }),
      el("span", { class: "mk-count", text: pixelsText(entry.count) })));
    const more = stats.unlabelled.length - rows.length;
    if (more > 0) rows.push(el("li", { class: "mk-more muted", text: `and ${more.toLocaleString("en")} more` }));
    nodes.push(
      el("h3", { text: `Values without a label (${stats.unlabelled.length})` }),
      el("label", { class: "mk-check" }, show, el("span", { text: "Show them in grey" })),
      el("ul", { class: "mk-values", "aria-label": `Values without a label${where}` }, ...rows),
    );
  }
  return nodes;
}

function noLabelsText(layer) {
  if (layer.lookup.from === "none") return "The version's mask labels name no value of this mask.";
  return "None of the mask's values has a label.";
}
