"""The Python SDK's speed next to the REST endpoint alone, over HTTP to gunicorn (as ./run.sh starts it) on a
PostgreSQL database of its own (created, and dropped at the end unless BENCH_KEEP is set):

- writing: `version.add_frames(frames, batch_size=1,000 / 10,000)` against plain `requests` posting the same
  JSON (the frames' `to_dict()`, made before the clock starts) to POST /api/versions/<v>/frames/?partial=true,
  each into a new draft;
- reading: `version.get_iterator()` over a version of BENCH_FRAMES frames against plain `requests` following the
  frames list's keyset cursor (the JSON decoded, nothing more), at the SDK's page size (500) and the API's
  largest (1,000).

First, untimed, 20,000 frames are posted and the tables analyzed, so no row pays for empty-table statistics.

- DataViews (BENCH_PART=dataviews, or all): a version of BENCH_DATAVIEW_FRAMES frames loaded by COPY
  (bench/_frames.py; default 1,000,000), and `DataView.get_iterator(page_size=1,000)` over two queries (ROIs
  "car": 60% of the frames, weight 1; "truck": 20%, weight 3) in sequential, finite random (one pass without
  replacement) and infinite random order, next to the version's plain `get_iterator` pages: the first
  BENCH_DATAVIEW_PAGES pages (10) of each, timed page by page. Below BENCH_FULL_PASS_FRAMES (200,000) the finite
  random pass is also read whole. With BENCH_KEEP, a DataViews-only run keeps its database and the next one
  reuses the loaded version (minutes of COPY at a million frames).

    python bench/sdk.py                       # BENCH_FRAMES=100000
    BENCH_PART=dataviews BENCH_DATAVIEW_FRAMES=100000 python bench/sdk.py
    BENCH_FRAMES=20000 python bench/sdk.py    # quicker
    BENCH_ORDER=sdk-first python bench/sdk.py # each pair of writes with the SDK's first (the table keeps its order)

Every frame has one source, two polygon ROIs with a confidence and four metadata keys (as bench/imports.py).
"""
import os
import random
import subprocess
import time

import requests
from _django import ROOT, drop_database, run_then_drop, setup

FRAMES = int(os.environ.get("BENCH_FRAMES", "100000"))
PART = os.environ.get("BENCH_PART", "all")  # all | io (add_frames and get_iterator) | dataviews
DATAVIEW_FRAMES = int(os.environ.get("BENCH_DATAVIEW_FRAMES", "1000000"))
DATAVIEW_PAGES = int(os.environ.get("BENCH_DATAVIEW_PAGES", "10"))
FULL_PASS_FRAMES = int(os.environ.get("BENCH_FULL_PASS_FRAMES", "200000"))
DB = os.environ.get("BENCH_DB", "hyperdata_bench_sdk")
WARM_UP_FRAMES = 20000
SDK_FIRST = os.environ.get("BENCH_ORDER") == "sdk-first"  # to tell what the order of a pair does from what the SDK does
BIND = os.environ.get("BENCH_BIND", "127.0.0.1:8797")
URL = f"http://{BIND}"
LABELS = ["car", "person", "bike", "truck", "bus", "dog"]
if not (PART == "dataviews" and os.environ.get("BENCH_KEEP")):  # DataViews alone, kept: reuse the loaded version
    drop_database(DB)  # start from empty tables, as a new install
setup(DB)

from django.contrib.auth.models import User  # noqa: E402
from django.db import connection  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402

from _frames import kept_or_loaded  # noqa: E402
from frames import services  # noqa: E402
from frames.management.commands.serve import gunicorn_command  # noqa: E402
from hyperdata_client import DatasetVersion, DataView, SingleFrame  # noqa: E402
import hyperdata_client.api  # noqa: E402

USER = User.objects.filter(username="bench").first() or User.objects.create_superuser("bench", password="bench-sdk-1")
TOKEN = Token.objects.get_or_create(user=USER)[0].key


def sdk_frames(n: int) -> list[SingleFrame]:
    rnd, frames = random.Random(3), []
    for i in range(n):
        frame = SingleFrame(id=f"img/{i:07d}.jpg", source=f"s3://bucket/img/{i:07d}.jpg", width=640, height=480,
                            timestamp=i % 100, context_id=f"seq-{i // 100}",
                            metadata={"split": "val" if i % 5 == 0 else "train", "weather": ["fog", "sun", "rain"][i % 3], "score": i % 97, "camera": f"cam{i % 4}"})
        for r in range(2):
            x, y = rnd.randint(0, 600), rnd.randint(0, 400)
            frame.add_annotation(poly2d_xy=[x, y, x + 30, y, x + 30, y + 20, x, y + 20], labels=[LABELS[(i + r) % 6]], confidence=round(rnd.random(), 3))
        frames.append(frame)
    return frames


def new_draft(name: str) -> DatasetVersion:
    return DatasetVersion.get_version(version_id=services.dataset_create(user=USER, name=f"{name}-{time.time_ns()}").versions.get().pk)


def session() -> requests.Session:
    http = requests.Session()
    http.headers.update({"Authorization": f"Token {TOKEN}", "Accept": "application/json"})
    return http


def rest_write(bodies: list[dict], batch: int) -> tuple[float, str]:
    draft, http = new_draft(f"rest-{batch}"), session()
    started = time.perf_counter()
    for start in range(0, len(bodies), batch):
        answer = http.post(f"{URL}/api/versions/{draft.id}/frames/", params={"partial": "true"}, json=bodies[start:start + batch], timeout=600)
        answer.raise_for_status()
    return time.perf_counter() - started, draft.id


def sdk_write(frames: list[SingleFrame], batch: int) -> tuple[float, str]:
    draft = new_draft(f"sdk-{batch}")
    started = time.perf_counter()
    failed = draft.add_frames(frames, batch_size=batch)
    seconds = time.perf_counter() - started
    assert not failed, failed[:3]
    return seconds, draft.id


def rest_read(version_id: str, page_size: int) -> tuple[float, int]:
    http, count = session(), 0
    params = {"limit": page_size}
    started = time.perf_counter()
    while True:
        page = http.get(f"{URL}/api/versions/{version_id}/frames/", params=params, timeout=600).json()
        count += len(page["results"])
        if not page.get("cursor"):
            return time.perf_counter() - started, count
        params = {"limit": page_size, "cursor": page["cursor"]}


def sdk_read(version_id: str, page_size: int) -> tuple[float, int]:
    version = DatasetVersion.get_version(version_id=version_id)
    started = time.perf_counter()
    count = sum(1 for _ in version.get_iterator(page_size=page_size))
    return time.perf_counter() - started, count


def warm_up(bodies: list[dict]) -> None:
    """Untimed: the first frames written into empty tables pay for the workers' start and for planner statistics
    that still say "empty"; without this the first row measured is ~30% slower than the same work later."""
    rest_write(bodies, 10000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def wait_for_server() -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{URL}/healthz", timeout=2).ok:
                return
        except requests.RequestException:  # not up yet
            pass
        time.sleep(0.3)
    raise RuntimeError(f"gunicorn did not answer at {URL}")


def row(what: str, seconds: float, frames: int, rest_seconds: float | None = None) -> None:
    versus = f"{rest_seconds / seconds:.2f}x" if rest_seconds else ""
    print(f"| {what} | {frames:,} | {seconds:.1f} s | {frames / seconds:,.0f} | {versus} |", flush=True)


def timed_pages(frames, pages: int, page_size: int) -> tuple[float, int, float]:
    """(seconds, frames, slowest page's seconds) for the first `pages` pages an iterator yields."""
    started = last = time.perf_counter()
    count, slowest = 0, 0.0
    for _frame in frames:
        count += 1
        if count % page_size == 0:
            now = time.perf_counter()
            slowest, last = max(slowest, now - last), now
            if count == pages * page_size:
                break
    return time.perf_counter() - started, count, slowest


def dataview(order: str, infinite: bool, version_id: str) -> DataView:
    view = DataView(iteration_order=order, iteration_infinite=infinite, iteration_random_seed=7)
    view.add_query(version_id=version_id, roi_query="car", weight=1)
    view.add_query(version_id=version_id, roi_query="truck", weight=3)
    return view


def dataview_rows() -> None:
    version, _child = kept_or_loaded(f"bench-dataviews-{DATAVIEW_FRAMES}", DATAVIEW_FRAMES, per_context=100)
    page_size = 1000
    print(f"\nDataViews over {DATAVIEW_FRAMES:,} frames: the first {DATAVIEW_PAGES} pages of {page_size:,}")
    print("| what | frames | time | frames/s | slowest page |\n|---|---|---|---|---|")
    plain = DatasetVersion.get_version(version_id=version.pk)
    rows = [("version get_iterator (frames API, keyset)", lambda: plain.get_iterator(page_size=page_size))]
    for order, infinite in (("sequential", False), ("random", False), ("random", True)):
        view = dataview(order, infinite, version.pk)
        view.get_count()  # saved on the server, untimed
        rows.append((f"DataView {order}{' infinite' if infinite else ' finite'} get_iterator", lambda v=view: v.get_iterator(page_size=page_size)))
    for what, frames in rows:
        seconds, count, slowest = timed_pages(frames(), DATAVIEW_PAGES, page_size)
        print(f"| {what} | {count:,} | {seconds:.1f} s | {count / seconds:,.0f} | {slowest:.2f} s |", flush=True)
    if DATAVIEW_FRAMES <= FULL_PASS_FRAMES:
        view = dataview("random", False, version.pk)
        length = view.get_count()
        seconds, count, slowest = timed_pages(view.get_iterator(page_size=page_size), length // page_size + 1, page_size)
        print(f"| DataView random finite, the whole pass ({length:,} frames) | {count:,} | {seconds:.1f} s | "
              f"{count / seconds:,.0f} | {slowest:.2f} s |", flush=True)


def io_rows(frames: list[SingleFrame], bodies: list[dict]) -> None:
    warm_up(bodies[:WARM_UP_FRAMES])
    print("| what | frames | time | frames/s | SDK's rate / REST alone's |\n|---|---|---|---|---|")
    written = None
    for batch in (1000, 10000):
        if SDK_FIRST:
            seconds, written = sdk_write(frames, batch)
        rest_seconds, _ = rest_write(bodies, batch)
        row(f"REST alone: POST frames, batches of {batch:,}", rest_seconds, FRAMES)
        if not SDK_FIRST:
            seconds, written = sdk_write(frames, batch)
        row(f"SDK add_frames, batch_size={batch:,}", seconds, FRAMES, rest_seconds)
    for page_size in (500, 1000):
        rest_seconds, count = rest_read(written, page_size)
        row(f"REST alone: GET frames, keyset pages of {page_size:,}", rest_seconds, count)
        seconds, count = sdk_read(written, page_size)
        row(f"SDK get_iterator(page_size={page_size:,})", seconds, count, rest_seconds)


def main() -> None:
    os.environ.update({"HYPERDATA_API_URL": URL, "HYPERDATA_API_TOKEN": TOKEN})
    print(f"load average at start: {os.getloadavg()[0]:.1f} (2 cores); {FRAMES:,} frames")
    server = subprocess.Popen(gunicorn_command(3, BIND), cwd=ROOT, env={**os.environ, "HYPERDATA_PREVIEWS_AUTO": "0"},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_server()
        if PART in ("all", "io"):
            frames = sdk_frames(FRAMES)
            io_rows(frames, [frame.to_dict() for frame in frames])
        if PART in ("all", "dataviews"):
            dataview_rows()
    finally:
        hyperdata_client.api.close()
        server.terminate()
        server.wait(30)
    print(f"load average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    run_then_drop(main, DB)
