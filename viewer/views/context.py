"""Group by URL, one context: its frames in timestamp order as a film strip, and the frame page."""
from __future__ import annotations

from datetime import datetime, timezone

from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from frames import selectors
from frames.changes import listed_as_deleted
from frames.exceptions import NotFound, ServiceError
from frames.selectors.query import STRIP_CURSOR
from viewer.browse import STATE_KEYS, BrowseState, json_view, version_or_404
from viewer.contract import frame_contract
from viewer.jsonfmt import compact_json
from viewer.tiles import frame_page_url, label_chips, strip_frame

from .versions import version_context


@require_GET
def context_view(request, version_id):
    """A context's frames in timestamp order: film strip, play/pause, step, timestamp readout, large frame."""
    version = version_or_404(request, version_id)
    state = BrowseState.from_request(request)
    context_id = request.GET.get("context", "")
    link_query = state.filter_query()
    page = None
    if not state.errors:
        try:
            page = _strip_page(request, version, state, context_id, cursor=None)
        except ServiceError as exc:
            state.errors.extend(exc.errors)
    frames = selectors.frames_to_dicts(page.frames, user=request.user, version=version) if page else []
    if page is not None and not frames and not state.errors:
        raise Http404("no frames in this context")
    total = page.total if page else 0
    payload = {
        "frames": [strip_frame(f, version=version, link_query=link_query) for f in frames],
        "next": page.next_cursor if page else None,
        "total": total,
        "more_url": reverse("viewer:context-frames", args=[version.id]) + state.filter_query(context=context_id),
    }
    return render(request, "viewer/context.html", {
        **version_context(request, version, "frames"),
        "state": state,
        "context_id": context_id,
        "total": total,
        "payload": payload,
        "back_url": reverse("viewer:version", args=[version.id]) + state.filter_query(group="context"),
        "first": frames[0] if frames else None,
    })


def _strip_page(request, version, state: BrowseState, context_id: str, cursor: str | None):
    query = state.query.page(cursor=cursor, limit=selectors.CONTEXT_PAGE_SIZE)
    return selectors.context_frames(user=request.user, version=version, context_id=context_id, query=query)


@require_GET
@json_view(cursor_columns=STRIP_CURSOR)
def context_frames_json(request, version, state: BrowseState):
    """The next page of a context's film strip (JSON)."""
    page = _strip_page(request, version, state, request.GET.get("context", ""), state.cursor)
    link_query = state.filter_query()
    frames = selectors.frames_to_dicts(page.frames, user=request.user, version=version)
    return JsonResponse({"frames": [strip_frame(f, version=version, link_query=link_query) for f in frames], "next": page.next_cursor})


@require_GET
def frame_page(request, version_id, frame_id):
    """One frame: its sources side by side (static/js/viewer/ draws the ROIs from the frame contract), its
    details, labels, metadata and raw JSON, previous/next within the browser's filter."""
    version = version_or_404(request, version_id)
    state = BrowseState.from_request(request)
    try:
        revision = selectors.frame_get(user=request.user, version=version, frame_id=frame_id)
    except NotFound:
        raise Http404(f"no frame {frame_id}") from None
    nav_query = state.url_query(keys=STATE_KEYS + ("cursor", "page"))
    contract = frame_contract(user=request.user, version=version, revision=revision, nav_query=nav_query.lstrip("?"))
    frame = contract["frame"]
    neighbours = selectors.Neighbours(None, None)
    if not state.errors:
        try:
            neighbours = selectors.frame_neighbours(user=request.user, version=version, frame=revision, query=state.query)
        except ServiceError as exc:
            state.errors.extend(exc.errors)
    return render(request, "viewer/frame.html", {
        **version_context(request, version, "frames"),
        "state": state,
        "frame": frame,
        "contract": contract,
        "views": [{"source": source, "media": media} for source, media in zip(frame.get("sources") or [], contract["sources"])],
        "frame_labels": [c for c in label_chips(frame.get("rois")) if c["frame_label"]],
        "raw_json": compact_json(selectors.frame_to_dict(revision, version_id=version.id), long_lists_inline=True),
        "previous_url": _neighbour_url(version, neighbours.previous, state, nav_query),
        "next_url": _neighbour_url(version, neighbours.next, state, nav_query),
        "back_url": reverse("viewer:version", args=[version.id]) + nav_query,
        "context_url": reverse("viewer:context", args=[version.id]) + state.filter_query(context=frame["context_id"], frame=frame["id"]),
        "neighbour_url": reverse("viewer:frame-neighbour", args=[version.id, revision.frame_id]),
        "nav_query": nav_query.lstrip("?"),
        "saved_at": datetime.fromtimestamp(frame["saved"] / 1000, tz=timezone.utc),
        "saved_in_version": revision.version,
    })


def _neighbour_url(version, row, state: BrowseState, nav_query: str) -> str | None:
    """The page of the frame before or after this one; under the `changed` filter a frame this version deleted
    is listed as the parent's, so its page is the parent version's."""
    if row is None:
        return None
    deleted = listed_as_deleted(version, state.changed, row)
    return frame_page_url(version, row.frame_id, deleted=deleted, state=state, link_query=nav_query)
