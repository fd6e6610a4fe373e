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


def context_cursor_offset(*, user, version: DatasetVersion, query: FrameQuery) -> int:
    """How many contexts come before the page after the query's cursor (0 without one): for the page label of a
    page reached by Next, checked after the page is shown."""
    require(user, version, VIEWER)
    if not query.cursor:
        return 0
    last = decode_cursor(query.cursor, CONTEXT_CURSOR)[0]
    with index_order_for(query.filters):
        return query_rows(version, query).filter(context_id__lte=last).values("context_id").distinct().count()
