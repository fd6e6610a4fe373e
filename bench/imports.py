"""Imports at speed, into PostgreSQL: frames per second and peak memory for each format, the REST bulk endpoint
over HTTP (gunicorn as ./run.sh starts it) at batches of 1,000 and 10,000, a naive per-row ORM insert in the same
run, and the pages right after a bulk import with stale planner statistics, analyzed, and with the service's refresh.

    python bench/imports.py                       # BENCH_FRAMES=100000,1000000 (ClearML JSON lines at each)
    BENCH_FRAMES=100000 python bench/imports.py   # quicker
    BENCH_PARTS=planner,naive,clearml,formats,rest  # the default: all parts ("coco": COCO's rows only)
    BENCH_COCO_FRAMES=100000,300000               # COCO at these sizes (default: the first of BENCH_FRAMES)
    BENCH_OTHER_FRAMES=100000,1000000             # Encord and Lightly at these sizes (default: the same)

Every frame has one source, two polygon ROIs with a confidence, and four metadata keys. Each import runs in a
child process of its own, so its peak RSS is its own (the input file is generated once under BENCH_DIR), and
starts with no rendition rows, as on a new install (runs of the same file share their sources: the second would
not ask for any preview). Beside the wall-clock rate, each import's CPU time per frame in this process and in
its PostgreSQL backend: what it costs whatever else shares the two cores.
"""
import json
import os
import random
import resource
import subprocess
import time
from pathlib import Path

import requests
from _clearml import LABELS, clearml_frame
from _clearml import clearml_lines as _clearml_lines
from _django import ROOT, drop_database, run_then_drop, setup

SIZES = [int(n) for n in os.environ.get("BENCH_FRAMES", "100000,1000000").split(",")]
OTHER_FORMATS_AT = SIZES[0]
COCO_SIZES = [int(n) for n in os.environ.get("BENCH_COCO_FRAMES", str(OTHER_FORMATS_AT)).split(",")]
OTHER_SIZES = [int(n) for n in os.environ.get("BENCH_OTHER_FRAMES", str(OTHER_FORMATS_AT)).split(",")]
NAIVE_FRAMES = 5000
PARTS = os.environ.get("BENCH_PARTS", "planner,naive,clearml,formats,rest").split(",")
BENCH_DIR = Path(os.environ.get("BENCH_DIR", "/tmp/hyperdata-bench-imports"))
DB = os.environ.get("BENCH_DB", "hyperdata_bench_imports")
drop_database(DB)  # start from empty tables, as a new install
setup(DB)

from django.contrib.auth.models import User  # noqa: E402
from django.db import connection  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from frames import services  # noqa: E402
from frames.importers.base import ImportSource  # noqa: E402
from frames.management.commands.serve import gunicorn_command  # noqa: E402
from frames.models import FrameRevision, FrameSource, MediaPreview, RoiLabel  # noqa: E402
from frames.schema import parse_frame  # noqa: E402
from frames.services import frames as frame_writes  # noqa: E402

USER = User.objects.filter(username="bench").first() or User.objects.create_superuser("bench", password="bench-imports-1")


# -- inputs ---------------------------------------------------------------------------------------------------


def clearml_lines(n: int) -> Path:
    return _clearml_lines(BENCH_DIR, n)


def coco_file(n: int) -> Path:
    """n images with two polygon annotations each; written piece by piece (this process stays small: the
    children it forks to measure share its pages) with the categories last, after the annotations."""
    path = BENCH_DIR / f"coco-{n}.json"
    if not path.exists():
        rnd = random.Random(n)
        categories = [{"id": k + 1, "name": name, "supercategory": "thing"} for k, name in enumerate(LABELS)]
        partial = path.with_suffix(".partial")
        with partial.open("w") as out:
            out.write('{"info": {"description": "bench"}, "licenses": [], "images": [')
            for i in range(n):
                out.write((", " if i else "") + json.dumps({"id": i, "file_name": f"{i:07d}.jpg", "width": 640, "height": 480}))
            out.write('], "annotations": [')
            for i in range(n):
                for r in range(2):
                    x, y = rnd.randint(0, 600), rnd.randint(0, 400)
                    annotation = {"id": 2 * i + r, "image_id": i, "category_id": (i + r) % 6 + 1, "iscrowd": 0, "area": 600,
                                  "bbox": [x, y, 30, 20], "segmentation": [[x, y, x + 30, y, x + 30, y + 20, x, y + 20]]}
                    out.write((", " if i or r else "") + json.dumps(annotation))
            out.write(f'], "categories": {json.dumps(categories)}}}')
        partial.rename(path)
    return path


def encord_file(n: int) -> Path:
    path = BENCH_DIR / f"encord-{n}.json"
    if not path.exists():
        images = [{"objectUrl": f"https://storage.example.com/img/{i:07d}.jpg", "title": f"{i:07d}.jpg",
                   "clientMetadata": {"split": "val" if i % 5 == 0 else "train", "score": i % 97}} for i in range(n)]
        path.write_text(json.dumps({"images": images, "skip_duplicate_urls": True}))
    return path


def lightly_folder(n: int) -> Path:
    root = BENCH_DIR / f"lightly-{n}"
    metadata = root / ".lightly" / "metadata"
    if not (metadata / "schema.json").exists():
        metadata.mkdir(parents=True, exist_ok=True)
        schema = [{"name": "Weather", "path": "weather.description", "defaultValue": "sunny", "valueDataType": "CATEGORICAL_STRING"},
                  {"name": "Score", "path": "score", "defaultValue": 0, "valueDataType": "NUMERIC_INT"}]
        for i in range(n):
            (metadata / f"{i:07d}.json").write_text(json.dumps({"file_name": f"{i:07d}.jpg", "type": "image",
                                                               "metadata": {"weather": {"description": ["fog", "rain"][i % 2]}, "score": i % 97}}))
        (metadata / "schema.json").write_text(json.dumps(schema))
    return root


# -- measuring ------------------------------------------------------------------------------------------------


def in_child(work) -> tuple[dict, float]:
    """Run work() in a forked child; (its result, the child's own peak RSS in MiB)."""
    connection.close()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            result = work()
        except BaseException as exc:  # report, never return into the parent's code
            result = {"error": f"{type(exc).__name__}: {exc}"}
        os.write(write, json.dumps(result).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        result = json.loads(pipe.read())
    _, _, usage = os.wait4(pid, 0)
    return result, usage.ru_maxrss / 1024


def import_into_new_draft(format: str, path: Path, *, new_sources: bool = True, **options) -> dict:
    """Import `path` into a new draft; with `new_sources` the rendition rows of earlier runs are removed first, so
    the import asks for every preview as it would on a new install (runs of the same file share their sources)."""
    draft = services.dataset_create(user=USER, name=f"{format}-{path.name}-{time.time_ns()}").versions.get()
    if new_sources:
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {MediaPreview._meta.db_table}")
    cpu = cpu_seconds()
    started = time.perf_counter()
    result = services.import_frames(user=USER, version=draft, format=format, source=ImportSource(path=path, options=options))
    seconds = time.perf_counter() - started
    python, postgres = (after - before for after, before in zip(cpu_seconds(), cpu))
    return {"frames": result.frames, "seconds": seconds, "fps": result.frames / seconds, "version": draft.pk,
            "cpu_us": [python / result.frames * 1e6, postgres / result.frames * 1e6]}


def cpu_seconds() -> tuple[float, float]:
    """CPU seconds used so far by this process and by its PostgreSQL backend (when the server runs on this
    machine): what an import costs, whatever else shares the cores."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()
        postgres = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        postgres = float("nan")
    return time.process_time(), postgres


def naive_insert(n: int) -> dict:
    """What the obvious code does: validate, then one ORM create per revision, per label and per source."""
    draft = services.dataset_create(user=USER, name=f"naive-{time.time_ns()}").versions.get()
    rnd = random.Random(7)
    started = time.perf_counter()
    for i in range(n):
        frame = parse_frame(clearml_frame(i, rnd))
        revision = FrameRevision.objects.create(
            dataset_id=draft.dataset_id, version=draft, version_seq=draft.seq, frame_id=frame["id"], context_id=frame["context_id"],
            timestamp=frame["timestamp"], meta=frame["meta"], sources=frame["sources"], rois=frame["rois"], saved=int(time.time() * 1000),
        )
        for index, roi in enumerate(frame["rois"]):
            for label in roi["labels"]:
                RoiLabel.objects.create(revision=revision, roi_index=index, label=label, confidence=roi.get("confidence"))
        for source in frame["sources"]:
            FrameSource.objects.create(revision=revision, source_id=source["id"], uri=source["uri"], width=source.get("width"), height=source.get("height"))
    seconds = time.perf_counter() - started
    return {"frames": n, "seconds": seconds, "fps": n / seconds}


def rest_bulk(n: int, batch: int) -> dict:
    """POST /api/versions/<v>/frames/ in batches over HTTP to gunicorn (3 workers, as ./run.sh starts it)."""
    draft = services.dataset_create(user=USER, name=f"rest-{batch}-{time.time_ns()}").versions.get()
    token, _ = Token.objects.get_or_create(user=USER)
    env = {**os.environ, "HYPERDATA_PREVIEWS_AUTO": "0"}
    server = subprocess.Popen(gunicorn_command(3, "127.0.0.1:8799"), cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        session = requests.Session()
        session.headers["Authorization"] = f"Token {token.key}"
        _wait_for(session, "http://127.0.0.1:8799/healthz")
        rnd, times = random.Random(3), []
        started = time.perf_counter()
        for start in range(0, n, batch):
            body = [clearml_frame(i, rnd) for i in range(start, min(n, start + batch))]
            sent = time.perf_counter()
            answer = session.post(f"http://127.0.0.1:8799/api/versions/{draft.pk}/frames/", json=body, timeout=600)
            answer.raise_for_status()
            times.append(time.perf_counter() - sent)
        seconds = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(30)
    return {"frames": n, "seconds": seconds, "fps": n / seconds, "first_batch": times[0], "last_batch": times[-1]}


def _wait_for(session, url: str) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if session.get(url, timeout=2).ok:
                return
        except Exception:  # noqa: BLE001 (not up yet)
            pass
        time.sleep(0.3)
    raise RuntimeError(f"gunicorn did not answer at {url}")


PAGES = {  # what the Frames tab and the API ask right after an import
    "first page": "frames/?limit=100",
    "label car": "frames/?limit=100&label=car",
    "ROI Lucene": "frames/?limit=100&roi_query=confidence:[0.9 TO 1]",
    "page 500": "frames/?limit=100&page=500",
    "Group by URL": "contexts/",
}


def pages_ms(version_id: str) -> dict[str, float]:
    """Median server time of each of PAGES over 3 runs, after one warm-up."""
    client = APIClient(HTTP_HOST="127.0.0.1")
    client.force_authenticate(USER)
    times = {}
    for name, path in PAGES.items():
        url = f"/api/versions/{version_id}/{path}"
        client.get(url)
        runs = []
        for _ in range(3):
            started = time.perf_counter()
            assert client.get(url).status_code == 200, name
            runs.append((time.perf_counter() - started) * 1000)
        times[name] = sorted(runs)[1]
    return times


def analyze_all() -> None:
    with connection.cursor() as cursor:
        for model in (FrameRevision, RoiLabel, FrameSource):
            cursor.execute(f"ANALYZE {model._meta.db_table}")


def planner_effect(n: int) -> dict:
    """On empty tables: a bulk import with the refresh switched off (what autovacuum-off machines saw), the pages
    timed, the tables analyzed, the pages timed again; then another import with the refresh on, its pages timed."""
    analyze_all()
    switched_off = frame_writes.planner_stats_refresh_after
    frame_writes.planner_stats_refresh_after = lambda written: None
    stale_import = import_into_new_draft("clearml", clearml_lines(n))
    frame_writes.planner_stats_refresh_after = switched_off
    stale = pages_ms(stale_import["version"])
    analyze_all()
    analyzed = pages_ms(stale_import["version"])
    refreshed = pages_ms(import_into_new_draft("clearml", clearml_lines(n))["version"])
    return {name: [stale[name], analyzed[name], refreshed[name]] for name in PAGES}


def row(name: str, result: dict, rss: float | None = None, naive_fps: float | None = None) -> None:
    if "error" in result:
        print(f"| {name} | failed: {result['error']} |")
        return
    ratio = f"{result['fps'] / naive_fps:.1f}x" if naive_fps else ""  # BENCH_PARTS without naive: no ratio
    memory = f"{rss:.0f} MiB" if rss is not None else ""
    cpu = " / ".join(f"{us:.0f}" for us in result.get("cpu_us", []))
    print(f"| {name} | {result['frames']:,} | {result['seconds']:.1f} s | {result['fps']:,.0f} | {ratio} | {memory} | {cpu} |", flush=True)


def main() -> None:
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    print(f"load average at start: {os.getloadavg()[0]:.1f} (2 cores)")
    effect, _ = in_child(lambda: planner_effect(OTHER_FORMATS_AT)) if "planner" in PARTS else ({}, 0)
    print(f"pages right after importing {OTHER_FORMATS_AT:,} frames into empty tables (server time, median of 3, ms):")
    print("| page | statistics stale | after ANALYZE | import with the refresh |\n|---|---|---|---|")
    for name, (stale, analyzed, refreshed) in ({} if "error" in effect else effect).items():
        print(f"| {name} | {stale:.0f} | {analyzed:.0f} | {refreshed:.0f} |")
    if "error" in effect:
        print(effect)
    naive, _ = in_child(lambda: naive_insert(NAIVE_FRAMES)) if "naive" in PARTS else ({"frames": 0, "seconds": 0, "fps": 0}, 0)
    print("| what | frames | time | frames/s | vs naive ORM | peak RSS | CPU per frame, us (Python / PostgreSQL) |\n|---|---|---|---|---|---|---|")
    row("naive per-row ORM insert", naive)
    for n in SIZES if "clearml" in PARTS else []:
        path = clearml_lines(n)
        result, rss = in_child(lambda: import_into_new_draft("clearml", path))
        row(f"ClearML JSON lines, {n:,}", result, rss, naive["fps"])
    for n in COCO_SIZES if {"formats", "coco"} & set(PARTS) else ():
        path = coco_file(n)
        result, rss = in_child(lambda: import_into_new_draft("coco", path))
        row(f"COCO instances, {n:,} ({path.stat().st_size / 2**20:.0f} MiB file)", result, rss, naive["fps"])
    others = (("Encord import JSON (images)", encord_file, "encord"), ("Lightly metadata folder", lightly_folder, "lightly"))
    for name, make, fmt in others if "formats" in PARTS else ():
        for size in OTHER_SIZES:
            path = make(size)
            result, rss = in_child(lambda: import_into_new_draft(fmt, path))
            row(f"{name}, {size:,}", result, rss, naive["fps"])
    n = OTHER_FORMATS_AT
    for batch in (1000, 10000) if "rest" in PARTS else ():
        result, _ = in_child(lambda: rest_bulk(n, batch))
        row(f"REST bulk endpoint over HTTP, batches of {batch:,}", result, None, naive["fps"])
        if "error" not in result:
            print(f"|   first / last batch | {result['first_batch']:.2f} s / {result['last_batch']:.2f} s | | | | |")
    print(f"load average at end: {os.getloadavg()[0]:.1f}; peak RSS of this process {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    run_then_drop(main, DB)
