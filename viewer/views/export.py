"""The filtered frames as ClearML frame JSON, streamed one keyset page at a time."""
from __future__ import annotations

import json
import re

from django.http import StreamingHttpResponse
from django.views.decorators.http import require_GET

from frames import selectors
from frames.selectors.frames import EXPORT_PAGE_SIZE
from viewer.browse import BrowseState, json_view


def _safe_filename(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "frames"


@require_GET
@json_view
def version_export(request, version, state: BrowseState):
    """The filtered frames as ClearML frame JSON, streamed one keyset page at a time: `[`, frames, `]`."""
    walk = dict(user=request.user, version=version, query=state.query.page(cursor=None, limit=EXPORT_PAGE_SIZE))
    first = selectors.frames_browse(**walk)  # bad input fails here, not mid-stream

    def chunks():
        yield "["
        written = False
        for page in selectors.frame_pages(**walk, first=first):
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
