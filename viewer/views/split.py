"""Split Preview: two frame filters side by side (say "train" and "val"), each with its count, its first frames
and a link that opens it on the Frames tab.

Between the sides, their overlap: how many frames both show (a train and a val side that share frames leak),
counted as the Frames tab counts a filter and linked to it filtered to the overlap when a URL can say it
(frames.selectors.overlap; a side with a sample is counted by intersecting the two views, without a link).

Each side is a Frames-tab query with its parameters prefixed (`a_frame_query`, `b_roi_query`, `a_sample_by`,
...), read by the same parser as the tab and the API, so a side's count is the API's count for the same
parameters. Opened from the Frames tab without prefixed parameters, side A is the tab's current filter.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from django.http import QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from frames import selectors, services
from frames.exceptions import ServiceError
from frames.filters import filters_to_json
from frames.selectors.query import FrameQuery
from viewer.browse import FILTER_KEYS, BrowseState, version_or_404
from viewer.render import items_html, tile_rois
from viewer.tiles import tile

from .versions import version_context

SIDES = (("a", "train"), ("b", "val"))
SIDE_KEYS = tuple(key for key in FILTER_KEYS if key not in ("sort", "order"))
PREVIEW_FRAMES = 12
BESIDE_FIELDS = ("frame_query", "roi_query", "sample_by")


@dataclass
class Side:
    prefix: str
    name: str
    params: QueryDict
    errors: list[dict] = field(default_factory=list)
    count: int | None = None
    items_html: str = ""
    tile_rois: dict = field(default_factory=dict)  # frame id -> what its thumbnail draws (viewer.render.tile_rois)
    frames_url: str = ""
    query: FrameQuery | None = None  # None when the side's parameters are wrong

    @property
    def hidden(self) -> list[tuple[str, str]]:
        """What the side's form has no field for (quick labels, a source rule, `changed`), kept as it was."""
        return [(f"{self.prefix}_{key}", value) for key in ("label", "sources_query", "changed") for value in self.params.getlist(key)]

    def _beside(self, error: dict) -> str | None:
        """The form field an error is shown beside (a shortcut's errors are named filters[0].<it>)."""
        for name in BESIDE_FIELDS:
            if error["field"] in (f"{self.prefix}_{name}", f"{self.prefix}_filters[0].{name}"):
                return name
        return None

    @property
    def field_errors(self) -> dict[str, list[dict]]:
        found: dict[str, list[dict]] = {}
        for error in self.errors:
            name = self._beside(error)
            if name:
                found.setdefault(name, []).append(error)
        return found

    @property
    def other_errors(self) -> list[dict]:
        """Errors of parameters without their own field on the form (shown under the fields)."""
        return [e for e in self.errors if not self._beside(e)]


def _side_params(params: QueryDict, prefix: str) -> QueryDict:
    """The side's Frames-tab parameters; side A falls back to unprefixed ones (the tab's filter)."""
    side = QueryDict(mutable=True)
    prefixed = any(key.startswith(("a_", "b_")) for key in params)
    for key in SIDE_KEYS:
        values = [v for v in params.getlist(f"{prefix}_{key}" if prefixed or prefix != "a" else key) if v]
        if values:
            side.setlist(key, values)
    return side


def _read_side(request, version, prefix: str, default_name: str) -> Side:
    params = _side_params(request.GET, prefix)
    side = Side(prefix, request.GET.get(f"{prefix}_name") or default_name, params)
    side.frames_url = reverse("viewer:version", args=[version.id]) + (f"?{params.urlencode()}" if params else "")
    try:
        query = selectors.parse_frame_query(params).page(limit=PREVIEW_FRAMES)
        side.query = query
        side.count = services.frames_count(user=request.user, version=version, filters=query.filters,
                                           changed=query.changed, sample=query.sample)
        page = selectors.frames_browse(user=request.user, version=version, query=query)
    except ServiceError as exc:
        side.errors = [{"field": f"{prefix}_{e['field']}", "message": e["message"]} for e in exc.errors]
        return side
    state = BrowseState(params=params, path=side.frames_url, query=query)
    link_query = f"?{params.urlencode()}" if params else ""
    frames = selectors.frames_to_dicts(page.frames, user=request.user, version=version)
    side.items_html = items_html("grid", [tile(f, state=state, version=version, link_query=link_query) for f in frames])
    side.tile_rois = {f["id"]: tile_rois(f) for f in frames}
    return side


@dataclass
class Overlap:
    count: int
    frames_url: str | None  # the Frames tab filtered to the overlap; None when no URL can say it


def _overlap(request, version, a: Side, b: Side) -> Overlap | None:
    """The frames both sides show; None while a side's parameters are wrong."""
    if a.query is None or b.query is None:
        return None
    both = selectors.overlap_query(a.query, b.query)
    if both is None:
        return Overlap(services.frames_overlap_count(user=request.user, version=version, a=a.query, b=b.query), None)
    count = services.frames_count(user=request.user, version=version, filters=both.filters, changed=both.changed)
    params = QueryDict(mutable=True)
    if both.filters:
        blocks = [{k: v for k, v in block.items() if v} for block in filters_to_json(list(both.filters))]  # short URLs
        params["filters"] = json.dumps(blocks, separators=(",", ":"))
    if both.changed:
        params["changed"] = both.changed
    return Overlap(count, reverse("viewer:version", args=[version.id]) + (f"?{params.urlencode()}" if params else ""))


@require_GET
def version_split(request, version_id):
    """Split Preview: two filters' counts and first frames side by side (400 naming the field when one is
    wrong, the other side still shown)."""
    version = version_or_404(request, version_id)
    sides = [_read_side(request, version, prefix, name) for prefix, name in SIDES]
    context = {**version_context(request, version, "frames"), "sides": sides, "preview_frames": PREVIEW_FRAMES,
               "overlap": _overlap(request, version, *sides),
               "total": version.frame_count, "tile_rois": {k: v for side in sides for k, v in side.tile_rois.items()}}
    status = 400 if any(side.errors for side in sides) else 200
    return render(request, "viewer/version_split.html", context, status=status)
