"""Split Preview's overlap: the frames two views of one version both show (a train filter and a val filter that
share frames is a leak the user must see).

A view's filter is an OR of blocks whose rules are AND-ed (frames.filters), so two views' filters AND-ed are again
such a filter: (a1 OR a2) AND (b1 OR b2) = a1b1 OR a1b2 OR a2b1 OR a2b2, each pair's rules put in one block
(`overlap_query`). The Frames tab can then show the overlap from its URL, counted by the same selectors as any
filter. A sample is no filter (which frames it picks depends on everything the filter matches), so when a side
samples, or the two `changed` cannot be said as one, the overlap is counted by intersecting the two views'
rows (`frames_overlap_count`) and has no URL.
"""
from __future__ import annotations

from ..changes import ADDED, ANY, DELETED, EDITED
from ..filters import FrameFilter
from ..models import DatasetVersion
from .access import VIEWER, require
from .frames import query_rows
from .query import FrameQuery

# Beyond this many blocks the pairs make a URL too long to be worth opening (counted by intersection instead).
MAX_OVERLAP_BLOCKS = 64


def overlap_query(a: FrameQuery, b: FrameQuery) -> FrameQuery | None:
    """One query for the frames both `a` and `b` match, or None when no Frames-tab URL can say it."""
    if a.sample or b.sample or a.min_confidence is not None or b.min_confidence is not None:
        return None
    changed = _both_changed(a.changed, b.changed)
    if changed is None:
        return None
    blocks_a, blocks_b = a.filters or (FrameFilter(),), b.filters or (FrameFilter(),)
    if len(blocks_a) * len(blocks_b) > MAX_OVERLAP_BLOCKS:
        return None
    filters = tuple(_both(x, y) for x in blocks_a for y in blocks_b)
    if all(not (f.roi_rules or f.frame_query or f.sources_query) for f in filters):
        filters = ()  # neither side filters
    return FrameQuery(filters=filters, changed=changed)


def _both(x: FrameFilter, y: FrameFilter) -> FrameFilter:
    return FrameFilter(x.roi_rules + y.roi_rules, _and(x.frame_query, y.frame_query), _and(x.sources_query, y.sources_query))


def _and(a: str, b: str) -> str:
    return f"({a}) AND ({b})" if a and b else a or b


def _both_changed(a: str, b: str) -> str | None:
    """The `changed` that lists what both list, or None when none does. "" (the version's view) and "any" both
    list added and edited frames, but "any" also lists deleted ones (the parent's rows), which the view lacks."""
    if a == b:
        return a
    pair = {a, b}
    if ANY in pair and pair - {ANY} <= {ADDED, EDITED, DELETED}:
        return (pair - {ANY}).pop()
    if "" in pair and pair - {""} <= {ADDED, EDITED}:
        return (pair - {""}).pop()
    return None


def frames_overlap_count(*, user, version: DatasetVersion, a: FrameQuery, b: FrameQuery) -> int:
    """How many frames both queries match (samples included): the rows of one kept when the other has them."""
    require(user, version, VIEWER)
    return query_rows(version, a).filter(pk__in=query_rows(version, b).values("pk")).count()
