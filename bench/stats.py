"""Statistics and counts at 100,000 and 1,000,000 frames (PostgreSQL): the current method against the old one.

Builds (once; reused on later runs) a dataset in its own database: a published root of BENCH_FRAMES frames
(COPY, like bench/versions.py), and a draft child where 1% of the frames were edited and 0.1% deleted through
frames_add/frames_delete (the frame services, which keep the draft's label counts). Then, median of 5 runs
after a warm-up, the cache emptied before each "first" run:

- the old way: counting label statistics from the frames on every call (what a draft, or any filter, did);
- now: a draft's unfiltered statistics (kept as its frames are written), the same under filters (a single label
  read from the label pairs the version keeps; any other filter derived from the published parent's answer plus
  the draft's own rows, or counted; then cached until the draft changes), a published version's under filters
  (pairs, or counted once, then cached for good), and the filtered frame count the Frames tab shows.
- "draft, parent known": the draft's first answer once its published parent has answered the same question
  (the parent's answers are kept for good, so each question about a version's children costs one count ever).
- The published root's columns (services.columns, built by its publishing's job; built here first if missing):
  "pub first" and a draft's first answers read its answers from them where they answer the filter.

    BENCH_FRAMES=100000 python bench/stats.py       # database hyperdata_bench_stats_<frames>
    BENCH_FRAMES=1000000 BENCH_RUNS=1 BENCH_FILTERS="none,label unicorn,label car" python bench/stats.py
    BENCH_FRAMES=1000000 BENCH_ONLY=patterns python bench/stats.py   # only regular expressions and string bounds
    BENCH_FRAMES=1000000 BENCH_ONLY=large-edit python bench/stats.py # only a draft with 10% of its frames edited
"""
import os
import random
import shutil
import statistics
import time

from _django import setup

FRAMES = int(os.environ.get("BENCH_FRAMES", "100000"))
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
setup(os.environ.get("BENCH_DB", f"hyperdata_bench_stats_{FRAMES}"))

from django.contrib.auth.models import User  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from frames import services  # noqa: E402
from frames.filters import parse_filters  # noqa: E402
from frames.models import Dataset, DatasetVersion, FrameRevision  # noqa: E402
from frames.columnar_stored import from_bytes  # noqa: E402
from frames.models import VersionColumns  # noqa: E402
from frames.selectors import columns as column_selectors  # noqa: E402
from frames.selectors import roi_stats as roi_selectors  # noqa: E402
from frames.selectors import stats as stat_selectors  # noqa: E402
from frames.services import stats as stat_services  # noqa: E402
from frames.services.bulk import insert_revisions  # noqa: E402
from frames.services.columns import columns_build  # noqa: E402
from frames.services.columns_local import columns_localise  # noqa: E402

DATASET = f"bench-stats-{FRAMES}"
FILTERS = {
    "none": [],
    "label car (60%)": [{"rois": [{"labels": ["car"]}]}],
    "label unicorn (0.1%)": [{"rois": [{"labels": ["unicorn"]}]}],
    "not car (40%)": [{"rois": [{"labels": ["car"], "logic": "exclude"}]}],
    "conf 0.9-1 (10%)": [{"rois": [{"labels": ["car"], "conf_range": [0.9, 1]}]}],
    "meta.weather:fog (33%)": [{"frame_query": "meta.weather:fog"}],
    "meta.speed:[10 TO 20] (9%)": [{"frame_query": "meta.speed:[10 TO 20]"}],
    "fog, speed 0-60, car 0.5-1 (8%)": [{"rois": [{"labels": ["car"], "conf_range": [0.5, 1]}],
                                         "frame_query": "meta.weather:fog AND meta.speed:[0 TO 60]"}],
}


def make_frame(i: int, edit: str = "") -> dict:
    labels = [["car"], ["car", "person"], ["truck"], ["car"], ["bike"]][i % 5]
    rois = [{"labels": labels, "poly": [10, 10, 60, 10, 60, 40, 10, 40], "confidence": (i % 100) / 100,
             "meta": {"area": (i * 7) % 500}}]
    if i % 1000 == 7:
        rois.append({"labels": ["unicorn"], "poly": [1, 1, 5, 1, 5, 5]})
    if i % 4 == 0:
        rois.append({"labels": ["day" if i % 8 else "night"]})  # a frame label
    if edit:
        rois.append({"labels": [edit], "poly": [0, 0, 3, 0, 3, 3]})
    return {"id": f"frame-{i:08d}", "context_id": f"s3://bench/videos/{i // 50:06d}.mp4", "timestamp": (i % 50) * 100,
            "meta": {"speed": i % 120, "weather": ["sunny", "rain", "fog"][i % 3]},
            "sources": [{"id": "default", "uri": f"s3://bench/videos/{i // 50:06d}.mp4", "content_type": "video/mp4",
                         "width": 1920, "height": 1080, "timestamp": (i % 50) * 100}],
            "rois": rois}


def load(version, numbers):
    saved = int(time.time() * 1000)
    revisions = [FrameRevision(dataset_id=version.dataset_id, version_id=version.pk, version_seq=version.seq, frame_id=f["id"],
                               context_id=f["context_id"], timestamp=f["timestamp"], saved=saved, num_frames=1,
                               meta=f["meta"], sources=f["sources"], rois=f["rois"]) for f in map(make_frame, numbers)]
    with transaction.atomic():
        insert_revisions(revisions)


def build(owner):
    """(published root, draft child), built unless they exist (the draft again if its writes noted nothing of
    what they hide: it was built before FrameRevision.hides)."""
    dataset = Dataset.objects.filter(name=DATASET).first()
    published = dataset.versions.filter(seq=1, status=DatasetVersion.PUBLISHED).first() if dataset else None
    if published is None:
        published = build_root(owner, dataset)
    else:
        print(f"reusing {DATASET}", flush=True)
    draft = DatasetVersion.objects.filter(parent=published, name="draft").first()
    if draft is not None and FrameRevision.objects.filter(version=draft, hides__isnull=True).exists():
        services.version_delete(user=owner, version=draft)
        draft = None
    return published, draft or build_draft(owner, published)


def build_root(owner, stale):
    if stale:
        services.dataset_delete(user=owner, dataset=stale)
    root = services.dataset_create(user=owner, name=DATASET).versions.get()
    start = time.perf_counter()
    for offset in range(0, FRAMES, 10_000):
        load(root, range(offset, min(FRAMES, offset + 10_000)))
    DatasetVersion.objects.filter(pk=root.pk).update(frame_count=FRAMES)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"root: {FRAMES:,} frames by COPY in {time.perf_counter() - start:.0f} s", flush=True)
    root.refresh_from_db()
    return services.version_publish(user=owner, version=root, name="root")  # counts its statistics once


def build_draft(owner, published):
    draft = services.version_create(user=owner, parent=published, name="draft")
    rng = random.Random(1)
    start = time.perf_counter()
    edited = rng.sample(range(FRAMES), FRAMES // 100)
    for offset in range(0, len(edited), 5000):
        services.frames_add(user=owner, version=draft, frames=[make_frame(i, "edited") for i in edited[offset:offset + 5000]])
    services.frames_delete(user=owner, version=draft, frame_ids=[f"frame-{i:08d}" for i in rng.sample(range(FRAMES), FRAMES // 1000)])
    print(f"draft: {len(edited):,} frames edited, {FRAMES // 1000:,} deleted in {time.perf_counter() - start:.1f} s", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return draft


def median_ms(fn, *, first: bool, before=None, warm=True):
    """Median ms of fn(); first=True empties the cache before each run (what the first visitor waits), then
    calls `before` (untimed). warm=False: the first call is timed too (nothing called it before)."""
    if warm:
        fn()
    samples = []
    for _ in range(RUNS):
        if first:
            cache.clear()
            if before:
                before()
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def forget_masks():
    """Forget the loaded columns' last filters' masks (frames_mask keeps 8): a first answer works its filter out."""
    for columns in column_selectors._loaded.values():
        columns._masks.clear()


def fresh(version):
    return DatasetVersion.objects.select_related("dataset", "parent").get(pk=version.pk)


def small_draft_rows(owner, published):
    """A draft child with 100 frames edited (an annotator's session, where the 1% draft above is a large
    relabelling): its first answers once the parent has answered."""
    small = DatasetVersion.objects.filter(parent=published, name="small draft").first()
    if small is None:
        small = services.version_create(user=owner, parent=published, name="small draft")
        services.frames_add(user=owner, version=small, frames=[make_frame(i * 997 % FRAMES, "edited") for i in range(100)])
    print("\nsmall draft (100 frames edited), first answer with the parent's known, ms:", flush=True)
    for name, raw in FILTERS.items():
        filters = parse_filters(raw)
        stats = median_ms(lambda: stat_services.label_stats(user=owner, version=fresh(small), filters=filters), first=True,
                          before=lambda: stat_services.label_stats(user=owner, version=fresh(published), filters=filters))
        count = median_ms(lambda: stat_services.frames_count(user=owner, version=fresh(small), filters=filters), first=True,
                          before=lambda: stat_services.frames_count(user=owner, version=fresh(published), filters=filters))
        print(f"  {name:<28} statistics {stats:7.1f}   count {count:7.1f}", flush=True)
    for key in ("rois.confidence", "rois.meta.area", "speed", "weather"):
        derived = median_ms(lambda: stat_services.meta_distribution(user=owner, version=fresh(small), key=key), first=True,
                            before=lambda: stat_services.meta_distribution(user=owner, version=fresh(published), key=key))
        print(f"  distribution {key:<18} {derived:7.1f}", flush=True)


def columns_ready(owner, published):
    """The published root's columns (services.columns: what its publishing's job builds), built here unless they
    are; and what the first question in a new web process waits to load them."""
    stored = VersionColumns.objects.filter(version=published).values_list("data", flat=True).first()
    if stored is None or from_bytes(bytes(stored)) is None:  # none, or in an earlier format
        start = time.perf_counter()
        built = columns_build(user=owner, version=published)
        print(f"columns built in {time.perf_counter() - start:.1f} s: {built}", flush=True)
    fog = parse_filters(FILTERS["meta.weather:fog (33%)"])
    local = column_selectors.columns_local_path(published.pk)
    shutil.rmtree(local, ignore_errors=True)
    column_selectors._loaded.clear()
    start = time.perf_counter()
    column_selectors.columnar_count(user=owner, version=published, filters=fog)
    print(f"the first question in a new web process, no copy on its host: loads them from the database in "
          f"{(time.perf_counter() - start) * 1000:.0f} ms", flush=True)
    start = time.perf_counter()
    columns_localise(user=owner, version=published)
    print(f"the host's copy written in {(time.perf_counter() - start) * 1000:.0f} ms (once per host; the worker that builds them "
          "writes its own)", flush=True)
    column_selectors._loaded.clear()
    start = time.perf_counter()
    column_selectors.columnar_count(user=owner, version=published, filters=fog)
    print(f"the first question in a new web process, with the copy: maps it and answers in {(time.perf_counter() - start) * 1000:.0f} ms", flush=True)


PATTERNS = {  # what only PostgreSQL can judge (its regular expressions, its collation): asked about distinct strings
    "meta.weather:/f.*|r.*/": [{"frame_query": "meta.weather:/f.*|r.*/"}],
    "meta.weather:[a TO m]": [{"frame_query": "meta.weather:[a TO m]"}],
    "context_id:[..000100 TO ..000200}": [{"frame_query": 'context_id:["s3://bench/videos/000100.mp4" TO "s3://bench/videos/000200.mp4"}'}],
    "context_id:/.*0[0-4].mp4/": [{"frame_query": "context_id:/.*0[0-4][.]mp4/"}],
    "sources.uri:/.*17[.]mp4/": [{"sources_query": "sources.uri:/.*17[.]mp4/"}],
    "labels:[c TO p] AND conf": [{"rois": [{"roi_query": "labels:[c TO p] AND confidence:[0.5 TO 1]"}]}],
    "meta.speed:1* (numbers' text)": [{"frame_query": "meta.speed:1*"}],
}


def first_answers(owner, version, filters, name) -> list[float]:
    """The version's first statistics and count (ms; the cache emptied, the columns' masks forgotten), checked
    against counting them."""
    asks = (stat_services.label_stats, stat_services.frames_count)
    times = [median_ms(lambda: ask(user=owner, version=fresh(version), filters=filters), first=True, before=forget_masks) for ask in asks]
    assert stat_services.label_stats(user=owner, version=fresh(version), filters=filters) == stat_selectors.counted_label_stats(
        user=owner, version=fresh(version), filters=filters), name
    return times


def counted_ms(owner, version, filters) -> float:
    return median_ms(lambda: stat_selectors.counted_label_stats(user=owner, version=fresh(version), filters=filters), first=True)


def pattern_rows(owner, published, draft):
    """The published root's first answers under regular expressions and string bounds (the columns ask PostgreSQL
    about the column's distinct strings: 3 weathers, 20,000 context ids at a million frames), against counting
    them; the large draft's first answers (nothing asked before); and the `weather` panel cut at 2 values (its
    ties ordered by the database's collation)."""
    print("\nfirst answer under a regular expression or a string range, ms: published (statistics, count) / counted / "
          "draft (statistics, count)", flush=True)
    for name, raw in PATTERNS.items():
        filters = parse_filters(raw)
        fast, counted = first_answers(owner, published, filters, name), counted_ms(owner, published, filters)
        drafted = first_answers(owner, draft, filters, name)
        print(f"  {name:<36} {fast[0]:7.1f} {fast[1]:7.1f} / {counted:8.1f} (x{counted / fast[0]:,.0f}) / {drafted[0]:7.1f} {drafted[1]:7.1f}",
              flush=True)
    fast = median_ms(lambda: column_selectors.columnar_distribution(user=owner, version=fresh(published), parts=["weather"], bins=20, top=2),
                     first=True, before=forget_masks)
    counted = median_ms(lambda: stat_selectors.meta_distribution(user=owner, version=fresh(published), key="weather", top=2), first=True)
    print(f"  weather panel, 2 values shown           columns {fast:7.1f}   counted {counted:8.1f}", flush=True)


def large_edit_rows(owner, published):
    """A draft child where 10% of the frames were edited (100,000 rows at a million: a relabelling): its first
    answers (nothing kept, its changes read again each time), derived through the parent's columns, against
    counting them."""
    edits = FRAMES // 10
    big = DatasetVersion.objects.filter(parent=published, name="large edit").first()
    if big is None:
        big = services.version_create(user=owner, parent=published, name="large edit")
        edited = random.Random(2).sample(range(FRAMES), edits)
        for offset in range(0, edits, 5000):
            services.frames_add(user=owner, version=big, frames=[make_frame(i, "edited") for i in edited[offset:offset + 5000]])
    print(f"\ndraft child with {edits:,} frames edited, first answer (nothing kept), ms: derived / counted", flush=True)
    for name in ("conf 0.9-1 (10%)", "meta.weather:fog (33%)", "meta.speed:[10 TO 20] (9%)"):
        filters = parse_filters(FILTERS[name])
        derived, counted = first_answers(owner, big, filters, name), counted_ms(owner, big, filters)
        print(f"  {name:<28} statistics {derived[0]:7.1f}   count {derived[1]:7.1f}   counted {counted:8.1f}", flush=True)
    for key in ("rois.confidence", "speed"):
        derived = median_ms(lambda: stat_services.meta_distribution(user=owner, version=fresh(big), key=key), first=True, before=forget_masks)
        print(f"  distribution {key:<18} {derived:7.1f}", flush=True)


def published_draft_rows(owner, published):
    """A draft child with 100 frames edited whose filters were asked (derived answers), then published: the first
    answer of the version it became, carried over from the draft, against counting it (the cache emptied). Each run
    publishes a new child (published versions are kept)."""
    draft = services.version_create(user=owner, parent=published, name=f"carried {time.time():.0f}")
    services.frames_add(user=owner, version=draft, frames=[make_frame(i * 991 % FRAMES, "edited") for i in range(100)])
    asked = {name: parse_filters(raw) for name, raw in FILTERS.items() if raw}
    for filters in asked.values():
        stat_services.label_stats(user=owner, version=fresh(draft), filters=filters)
        stat_services.frames_count(user=owner, version=fresh(draft), filters=filters)
    start = time.perf_counter()
    services.version_publish(user=owner, version=fresh(draft))  # carries the answers once it commits
    print(f"\ndraft child (100 frames edited, its filters asked) published in {time.perf_counter() - start:.1f} s; "
          "the published version's first answer, ms: carried / counted", flush=True)
    for name, filters in asked.items():
        carried = [median_ms(lambda: ask(user=owner, version=fresh(draft), filters=filters), first=False, warm=False) for ask in (stat_services.label_stats, stat_services.frames_count)]
        counted = [median_ms(lambda: ask(user=owner, version=fresh(draft), filters=filters), first=True) for ask in (stat_services.label_stats, stat_services.frames_count)]
        print(f"  {name:<28} statistics {carried[0]:7.1f} / {counted[0]:7.1f}   count {carried[1]:7.1f} / {counted[1]:7.1f}", flush=True)


def warmed_rows(owner, published):
    """A draft child with 100 frames edited and nothing asked of it, published: the `stats_warm` job (run here, no
    worker in a bench) counts the filters asked of the dataset's versions before; then the published version's first
    answers, against counting them (the cache emptied)."""
    draft = services.version_create(user=owner, parent=published, name=f"warmed {time.time():.0f}")
    services.frames_add(user=owner, version=draft, frames=[make_frame(i * 983 % FRAMES, "edited") for i in range(100)])
    services.version_publish(user=owner, version=fresh(draft))
    start = time.perf_counter()
    warmed = stat_services.published_distributions_warm(user=owner, version_id=draft.pk)
    print(f"\ndraft child (100 frames edited, nothing asked of it) published; its stats_warm job: {warmed['panels']} panels and "
          f"{warmed['questions']} questions asked of the dataset before, in {time.perf_counter() - start:.1f} s; "
          "the published version's first answer, ms: warmed / counted", flush=True)
    for name, raw in FILTERS.items():
        if not raw:
            continue
        filters = parse_filters(raw)
        asks = (stat_services.label_stats, stat_services.frames_count)
        warm = [median_ms(lambda: ask(user=owner, version=fresh(draft), filters=filters), first=False, warm=False) for ask in asks]
        counted = [median_ms(lambda: ask(user=owner, version=fresh(draft), filters=filters), first=True) for ask in asks]
        print(f"  {name:<28} statistics {warm[0]:7.1f} / {counted[0]:7.1f}   count {warm[1]:7.1f} / {counted[1]:7.1f}", flush=True)


def speed_panel(*, user, version, filters):
    return stat_services.meta_distribution(user=user, version=version, key="speed", filters=filters)


def after_write_rows(owner, published, draft):
    """The large draft's first answers right after an annotator's write of 100 frames (its parent's answers known,
    the same questions answered in the state before the write, so its changes and what its replaced frames
    contribute are kept), in the order the tabs ask them: the Statistics tab's labels, the Frames tab's count, a
    metadata panel (`speed`); median of RUNS writes."""
    print(f"\nlarge draft, first answer after a write of 100 frames (parent known), median of {RUNS}, ms:", flush=True)
    asks = {"statistics": stat_services.label_stats, "count": stat_services.frames_count, "speed panel": speed_panel}
    for name, raw in FILTERS.items():
        filters = parse_filters(raw)
        for ask in asks.values():  # the parent's answers, known
            ask(user=owner, version=fresh(published), filters=filters)
        samples = {what: [] for what in asks}
        for run in range(RUNS):
            for ask in asks.values():  # the tabs' answers in the state before the write
                ask(user=owner, version=fresh(draft), filters=filters)
            services.frames_add(user=owner, version=fresh(draft), frames=[make_frame((run * 100 + i) * 7919 % FRAMES, "edited") for i in range(100)])
            for what, ask in asks.items():
                start = time.perf_counter()
                ask(user=owner, version=fresh(draft), filters=filters)
                samples[what].append((time.perf_counter() - start) * 1000)
        print(f"  {name:<28} " + "   ".join(f"{what} {statistics.median(times):7.1f}" for what, times in samples.items()), flush=True)


def main():
    owner, _ = User.objects.get_or_create(username="bench-stats", defaults={"is_staff": True, "is_superuser": True})
    published, draft = build(owner)
    published, draft = fresh(published), fresh(draft)
    columns_ready(owner, published)
    if os.environ.get("BENCH_ONLY") == "patterns":
        return pattern_rows(owner, published, draft)
    if os.environ.get("BENCH_ONLY") == "large-edit":
        return large_edit_rows(owner, published)
    assert draft.stats is not None, "the draft keeps no counts"
    assert stat_selectors.label_stats(user=owner, version=draft) == stat_selectors.counted_label_stats(user=owner, version=draft)
    print(f"\n{FRAMES:,} frames; draft {draft.frame_count:,} frames. Median of {RUNS} runs, ms.")
    header = (f"{'filter':<28} {'old: counted':>13} {'draft first':>12} {'parent known':>13} {'draft cached':>13} {'pub first':>10} {'pub cached':>11} "
              f"{'count first':>12} {'parent known':>13} {'count cached':>13}")
    print(header)
    rows = []
    only = [name.strip() for name in os.environ.get("BENCH_FILTERS", "").split(",") if name.strip()]
    for name, raw in FILTERS.items():
        if only and not any(name.startswith(prefix) for prefix in only):
            continue
        filters = parse_filters(raw)
        old = median_ms(lambda: stat_selectors.counted_label_stats(user=owner, version=draft, filters=filters), first=True)
        draft_first = median_ms(lambda: stat_services.label_stats(user=owner, version=fresh(draft), filters=filters), first=True)
        draft_derived = median_ms(lambda: stat_services.label_stats(user=owner, version=fresh(draft), filters=filters), first=True,
                                  before=lambda: stat_services.label_stats(user=owner, version=fresh(published), filters=filters))
        draft_cached = median_ms(lambda: stat_services.label_stats(user=owner, version=fresh(draft), filters=filters), first=False)
        pub_first = median_ms(lambda: stat_services.label_stats(user=owner, version=fresh(published), filters=filters), first=True,
                              before=forget_masks)
        pub_cached = median_ms(lambda: stat_services.label_stats(user=owner, version=fresh(published), filters=filters), first=False)
        count_first = median_ms(lambda: stat_services.frames_count(user=owner, version=fresh(draft), filters=filters), first=True)
        count_derived = median_ms(lambda: stat_services.frames_count(user=owner, version=fresh(draft), filters=filters), first=True,
                                  before=lambda: stat_services.frames_count(user=owner, version=fresh(published), filters=filters))
        count_cached = median_ms(lambda: stat_services.frames_count(user=owner, version=fresh(draft), filters=filters), first=False)
        row = (name, old, draft_first, draft_derived, draft_cached, pub_first, pub_cached, count_first, count_derived, count_cached)
        rows.append(row)
        print(f"{name:<28} {old:>13.1f} {draft_first:>12.1f} {draft_derived:>13.1f} {draft_cached:>13.1f} {pub_first:>10.1f} {pub_cached:>11.1f} "
              f"{count_first:>12.1f} {count_derived:>13.1f} {count_cached:>13.1f}   (draft, parent known: x{old / draft_derived:,.1f})", flush=True)
    fog = parse_filters(FILTERS["meta.weather:fog (33%)"])
    for key in ("rois.confidence", "rois.meta.area", "speed", "weather"):
        first = median_ms(lambda: stat_services.meta_distribution(user=owner, version=fresh(draft), key=key), first=True)
        derived = median_ms(lambda: stat_services.meta_distribution(user=owner, version=fresh(draft), key=key), first=True,
                            before=lambda: stat_services.meta_distribution(user=owner, version=fresh(published), key=key))
        cached = median_ms(lambda: stat_services.meta_distribution(user=owner, version=fresh(draft), key=key), first=False)
        published_first = median_ms(lambda: stat_services.meta_distribution(user=owner, version=fresh(published), key=key, filters=fog), first=True)
        assert stat_services.meta_distribution(user=owner, version=fresh(draft), key=key) == (
            stat_selectors.meta_distribution if "." not in key else roi_selectors.roi_distribution)(user=owner, version=fresh(draft), key=key)
        print(f"distribution {key:<18} draft first {first:8.1f}   parent known {derived:8.1f}   cached {cached:6.1f}   "
              f"published, under fog, first {published_first:8.1f}", flush=True)
    pattern_rows(owner, published, draft)
    large_edit_rows(owner, published)
    small_draft_rows(owner, published)
    published_draft_rows(owner, published)
    warmed_rows(owner, published)
    after_write_rows(owner, published, draft)
    write = median_ms(lambda: services.frames_add(user=owner, version=fresh(draft), frames=[make_frame(i, "edited") for i in range(100)]), first=False)
    print(f"frames_add of 100 frames to the draft (counts kept in the same transaction): {write:.1f} ms")
    print("\nREADME rows:")
    for row in rows:
        print("| " + " | ".join([row[0], *(f"{v:,.0f}" if v >= 10 else f"{v:.1f}" for v in row[1:])]) + " |")


if __name__ == "__main__":
    main()
