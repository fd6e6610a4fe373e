"""Stepping from one frame to another, as the frame page's keys do: 1 or 10 frames forward or back in the
browser's filter and order (or within the frame's context, in the film strip's order), optionally only to
frames with an object ROI above a minimum confidence.

Every step is a keyset walk from the frame's own sort key (frames_browse forward, rows_before back), reading at
most `step` rows past it, so a step costs the same at frame 1 and at frame 1,000,000; no OFFSET.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from ..models import DatasetVersion, FrameRevision
from .access import VIEWER, require
from .contexts import rows_before
from .frames import cursor_of, frames_browse, index_order_for, keyset_after, query_rows
from .query import STRIP_CURSOR, FrameQuery, QueryInvalid

NEXT, PREVIOUS = "next", "previous"
FILTER, CONTEXT = "filter", "context"
STEPS = (1, 10)


@dataclass(frozen=True)
class Step:
    """Where to go from a frame: `direction` next | previous, `step` 1 | 10, `min_confidence` 0..1 or None
    (any frame), `scope` filter (the browser's order) | context (the frame's context, by timestamp)."""

    direction: str = NEXT
    step: int = 1
    min_confidence: float | None = None
    scope: str = FILTER


def parse_step(params) -> Step:
    """A Step from request parameters; QueryInvalid names every bad one."""
    errors = []
    direction = params.get("direction") or NEXT
    if direction not in (NEXT, PREVIOUS):
        errors.append({"field": "direction", "message": f"must be {NEXT} or {PREVIOUS}"})
    raw_step = params.get("step") or "1"
    step = int(raw_step) if raw_step in ("1", "10") else 1
    if str(step) != raw_step:
        errors.append({"field": "step", "message": f"must be {' or '.join(map(str, STEPS))}"})
    scope = params.get("scope") or FILTER
    if scope not in (FILTER, CONTEXT):
        errors.append({"field": "scope", "message": f"must be {FILTER} or {CONTEXT}"})
    min_confidence = _confidence(params.get("min_confidence"), errors)
    if errors:
        raise QueryInvalid(errors)
    return Step(direction, step, min_confidence, scope)


def _confidence(raw, errors: list) -> float | None:
    if raw in (None, ""):
        return None
    try:
        value = float(raw)
    except ValueError:
        value = None
    if value is None or not 0 <= value <= 1:  # also refuses nan
        errors.append({"field": "min_confidence", "message": f"must be a number between 0 and 1, got {raw!r}"})
        return None
    return value


def frame_step(*, user, version: DatasetVersion, frame: FrameRevision, query: FrameQuery, step: Step) -> FrameRevision | None:
    """The frame `step.step` frames after (next) or before (previous) `frame` in the query's filter and order,
    or in its context by (timestamp, frame_id); when fewer remain, the last (first) one; None at the end.
    With `min_confidence`, only frames with an object ROI at least that confident count (ROIs without a
    confidence count as above any minimum; frame labels do not count). `frame` itself need not match."""
    require(user, version, VIEWER)
    walk = replace(query, min_confidence=step.min_confidence)
    forward = step.direction == NEXT
    if step.scope == CONTEXT:
        rows = _context_rows(version, frame, walk, forward=forward, limit=step.step)
    elif forward:
        rows = frames_browse(user=user, version=version, query=walk.page(cursor=cursor_of(frame, sort=walk.sort), limit=step.step)).frames
    else:
        rows = rows_before(user=user, version=version, row=frame, query=walk, limit=step.step)
    return rows[-1] if rows else None  # nearest first, at most `step` of them


def _context_rows(version: DatasetVersion, frame: FrameRevision, query: FrameQuery, *, forward: bool, limit: int) -> list[FrameRevision]:
    """Up to `limit` frames of `frame`'s context after (before) it in the film strip's (timestamp, frame_id)
    order, nearest first: the (dataset, context_id, timestamp, frame_id) index walked from the frame."""
    rows = query_rows(version, query).filter(context_id=frame.context_id)
    rows = rows.filter(keyset_after(STRIP_CURSOR, [frame.timestamp, frame.frame_id], descending=not forward))
    order = ("timestamp", "frame_id") if forward else ("-timestamp", "-frame_id")
    with index_order_for(query.filters):
        return list(rows.order_by(*order)[:limit])
