"""Sample by Property at 100,000 frames, on SQLite and PostgreSQL: a first Frames-tab page (100 frames) and the
count of a sample, median of BENCH_RUNS runs after a warm-up (the count is measured on the selector, so no cache).

    python bench/sampling.py                                   # SQLite file var/bench-sampling-<frames>.sqlite3
    BENCH_PG=postgres://postgres@127.0.0.1:5432 python bench/sampling.py   # database hyperdata_bench_sampling_<frames>

The dataset is built once per database and reused.
"""
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FRAMES = int(os.environ.get("BENCH_FRAMES", "100000"))
RUNS = int(os.environ.get("BENCH_RUNS", "3"))

if os.environ.get("BENCH_PG"):
    from _django import setup

    setup(f"hyperdata_bench_sampling_{FRAMES}")
else:
    (ROOT / "var").mkdir(exist_ok=True)
    os.environ["DATABASE_URL"] = f"sqlite:///{ROOT / 'var' / f'bench-sampling-{FRAMES}.sqlite3'}"
    os.environ.setdefault("HYPERDATA_PREVIEWS_AUTO", "0")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hyperdata.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

from django.db import connection, transaction  # noqa: E402
from django.http import QueryDict  # noqa: E402

from frames import selectors, services  # noqa: E402
from frames.models import Dataset, FrameRevision  # noqa: E402
from frames.selectors import SYSTEM  # noqa: E402
from frames.services.bulk import insert_revisions  # noqa: E402

DATASET = f"bench-sampling-{FRAMES}"
CASES = {
    "no sample (reference)": "",
    "sample_by=meta.weather n=100 (3 values)": "sample_by=meta.weather&sample_n=100&sample_seed=7",
    "sample_by=meta.speed n=5 (120 values)": "sample_by=meta.speed&sample_n=5&sample_seed=7",
    "sample_by=label n=100 (7 labels)": "sample_by=label&sample_n=100&sample_seed=7",
    "label car + sample_by=meta.weather n=50": "label=car&sample_by=meta.weather&sample_n=50&sample_seed=7",
    "roi_query car AND confidence:[0.9 TO 1] (reference)": "roi_query=car+AND+confidence:[0.9+TO+1]",
    "roi_query car AND meta.area:[0 TO 50]": "roi_query=car+AND+meta.area:[0+TO+50]",
}


def make_frame(i: int) -> dict:
    labels = [["car"], ["car", "person"], ["truck"], ["car"], ["bike"]][i % 5]
    rois = [{"labels": labels, "poly": [10, 10, 60, 10, 60, 40, 10, 40], "confidence": (i % 100) / 100, "meta": {"area": (i * 7) % 500}}]
    if i % 4 == 0:
        rois.append({"labels": ["day" if i % 8 else "night"]})
    if i % 1000 == 7:
        rois.append({"labels": ["unicorn"], "poly": [1, 1, 5, 1, 5, 5]})
    return {"id": f"frame-{i:08d}", "context_id": f"s3://bench/videos/{i // 50:06d}.mp4", "timestamp": (i % 50) * 100,
            "meta": {"speed": i % 120, "weather": ["sunny", "rain", "fog"][i % 3]},
            "sources": [{"id": "default", "uri": f"s3://bench/videos/{i // 50:06d}.mp4", "content_type": "video/mp4"}],
            "rois": rois}


def build():
    dataset = Dataset.objects.filter(name=DATASET).first()
    if dataset:
        return dataset.versions.get()
    dataset = services.dataset_create(user=SYSTEM, name=DATASET)
    version = dataset.versions.get()
    for start in range(0, FRAMES, 10_000):
        revisions = [FrameRevision(dataset_id=version.dataset_id, version_id=version.pk, version_seq=version.seq,
                                   frame_id=f["id"], context_id=f["context_id"], timestamp=f["timestamp"], saved=1,
                                   num_frames=1, meta=f["meta"], sources=f["sources"], rois=f["rois"])
                     for f in map(make_frame, range(start, min(FRAMES, start + 10_000)))]
        with transaction.atomic():
            insert_revisions(revisions)
    version.frame_count = FRAMES
    version.save(update_fields=["frame_count"])
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return version


def median_ms(function) -> float:
    function()
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main():
    version = build()
    print(f"{connection.vendor}, {FRAMES:,} frames, median of {RUNS} runs (ms)")
    print(f"{'case':55} {'first page':>10} {'count':>8} {'frames':>8}")
    for name, query in CASES.items():
        parsed = selectors.parse_frame_query(QueryDict(query))
        page = lambda: selectors.frames_browse(user=SYSTEM, version=version, query=parsed)  # noqa: E731
        count = lambda: selectors.frames_count(user=SYSTEM, version=version, filters=parsed.filters, sample=parsed.sample)  # noqa: E731
        print(f"{name:55} {median_ms(page):10.0f} {median_ms(count):8.0f} {count():8,}", flush=True)


if __name__ == "__main__":
    main()
