"""Keyset pages deep into a sort whose first column repeats (PostgreSQL): the row comparison frames_browse now
sends, (timestamp, frame_id) > (0, 'img/...'), against the expanded condition it sent before,
timestamp >= 0 AND (timestamp > 0 OR (timestamp = 0 AND frame_id > 'img/...')).

The version is a folder of images, as most are: every frame has timestamp 0, and an import gives every frame of
one chunk the same `saved`. For each sort, the page after the frame at each depth (a cursor, as Next sends it),
median of BENCH_RUNS, in a database of its own (hyperdata_bench_keyset, kept between runs with BENCH_KEEP=1).

    python bench/keyset.py              # BENCH_FRAMES=1000000 (default 300000), BENCH_RUNS
"""
from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from _clearml import clearml_frame
from _django import run_then_drop, setup

FRAMES = int(os.environ.get("BENCH_FRAMES", "300000"))
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
DB = os.environ.get("BENCH_DB", "hyperdata_bench_keyset")
setup(DB)

import random  # noqa: E402

from django.db import connection  # noqa: E402

from frames import services  # noqa: E402
from frames.importers.base import ImportSource  # noqa: E402
from frames.models import Dataset, FrameRevision  # noqa: E402
from frames.selectors import SYSTEM, FrameQuery  # noqa: E402
from frames.selectors import frames as frame_selectors  # noqa: E402
from frames.selectors.frames import frames_browse, sort_values  # noqa: E402
from frames.selectors.query import encode_cursor, sort_columns  # noqa: E402

DATASET = f"keyset-{FRAMES}"
SORTS = ["timestamp", "saved", "context", "id"]
LIMIT = 100


def image_frame(i: int, rnd: random.Random) -> dict:
    frame = clearml_frame(i, rnd)
    return {**frame, "context_id": frame["sources"][0]["uri"], "timestamp": 0}


def build():
    dataset = Dataset.objects.filter(name=DATASET).first()
    if dataset is not None and dataset.versions.get().frame_count == FRAMES:
        return dataset.versions.get()
    if dataset is not None:  # a run stopped while loading
        services.dataset_delete(user=SYSTEM, dataset=dataset)
    version = services.dataset_create(user=SYSTEM, name=DATASET).versions.get()
    rnd, started = random.Random(FRAMES), time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "images.jsonl"
        path.write_text("".join(json.dumps(image_frame(i, rnd)) + "\n" for i in range(FRAMES)))
        services.import_frames(user=SYSTEM, version=version, format="clearml", source=ImportSource(path=path))
    print(f"loaded {FRAMES:,} frames in {time.perf_counter() - started:.0f} s", flush=True)
    return version


def cursor_at(version, sort: str, depth: int) -> str:
    """The cursor Next sends to show the page after the frame at `depth` (0-based) in `sort` order."""
    order = sort_columns(sort)
    row = FrameRevision.objects.visible_in(version).order_by(*order)[depth]
    return encode_cursor(sort_values(row, sort))


def page_ms(version, query: FrameQuery) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        page = frames_browse(user=SYSTEM, version=version, query=query)
        times.append((time.perf_counter() - started) * 1000)
    assert len(page.frames) == LIMIT
    return statistics.median(times)


def main():
    version = build()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    depths = [d for d in (1_000, FRAMES // 2, FRAMES - 1_000) if d < FRAMES - LIMIT]
    print(f"keyset page of {LIMIT} after the frame at each depth, {FRAMES:,} images (timestamp 0), median of {RUNS}, ms")
    print("| sort | " + " | ".join(f"depth {d:,}: row comparison / expanded" for d in depths) + " | largest ratio |")
    print("|---|" + "---|" * (len(depths) + 1))
    row_comparison = frame_selectors.keyset_after
    for sort in SORTS:
        cells, ratios = [], []
        for depth in depths:
            query = FrameQuery(sort=sort, cursor=cursor_at(version, sort, depth), limit=LIMIT)
            frame_selectors.keyset_after = row_comparison
            now = page_ms(version, query)
            frame_selectors.keyset_after = lambda names, values, descending: frame_selectors.expanded_after(names, values, descending=descending)
            before = page_ms(version, query)
            frame_selectors.keyset_after = row_comparison
            cells.append(f"{now:.1f} / {before:.1f}")
            ratios.append(before / now)
        print(f"| {sort} | " + " | ".join(cells) + f" | {max(ratios):.1f}x |", flush=True)


if __name__ == "__main__":
    run_then_drop(main, DB)
