"""Pages whose header is sent before their slow part is computed ("early flush").

The version page's header, breadcrumb and tabs need one query; the Frames tab's body needs the page of frames,
the previous-page cursor and the tile markup (30-150 ms at a million frames). Sending the header first lets
the browser parse, style and paint it while the server still works, so the first paint no longer waits for
the frames, and the browser is already warm (CSS, scripts) when the grid arrives.

The page template puts `{{ tab_body }}` where the slow part goes. The page around it is rendered before the
response is returned, so everything that must happen before headers are sent (the CSRF cookie of the header's
forms, a 404 for a missing version) still does; only the body is rendered while streaming. Errors the body
expects (bad filters) are part of its markup, as on any page.
"""
from __future__ import annotations

from typing import Callable, Iterator

from django.http import StreamingHttpResponse
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

SLOT = "<!-- hd:tab-body -->"


def streamed_page(request, template: str, context: dict, body_template: str, body_context: Callable[[], dict]) -> StreamingHttpResponse:
    """`template` rendered with `context`, its `{{ tab_body }}` filled by `body_template` rendered with
    `context` plus what `body_context()` returns, which runs only after the page's head has been sent."""
    page = render_to_string(template, {**context, "tab_body": mark_safe(SLOT)}, request)
    head, tail = page.split(SLOT, 1)

    def chunks() -> Iterator[str]:
        yield head
        yield render_to_string(body_template, {**context, **body_context()}, request)
        yield tail

    response = StreamingHttpResponse(chunks(), content_type="text/html; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    return response
