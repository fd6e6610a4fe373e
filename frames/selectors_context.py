"""Read paths of the frame browser beyond plain pages: a context's frames in timestamp order (the film strip),
the page before a keyset cursor (Previous), the neighbours of one frame, and a streamed walk of every frame.

All of them are keyset queries over the same indexes as `selectors.frames_browse`, so their cost does not
depend on how deep in a million-frame version they are; none of them uses OFFSET or counts rows.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from django.db.models import Q

from . import selectors
from .filters import FrameFilter
from .models import DatasetVersion, FrameRevision

CONTEXT_PAGE_SIZE = 500
EXPORT_PAGE_SIZE = selectors.MAX_PAGE_SIZE


# -- a context's frames (Group by URL -> film strip) ------------------------------------------------------


@dataclass
class ContextFramesPage:
    frames: list[FrameRevision]
    next_cursor: str | None


def context_frames(
    *,
    version: DatasetVersion,
    context_id: str,
    filters: list[FrameFilter] | None = None,
    cursor: str | None = None,
    limit: int = CONTEXT_PAGE_SIZE,
) -> ContextFramesPage:
    """The frames of one context in (timestamp, frame_id) order, a keyset page at a time.

    Served by the (dataset, context_id, timestamp, frame_id) index; `filters` are the browser's current ones,
    so the strip shows the same frames the Group-by-URL tile counted.
    """
    qs = selectors.filtered_frames(version=version, filters=filters).filter(context_id=context_id)
    if cursor:
        timestamp, frame_id = selectors.decode_cursor(cursor, expect_len=2)
        qs = qs.filter(Q(timestamp__gte=timestamp) & (Q(timestamp__gt=timestamp) | Q(frame_id__gt=frame_id)))
    limit = max(1, min(int(limit), selectors.MAX_PAGE_SIZE))
    with selectors._index_order_for_blind_filters(filters):
        rows = list(qs.order_by("timestamp", "frame_id")[: limit + 1])
    if len(rows) <= limit:
        return ContextFramesPage(rows, None)
    rows = rows[:limit]
    return ContextFramesPage(rows, selectors.encode_cursor([rows[-1].timestamp, rows[-1].frame_id]))


# -- cursors of single rows ---------------------------------------------------------------------------------


def _meta_value(row: FrameRevision, sort: str):
    return selectors.cursor_values(row, sort)[0]


def cursor_of(row: FrameRevision, *, sort: str) -> str:
    """The keyset cursor that makes `frames_browse` start right after `row`."""
    return selectors.encode_cursor(selectors.cursor_values(row, sort))


# -- the rows before a row (Previous page, previous frame) ---------------------------------------------------


def rows_before(
    *,
    version: DatasetVersion,
    row: FrameRevision,
    filters: list[FrameFilter] | None,
    sort: str,
    descending: bool,
    limit: int,
) -> list[FrameRevision]:
    """Up to `limit` rows that come just before `row` in (sort, order), nearest first.

    A keyset walk in the opposite direction. Metadata sorts put frames without the key last in either
    direction, so their reverse walk is stitched from two keyset queries (the key-less tail, then the rest).
    """
    browse = dict(version=version, filters=filters, sort=sort, descending=not descending)
    if not sort.startswith("meta."):
        return selectors.frames_browse(**browse, cursor=cursor_of(row, sort=sort), limit=limit).frames
    if _meta_value(row, sort) is not None:
        # Frames without the key follow every frame with it; once the reverse walk reaches one, the start
        # of the order is behind us.
        rows = selectors.frames_browse(**browse, cursor=cursor_of(row, sort=sort), limit=limit).frames
        return [r for r in rows if _meta_value(r, sort) is not None]
    # `row` is in the key-less tail (ordered by frame_id): first the key-less frames before it, then the
    # frames with the key from the far end of the order.
    tail = [
        r
        for r in selectors.frames_browse(**browse, cursor=cursor_of(row, sort=sort), limit=limit).frames
        if _meta_value(r, sort) is None
    ]
    if len(tail) >= limit:
        return tail[:limit]
    with_key = selectors.frames_browse(**browse, limit=limit - len(tail)).frames
    return tail + [r for r in with_key if _meta_value(r, sort) is not None]


def previous_page_cursor(
    *,
    version: DatasetVersion,
    first_row: FrameRevision,
    filters: list[FrameFilter] | None,
    sort: str,
    descending: bool,
    limit: int,
) -> tuple[bool, str | None]:
    """(has a previous page, its cursor): the cursor is None when the previous page is the first one."""
    before = rows_before(version=version, row=first_row, filters=filters, sort=sort, descending=descending, limit=limit + 1)
    if not before:
        return False, None
    if len(before) <= limit:
        return True, None
    return True, cursor_of(before[limit], sort=sort)


@dataclass
class Neighbours:
    previous: FrameRevision | None
    next: FrameRevision | None


def frame_neighbours(
    *,
    version: DatasetVersion,
    frame: FrameRevision,
    filters: list[FrameFilter] | None = None,
    sort: str = "context",
    descending: bool = False,
) -> Neighbours:
    """The frames before and after `frame` in the browser's current filter and order."""
    after = selectors.frames_browse(
        version=version, filters=filters, sort=sort, descending=descending, cursor=cursor_of(frame, sort=sort), limit=1
    ).frames
    before = rows_before(version=version, row=frame, filters=filters, sort=sort, descending=descending, limit=1)
    return Neighbours(previous=before[0] if before else None, next=after[0] if after else None)


# -- Group by URL: the contexts before a context (Previous) ------------------------------------------------


@dataclass
class ContextsBefore:
    exists: bool
    cursor: str | None  # the cursor of the page before; None when that page is the first one


def contexts_before(
    *, version: DatasetVersion, context_id: str, filters: list[FrameFilter] | None = None, limit: int
) -> ContextsBefore:
    """Where the Group-by-URL page before the one starting at `context_id` starts (a reverse keyset walk)."""
    with selectors._index_order_for_blind_filters(filters):
        rows = list(
            selectors.filtered_frames(version=version, filters=filters)
            .filter(context_id__lt=context_id)
            .order_by("-context_id")
            .values_list("context_id", flat=True)
            .distinct()[: limit + 1]
        )
    if not rows:
        return ContextsBefore(False, None)
    if len(rows) <= limit:
        return ContextsBefore(True, None)
    return ContextsBefore(True, selectors.encode_cursor([rows[limit]]))


# -- every frame, page by page (export) ---------------------------------------------------------------------


def frame_pages(
    *,
    version: DatasetVersion,
    filters: list[FrameFilter] | None = None,
    sort: str = "context",
    descending: bool = False,
    page_size: int = EXPORT_PAGE_SIZE,
    first: selectors.FramePage | None = None,
) -> Iterator[list[FrameRevision]]:
    """Every frame of the filtered view in order, one keyset page at a time (constant memory).

    `first` is the first page when the caller fetched it already (to fail on bad input before streaming).
    """
    browse = dict(version=version, filters=filters, sort=sort, descending=descending, limit=page_size)
    page = first or selectors.frames_browse(**browse)
    while True:
        yield page.frames
        if not page.next_cursor:
            return
        page = selectors.frames_browse(**browse, cursor=page.next_cursor)
