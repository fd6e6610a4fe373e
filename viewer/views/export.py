"""The filtered frames as ClearML frame JSON, streamed one keyset page at a time."""
from __future__ import annotations

import json
import re

from django.http import JsonResponse, StreamingHttpResponse
from django.views.decorators.http import require_GET

from frames import selectors, selectors_context
from frames.exceptions import ServiceError
from viewer.browse import BrowseState, version_or_404


def _safe_filename(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "frames"


@require_GET
def version_export(request, version_id):
    """The filtered frames as ClearML frame JSON, streamed one keyset page at a time: `[`, frames, `]`."""
    version = version_or_404(version_id)
    state = BrowseState.from_request(request)
    if state.errors:
        return JsonResponse({"errors": state.errors}, status=400)
    walk = dict(version=version, filters=state.filters, sort=state.sort, descending=state.descending)
    try:
        first = selectors.frames_browse(**walk, limit=selectors_context.EXPORT_PAGE_SIZE)  # bad input fails here, not mid-stream
    except ServiceError as exc:
        return JsonResponse({"errors": exc.errors}, status=400)

    def chunks():
        yield "["
        written = False
        for page in selectors_context.frame_pages(**walk, first=first):
            if not page:
                continue
            body = ",\n".join(json.dumps(selectors.frame_to_dict(r, version_id=version.id), separators=(",", ":")) for r in page)
            yield ("," if written else "") + "\n" + body
            written = True
        yield "\n]\n"

    response = StreamingHttpResponse(chunks(), content_type="application/json")
    name = _safe_filename(f"{version.dataset.name}_{version.name}_frames")
    response["Content-Disposition"] = f'attachment; filename="{name}.json"'
    response["Cache-Control"] = "no-store"
    return response
