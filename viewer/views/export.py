"""The filtered frames as ClearML frame JSON (`?format=clearml`, the default: one JSON array), JSON lines
(`?format=jsonl`) or COCO (`?format=coco`), streamed one keyset page at a time."""
from __future__ import annotations

import re

from django.http import StreamingHttpResponse
from django.views.decorators.http import require_GET

from frames import selectors
from viewer.browse import BrowseState, json_view

CONTENT_TYPES = {"clearml": "application/json", "jsonl": "application/x-ndjson", "coco": "application/json"}


def _safe_filename(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "frames"


@require_GET
@json_view
def version_export(request, version, state: BrowseState):
    """The filtered frames, streamed; a bad filter or format answers 400 before anything is sent."""
    export_format = request.GET.get("format") or "clearml"
    chunks = selectors.frames_export(user=request.user, version=version, query=state.query, export_format=export_format)
    response = StreamingHttpResponse(chunks, content_type=CONTENT_TYPES[export_format])
    suffix = "_coco" if export_format == "coco" else ""
    name = _safe_filename(f"{version.dataset.name}_{version.name}_frames{suffix}")
    response["Content-Disposition"] = f'attachment; filename="{name}{selectors.EXPORT_FORMATS[export_format]}"'
    response["Cache-Control"] = "no-store"
    return response
