"""What a version shows: one frame, pages of frames in any order, counts, and every frame page by page.

A version's view is every revision in its lineage that no nearer revision (or tombstone) of the same frame id
replaces (FrameRevision.objects.visible_in). Pages use keyset cursors over the (dataset, sort keys, frame_id)
indexes, so page 10,000 costs what page 1 costs.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

from django.db import connection, transaction
from django.db.models import F, Q
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan
from django.db.models.lookups import IsNull

from ..exceptions import NotFound
from ..filters import filtering, frames_matching
from ..models import DatasetVersion, FrameRevision
from .access import VIEWER, require
from .query import META_SORT_ALIAS, FrameQuery, decode_cursor, encode_cursor, json_sort_expression, json_sort_value, sort_columns
from .sampling import Sample, sampled

EXPORT_PAGE_SIZE = 1000


@dataclass
class FramePage:
    frames: list[FrameRevision]
    next_cursor: str | None


def frame_get(*, user, version: DatasetVersion, frame_id: str) -> FrameRevision:
    require(user, version, VIEWER)
    revision = FrameRevision.objects.visible_in(version).filter(frame_id=frame_id).first()
    if revision is None:
        raise NotFound(f"no frame with id {frame_id!r} in version {version.id}", field="frame_id")
    return revision


def frames_count(*, user, version: DatasetVersion, filters=(), changed: str = "", sample: Sample | None = None) -> int:
    """Frames of the version the filters (and `changed`, and the `sample`) match; O(1) without filters (the
    count is kept on the version)."""
    require(user, version, VIEWER)
    if not filtering(filters) and not changed and not sample:
        return version.frame_count
    rows = frames_matching(version, filters, changed=changed)
    return (sampled(rows, sample) if sample else rows).count()


def frame_to_dict(revision: FrameRevision, *, version_id: str) -> dict:
    """The frame in ClearML's JSON form, with the server's fields (the stored frame, no previews)."""
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


# -- pages with keyset cursors ------------------------------------------------------------------------------


@contextmanager
def index_order_for(filters):
    """PostgreSQL has no statistics for JSON keys, guesses that `meta.weather:fog` matches almost nothing,
    and then sorts the whole version instead of walking the ordered index until a page is full (2 s
    instead of 40 ms at a million frames). For Lucene rules, tell it to walk the index."""
    blind = connection.vendor == "postgresql" and any(f.frame_query or f.sources_query for f in filters or ())
    if not blind:
        yield
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("SET LOCAL enable_hashagg = off")
        yield


def frames_browse(*, user, version: DatasetVersion, query: FrameQuery) -> FramePage:
    """One page of the version's frames that the query's filters match, in its order, after its cursor."""
    require(user, version, VIEWER)
    after = decode_cursor(query.cursor, sort_columns(query.sort)) if query.cursor else None
    parts = ordered_parts(query_rows(version, query), query.sort, after, descending=query.descending)
    with index_order_for(query.filters):
        rows = first_rows(parts, query.limit + 1)
    if len(rows) <= query.limit:
        return FramePage(rows, None)
    rows = rows[: query.limit]
    return FramePage(rows, cursor_of(rows[-1], sort=query.sort))


def ordered_parts(rows, sort: str, after: list | None, *, descending: bool) -> list:
    """`rows` after the sort key `after` (None: from the start) in `sort` order, as querysets to read one after
    the other (first_rows). A sort on columns is one query. A JSON sort is two: the frames with the value, then
    those without it. Frames without come last in both directions, and no single ORDER BY with that rule can
    walk an ascending (width, frame_id) index (services.size_indexes) backwards: split, each part seeks in it."""
    names = sort_columns(sort)
    if names[0] != META_SORT_ALIAS:
        if after is not None:
            rows = rows.filter(keyset_after(names, after, descending=descending))
        return [rows.order_by(*(keyset_order(name, descending) for name in names))]
    value_of = json_sort_expression(sort)
    rows = rows.alias(**{META_SORT_ALIAS: value_of})
    # One order for both parts (the value is NULL throughout the second): a size index, (value, frame_id), then
    # serves the second part too, where the planner would otherwise walk the frame-id index past every frame
    # with the value. NULLS FIRST when descending: what a backward walk of that ascending index gives.
    value_order = F(META_SORT_ALIAS).desc(nulls_first=True) if descending else F(META_SORT_ALIAS).asc(nulls_last=True)
    order = (value_order, F("frame_id").desc() if descending else F("frame_id").asc())
    missing = rows.filter(IsNull(value_of, True)).order_by(*order)
    if after is not None and after[0] is None:  # the cursor is already among the frames without the value
        return [missing.filter(**{f"frame_id__{'lt' if descending else 'gt'}": after[1]})]
    valued = rows.filter(IsNull(value_of, False))
    if after is not None:
        valued = valued.filter(row_after([META_SORT_ALIAS, "frame_id"], after, descending=descending))
    return [valued.order_by(*order), missing]


def first_rows(parts: list, count: int) -> list:
    """The first `count` rows of ordered_parts' querysets read in turn (a later part only when needed)."""
    rows = []
    for part in parts:
        if len(rows) >= count:
            break
        rows += list(part[: count - len(rows)])
    return rows


def query_rows(version: DatasetVersion, query: FrameQuery):
    """The revisions the query's filters, `changed` and `min_confidence` match, unordered (access is the
    caller's); with a sample, the frames it picks of those."""
    rows = frames_matching(version, query.filters, changed=query.changed, min_confidence=query.min_confidence)
    return sampled(rows, query.sample) if query.sample else rows


def frame_pages(*, user, version: DatasetVersion, query: FrameQuery, first: FramePage | None = None) -> Iterator[list[FrameRevision]]:
    """Every frame the query matches, in its order, one keyset page at a time (constant memory).

    `first` is the first page when the caller fetched it already (to fail on bad input before streaming).
    """
    page = first or frames_browse(user=user, version=version, query=query)
    while True:
        yield page.frames
        if not page.next_cursor:
            return
        page = frames_browse(user=user, version=version, query=query.page(cursor=page.next_cursor))


def keyset_after(names: list[str], values: list, *, descending: bool) -> Q:
    """Rows strictly after `values` in `names` order, as one condition (frame columns: NOT NULL, all one
    direction; a JSON sort's missing values last). Pages seek with ordered_parts instead."""
    if names[0] == META_SORT_ALIAS:
        return _after_meta(values, descending=descending)
    return row_after(names, values, descending=descending)


def row_after(names: list[str], values: list, *, descending: bool) -> Q:
    """Rows strictly after `values` in `names` order (no NULLs among them).

    PostgreSQL gets a row comparison, (a, b) > (va, vb), which its index scan starts at: the expanded form only
    lets it start at `a >= va` and then walk every row with a = va (a version's every frame, in timestamp
    order, when its images all have timestamp 0). Databases without row comparisons get the expanded form.
    """
    if len(names) > 1 and connection.features.supports_tuple_lookups:
        after = TupleLessThan if descending else TupleGreaterThan
        return Q(after(Tuple(*(F(name) for name in names)), list(values)))
    return expanded_after(names, values, descending=descending)


def expanded_after(names: list[str], values: list, *, descending: bool) -> Q:
    """a >= va AND (a > va OR (a = va AND (b > vb ...))): the leading `a >= va` lets the database start its
    index scan at the cursor's first value instead of filtering."""
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
    missing = Q(IsNull(F(META_SORT_ALIAS), True))  # SQL NULL; `__isnull` on a JSON key would test for the key
    if value is None:
        return missing & id_after
    return Q(**{f"{META_SORT_ALIAS}__{strict}": value}) | (Q(**{META_SORT_ALIAS: value}) & id_after) | missing


def keyset_order(name: str, descending: bool):
    """Frame columns are NOT NULL, so their plain order matches the indexes (in both directions); only a
    metadata key can be missing, and missing keys go last."""
    nulls_last = True if name == META_SORT_ALIAS else None
    return F(name).desc(nulls_last=nulls_last) if descending else F(name).asc(nulls_last=nulls_last)


def sort_values(row: FrameRevision, sort: str) -> list:
    """The sort key of `row`: a cursor of these values makes a page start right after it."""
    names = sort_columns(sort)
    if names[0] != META_SORT_ALIAS:
        return [getattr(row, n) for n in names]
    return [json_sort_value(row, sort), row.frame_id]


def cursor_of(row: FrameRevision, *, sort: str) -> str:
    """The keyset cursor that makes `frames_browse` start right after `row`."""
    return encode_cursor(sort_values(row, sort))
