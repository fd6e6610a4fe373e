"""A DataView's pages as the API serves them: a random view's draws read by position from each query's matched
revision ids (selectors.dataview_query_ids), kept in the cache so a pass costs one walk of each query rather than
one per page (a page at a million frames: the rows drawn, not 800,000 ids walked in context order).

Kept like the page positions (services.positions): under the draft's state on a draft (every write moves
`updated` or `frame_count`, so a changed draft is read again), for good-ish on a published version. A pass
carries each query's highest revision id in its cursor, so ids read again after a write still give the same pass.
"""
from __future__ import annotations

import hashlib
import json
from array import array

from django.core.cache import cache

from ..dataview_models import DataView
from ..selectors.dataviews import DataViewPage, DataViewQuery, dataview_frames, dataview_queries, dataview_query_ids
from ..selectors.query import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

IDS_CACHE_SECONDS = 3600  # an expired list costs one slow page: the pass goes on with the same ids (its bound)


def dataview_frames_page(*, user, dataview: DataView, cursor: str | None = None, limit: int = DEFAULT_PAGE_SIZE) -> DataViewPage:
    """One page of the DataView's frames after `cursor` (selectors.dataview_frames), a random view's matched ids
    from the cache."""
    matched = None
    if dataview.iteration_order == DataView.RANDOM and 1 <= limit <= MAX_PAGE_SIZE:  # a bad limit: refused below
        matched = [_matched_ids(user, query) for query in dataview_queries(user=user, dataview=dataview)]
    return dataview_frames(user=user, dataview=dataview, cursor=cursor, limit=limit, matched=matched)


def _matched_ids(user, query: DataViewQuery) -> array:
    key = _cache_key(query)
    ids = cache.get(key)
    if ids is None:
        ids = dataview_query_ids(user=user, version=query.version, frame_query=query.frame_query)
        cache.set(key, ids, IDS_CACHE_SECONDS)
    return ids


def _cache_key(query: DataViewQuery) -> str:
    version, frame_query = query.version, query.frame_query
    what = [repr(list(frame_query.filters)), frame_query.changed, repr(frame_query.sample), repr(frame_query.min_confidence)]
    state = [] if version.is_published else [version.updated.isoformat(), version.frame_count]
    return f"dataview-ids:{version.pk}:{hashlib.sha1(json.dumps(what + state).encode()).hexdigest()}"
