"""The filtered frames as ClearML frame JSON, streamed one keyset page at a time."""
from __future__ import annotations

import json
import re

from django.http import StreamingHttpResponse
from django.views.decorators.http import require_GET

from frames import selectors, selectors_context
from viewer.browse import BrowseState, json_view


def _safe_filename(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "frames"


@require_GET
@json_view
def version_export(request, version, state: BrowseState):
    """The filtered frames as ClearML frame JSON, streamed one keyset page at a time: `[`, frames, `]`."""
    walk = dict(version=version, filters=state.filters, sort=state.sort, descending=state.descending)
    first = selectors.frames_browse(**walk, limit=selectors_context.EXPORT_PAGE_SIZE)  # bad input fails here, not mid-stream

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
