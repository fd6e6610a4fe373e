"""Read paths: what a version shows, browsed, grouped and counted.

A version's view is every revision in its lineage that no nearer revision (or tombstone) of the same frame id
replaces. Pages use keyset cursors over the (dataset, sort keys, frame_id) indexes, so page 10,000 costs what
page 1 costs.
"""
from __future__ import annotations

import base64
import hashlib
import json
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from datetime import timezone as dt_timezone

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Count, Exists, F, Min, OuterRef, Q, QuerySet
from django.db.models.fields.json import KeyTransform

from .exceptions import NotFound, ServiceError
from .filters import FrameFilter, filters_q
from .models import Dataset, DatasetVersion, FrameRevision, RoiLabel

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
META_SORT_ALIAS = "_sort_meta"
CONTEXT_TALLY_SECONDS = 24 * 3600
PROGRESS_FRESH_SECONDS = 10  # a large version's preview count older than this is counted again when asked
PROGRESS_QUEUED_SECONDS = 600  # a queued count that never ran (worker down) is queued again after this
PROGRESS_KEEP_SECONDS = 7 * 24 * 3600
SORT_FIELDS = {
    "context": ("context_id", "timestamp", "frame_id"),
    "id": ("frame_id",),
    "timestamp": ("timestamp", "frame_id"),
    "saved": ("saved", "frame_id"),
}


# -- datasets and versions -------------------------------------------------------------------------------


def datasets_list(*, search: str = "") -> QuerySet[Dataset]:
    qs = Dataset.objects.all()
    if search:
        qs = qs.filter(Q(name__icontains=search) | Q(id=search) | Q(description__icontains=search) | Q(tags__icontains=search))
    return qs.order_by("name")


def dataset_get(*, dataset_id: str) -> Dataset:
    try:
        return Dataset.objects.get(pk=dataset_id)
    except Dataset.DoesNotExist:
        raise NotFound(f"no dataset with id {dataset_id!r}", field="dataset") from None


def version_get(*, version_id: str) -> DatasetVersion:
    try:
        return DatasetVersion.objects.select_related("dataset").get(pk=version_id)
    except DatasetVersion.DoesNotExist:
        raise NotFound(f"no version with id {version_id!r}", field="version") from None


def versions_list(*, dataset: Dataset) -> QuerySet[DatasetVersion]:
    return dataset.versions.order_by("seq")


# -- the version view --------------------------------------------------------------------------------------


def visible_frames(*, version: DatasetVersion) -> QuerySet[FrameRevision]:
    """The revisions that make up `version`: the nearest one per frame id in its lineage, tombstones hidden."""
    qs = FrameRevision.objects.filter(dataset_id=version.dataset_id, deleted=False)
    lineage = version.lineage
    if len(lineage) == 1:
        return qs.filter(version_seq=lineage[0])
    nearer = FrameRevision.objects.filter(
        dataset_id=version.dataset_id,
        frame_id=OuterRef("frame_id"),
        version_seq__in=lineage,
        version_seq__gt=OuterRef("version_seq"),
    )
    return qs.filter(version_seq__in=lineage).filter(~Exists(nearer))


def filtered_frames(*, version: DatasetVersion, filters: list[FrameFilter] | None = None) -> QuerySet[FrameRevision]:
    qs = visible_frames(version=version)
    q = filters_q(filters or [])
    return qs.filter(q) if q is not None else qs


def frame_get(*, version: DatasetVersion, frame_id: str) -> FrameRevision:
    revision = visible_frames(version=version).filter(frame_id=frame_id).first()
    if revision is None:
        raise NotFound(f"no frame with id {frame_id!r} in version {version.id}", field="frame_id")
    return revision


def latest_revisions(*, version: DatasetVersion, frame_ids: list[str], lineage=None) -> dict[str, FrameRevision]:
    """For each id, the nearest revision in the lineage, tombstones included (for write paths)."""
    lineage = version.lineage if lineage is None else lineage
    if not lineage or not frame_ids:
        return {}
    rows = FrameRevision.objects.filter(
        dataset_id=version.dataset_id, frame_id__in=frame_ids, version_seq__in=lineage
    ).order_by("frame_id", "-version_seq")
    latest = {}
    for row in rows:
        latest.setdefault(row.frame_id, row)
    return latest


def frames_count(*, version: DatasetVersion, filters: list[FrameFilter] | None = None) -> int:
    if not filters or filters_q(filters) is None:
        return version.frame_count
    return filtered_frames(version=version, filters=filters).count()


def frame_to_dict(revision: FrameRevision, *, version_id: str) -> dict:
    """The frame in ClearML's JSON form, with the server's fields."""
    return {
        "id": revision.frame_id,
        "context_id": revision.context_id,
        "timestamp": revision.timestamp,
        "num_frames": revision.num_frames,
        "meta": revision.meta,
        "sources": revision.sources,
        "rois": revision.rois,
        "saved": revision.saved,
        "saved_in_version": revision.version_id,
        "dataset": {"id": revision.dataset_id, "version": version_id},
    }


def frames_to_dicts(revisions, *, version_id: str) -> list[dict]:
    """Frames as the API and UI show them: with the previews the workers made (one query for all)."""
    from .previews import attach_previews

    return attach_previews([frame_to_dict(r, version_id=version_id) for r in revisions])


def previews_progress(*, version: DatasetVersion) -> dict:
    """done / failed / pending renditions of the version's frames, `as_of` when they were counted, and
    `counting` while a newer count is on its way.

    Counting reads every frame's sources (~45 s at a million frames). Up to HYPERDATA_PROGRESS_SYNC_FRAMES
    frames that happens here; above, a worker counts (`count_previews`) and this answers its latest count at
    once, queueing a new one when that count is older than PROGRESS_FRESH_SECONDS. Before the first count of
    a large version there are no figures yet: `counting` is true and the counts are None.
    """
    if version.frame_count <= settings.HYPERDATA_PROGRESS_SYNC_FRAMES:
        return {**count_previews(version=version), "as_of": _iso(time.time()), "counting": False}
    latest = cache.get(_progress_key(version.pk))
    stale = latest is None or time.time() - latest["counted_at"] > PROGRESS_FRESH_SECONDS
    counting = stale and _queue_progress(version.pk)
    if latest is None:
        return {"total": None, "done": None, "failed": None, "pending": None, "as_of": None, "counting": counting}
    figures = {k: latest[k] for k in ("total", "done", "failed", "pending")}
    return {**figures, "as_of": _iso(latest["counted_at"]), "counting": counting}


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, tz=dt_timezone.utc).isoformat()


def count_previews(*, version: DatasetVersion) -> dict:
    """Count the version's renditions by status now (reads every frame's sources)."""
    from .previews import previews_progress as progress

    return progress({"sources": sources} for sources in visible_frames(version=version).values_list("sources", flat=True).iterator(chunk_size=2000))


def store_preview_count(*, version_id: str) -> None:
    """What a worker runs for a large version: count, and keep the count for `previews_progress`."""
    counted = count_previews(version=DatasetVersion.objects.get(pk=version_id))
    cache.set(_progress_key(version_id), {**counted, "counted_at": time.time()}, PROGRESS_KEEP_SECONDS)
    cache.delete(_progress_key(version_id) + ":queued")


def _progress_key(version_id: str) -> str:
    return f"previews-progress:{version_id}"


def _queue_progress(version_id: str) -> bool:
    """Queue a count unless one is queued already; False when no worker can be asked (no broker)."""
    if not cache.add(_progress_key(version_id) + ":queued", 1, PROGRESS_QUEUED_SECONDS):
        return True
    from .tasks import count_previews as count_task

    try:
        count_task.apply_async(args=[version_id], retry=False)
        return True
    except Exception:  # no broker: the last count stays the answer
        cache.delete(_progress_key(version_id) + ":queued")
        return False


# -- browsing with keyset cursors ------------------------------------------------------------------------


@contextmanager
def _index_order_for_blind_filters(filters: list[FrameFilter] | None):
    """PostgreSQL has no statistics for JSON keys, guesses that `meta.weather:fog` matches almost nothing,
    and then sorts the whole version instead of walking the ordered index until a page is full (2 s
    instead of 40 ms at a million frames). For Lucene rules, tell it to walk the index."""
    blind = connection.vendor == "postgresql" and any(f.frame_query or f.sources_query for f in filters or [])
    if not blind:
        yield
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("SET LOCAL enable_hashagg = off")
        yield


@dataclass
class FramePage:
    frames: list[FrameRevision]
    next_cursor: str | None


def encode_cursor(payload) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, *, expect_len: int | None = None):
    try:
        payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except ValueError:
        raise ServiceError("not a cursor this server issued", field="cursor") from None
    if expect_len is not None and (not isinstance(payload, list) or len(payload) != expect_len):
        raise ServiceError("the cursor belongs to another sort order", field="cursor")
    return payload


def _meta_sort_keys(sort: str) -> list[str] | None:
    keys = sort[5:].split(".") if sort.startswith("meta.") else []
    return keys if keys and all(keys) else None


def _sort_names(sort: str) -> list[str]:
    """The ordering columns of a sort key; metadata keys sort by their JSON value (aliased)."""
    if sort in SORT_FIELDS:
        return list(SORT_FIELDS[sort])
    if _meta_sort_keys(sort):
        return [META_SORT_ALIAS, "frame_id"]
    raise ServiceError(f"unknown sort {sort!r}: use {', '.join(SORT_FIELDS)} or meta.<key>", field="sort")


def _after(names: list[str], values: list, *, descending: bool) -> Q:
    """Rows strictly after `values` in `names` order: a >= va AND (a > va OR (a = va AND (b > vb ...))).

    The leading `a >= va` lets the database start its index scan at the cursor instead of filtering.
    """
    if names[0] == META_SORT_ALIAS:
        return _after_meta(values, descending=descending)
    strict, loose = ("lt", "lte") if descending else ("gt", "gte")
    tail = Q(**{f"{names[-1]}__{strict}": values[-1]})
    for name, value in zip(reversed(names[:-1]), reversed(values[:-1])):
        tail = Q(**{f"{name}__{strict}": value}) | (Q(**{name: value}) & tail)
    return Q(**{f"{names[0]}__{loose}": values[0]}) & tail if len(names) > 1 else tail


def _after_meta(values: list, *, descending: bool) -> Q:
    """Keyset on a metadata key; frames without the key come last in either direction."""
    value, last_id = values
    strict = "lt" if descending else "gt"
    id_after = Q(**{f"frame_id__{strict}": last_id})
    missing = Q(**{f"{META_SORT_ALIAS}__isnull": True})
    if value is None:
        return missing & id_after
    return Q(**{f"{META_SORT_ALIAS}__{strict}": value}) | (Q(**{META_SORT_ALIAS: value}) & id_after) | missing


def frames_browse(
    *,
    version: DatasetVersion,
    filters: list[FrameFilter] | None = None,
    sort: str = "context",
    descending: bool = False,
    cursor: str | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
) -> FramePage:
    names = _sort_names(sort)
    qs = filtered_frames(version=version, filters=filters)
    if names[0] == META_SORT_ALIAS:
        expr = F("meta")
        for key in _meta_sort_keys(sort):
            expr = KeyTransform(key, expr)
        qs = qs.alias(**{META_SORT_ALIAS: expr})
    ordering = [_order(n, descending) for n in names]
    if cursor:
        qs = qs.filter(_after(names, decode_cursor(cursor, expect_len=len(names)), descending=descending))
    limit = max(1, min(int(limit), MAX_PAGE_SIZE))
    with _index_order_for_blind_filters(filters):
        rows = list(qs.order_by(*ordering)[: limit + 1])
    if len(rows) <= limit:
        return FramePage(rows, None)
    rows = rows[:limit]
    return FramePage(rows, encode_cursor(cursor_values(rows[-1], sort)))


def _order(name: str, descending: bool):
    """Frame columns are NOT NULL, so their plain order matches the indexes (in both directions); only a
    metadata key can be missing, and missing keys go last."""
    nulls_last = True if name == META_SORT_ALIAS else None
    return F(name).desc(nulls_last=nulls_last) if descending else F(name).asc(nulls_last=nulls_last)


def cursor_values(row: FrameRevision, sort: str) -> list:
    """The sort key of `row`: a cursor of these values makes a page start right after it."""
    names = _sort_names(sort)
    if names[0] != META_SORT_ALIAS:
        return [getattr(row, n) for n in names]
    value = row.meta
    for key in _meta_sort_keys(sort):
        value = value.get(key) if isinstance(value, dict) else None
    return [value, row.frame_id]


# -- Group by URL ------------------------------------------------------------------------------------------


@dataclass
class ContextRow:
    context_id: str
    frame_count: int
    first_frame: FrameRevision


@dataclass
class ContextPage:
    contexts: list[ContextRow]
    next_cursor: str | None


def contexts_list(
    *,
    version: DatasetVersion,
    filters: list[FrameFilter] | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
) -> ContextPage:
    """One row per context_id (in context_id order) with its frame count and first frame by timestamp."""
    frames = filtered_frames(version=version, filters=filters)
    limit = max(1, min(int(limit), MAX_PAGE_SIZE))
    tally = lambda: _context_tally(frames, filters, cursor, limit)  # noqa: E731
    if version.is_published:
        # A published version never changes, so its Group-by-URL tallies are computed once per page.
        key = "contexts:" + hashlib.sha256(repr((version.id, filters, cursor, limit)).encode()).hexdigest()
        rows = cache.get_or_set(key, tally, CONTEXT_TALLY_SECONDS)
    else:
        rows = tally()
    next_cursor = encode_cursor([rows[limit - 1]["context_id"]]) if len(rows) > limit else None
    contexts = [ContextRow(r["context_id"], r["frame_count"], r["first_frame"]) for r in rows[:limit]]
    return ContextPage(contexts, next_cursor)


def _context_tally(frames, filters, cursor, limit) -> list[dict]:
    """[{context_id, frame_count, first_frame}] for up to limit + 1 contexts after the cursor."""
    groups = frames.values("context_id").annotate(frame_count=Count("pk"), first_ts=Min("timestamp"))
    if cursor:
        groups = groups.filter(context_id__gt=decode_cursor(cursor, expect_len=1)[0])
    with _index_order_for_blind_filters(filters):
        rows = list(groups.order_by("context_id")[: limit + 1])
    firsts = _first_frames(frames, rows[:limit])
    return [{**row, "first_frame": firsts[row["context_id"]]} for row in rows[:limit]] + rows[limit:]


def _first_frames(frames: QuerySet[FrameRevision], groups: list[dict]) -> dict[str, FrameRevision]:
    if not groups:
        return {}
    q = Q()
    for group in groups:
        q |= Q(context_id=group["context_id"], timestamp=group["first_ts"])
    firsts = {}
    for row in frames.filter(q).order_by("context_id", "timestamp", "frame_id"):
        firsts.setdefault(row.context_id, row)
    return firsts


# -- statistics ----------------------------------------------------------------------------------------------


def version_stats(*, version: DatasetVersion, filters: list[FrameFilter] | None = None) -> dict:
    """Frame count, annotated frames, and per label the number of ROIs and of frames carrying it.

    A published version never changes, so its unfiltered statistics are computed once: at publishing, or
    by a worker right after it for large versions (until then they are computed here).
    """
    if not filters and version.is_published and version.stats is not None:
        return version.stats
    return compute_version_stats(version=version, filters=filters)


def compute_version_stats(*, version: DatasetVersion, filters: list[FrameFilter] | None = None) -> dict:
    with _parallel_scans():
        return _version_stats(version=version, filters=filters)


@contextmanager
def _parallel_scans():
    """Statistics read every frame of a version: let PostgreSQL use its parallel workers, which web connections
    have turned off for their short queries (a million frames: 15 s -> 7 s)."""
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL max_parallel_workers_per_gather = 2")
        yield


def _version_stats(*, version: DatasetVersion, filters: list[FrameFilter] | None = None) -> dict:
    frames = filtered_frames(version=version, filters=filters)
    label_rows = RoiLabel.objects.filter(revision__in=frames.values("pk"))
    by_label: dict[str, dict] = {}
    for row in label_rows.values("label").annotate(frames=Count("revision", distinct=True)).order_by():
        by_label[row["label"]] = {"label": row["label"], "roi_count": 0, "frame_count": row["frames"], "frame_label_count": 0}
    for row in label_rows.values("label", "is_frame_label").annotate(n=Count("pk")).order_by():
        by_label[row["label"]]["frame_label_count" if row["is_frame_label"] else "roi_count"] += row["n"]
    annotated = frames.filter(Exists(RoiLabel.objects.filter(revision=OuterRef("pk")))).count()
    total = frames_count(version=version, filters=filters)
    return {
        "frame_count": total,
        "annotated_frame_count": annotated,
        "labels": sorted(by_label.values(), key=lambda e: (-e["frame_count"], e["label"])),
    }
