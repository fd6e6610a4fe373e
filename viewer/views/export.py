"""The filtered frames as ClearML frame JSON (`?format=clearml`, the default: one JSON array) or JSON lines
(`?format=jsonl`), streamed one keyset page at a time."""
from __future__ import annotations

import re

from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.views.decorators.http import require_GET

from frames import selectors
from frames.exporters.clearml import CHUNKERS, SUFFIXES
from frames.selectors.frames import EXPORT_PAGE_SIZE
from viewer.browse import BrowseState, json_view

CONTENT_TYPES = {"clearml": "application/json", "jsonl": "application/x-ndjson"}


def _safe_filename(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "frames"


@require_GET
@json_view
def version_export(request, version, state: BrowseState):
    """The filtered frames, streamed; a bad filter answers 400 before anything is sent."""
    export_format = request.GET.get("format") or "clearml"
    if export_format not in CHUNKERS:
        return HttpResponseBadRequest(f"format: one of {', '.join(sorted(CHUNKERS))}", content_type="text/plain")
    walk = dict(user=request.user, version=version, query=state.query.page(cursor=None, limit=EXPORT_PAGE_SIZE))
    first = selectors.frames_browse(**walk)  # bad input fails here, not mid-stream
    pages = selectors.frame_pages(**walk, first=first)
    chunks = CHUNKERS[export_format](pages, lambda row: selectors.frame_to_dict(row, version_id=version.id))
    response = StreamingHttpResponse(chunks, content_type=CONTENT_TYPES[export_format])
    name = _safe_filename(f"{version.dataset.name}_{version.name}_frames")
    response["Content-Disposition"] = f'attachment; filename="{name}{SUFFIXES[export_format]}"'
    response["Cache-Control"] = "no-store"
    return response
