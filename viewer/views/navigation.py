"""Frame navigation for the frame page's keys (JSON): where 1 or 10 frames forward or back leads, in the
browser's filter and order or within the frame's context, optionally only to frames with a confident ROI.

    GET /versions/<version>/frames/<frame>/neighbour?<browse query>&direction=next|previous&step=1|10
        &min_confidence=0..1&scope=filter|context
    -> {"frame_id": str | null, "url": str | null}

`url` is the frame page of the frame found, carrying the same browse query as the frame page's own
previous/next links (so Esc there still leads back to the same grid page); both are null at the end. Under the
`changed` filter a frame this version deleted opens in the parent version, as its grid tile does.
"""
from __future__ import annotations

from django.http import Http404, JsonResponse
from django.views.decorators.http import require_GET

from frames import selectors
from frames.changes import listed_as_deleted
from frames.exceptions import NotFound, ServiceError
from viewer.browse import STATE_KEYS, BrowseState, version_or_404
from viewer.tiles import frame_page_url


@require_GET
def frame_neighbour(request, version_id, frame_id):
    version = version_or_404(request, version_id)
    try:
        revision = selectors.frame_get(user=request.user, version=version, frame_id=frame_id)
    except NotFound:
        raise Http404(f"no frame {frame_id}") from None
    state = BrowseState.from_request(request)
    errors = list(state.errors)
    step = None
    try:
        step = selectors.parse_step(request.GET)
    except ServiceError as exc:
        errors.extend(exc.errors)
    if errors:
        return JsonResponse({"errors": errors}, status=400)
    try:
        found = selectors.frame_step(user=request.user, version=version, frame=revision, query=state.query, step=step)
    except ServiceError as exc:
        return JsonResponse({"errors": exc.errors}, status=exc.status_code)
    if found is None:
        return JsonResponse({"frame_id": None, "url": None})
    nav_query = state.url_query(keys=STATE_KEYS + ("cursor", "page"))
    deleted = listed_as_deleted(version, state.changed, found)
    url = frame_page_url(version, found.frame_id, deleted=deleted, state=state, link_query=nav_query)
    return JsonResponse({"frame_id": found.frame_id, "url": url})
