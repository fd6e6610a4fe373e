"""Group by URL at any page: page 1 of contexts vs a deep page reached by a jump (checkpoints of every 100th
context, selectors.context_positions) vs the naive GROUP BY ... OFFSET query vs walking Next there (PostgreSQL).

Builds its own database (hyperdata_bench_contexts): BENCH_FRAMES root frames (default 100,000) in contexts of
BENCH_PER_CONTEXT frames (default 10: 10,000 contexts, 100 pages of 100), published, and a draft child of it (sees
the parent's frames through its lineage). Timed at the selector/service level (server time), medians of BENCH_RUNS;
every jumped page is checked against the page the cursors walk to.

    python bench/contexts_jump.py
"""
from __future__ import annotations

import os
import statistics
import time

from _django import setup

FRAMES = int(os.environ.get("BENCH_FRAMES", "100000"))
PER_CONTEXT = int(os.environ.get("BENCH_PER_CONTEXT", "10"))
RUNS = int(os.environ.get("BENCH_RUNS", "7"))
setup(os.environ.get("BENCH_DB", "hyperdata_bench_contexts"))

from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count, Min  # noqa: E402

from _frames import kept_or_loaded  # noqa: E402
from frames import selectors, services  # noqa: E402
from frames.filters import parse_filters  # noqa: E402
from frames.selectors import SYSTEM, FrameQuery  # noqa: E402
from frames.selectors.frames import query_rows  # noqa: E402
from frames.services import positions as position_services  # noqa: E402

DATASET = f"contexts-jump-{FRAMES}-{PER_CONTEXT}"
LIMIT = 100


def build():
    published, child = kept_or_loaded(DATASET, FRAMES, PER_CONTEXT)
    if child is not None:
        return published, child
    root = published
    published, child = services.version_snapshot(user=SYSTEM, version=root, name="v1")
    return published, child


def ms(fn, runs=RUNS) -> float:
    fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def naive(version, query: FrameQuery, offset: int) -> list[str]:
    groups = query_rows(version, query).values("context_id").annotate(n=Count("pk"), first=Min("timestamp"))
    return [g["context_id"] for g in groups.order_by("context_id")[offset: offset + query.limit]]


def walk(version, query: FrameQuery, pages: int) -> list[str]:
    """Next, Next, ...: the contexts of page `pages` reached by cursors (what the tab offered before)."""
    cursor = None
    for _ in range(pages):
        page = selectors.contexts_list(user=SYSTEM, version=version, query=query.page(cursor=cursor))
        cursor = page.next_cursor
    return [row.context_id for row in page.contexts]


def measure(name, version, query: FrameQuery):
    version = selectors.version_get(user=SYSTEM, version_id=version.pk)
    cache.clear()
    start = time.perf_counter()
    total = position_services.context_positions(user=SYSTEM, version=version, query=query).total
    checkpoints_ms = (time.perf_counter() - start) * 1000
    last = (total - 1) // LIMIT * LIMIT
    deep = (last // LIMIT) * 9 // 10 * LIMIT  # 90% of the way: page 90 of 100, page 900 of 1,000
    page1 = ms(lambda: selectors.contexts_list(user=SYSTEM, version=version, query=query))
    print(f"\n{name}: {total:,} contexts ({LIMIT} a page, {-(-total // LIMIT)} pages); checkpoints computed once in {checkpoints_ms:.0f} ms, then cached")
    print(f"  page 1 (keyset)                      {page1:8.1f} ms")
    for label, offset in ((f"page {deep // LIMIT + 1}", deep), ("last page", last)):
        def jump():
            cursor = selectors.context_cursor_at(user=SYSTEM, version=version, query=query,
                                                 positions=position_services.context_positions(user=SYSTEM, version=version, query=query), offset=offset)
            return selectors.contexts_list(user=SYSTEM, version=version, query=query.page(cursor=cursor))
        jumped = [row.context_id for row in jump().contexts]
        assert jumped == naive(version, query, offset) == walk(version, query, offset // LIMIT + 1), (name, label)
        jump_ms = ms(jump)
        naive_ms = ms(lambda: naive(version, query, offset))
        walk_ms = ms(lambda: walk(version, query, offset // LIMIT + 1), runs=1)
        cursor = selectors.context_cursor_at(user=SYSTEM, version=version, query=query,
                                             positions=position_services.context_positions(user=SYSTEM, version=version, query=query), offset=offset)
        positions = position_services.context_positions(user=SYSTEM, version=version, query=query)
        assert selectors.context_cursor_offset(user=SYSTEM, version=version, query=query.page(cursor=cursor), positions=positions) == offset
        label_ms = ms(lambda: selectors.context_cursor_offset(user=SYSTEM, version=version, query=query.page(cursor=cursor), positions=positions))
        print(f"  {label:9} offset {offset:>7,}  jump {jump_ms:7.1f} ms (x{jump_ms / page1:4.2f} page 1)  naive OFFSET {naive_ms:7.1f} ms  "
              f"Next x{offset // LIMIT}: {walk_ms:8.0f} ms  label check of a cursor page {label_ms:6.1f} ms")


def main():
    published, draft = build()
    car = tuple(parse_filters([{"rois": [{"labels": ["car"]}]}]))
    print(f"{FRAMES:,} frames, {PER_CONTEXT} per context; PostgreSQL {connection.pg_version}")
    for name, version in (("published", published), ("draft child", draft)):
        measure(f"{name}, no filter", version, FrameQuery(limit=LIMIT))
        measure(f"{name}, label=car (60%)", version, FrameQuery(filters=car, limit=LIMIT))


if __name__ == "__main__":
    main()
