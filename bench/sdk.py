"""The Python SDK's speed next to the REST endpoint alone, over HTTP to gunicorn (as ./run.sh starts it) on a
PostgreSQL database of its own (created, and dropped at the end unless BENCH_KEEP is set):

- writing: `version.add_frames(frames, batch_size=1,000 / 10,000)` against plain `requests` posting the same
  JSON (the frames' `to_dict()`, made before the clock starts) to POST /api/versions/<v>/frames/?partial=true,
  each into a new draft;
- reading: `version.get_iterator()` over a version of BENCH_FRAMES frames against plain `requests` following the
  frames list's keyset cursor (the JSON decoded, nothing more), at the SDK's page size (500) and the API's
  largest (1,000).

First, untimed, 20,000 frames are posted and the tables analyzed, so no row pays for empty-table statistics.

    python bench/sdk.py                       # BENCH_FRAMES=100000
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
DB = os.environ.get("BENCH_DB", "hyperdata_bench_sdk")
WARM_UP_FRAMES = 20000
SDK_FIRST = os.environ.get("BENCH_ORDER") == "sdk-first"  # to tell what the order of a pair does from what the SDK does
BIND = os.environ.get("BENCH_BIND", "127.0.0.1:8797")
URL = f"http://{BIND}"
LABELS = ["car", "person", "bike", "truck", "bus", "dog"]
drop_database(DB)  # start from empty tables, as a new install
setup(DB)

from django.contrib.auth.models import User  # noqa: E402
from django.db import connection  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402

from frames import services  # noqa: E402
from frames.management.commands.serve import gunicorn_command  # noqa: E402
from hyperdata_client import DatasetVersion, SingleFrame  # noqa: E402
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


def main() -> None:
    os.environ.update({"HYPERDATA_API_URL": URL, "HYPERDATA_API_TOKEN": TOKEN})
    print(f"load average at start: {os.getloadavg()[0]:.1f} (2 cores); {FRAMES:,} frames")
    frames = sdk_frames(FRAMES)
    bodies = [frame.to_dict() for frame in frames]
    server = subprocess.Popen(gunicorn_command(3, BIND), cwd=ROOT, env={**os.environ, "HYPERDATA_PREVIEWS_AUTO": "0"},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_server()
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
    finally:
        hyperdata_client.api.close()
        server.terminate()
        server.wait(30)
    print(f"load average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    run_then_drop(main, DB)
