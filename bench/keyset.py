"""Keyset pages deep into a sort whose first column repeats (PostgreSQL): the row comparison frames_browse now
sends, (timestamp, frame_id) > (0, 'img/...'), against the expanded condition it sent before,
timestamp >= 0 AND (timestamp > 0 OR (timestamp = 0 AND frame_id > 'img/...')).

The size sorts (the first source's width and height, a JSON value): now two queries seeking the dataset's size
indexes (frames.services.size_indexes, built here as the publish's job builds them: timed), the frames with the
size and then those without; before, one query with the missing sizes last and the cursor as one OR condition,
which sorted the version (measured with the indexes dropped in a transaction that is rolled back).

The version is a folder of images, as most are: every frame has timestamp 0, and an import gives every frame of
one chunk the same `saved`; five common image sizes, 2% of the images without one. For each sort, the page after
the frame at each depth (a cursor, as Next sends it), median of BENCH_RUNS, in a database of its own
(hyperdata_bench_keyset, kept between runs with BENCH_KEEP=1). The load is timed; with BENCH_SIZE_INDEXES=before
the size indexes are built before it, to measure what they cost an import into a dataset that has them.

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
from contextlib import contextmanager  # noqa: E402

from django.db import connection, transaction  # noqa: E402

from frames import services  # noqa: E402
from frames.importers.base import ImportSource  # noqa: E402
from frames.models import Dataset  # noqa: E402
from frames.selectors import SYSTEM, FrameQuery  # noqa: E402
from frames.selectors import frames as frame_selectors  # noqa: E402
from frames.selectors import positions as position_selectors  # noqa: E402
from frames.selectors.frames import frames_browse, sort_values  # noqa: E402
from frames.selectors.query import encode_cursor  # noqa: E402
from frames.services.size_indexes import size_index_names, size_indexes_build  # noqa: E402

DATASET = f"keyset-{FRAMES}"
SORTS = [("timestamp", False), ("saved", False), ("context", False), ("id", False)]
SIZE_SORTS = [("width", False), ("width", True), ("height", False), ("height", True)]
LIMIT = 100
SIZES = [(640, 480), (1280, 720), (1920, 1080), (4032, 3024), (1024, 768)]


def image_frame(i: int, rnd: random.Random) -> dict:
    frame = clearml_frame(i, rnd)
    source = {**frame["sources"][0], **dict(zip(("width", "height"), rnd.choice(SIZES)))}
    if rnd.random() < 0.02:
        del source["width"], source["height"]
    return {**frame, "context_id": source["uri"], "timestamp": 0, "sources": [source]}


def build():
    dataset = Dataset.objects.filter(name=DATASET).first()
    if dataset is not None and dataset.versions.get().frame_count == FRAMES:
        return dataset.versions.get()
    if dataset is not None:  # a run stopped while loading
        services.dataset_delete(user=SYSTEM, dataset=dataset)
    version = services.dataset_create(user=SYSTEM, name=DATASET).versions.get()
    indexed_first = os.environ.get("BENCH_SIZE_INDEXES") == "before"
    if indexed_first:
        size_indexes_build(user=SYSTEM, dataset=version.dataset)
    rnd = random.Random(FRAMES)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "images.jsonl"
        path.write_text("".join(json.dumps(image_frame(i, rnd)) + "\n" for i in range(FRAMES)))
        started = time.perf_counter()
        services.import_frames(user=SYSTEM, version=version, format="clearml", source=ImportSource(path=path))
    took = time.perf_counter() - started
    print(f"imported {FRAMES:,} frames in {took:.1f} s, {FRAMES / took:,.0f} frames/s "
          f"({'into a dataset with' if indexed_first else 'without'} size indexes)", flush=True)
    if not indexed_first:
        started = time.perf_counter()
        size_indexes_build(user=SYSTEM, dataset=version.dataset)
        print(f"size indexes built in {time.perf_counter() - started:.1f} s (as the publish's job builds them)", flush=True)
    return version


def cursor_at(version, sort: str, descending: bool, depth: int) -> str:
    """The cursor Next sends to show the page after the frame at `depth` (0-based) in `sort` order."""
    row = position_selectors._ordered(version, FrameQuery(sort=sort, descending=descending), None)[depth]
    return encode_cursor(sort_values(row, sort))


def page_ms(version, query: FrameQuery, read=None) -> float:
    read = read or (lambda: frames_browse(user=SYSTEM, version=version, query=query).frames)
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        rows = read()
        times.append((time.perf_counter() - started) * 1000)
    assert len(rows) == LIMIT
    return statistics.median(times)


def single_query_page(version, query: FrameQuery) -> float:
    """The page as frames_browse read a JSON sort before: one query, missing values last, the cursor one OR."""
    return page_ms(version, query, lambda: list(position_selectors._ordered(version, query, query.cursor)[:LIMIT]))


@contextmanager
def size_indexes_dropped(version):
    """The dataset without its size indexes, for the statements inside (rolled back after)."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"DROP INDEX {', '.join(size_index_names(version.dataset_id))}")
        yield
        transaction.set_rollback(True)


def expanded_page(version, query: FrameQuery) -> float:
    row_comparison = frame_selectors.row_after
    frame_selectors.row_after = lambda names, values, descending: frame_selectors.expanded_after(names, values, descending=descending)
    try:
        return page_ms(version, query)
    finally:
        frame_selectors.row_after = row_comparison


def table(version, title: str, sorts, before) -> None:
    depths = [None] + [d for d in (1_000, FRAMES // 2, FRAMES - 1_000) if d < FRAMES - LIMIT]
    print(f"\n{title}")
    print("| sort | " + " | ".join("page 1" if d is None else f"depth {d:,}" for d in depths) + " | largest ratio |")
    print("|---|" + "---|" * (len(depths) + 1))
    for sort, descending in sorts:
        cells, ratios = [], []
        for depth in depths:
            cursor = cursor_at(version, sort, descending, depth) if depth is not None else None
            query = FrameQuery(sort=sort, descending=descending, cursor=cursor, limit=LIMIT)
            now, then = page_ms(version, query), before(version, query)
            cells.append(f"{now:.1f} / {then:.1f}")
            ratios.append(then / now)
        print(f"| {sort} {'desc' if descending else 'asc'} | " + " | ".join(cells) + f" | {max(ratios):.1f}x |", flush=True)


def main():
    version = build()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"\nkeyset page of {LIMIT} after the frame at each depth, {FRAMES:,} images (timestamp 0), median of {RUNS}, ms")
    table(version, "now (row comparison) / before (expanded condition)", SORTS, expanded_page)

    def without_index(version, query):
        with size_indexes_dropped(version):
            return single_query_page(version, query)
    table(version, "now (two queries, size index) / before (one query, no size index)", SIZE_SORTS, without_index)


if __name__ == "__main__":
    run_then_drop(main, DB)
