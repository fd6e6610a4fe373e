"""Jump anywhere (issue 13, item 7): a page at any offset vs a keyset page vs the naive OFFSET query (PostgreSQL).

Builds its own database (hyperdata_bench_jump): a dataset with BENCH_FRAMES root frames (COPY, as bench/versions.py),
published (its position index stored by the publish: timed), and a draft child of it (sees the parent's frames
through its lineage) with an annotator's edits (DRAFT_EDITS: edited, re-timed, deleted and added frames, the added
ones sorting at the start, in the middle and at the end; made once and kept). For each: page 1 (keyset), page 900
and the last page through `offset` (services.positions.frames_page_at), the same pages with the naive
`ORDER BY ... OFFSET k LIMIT 100`, under no filter and under a label filter; medians of BENCH_RUNS. Then "edit and
jump": one frame edited in the draft, then page 900 (the edit changes the draft, so any kept index is stale); a jump
in drafts of 100 to 40,000 edited frames (made and deleted by the run); and the first source's width sort (a JSON
sort path, through the dataset's size index) of the published version, computed on the first jump and, as a user
finds it, numbered beforehand by the publish's positions job.

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
from frames.models import FrameRevision  # noqa: E402
from frames.selectors.query import META_SORT_ALIAS, json_sort_expression, sort_columns  # noqa: E402
from frames.services import positions as position_services  # noqa: E402
from frames.services.size_indexes import size_indexes_build  # noqa: E402

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
    start = time.perf_counter()
    size_indexes_build(user=SYSTEM, dataset=published.dataset)  # the publish's job, run here: no worker in a bench
    print(f"size indexes (the publish's job): {time.perf_counter() - start:.1f} s", flush=True)
    return published, child


def edit_draft(draft):
    """An annotator's edits, made once (kept with the database): 2,000 frames edited (their ROIs), 500 re-timed,
    300 deleted, and 300 added (ids and contexts sorting before, among and after the parent's)."""
    if FrameRevision.objects.filter(version_id=draft.pk).exists():
        return
    step = max(FRAMES // 2000, 1)
    edited = [{"id": f"frame-{i:08d}", "rois": [{"labels": ["edited"], "poly": [0, 0, 9, 0, 9, 9]}]} for i in range(7, FRAMES, step)]
    retimed = [{"id": f"frame-{i:08d}", "timestamp": 4242} for i in range(11, FRAMES, 4 * step)]
    services.frames_update(user=SYSTEM, version=draft, frames=edited)
    services.frames_update(user=SYSTEM, version=draft, frames=retimed)
    services.frames_delete(user=SYSTEM, version=draft, frame_ids=[f"frame-{i:08d}" for i in range(13, FRAMES, FRAMES // 300)])
    added = [{"id": f"{prefix}-{i:04d}", "context_id": context, "timestamp": i,
              "sources": [{"id": "default", "uri": f"s3://bench/new/{prefix}{i}.jpg", "width": 640, "height": 480}],
              "rois": [{"labels": ["car"], "poly": [0, 0, 9, 0, 9, 9]}]}
             for prefix, context in (("a-new", "s3://a"), (f"frame-{FRAMES // 2:08d}-new", f"s3://bench/videos/{FRAMES // 100:07d}.mp4"),
                                     ("zz-new", "s3://zz"))
             for i in range(100)]
    services.frames_add(user=SYSTEM, version=draft, frames=added)


def ms(fn, runs=RUNS) -> float:
    fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def naive(version, query: FrameQuery, offset: int):
    names = sort_columns(query.sort)
    rows = query_rows(version, query)
    if names[0] == META_SORT_ALIAS:
        rows = rows.alias(**{META_SORT_ALIAS: json_sort_expression(query.sort)})
    return list(rows.order_by(*[keyset_order(n, query.descending) for n in names])[offset: offset + query.limit])


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
    if selectors.draft_positions(user=SYSTEM, version=version, query=query) is not None:
        index, computed = "the parent's stored one and the draft's own rows", False
    else:
        computed = not position_services.frame_positions(user=SYSTEM, version=version, query=query, compute=False).stored
        index = "computed on the first jump, cached" if computed else "stored at publish"
    print(f"\n{name}: {total:,} frames, index {index}"
          f" (first jump {first_ms:.0f} ms{', incl. computing it' if computed else ''}; {len(first_jump.frames)} frames)")
    print(f"  page 1 (keyset)          {keyset:8.1f} ms")
    for label, offset, jump, plain in rows:
        print(f"  {label:9} offset {offset:>9,}  jump {jump:7.1f} ms  naive OFFSET {plain:8.1f} ms  "
              f"naive/jump {plain / jump:6.1f}x  jump/page 1 {jump / keyset:4.2f}x")


def edit_and_jump(draft, query: FrameQuery, runs=5):
    """One frame edited, then page 900: what an annotator who edits and jumps waits for each time."""
    times = []
    for run in range(runs):
        services.frames_update(user=SYSTEM, version=draft, frames=[{"id": f"frame-{run * 1013 + 5:08d}", "meta": {"checked": run}}])
        version = selectors.version_get(user=SYSTEM, version_id=draft.pk)
        start = time.perf_counter()
        position_services.frames_page_at(user=SYSTEM, version=version, query=query, offset=899 * LIMIT)
        times.append((time.perf_counter() - start) * 1000)
    print(f"\ndraft child, {query.sort} {query.order}: edit one frame, then page 900: median {statistics.median(times):.1f} ms"
          f" (each run: {', '.join(f'{t:.0f}' for t in times)} ms)")


def edit_size(published, edits: int):
    """Page 900 and the last page of a draft child with `edits` edited frames spread over the order (a second
    child, deleted afterwards so the kept database stays as it was): how a jump's cost follows the edit's size."""
    draft = services.version_create(user=SYSTEM, parent=published, name=f"bench-edits-{edits}")
    try:
        step = max(FRAMES // edits, 1)
        ids = [f"frame-{i:08d}" for i in range(3, FRAMES, step)][:edits]
        for start in range(0, len(ids), 5000):
            services.frames_update(user=SYSTEM, version=draft, frames=[{"id": i, "meta": {"checked": True}} for i in ids[start: start + 5000]])
        draft = selectors.version_get(user=SYSTEM, version_id=draft.pk)
        query = FrameQuery(sort="context", limit=LIMIT)
        derived = selectors.draft_positions(user=SYSTEM, version=draft, query=query) is not None
        cache.clear()
        start = time.perf_counter()
        position_services.frames_page_at(user=SYSTEM, version=draft, query=query, offset=899 * LIMIT)
        first = (time.perf_counter() - start) * 1000
        cells = []
        for offset in (899 * LIMIT, (draft.frame_count - 1) // LIMIT * LIMIT):
            cells.append(ms(lambda: position_services.frames_page_at(user=SYSTEM, version=draft, query=query, offset=offset)))
        print(f"draft child with {len(ids):>6,} edited frames ({'through the parent' if derived else 'computed'}): first jump "
              f"{first:7.1f} ms, then page 900 {cells[0]:6.1f} ms, last page {cells[1]:6.1f} ms", flush=True)
    finally:
        services.version_delete(user=SYSTEM, version=draft)


def main():
    published, draft = build()
    edit_draft(draft)
    own = FrameRevision.objects.filter(version_id=draft.pk)
    print(f"draft child: {own.count():,} own rows ({own.filter(deleted=True).count():,} tombstones)", flush=True)
    car = tuple(parse_filters([{"rois": [{"labels": ["car"]}]}]))
    for name, version in (("published", published), ("draft child", draft)):
        measure(f"{name}, sort context", version, FrameQuery(sort="context", limit=LIMIT))
        measure(f"{name}, sort timestamp desc", version, FrameQuery(sort="timestamp", descending=True, limit=LIMIT))
        measure(f"{name}, label=car", version, FrameQuery(filters=car, sort="context", limit=LIMIT))
    measure("draft child, sort saved (every edit sorts last)", draft, FrameQuery(sort="saved", limit=LIMIT))
    edit_and_jump(draft, FrameQuery(sort="context", limit=LIMIT))
    print()
    for edits in (100, 1000, 10_000, 40_000):
        edit_size(published, edits)
    measure("published, sort width (first source's, a JSON path)", published, FrameQuery(sort="width", limit=LIMIT))
    size_orders_warmed(published)


def size_orders_warmed(published):
    """The size orders as a user finds them once the publish's positions job has numbered them (size_orders_warm):
    the job's time, then a user's first jump to page 900."""
    version = selectors.version_get(user=SYSTEM, version_id=published.pk)
    cache.clear()
    start = time.perf_counter()
    orders = position_services.size_orders_warm(user=SYSTEM, version=version)
    job_s = time.perf_counter() - start
    start = time.perf_counter()
    position_services.frames_page_at(user=SYSTEM, version=version, query=FrameQuery(sort="width", limit=LIMIT), offset=899 * LIMIT)
    print(f"\nsize orders numbered by the positions job: {orders} orders in {job_s:.1f} s; then a user's first jump to page 900 "
          f"in width order: {(time.perf_counter() - start) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
