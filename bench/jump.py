"""Jump anywhere (issue 13, item 7): a page at any offset vs a keyset page vs the naive OFFSET query (PostgreSQL).

Builds its own database (hyperdata_bench_jump): a dataset with BENCH_FRAMES root frames (COPY, as bench/versions.py),
published (its position index stored by the publish: timed), and a draft child of it (sees the parent's frames
through its lineage; no stored index: its checkpoints are computed on the first jump and cached). For each:
page 1 (keyset), page 900 and the last page through `offset` (services.positions.frames_page_at), the same pages
with the naive `ORDER BY ... OFFSET k LIMIT 100`, under no filter and under a label filter; medians of BENCH_RUNS.

    python bench/jump.py              # BENCH_FRAMES=100000 (default 1,000,000), BENCH_RUNS
"""
from __future__ import annotations

import os
import statistics
import time

from _django import setup

FRAMES = int(os.environ.get("BENCH_FRAMES", "1000000"))
RUNS = int(os.environ.get("BENCH_RUNS", "7"))
setup(os.environ.get("BENCH_DB", "hyperdata_bench_jump"))

from django.core.cache import cache  # noqa: E402

from _frames import kept_or_loaded  # noqa: E402
from frames import selectors, services  # noqa: E402
from frames.filters import parse_filters  # noqa: E402
from frames.selectors import SYSTEM, FrameQuery  # noqa: E402
from frames.selectors.frames import keyset_order, query_rows  # noqa: E402
from frames.selectors.query import sort_columns  # noqa: E402
from frames.services import positions as position_services  # noqa: E402

DATASET = f"jump-{FRAMES}"
LIMIT = 100


def build():
    published, child = kept_or_loaded(DATASET, FRAMES, 50)
    if child is not None:
        return published, child
    root = published
    start = time.perf_counter()
    published, child = services.version_snapshot(user=SYSTEM, version=root, name="v1")
    print(f"publish (statistics + position index of {len(position_services.STORED_SORTS)} sorts): "
          f"{time.perf_counter() - start:.1f} s", flush=True)
    return published, child


def ms(fn, runs=RUNS) -> float:
    fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def naive(version, query: FrameQuery, offset: int):
    ordering = [keyset_order(n, query.descending) for n in sort_columns(query.sort)]
    return list(query_rows(version, query).order_by(*ordering)[offset: offset + query.limit])


def measure(name, version, query: FrameQuery):
    version = selectors.version_get(user=SYSTEM, version_id=version.pk)
    cache.clear()
    total = services.frames_count(user=SYSTEM, version=version, filters=query.filters)
    last = (total - 1) // LIMIT * LIMIT
    deep = min(899 * LIMIT, last)
    start = time.perf_counter()
    first_jump = position_services.frames_page_at(user=SYSTEM, version=version, query=query, offset=deep)
    first_ms = (time.perf_counter() - start) * 1000
    keyset = ms(lambda: selectors.frames_browse(user=SYSTEM, version=version, query=query))
    rows = []
    for label, offset in (("page 900", deep), ("last page", last)):
        jump = ms(lambda: position_services.frames_page_at(user=SYSTEM, version=version, query=query, offset=offset))
        plain = ms(lambda: naive(version, query, offset))
        got = [r.frame_id for r in position_services.frames_page_at(user=SYSTEM, version=version, query=query, offset=offset).frames]
        assert got == [r.frame_id for r in naive(version, query, offset)], (name, label)
        rows.append((label, offset, jump, plain))
    stored = bool(position_services.frame_positions(user=SYSTEM, version=version, query=query, compute=False).stored)
    print(f"\n{name}: {total:,} frames, index {'stored at publish' if stored else 'computed on the first jump, cached'}"
          f" (first jump {first_ms:.0f} ms{', incl. computing it' if not stored else ''}; {len(first_jump.frames)} frames)")
    print(f"  page 1 (keyset)          {keyset:8.1f} ms")
    for label, offset, jump, plain in rows:
        print(f"  {label:9} offset {offset:>9,}  jump {jump:7.1f} ms  naive OFFSET {plain:8.1f} ms  "
              f"naive/jump {plain / jump:6.1f}x  jump/page 1 {jump / keyset:4.2f}x")


def main():
    published, draft = build()
    car = tuple(parse_filters([{"rois": [{"labels": ["car"]}]}]))
    for name, version in (("published", published), ("draft child", draft)):
        measure(f"{name}, sort context", version, FrameQuery(sort="context", limit=LIMIT))
        measure(f"{name}, sort timestamp desc", version, FrameQuery(sort="timestamp", descending=True, limit=LIMIT))
        measure(f"{name}, label=car", version, FrameQuery(filters=car, sort="context", limit=LIMIT))


if __name__ == "__main__":
    main()
