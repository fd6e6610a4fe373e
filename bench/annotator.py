"""Annotator: dragging a polygon's vertex on a frame of 500 polygons, and saving that frame, in headless Chromium.

Set up as bench/viewer.py does (its helpers are reused): a temporary folder (HYPERDATA_VAR_DIR: the embedded SQLite
database and storage), an embedded Valkey broker, gunicorn as `manage.py serve` runs it, a superuser signed in
through the login page, headless Debian Chromium (window 1440x900; --disable-gpu: software raster and compositing).
One frame on the dataset's draft version: a generated 2000x1500 JPEG and 500 seeded polygons of 10-20 vertices
over 20 labels. The annotator needs no previews, so no worker runs (the page shows the JPEG itself).

1. Drag latency. The largest polygon near the centre is selected and its right-most vertex dragged, through
   Chromium's input (mouse down on the vertex, --moves moves at 60 Hz around a circle, up), in drags of 100 moves.
   In the page: each pointermove's event.timeStamp; Stage.draw wrapped (performance.now() after it returns). A
   move's latency is the end of the first draw after it minus its timeStamp ("drawn"), and the moment the page's
   thread is done with that frame (a setTimeout(0) queued at the end of the draw, which runs in a requestAnimation-
   Frame callback: after the frame's paint; "painted"), since a 2D canvas records calls and rasterises them later.
   The naive method (--naive-moves, in drags between the annotator's): on every move the page's `setRois` with the
   moved ROI (every ROI's shape and Path2D rebuilt, the objects list re-rendered, the ROI layer re-batched), which
   the annotator does only once, when the drag ends. Then one sharp drawing of each part, rasterised at once (a
   1-pixel getImageData after it), mid-drag: where a frame's time goes.
2. Save. --saves times: a short drag of the vertex (so the frame is dirty), then `await annotator.save()` timed in
   the page (the PUT with If-Match, the answer read, the saved ROIs shown again); the fetch alone is timed too.
   Next to it the REST endpoint alone: the same frame body PUT from Python (requests, the same session cookie,
   CSRF token and If-Match), one coordinate changed each time.

    .venv/bin/python bench/annotator.py [--moves 200] [--naive-moves 100] [--saves 10] [--screenshots DIR] [--keep]

About 2 minutes on 2 cores. Other processes on the machine skew the times: the load average is printed.
"""
from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import requests
from PIL import Image

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
if sys.path and Path(sys.path[0]).resolve() == BENCH:
    sys.path.pop(0)  # bench/viewer.py must not shadow the app's `viewer` package; it is loaded by path below
_spec = importlib.util.spec_from_file_location("bench_viewer", BENCH / "viewer.py")
bench_viewer = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_viewer)

WIDTH, HEIGHT = 2000, 1500
ROIS, MIN_VERTICES, MAX_VERTICES = 500, 10, 20
USER, PASSWORD = "bench-annotator", "bench-annotator-password"
FRAME_ID = "bench-annotator-frame"
TARGET_MS = 16
MOVES_PER_DRAG = 100
MOVE_GAP = 1 / 60  # a mouse reports at >= 60 Hz
CIRCLE = 30  # CSS pixels: the radius of the vertex's path


# -- the scene and the server -------------------------------------------------------------------------------------


def outline(rng, cx, cy, radius) -> list[float]:
    """A closed wobbly polygon of 10-20 vertices around (cx, cy), inside the image, as a flat ClearML poly."""
    count = int(rng.integers(MIN_VERTICES, MAX_VERTICES + 1))
    angles = np.linspace(0, 2 * math.pi, count, endpoint=False)
    r = radius * rng.uniform(0.75, 1.15, count)
    xs = np.clip(cx + r * np.cos(angles), 0, WIDTH - 1)
    ys = np.clip(cy + r * np.sin(angles), 0, HEIGHT - 1)
    return [round(float(v), 1) for point in zip(xs, ys) for v in point]


def make_scene(folder: Path, labels: list[str]) -> dict:
    rng = np.random.default_rng(2027)
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    rgb = np.dstack([128 + 90 * np.sin(x / 190) * np.cos(y / 140), 128 + 80 * np.sin((x + y) / 330), 220 * x / WIDTH])
    image = folder / "scene.jpg"
    Image.fromarray(np.clip(rgb + rng.normal(0, 6, rgb.shape), 0, 255).astype(np.uint8)).save(image, quality=90)
    rois = [{"id": f"roi-{i}", "labels": [labels[rng.integers(len(labels))]], "confidence": round(float(rng.uniform(0.3, 1)), 3),
             "poly": outline(rng, rng.uniform(0, WIDTH), rng.uniform(0, HEIGHT), rng.uniform(15, 70))} for i in range(ROIS)]
    return {"id": FRAME_ID, "rois": rois, "sources": [
        {"id": "default", "uri": image.as_uri(), "content_type": "image/jpeg", "width": WIDTH, "height": HEIGHT}]}


def prepare_frame(folder: Path) -> tuple[str, dict]:
    """The user, a dataset whose draft version holds the frame; (frame page path, frame)."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from frames import services
    from viewer.tiles import label_colour

    call_command("migrate", verbosity=0)
    user = get_user_model().objects.create_superuser(USER, password=PASSWORD)
    frame = make_scene(folder / "sources", bench_viewer.pick_labels(label_colour))
    dataset = services.dataset_create(user=user, name="bench annotator")
    version = dataset.versions.get()  # the new dataset's draft
    services.frames_add(user=user, version=version, frames=[frame])
    return f"/versions/{version.pk}/frame/{FRAME_ID}", frame


@contextlib.contextmanager
def served_frame(keep: bool = False):
    """The frame made and served: yields (frame page path, frame, base URL); cleans up after."""
    with bench_viewer.bench_site("annotator", previews=False, keep=keep) as (folder, serve):
        started = time.monotonic()
        frame_path, frame = prepare_frame(folder)
        base_url = serve()
        print(f"  dataset and server ready in {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
        yield frame_path, frame, base_url


# -- in the browser -------------------------------------------------------------------------------------------

# Installed once the annotator is ready. `naive` makes every move of a drag call page.setRois as well.
INSTRUMENT_JS = """() => {
  const page = window.hyperdataViewer, annotator = page.annotator, tools = annotator.tools;
  const view = page.views.find((v) => v.stage), stage = view.stage, edit = tools.layers.get(view);
  const B = window.__annot = {recording: false, naive: false, pending: [], samples: [], parts: {}, saves: []};
  B.reset = () => { B.pending = []; B.samples = []; B.parts = {draw: [], rois: [], edit: [], snapshot: [], setRois: [], notify: []}; };
  B.reset();
  window.addEventListener('pointermove', (e) => { if (B.recording && (e.buttons & 1)) B.pending.push([e.timeStamp, performance.now()]); }, {capture: true});
  const timed = (obj, method, part) => {
    const original = obj[method].bind(obj);
    obj[method] = (...args) => {
      const t0 = performance.now(), out = original(...args);
      if (B.recording) B.parts[part].push(performance.now() - t0);
      return out;
    };
  };
  timed(view.layer, 'draw', 'rois');
  timed(edit, 'draw', 'edit');
  timed(stage, 'keepSnapshot', 'snapshot');
  timed(page, 'setRois', 'setRois');
  timed(annotator, 'notify', 'notify');
  const draw = stage.draw.bind(stage);
  stage.draw = (...args) => {  // args: {live} when only the annotator's layer changed (stage.redrawLive)
    const t0 = performance.now();
    draw(...args);
    const drawn = performance.now();
    if (!B.recording) return;
    B.parts.draw.push(drawn - t0);
    if (!B.pending.length) return;
    const moves = B.pending, naive = B.naive;
    B.pending = [];
    setTimeout(() => {  // runs once the page's thread has painted this frame
      const painted = performance.now();
      for (const [at, handled] of moves) B.samples.push({naive, queued: handled - at, drawn: drawn - at, painted: painted - at});
    }, 0);
  };
  const dragTo = tools.dragTo.bind(tools);
  tools.dragTo = (v, event) => {
    dragTo(v, event);
    const drag = tools.drag;
    if (B.naive && drag?.live) { const rois = annotator.state.rois.slice(); rois[drag.index] = drag.live; page.setRois(rois); }
  };
  const fetch = window.fetch.bind(window);
  window.fetch = async (url, init = {}) => {
    const t0 = performance.now(), response = await fetch(url, init);
    if (init.method === 'PUT') B.saves.push({fetch: performance.now() - t0, bytes: init.body.length, status: response.status});
    return response;
  };
  return {box: (({left, top, width, height}) => ({left, top, width, height}))(stage.element.getBoundingClientRect()),
          zoom: stage.zoomPercent(), tool: tools.tool};
}"""

# The target ROI selected; where its right-most vertex is on the page (CSS pixels).
VERTEX_JS = """(index) => {
  const page = window.hyperdataViewer, stage = page.views.find((v) => v.stage).stage;
  if (page.selected !== index) page.select(index, {toggle: false});
  const poly = page.annotator.state.rois[index].poly;
  let best = 0;
  for (let i = 0; i < poly.length; i += 2) if (poly[i] > poly[best]) best = i;
  const [x, y] = stage.imageToScreen([poly[best], poly[best + 1]]), box = stage.element.getBoundingClientRect();
  return {x: box.left + x, y: box.top + y, image: [poly[best], poly[best + 1]], vertex: best / 2};
}"""

SAVE_JS = """async () => {
  const a = window.hyperdataViewer.annotator, B = window.__annot, dirty = a.dirty;
  B.reset();
  B.recording = true;  // no pointer moves now: only the parts (setRois, notify) are recorded
  const t0 = performance.now(), ok = await a.save(), total = performance.now() - t0;
  B.recording = false;
  const sum = (list) => list.reduce((x, y) => x + y, 0);
  return {ok, dirty, total, setRois: sum(B.parts.setRois), notify: sum(B.parts.notify), ...B.saves[B.saves.length - 1]};
}"""

# One sharp drawing of each part, rasterised at once, taken mid-drag (the ROI layer leaves the dragged ROI out, the
# edit layer draws it live with the handles). Drawn on the stage's overlay with its transform, as Stage.draw does.
BREAKDOWN_JS = """(draws) => {
  const page = window.hyperdataViewer, view = page.views.find((v) => v.stage), stage = view.stage;
  const edit = page.annotator.tools.layers.get(view), ctx = stage.overlay.getContext('2d');
  const image = stage.viewer.drawer.context || stage.viewer.drawer.canvas.getContext('2d');
  const inStage = (layer) => () => {
    const {scale, x, y} = stage.transform(), dpr = window.devicePixelRatio || 1;
    ctx.setTransform(1, 0, 0, 1, 0, 0); ctx.clearRect(0, 0, ctx.canvas.width, ctx.canvas.height);
    ctx.save(); ctx.setTransform(dpr * scale, 0, 0, dpr * scale, dpr * x, dpr * y); layer.draw(ctx, {scale, dpr}); ctx.restore();
  };
  const rasterised = (c) => () => c.getImageData(0, 0, 1, 1);
  const layout = () => document.body.offsetHeight;
  const rois = page.annotator.state.rois;
  const parts = {
    stage: [() => stage.draw(), rasterised(ctx)],
    rois: [inStage(view.layer), rasterised(ctx)],
    edit: [inStage(edit), rasterised(ctx)],
    batches: [() => view.layer.buildBatches(), () => {}],
    snapshot: [() => stage.keepSnapshot({...stage.transform(), dpr: window.devicePixelRatio || 1}), rasterised(stage.snapshot?.canvas?.getContext('2d') || ctx)],
    image: [() => stage.viewer.world.draw(), rasterised(image)],
    setRois: [() => page.setRois(rois), layout],
    shapes: [() => view.layer.setShapes(view.layer.shapes), () => {}],
    objects: [() => page.renderObjects(), layout],
  };
  const out = {};
  for (const [name, [draw, after]] of Object.entries(parts)) {
    const times = [];
    for (let i = 0; i < draws; i++) { const t0 = performance.now(); draw(); after(); times.push(performance.now() - t0); }
    times.sort((a, b) => a - b);
    out[name] = times[times.length >> 1];
  }
  stage.redraw();
  return out;
}"""
BREAKDOWN_DRAWS = 15


def drag(tab, start: dict, moves: int, pace: bool = True) -> None:
    """Press on the vertex, move it round a circle to its right (back where it started), release."""
    tab.mouse.move(start["x"], start["y"])
    tab.mouse.down()
    clock = time.monotonic()
    for k in range(1, moves + 1):
        angle = 2 * math.pi * k / MOVES_PER_DRAG
        tab.mouse.move(start["x"] + CIRCLE * (1 - math.cos(angle)), start["y"] + CIRCLE * math.sin(angle))
        if pace:  # on a clock, not on Playwright's round trips; when late, go on from now
            clock = max(clock + MOVE_GAP, time.monotonic())
            time.sleep(max(0.0, clock - time.monotonic()))
    tab.mouse.up()


def measure_drags(tab, target: int, moves: int, naive_moves: int) -> dict:
    """Drags of 100 moves, the annotator's way and the naive way in turn (the naive ones between the others)."""
    ours, naive = max(1, round(moves / MOVES_PER_DRAG)), max(1, round(naive_moves / MOVES_PER_DRAG))
    modes = [False] * ours
    for i in range(naive):
        modes.insert(1 + i * 2, True)
    for mode in modes:
        start = tab.evaluate(VERTEX_JS, target)
        tab.evaluate("(naive) => { __annot.naive = naive; __annot.recording = true; }", mode)
        drag(tab, start, MOVES_PER_DRAG)
        time.sleep(0.1)  # the last frame painted
        tab.evaluate("() => { __annot.recording = false; }")
        moved = tab.evaluate(VERTEX_JS, target)
        if abs(moved["image"][0] - start["image"][0]) > 3 or moved["vertex"] != start["vertex"]:
            raise RuntimeError(f"the drag did not bring the vertex back where it was: {start} -> {moved}")
    found = tab.evaluate("() => ({samples: __annot.samples, parts: __annot.parts})")
    if tab.evaluate("() => hyperdataViewer.annotator.history.at") < len(modes):
        raise RuntimeError("the drags did not change the frame: the vertex was not grabbed")
    return found


def measure_breakdown(tab, target: int, screenshots: Path | None) -> dict:
    start = tab.evaluate(VERTEX_JS, target)
    tab.mouse.move(start["x"], start["y"])
    tab.mouse.down()
    for k in range(1, 13):
        tab.mouse.move(start["x"] + 2 * k, start["y"] + 3 * k)
    time.sleep(0.2)
    if screenshots:
        screenshots.mkdir(parents=True, exist_ok=True)
        box = tab.evaluate("() => { const r = hyperdataViewer.views[0].stage.element.getBoundingClientRect(); return {x: r.left, y: r.top, width: r.width, height: r.height}; }")
        tab.screenshot(path=screenshots / "bench-annotator-dragging.png", clip=box)
        zoom = {"x": start["x"] - 90, "y": start["y"] - 70, "width": 180, "height": 140}
        tab.screenshot(path=screenshots / "bench-annotator-dragging-zoomed.png", clip=zoom)
    found = tab.evaluate(BREAKDOWN_JS, BREAKDOWN_DRAWS)
    tab.mouse.up()
    tab.evaluate("() => hyperdataViewer.annotator.undo()")
    return found


def measure_saves(tab, target: int, saves: int) -> list[dict]:
    found = []
    for i in range(saves + 1):  # the first one warms up
        start = tab.evaluate(VERTEX_JS, target)
        drag(tab, start, 6 + i % 3, pace=False)  # the vertex ends up a few pixels from where it was
        result = tab.evaluate(SAVE_JS)
        if not (result["ok"] and result["dirty"] and result["status"] == 200):
            raise RuntimeError(f"save {i} failed: {result}")
        if i:
            found.append(result)
    return found


def measure_rest(tab, base_url: str, target: int, saves: int) -> list[float]:
    """The same frame body PUT from Python through the REST endpoint, as the browser's session."""
    body = json.loads(tab.evaluate("() => { const a = hyperdataViewer.annotator; return JSON.stringify({...a.saved, rois: a.state.rois, meta: a.state.meta}); }"))
    etag, url = tab.evaluate("() => [hyperdataViewer.annotator.etag, hyperdataViewer.annotator.contract.api_url]")
    cookies = {c["name"]: c["value"] for c in tab.context.cookies()}
    session = requests.Session()
    session.cookies.update(cookies)
    headers = {"Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": cookies["csrftoken"],
               "Referer": f"{base_url}/"}
    times = []
    for i in range(saves + 1):
        body["rois"][target]["poly"][0] += 0.5 if i % 2 else -0.5  # each save changes the frame, as the browser's do
        started = time.perf_counter()
        response = session.put(f"{base_url}{url}", data=json.dumps(body), headers={**headers, "If-Match": etag})
        saved = response.json()
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise RuntimeError(f"REST PUT {i}: {response.status_code} {saved}")
        etag = response.headers.get("ETag") or f'"{saved["saved"]}"'
        if i:
            times.append(elapsed)
    return times


def measure(args, frame_path: str, frame: dict, base_url: str) -> dict:
    from playwright.sync_api import sync_playwright

    target = pick_target(frame)
    load_before = os.getloadavg()[0]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=bench_viewer.CHROMIUM, args=bench_viewer.CHROMIUM_ARGS)
        context = browser.new_context(base_url=base_url, viewport={"width": 1440, "height": 900})
        tab = context.new_page()
        tab.goto("/login/")
        tab.fill("#id_username", USER)
        tab.fill("#id_password", PASSWORD)
        tab.click("button[type=submit]")
        tab.wait_for_url(f"{base_url}/")
        tab.goto(frame_path)
        tab.wait_for_selector('#frame-view[data-annotator="ready"]', state="attached", timeout=60_000)
        tab.wait_for_function("() => hyperdataViewer.views[0].stage.viewer.world.getItemAt(0)?.getFullyLoaded()", timeout=60_000)
        page = tab.evaluate(INSTRUMENT_JS)
        if page["tool"] != "select":
            raise RuntimeError(f"the annotator starts with the {page['tool']} tool, not select")
        drag(tab, tab.evaluate(VERTEX_JS, target), 20)  # warm-up
        tab.evaluate("() => __annot.reset()")
        drags = measure_drags(tab, target, args.moves, args.naive_moves)
        print("  drags measured", file=sys.stderr, flush=True)
        breakdown = measure_breakdown(tab, target, Path(args.screenshots) if args.screenshots else None)
        saves = measure_saves(tab, target, args.saves)
        rest = measure_rest(tab, base_url, target, args.saves)
        version = browser.version
        browser.close()
    return {"page": page, "drags": drags, "breakdown": breakdown, "saves": saves, "rest": rest, "chromium": version,
            "load": (load_before, os.getloadavg()[0]), "target": target, "vertices": len(frame["rois"][target]["poly"]) // 2}


def pick_target(frame: dict) -> int:
    """The largest polygon whose centre is within the middle third of the image (its handles well inside the stage)."""
    def centre_and_size(poly):
        xs, ys = poly[::2], poly[1::2]
        return (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2, max(xs) - min(xs)

    candidates = [(size, i) for i, roi in enumerate(frame["rois"]) for cx, cy, size in [centre_and_size(roi["poly"])]
                  if WIDTH / 3 < cx < 2 * WIDTH / 3 and HEIGHT / 3 < cy < 2 * HEIGHT / 3]
    return max(candidates)[1]


# -- the report -------------------------------------------------------------------------------------------------


def spread(values) -> tuple[float, float, float]:
    return float(np.percentile(values, 50)), float(np.percentile(values, 95)), float(max(values))


def report(found: dict, args) -> None:
    page, samples = found["page"], found["drags"]["samples"]
    ours = [s for s in samples if not s["naive"]]
    naive = [s for s in samples if s["naive"]]
    print(f"\nAnnotator: one {WIDTH}x{HEIGHT} frame, {ROIS} polygons of {MIN_VERTICES}-{MAX_VERTICES} vertices; dragging "
          f"vertex of ROI {found['target']} ({found['vertices']} vertices) at {page['zoom']:.0f}% zoom (fitted)")
    print(f"Chromium {found['chromium']} headless, --disable-gpu (software raster), {os.cpu_count()} cores, window 1440x900, "
          f"stage {page['box']['width']:.0f}x{page['box']['height']:.0f}; load average {found['load'][0]:.1f} before, "
          f"{found['load'][1]:.1f} after")
    print(f"\n  {'pointermove -> redrawn shape, ms':<58}{'median':>8}{'p95':>8}{'max':>8}{'moves':>7}")
    rows = (("annotator: draw() returned", ours, "drawn"), ("annotator: frame painted", ours, "painted"),
            ("naive (setRois on every move): draw() returned", naive, "drawn"),
            ("naive (setRois on every move): frame painted", naive, "painted"))
    for label, chosen, key in rows:
        median, p95, longest = spread([s[key] for s in chosen])
        print(f"  {label:<58}{median:>8.1f}{p95:>8.1f}{longest:>8.1f}{len(chosen):>7}")
    print(f"  {'where it goes, ms: median / p95':<58}{'annotator':>14}{'naive':>14}")
    steps = (("input waiting for its frame (timeStamp -> pointermove handler)", lambda s: s["queued"]),
             ("pointermove handler -> draw() returned", lambda s: s["drawn"] - s["queued"]),
             ("draw() returned -> frame painted", lambda s: s["painted"] - s["drawn"]))
    for label, step in steps:
        cells = [f"{np.median([step(s) for s in chosen]):.1f} / {np.percentile([step(s) for s in chosen], 95):.1f}" for chosen in (ours, naive)]
        print(f"  {label:<58}{cells[0]:>14}{cells[1]:>14}")
    for key in ("drawn", "painted"):
        (o50, o95, _), (n50, n95, _) = spread([s[key] for s in ours]), spread([s[key] for s in naive])
        print(f"  naive / annotator, {key}: median {n50 / o50:.1f}x, p95 {n95 / o95:.1f}x")
    o95 = spread([s["painted"] for s in ours])[1]
    print(f"  target: under {TARGET_MS} ms -> annotator p95 painted {o95:.1f} ms: {'met' if o95 < TARGET_MS else 'MISSED'}")
    parts = found["drags"]["parts"]
    print("\n  JavaScript per call while dragging (both methods; the canvas rasterises at the paint), ms   median   p95  calls")
    for name, label in (("draw", "Stage.draw"), ("rois", "  ROI layer (499 ROIs, cached batches)"), ("edit", "  edit layer (live ROI, handles)"),
                        ("snapshot", "  keepSnapshot (overlay copied for pans)"), ("setRois", "page.setRois (naive moves, each drag's end)")):
        if parts[name]:
            median, p95, _ = spread(parts[name])
            print(f"  {label:<82}{median:>7.2f}{p95:>6.2f}{len(parts[name]):>6}")
    print(f"\n  one sharp drawing mid-drag, rasterised at once (median of {BREAKDOWN_DRAWS}), ms")
    for name, label in (("stage", "Stage.draw (all layers + snapshot), rasterised"), ("rois", "  ROI layer alone"),
                        ("edit", "  edit layer alone"), ("snapshot", "  keepSnapshot alone (copy of the overlay)"),
                        ("batches", "ROI layer buildBatches (JS, once per drag start)"), ("image", "OpenSeadragon drawing the image"),
                        ("setRois", "naive: page.setRois + layout"), ("shapes", "  ROI layer setShapes (500 Path2D)"),
                        ("objects", "  objects list re-rendered + layout")):
        print(f"  {label:<58}{found['breakdown'][name]:>8.2f}")
    saves, rest = found["saves"], found["rest"]
    save_ms, fetch_ms, rest_ms = (statistics.median(s["total"] for s in saves), statistics.median(s["fetch"] for s in saves),
                                  statistics.median(rest))
    print(f"\n  save, ms (median of {len(saves)}; frame body {saves[0]['bytes'] / 1000:.0f} kB)       median    min    max")
    print(f"  {'browser: await annotator.save()':<58}{save_ms:>7.1f}{min(s['total'] for s in saves):>7.1f}{max(s['total'] for s in saves):>7.1f}")
    print(f"  {'  of which the PUT fetch (to the answer headers)':<58}{fetch_ms:>7.1f}{min(s['fetch'] for s in saves):>7.1f}{max(s['fetch'] for s in saves):>7.1f}")
    for key, label in (("setRois", "  of which page.setRois (the saved ROIs shown again)"), ("notify", "  of which annotator.notify (panels; partly in setRois)")):
        values = [s[key] for s in saves]
        print(f"  {label:<58}{statistics.median(values):>7.1f}{min(values):>7.1f}{max(values):>7.1f}")
    print(f"  {'REST endpoint alone: requests.put + .json() from Python':<58}{rest_ms:>7.1f}{min(rest):>7.1f}{max(rest):>7.1f}")
    print(f"  browser save / REST alone: {save_ms / rest_ms:.2f}x; fetch / REST alone: {fetch_ms / rest_ms:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=200, help="measured pointer moves per method (drags of 100)")
    parser.add_argument("--naive-moves", type=int, default=100, help="measured pointer moves of the naive method")
    parser.add_argument("--saves", type=int, default=10, help="measured saves, in the browser and from Python")
    parser.add_argument("--screenshots", help="a folder for screenshots of the stage mid-drag")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    started = time.monotonic()
    with served_frame(args.keep) as scene:
        found = measure(args, *scene)
    report(found, args)
    print(f"\n({time.monotonic() - started:.0f} s in all)")


if __name__ == "__main__":
    main()
