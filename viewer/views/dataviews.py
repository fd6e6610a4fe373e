"""The DataViews page: the signed-in user's saved DataViews (made through the SDK or POST /api/dataviews/),
newest first, each query linking to the Frames tab showing what it selects."""
from __future__ import annotations

import json

from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from frames import selectors
from frames.exceptions import NotFound

SHOWN = 200  # newest first; older ones stay reachable through the API


@require_GET
def dataviews_page(request):
    views = list(selectors.dataviews_list(user=request.user)[:SHOWN])
    rows = [{"view": view, "queries": [_query(request.user, query) for query in view.queries]} for view in views]
    return render(request, "viewer/dataviews.html", {"rows": rows, "shown": SHOWN})


def _query(user, query: dict) -> dict:
    """A query as the page lists it: its version (None when the user no longer sees it) and the Frames tab's
    URL selecting the same frames."""
    try:
        version = selectors.version_get(user=user, version_id=query["version"])
    except NotFound:
        return {"query": query, "version": None, "href": None}
    params = {key: query[key] for key in ("roi_query", "frame_query") if query.get(key)}
    if query.get("filters"):
        params["filters"] = json.dumps(query["filters"])
    href = reverse("viewer:version", args=[version.pk]) + (f"?{urlencode(params)}" if params else "")
    return {"query": query, "version": version, "href": href}
