"""Group by URL and the walks of the frame browser beyond plain pages: one row per context with its frame count
and first frame, a context's frames in timestamp order (the film strip), the page before a keyset cursor
(Previous), and the neighbours of one frame.

All of them are keyset queries over the same indexes as `frames.frames_browse`, so their cost does not depend
on how deep in a million-frame version they are; none of them uses OFFSET.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from django.db.models import Count, Min, Q, QuerySet

from ..models import DatasetVersion, FrameRevision
from .access import VIEWER, require
from .frames import cursor_of, frames_browse, index_order_for, query_rows, sort_values
from .query import CONTEXT_CURSOR, STRIP_CURSOR, FrameQuery, decode_cursor, encode_cursor, json_sort_path

CONTEXT_PAGE_SIZE = 500


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


def contexts_list(*, user, version: DatasetVersion, query: FrameQuery) -> ContextPage:
    """One row per context_id (in context_id order) with its frame count and first frame by timestamp, for
    the contexts after `query.cursor` that hold frames the filters match."""
    require(user, version, VIEWER)
    frames = query_rows(version, query)
    groups = frames.values("context_id").annotate(frame_count=Count("pk"), first_ts=Min("timestamp"))
    if query.cursor:
        groups = groups.filter(context_id__gt=decode_cursor(query.cursor, CONTEXT_CURSOR)[0])
    with index_order_for(query.filters):
        rows = list(groups.order_by("context_id")[: query.limit + 1])
    firsts = _first_frames(frames, rows[: query.limit])
    contexts = [ContextRow(r["context_id"], r["frame_count"], firsts[r["context_id"]]) for r in rows[: query.limit]]
    next_cursor = encode_cursor([contexts[-1].context_id]) if len(rows) > query.limit else None
    return ContextPage(contexts, next_cursor)


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


@dataclass
class ContextsBefore:
    exists: bool
    cursor: str | None  # the cursor of the page before; None when that page is the first one


def contexts_before(*, user, version: DatasetVersion, context_id: str, query: FrameQuery) -> ContextsBefore:
    """Where the Group-by-URL page before the one starting at `context_id` starts (a reverse keyset walk)."""
    require(user, version, VIEWER)
    with index_order_for(query.filters):
        rows = list(
            query_rows(version, query)
            .filter(context_id__lt=context_id)
            .order_by("-context_id")
            .values_list("context_id", flat=True)
            .distinct()[: query.limit + 1]
        )
    if not rows:
        return ContextsBefore(False, None)
    if len(rows) <= query.limit:
        return ContextsBefore(True, None)
    return ContextsBefore(True, encode_cursor([rows[query.limit]]))


# -- a context's frames (Group by URL -> film strip) ------------------------------------------------------


@dataclass
class ContextFramesPage:
    frames: list[FrameRevision]
    next_cursor: str | None
    total: int


def context_frames(*, user, version: DatasetVersion, context_id: str, query: FrameQuery) -> ContextFramesPage:
    """The frames of one context that the filters match, in (timestamp, frame_id) order, a keyset page at a
    time, and how many there are in all.

    Served by the (dataset, context_id, timestamp, frame_id) index; the filters are the browser's current
    ones, so the strip shows the same frames the Group-by-URL tile counted.
    """
    require(user, version, VIEWER)
    frames = query_rows(version, query).filter(context_id=context_id)
    qs = frames
    if query.cursor:
        timestamp, frame_id = decode_cursor(query.cursor, STRIP_CURSOR)
        qs = qs.filter(Q(timestamp__gte=timestamp) & (Q(timestamp__gt=timestamp) | Q(frame_id__gt=frame_id)))
    with index_order_for(query.filters):
        rows = list(qs.order_by("timestamp", "frame_id")[: query.limit + 1])
    if len(rows) <= query.limit:
        total = len(rows) if not query.cursor else frames.count()
        return ContextFramesPage(rows, None, total)
    rows = rows[: query.limit]
    return ContextFramesPage(rows, encode_cursor([rows[-1].timestamp, rows[-1].frame_id]), frames.count())


# -- the rows before a row (Previous page, previous frame) ---------------------------------------------------


def rows_before(*, user, version: DatasetVersion, row: FrameRevision, query: FrameQuery, limit: int) -> list[FrameRevision]:
    """Up to `limit` rows that come just before `row` in the query's order, nearest first.

    A keyset walk in the opposite direction. JSON sorts (metadata, source size) put frames without the value
    last in either direction, so their reverse walk is stitched from two keyset queries (the key-less tail, then the rest).
    """
    reverse = replace(query, descending=not query.descending, cursor=cursor_of(row, sort=query.sort), limit=limit)

    def walk(q: FrameQuery) -> list[FrameRevision]:
        return frames_browse(user=user, version=version, query=q).frames

    if json_sort_path(query.sort) is None:
        return walk(reverse)
    if _key_value(row, query.sort) is not None:
        # Frames without the key follow every frame with it; once the reverse walk reaches one, the start
        # of the order is behind us.
        return [r for r in walk(reverse) if _key_value(r, query.sort) is not None]
    # `row` is in the key-less tail (ordered by frame_id): first the key-less frames before it, then the
    # frames with the key from the far end of the order.
    tail = [r for r in walk(reverse) if _key_value(r, query.sort) is None]
    if len(tail) >= limit:
        return tail[:limit]
    with_key = walk(reverse.page(cursor=None, limit=limit - len(tail)))
    return tail + [r for r in with_key if _key_value(r, query.sort) is not None]


def _key_value(row: FrameRevision, sort: str):
    return sort_values(row, sort)[0]


def previous_page_cursor(*, user, version: DatasetVersion, first_row: FrameRevision, query: FrameQuery) -> tuple[bool, str | None]:
    """(has a previous page, its cursor): the cursor is None when the previous page is the first one."""
    before = rows_before(user=user, version=version, row=first_row, query=query, limit=query.limit + 1)
    if not before:
        return False, None
    if len(before) <= query.limit:
        return True, None
    return True, cursor_of(before[query.limit], sort=query.sort)


@dataclass
class Neighbours:
    previous: FrameRevision | None
    next: FrameRevision | None


def frame_neighbours(*, user, version: DatasetVersion, frame: FrameRevision, query: FrameQuery) -> Neighbours:
    """The frames before and after `frame` in the browser's current filter and order."""
    after = frames_browse(user=user, version=version, query=query.page(cursor=cursor_of(frame, sort=query.sort), limit=1)).frames
    before = rows_before(user=user, version=version, row=frame, query=query, limit=1)
    return Neighbours(previous=before[0] if before else None, next=after[0] if after else None)
