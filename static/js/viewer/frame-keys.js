// The frame page's keys (keys.js lists them) and the moves between frames they make: previous/next from the
// server-rendered links, ten frames, the next confident frame and the context's neighbours from the neighbour
// endpoint, which keeps the browser's filter and order.

import { actionFor, renderHelp } from "./keys.js";

const STATUS_MS = 2500;

export class FrameKeys {
  constructor(page) {
    this.page = page;
    this.root = page.root;
    const help = this.root.querySelector("#frame-help");
    this.help = help;
    renderHelp(help.querySelector(".fv-help-list"));
    help.querySelector("[data-close]")?.addEventListener("click", () => { help.hidden = true; });
    help.addEventListener("click", (event) => { if (event.target === help) help.hidden = true; }); // outside the card
    this.root.querySelector("#frame-help-button")?.addEventListener("click", () => { help.hidden = !help.hidden; });
    for (const button of this.root.querySelectorAll("[data-key-action]")) {
      button.addEventListener("click", () => this.run(button.dataset.keyAction));
    }
    document.addEventListener("keydown", (event) => {
      // Keys typed into a field are the field's; a focused checkbox or radio (Show all, Compare) keeps only Space.
      const field = event.target.closest?.("input, textarea, select, [contenteditable]");
      if (field && !(["checkbox", "radio"].includes(field.type) && event.key !== " ")) return;
      if (event.key === " " && (event.target === document.body || event.target.closest?.(".fv-stage"))) event.preventDefault(); // Space+drag pans, never scrolls
      const action = actionFor(event);
      if (!action) return;
      event.preventDefault();
      this.run(action);
    });
  }

  /** List more keys in the `?` overlay (the annotator's). */
  addHelp(rows) {
    renderHelp(this.help.querySelector(".fv-help-list"), rows);
  }

  run(action) {
    const { page, help } = this;
    const handlers = {
      previous: () => this.follow("previous"),
      next: () => this.follow("next"),
      back10: () => this.neighbour({ direction: "previous", step: 10 }),
      forward10: () => this.neighbour({ direction: "next", step: 10 }),
      previousConfident: () => this.neighbour({ direction: "previous", min_confidence: page.prefs.minConfidence }),
      nextConfident: () => this.neighbour({ direction: "next", min_confidence: page.prefs.minConfidence }),
      previousInContext: () => this.neighbour({ direction: "previous", scope: "context" }),
      nextInContext: () => this.neighbour({ direction: "next", scope: "context" }),
      zoomIn: () => page.zoom("zoomIn"),
      zoomOut: () => page.zoom("zoomOut"),
      fit: () => page.zoom("fit"),
      oneToOne: () => page.zoom("oneToOne"),
      toggleRois: () => page.setAllHidden(!page.filter.allHidden),
      toggleMasks: () => page.masks?.toggleAll(),
      toggleCompare: () => page.setComparing(!page.comparing),
      togglePreview: () => page.showKind(page.views.some((v) => v.which === "preview") ? "image" : "preview"),
      nextSource: () => page.cycleSource(),
      toggleAllSources: () => page.applyLayout(page.prefs.layout === "all" ? "single" : "all"),
      back: () => (help.hidden ? window.location.assign(this.root.dataset.backUrl) : (help.hidden = true)),
      help: () => { help.hidden = !help.hidden; },
    };
    handlers[action]?.();
  }

  /** Previous/next: the server-rendered link, or a word that there is none. */
  follow(which) {
    const link = this.root.querySelector(`[data-nav="${which}"]`);
    if (link) this.page.leaveTo(link.href);
    else this.say(which === "next" ? "This is the last frame in this filter." : "This is the first frame in this filter.");
  }

  /** Go to the frame the server names for this step (the neighbour endpoint keeps the filter and order). */
  async neighbour(params) {
    const base = this.root.dataset.neighbourUrl;
    if (!base) return;
    const query = new URLSearchParams(this.root.dataset.navQuery || "");
    for (const [key, value] of Object.entries({ step: 1, scope: "filter", ...params })) query.set(key, String(value));
    try {
      const response = await fetch(`${base}?${query}`, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      const answer = await response.json();
      if (response.ok && answer.url) {
        this.page.leaveTo(answer.url);
        return;
      }
      this.say(response.ok ? "No such frame in this direction." : (answer.errors || []).map((e) => `${e.field}: ${e.message}`).join("; "));
    } catch {
      this.say("Could not reach the server.");
    }
  }

  say(text) {
    const status = this.root.querySelector("#frame-nav-status");
    status.textContent = text;
    status.hidden = false;
    clearTimeout(this.sayTimer);
    this.sayTimer = setTimeout(() => { status.hidden = true; }, STATUS_MS);
  }
}
