"""Group by URL at any page: "Go to page N" and the position slider over contexts, as selectors.positions does for
frames.

Group-by-URL pages are keyset pages over context_id (contexts_list: the contexts after a cursor). To start page N
at once we keep checkpoints: every CONTEXT_STEP-th context id of the query's contexts in context order, from one
pass over them (`context_positions_compute`, the cost of counting the contexts; kept by services.positions, for
good on a published version, under the draft's state on a draft). The page at context offset k is then the
keyset page after the context at k - 1, found by seeking after the nearest checkpoint and skipping fewer than
CONTEXT_STEP contexts: the very page that Next walks to, whatever the depth.
"""
from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

from ..models import DatasetVersion
from .access import VIEWER, require
from .frames import index_order_for, query_rows
from .query import CONTEXT_CURSOR, FrameQuery, decode_cursor, encode_cursor

CONTEXT_STEP = 100


@dataclass(frozen=True)
class ContextPositions:
    """`total` contexts; `keys[i]` is the context id at position (i + 1) * CONTEXT_STEP - 1 in context order."""

    total: int
    keys: tuple[str, ...] = ()


def _contexts(version: DatasetVersion, query: FrameQuery, after: str | None = None):
    """The context ids of the query's frames after `after`, in context order (an index walk, no sort)."""
    rows = query_rows(version, query)
    if after is not None:
        rows = rows.filter(context_id__gt=after)
    return rows.order_by("context_id").values_list("context_id", flat=True).distinct()


def context_positions_compute(*, user, version: DatasetVersion, query: FrameQuery) -> ContextPositions:
    """The checkpoints of the query's contexts, from one pass over them."""
    require(user, version, VIEWER)
    keys, total = [], 0
    with index_order_for(query.filters):
        for total, context_id in enumerate(_contexts(version, query).iterator(chunk_size=5000), start=1):
            if total % CONTEXT_STEP == 0:
                keys.append(context_id)
    return ContextPositions(total, tuple(keys))


def context_cursor_at(*, user, version: DatasetVersion, query: FrameQuery, positions: ContextPositions, offset: int) -> str | None:
    """The cursor after which the Group-by-URL page starting at context `offset` (0-based) starts; None for the
    first page and past the end (check `offset < positions.total` first)."""
    require(user, version, VIEWER)
    if offset <= 0 or offset >= positions.total:
        return None
    passed = min(offset // CONTEXT_STEP, len(positions.keys))  # checkpoints at positions below `offset`
    anchor = positions.keys[passed - 1] if passed else None
    skip = offset - passed * CONTEXT_STEP  # contexts after the anchor up to the one before the page: < STEP
    if skip == 0:
        return encode_cursor([anchor])
    with index_order_for(query.filters):
        before = next(iter(_contexts(version, query, anchor)[skip - 1: skip]), None)
    return encode_cursor([before]) if before is not None else None


def context_cursor_offset(*, user, version: DatasetVersion, query: FrameQuery, positions: ContextPositions) -> int:
    """How many contexts come before the page after the query's cursor (0 without one), for the page label of a
    page reached by Next: a binary search over the checkpoints (compared by the database, in its collation, as
    the keyset pages are ordered), then a count of the fewer than CONTEXT_STEP contexts after the nearest one."""
    require(user, version, VIEWER)
    if not query.cursor:
        return 0
    last = decode_cursor(query.cursor, CONTEXT_CURSOR)[0]
    low, high = 0, len(positions.keys)  # keys[:low] are at or before the cursor, keys[high:] after it
    while low < high:
        middle = (low + high) // 2
        if _at_or_before(positions.keys[middle], last):
            low = middle + 1
        else:
            high = middle
    anchor = positions.keys[low - 1] if low else None
    with index_order_for(query.filters):
        return low * CONTEXT_STEP + _contexts(version, query, anchor).filter(context_id__lte=last).count()


def _at_or_before(context_id: str, other: str) -> bool:
    """context_id <= other in the database's order of context ids (its collation, not Python's)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT CASE WHEN %s <= %s THEN 1 ELSE 0 END", [context_id, other])
        return cursor.fetchone()[0] == 1
