"""Checkpoints for pages at any position (selectors.positions): stored when a version is published, cached for the rest.

- Publishing stores a published version's checkpoints of every STORED_SORTS order (one pass per sort, in a job
  for versions of HYPERDATA_STATS_SYNC_FRAMES frames or more, seconds at a million frames). Until they are
  stored, the orders are served like a draft's.
- A draft child of a published version reads the same orders through its parent's stored checkpoints and what
  its own rows add at each (selectors.draft_positions: one query the size of the edit, not of the version),
  kept under the draft's state like a computed order: an edit costs the next jump that query, not a pass.
- The width and height orders of a large published version are numbered by the same job (size_orders_warm).
- Any other order (a draft, a filter, a sample, a JSON sort) is computed on its first jump (one pass over the
  frames it matches, the cost of counting them) and cached: for good on a published version, and under the
  draft's state (every write moves `updated` or `frame_count`) on a draft, so a changed draft is recomputed.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import replace

from django.core.cache import cache
from django.db import connection, transaction

from ..models import DatasetVersion, FramePosition
from ..selectors import context_positions as context_position_selectors
from ..selectors import positions as position_selectors
from ..selectors.context_positions import ContextPositions
from ..selectors.draft_positions import DraftPositions, draft_cursor_is_at, draft_cursor_offset, draft_net, draft_page_at, draft_positions
from ..selectors.contexts import ContextPage
from ..selectors.positions import POSITION_STEP, STORED_SORTS, PageAt, Positions
from ..selectors.query import JSON_SORTS, FrameQuery
from .job_kinds import register_job_kind
from .jobs import job_start
from .stats import contexts_page, counted_by_worker
from .stats_keys import DRAFT_CACHE_SECONDS, PUBLISHED_CACHE_SECONDS
STORE_BATCH = 5000


def positions_store_or_queue(*, user, version: DatasetVersion) -> None:
    """Called while publishing: small versions get their checkpoints now, large ones from a job."""
    if version.frame_count < POSITION_STEP:
        return  # every page is reached from the start in fewer than STEP rows: nothing to store
    if counted_by_worker(version):
        job_start(user=user, kind="positions", key=f"positions:{version.pk}", version=version,
                  subject=f"page positions of {version.dataset.name} / {version.name}")
        return
    positions_store(user=user, version=version)


@transaction.atomic
def positions_store(*, user, version: DatasetVersion) -> dict:
    """Store a published version's checkpoints of every STORED_SORTS order (replacing any)."""
    FramePosition.objects.filter(version=version).delete()
    stored = 0
    for sort in STORED_SORTS:
        computed = position_selectors.positions_compute(user=user, version=version, query=FrameQuery(sort=sort))
        rows = [FramePosition(version=version, sort=sort, position=(i + 1) * POSITION_STEP - 1, key=list(key))
                for i, key in enumerate(computed.keys)]
        FramePosition.objects.bulk_create(rows, batch_size=STORE_BATCH)
        stored += len(rows)
    return {"sorts": len(STORED_SORTS), "checkpoints": stored}


def _positions_job(*, user, job):
    version = DatasetVersion.objects.select_related("dataset").get(pk=job.version_id)
    if not version.is_published:
        return None
    return {**positions_store(user=user, version=version), "size_orders": size_orders_warm(user=user, version=version)}


def size_orders_warm(*, user, version: DatasetVersion) -> int:
    """Number the width and height orders (both directions) of a large published version once, in the job that
    stores its other orders, and keep them for good: else the first jump in each would wait for that pass (about
    2 s at a million frames). PostgreSQL only, where such a dataset has its size indexes (services.size_indexes)
    and the web and the worker share the cache."""
    if connection.vendor != "postgresql":
        return 0
    orders = [FrameQuery(sort=sort, descending=descending) for sort in JSON_SORTS for descending in (False, True)]
    for query in orders:
        frame_positions(user=user, version=version, query=query)
    return len(orders)


register_job_kind("positions", _positions_job)


def frame_positions(*, user, version: DatasetVersion, query: FrameQuery, compute: bool = True) -> Positions | None:
    """The checkpoints of the query's order: stored, cached, or (with `compute`) computed now and cached."""
    if version.is_published and position_selectors.stored_order(query):
        stored = position_selectors.positions_stored(user=user, version=version, sort=query.sort)
        if stored is not None:
            return stored
    key = _cache_key(version, query)
    positions = cache.get(key)
    if positions is None and compute:
        positions = position_selectors.positions_compute(user=user, version=version, query=query)
        cache.set(key, positions, PUBLISHED_CACHE_SECONDS if version.is_published else DRAFT_CACHE_SECONDS)
    return positions


def draft_frame_positions(*, user, version: DatasetVersion, query: FrameQuery) -> DraftPositions | None:
    """A draft child's order through its published parent's stored checkpoints (None: not such a draft, or not
    such an order), with what the draft adds at each, kept until the draft changes."""
    derived = draft_positions(user=user, version=version, query=query)
    if derived is None:
        return None
    key = "draft-" + _cache_key(version, query)
    net = cache.get(key)
    if net is None or len(net) != derived.stored.total // POSITION_STEP:
        net = draft_net(user=user, version=version, query=query, positions=derived)
        cache.set(key, net, DRAFT_CACHE_SECONDS)
    return replace(derived, net=net)


def _cache_key(version: DatasetVersion, query: FrameQuery) -> str:
    what = [repr(list(query.filters)), query.changed, repr(query.sample), query.sort, query.descending, repr(query.min_confidence)]
    state = [] if version.is_published else [version.updated.isoformat(), version.frame_count]
    digest = hashlib.sha1(json.dumps(what + state).encode()).hexdigest()
    return f"positions:{version.pk}:{digest}"


def frames_page_at(*, user, version: DatasetVersion, query: FrameQuery, offset: int) -> PageAt:
    """The page starting at `offset` of the query's order, with its total."""
    derived = draft_frame_positions(user=user, version=version, query=query)
    if derived is not None:
        return draft_page_at(user=user, version=version, query=query, positions=derived, offset=offset)
    positions = frame_positions(user=user, version=version, query=query)
    return position_selectors.page_at(user=user, version=version, query=query, positions=positions, offset=offset)


def page_checked(*, user, version: DatasetVersion, query: FrameQuery, page: int, compute: bool = False) -> bool | None:
    """Whether the query's cursor starts page `page` (of `query.limit` frames): True or False, or None when that
    needs checkpoints nobody has computed yet and `compute` is off."""
    derived = draft_frame_positions(user=user, version=version, query=query)
    if derived is not None:
        return draft_cursor_is_at(user=user, version=version, query=query, positions=derived, offset=(page - 1) * query.limit)
    positions = frame_positions(user=user, version=version, query=query, compute=compute)
    if positions is None:
        return None
    return position_selectors.cursor_is_at(user=user, version=version, query=query, positions=positions,
                                           offset=(page - 1) * query.limit)


def cursor_offset(*, user, version: DatasetVersion, query: FrameQuery) -> tuple[int, int]:
    """(the offset of the page after the query's cursor, the total), found from the checkpoints (computed and
    kept if needed)."""
    derived = draft_positions(user=user, version=version, query=query)
    if derived is not None:
        return draft_cursor_offset(user=user, version=version, query=query, positions=derived), derived.total
    positions = frame_positions(user=user, version=version, query=query)
    return position_selectors.cursor_offset(user=user, version=version, query=query, positions=positions), positions.total


# -- Group by URL at any page ----------------------------------------------------------------------------------


def context_positions(*, user, version: DatasetVersion, query: FrameQuery) -> ContextPositions:
    """The checkpoints of the query's contexts (selectors.context_positions), computed on the first jump and
    kept like a frame order's: for good on a published version, under the draft's state on a draft."""
    what = [repr(list(query.filters)), query.changed, repr(query.sample)]
    state = [] if version.is_published else [version.updated.isoformat(), version.frame_count]
    key = f"context-positions:{version.pk}:{hashlib.sha1(json.dumps(what + state).encode()).hexdigest()}"
    positions = cache.get(key)
    if positions is None:
        positions = context_position_selectors.context_positions_compute(user=user, version=version, query=query)
        cache.set(key, positions, PUBLISHED_CACHE_SECONDS if version.is_published else DRAFT_CACHE_SECONDS)
    return positions


def contexts_page_at(*, user, version: DatasetVersion, query: FrameQuery, offset: int) -> tuple[ContextPage | None, int]:
    """(the Group-by-URL page starting at context `offset`, None past the end; how many contexts there are)."""
    positions = context_positions(user=user, version=version, query=query)
    if offset >= positions.total:
        return None, positions.total
    cursor = context_position_selectors.context_cursor_at(user=user, version=version, query=query, positions=positions, offset=offset)
    return contexts_page(user=user, version=version, query=query.page(cursor=cursor)), positions.total
