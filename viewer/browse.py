"""What the user chose on the Frames tab, kept in the URL so a view can be bookmarked and shared.

`BrowseState` reads the filters (advanced `filters` JSON OR-ed, quick `label` picks AND-ed), sort, view, Group by
URL, FrameGroup source choice, metadata columns and page size from the query string, and writes URLs with some of
them changed. Pages use keyset cursors (`cursor`); `page` is only the number shown.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import wraps

from django.http import Http404, JsonResponse, QueryDict

from frames import selectors
from frames.exceptions import NotFound, ServiceError
from frames.filters import FrameFilter, RoiRule, parse_filters

# URL parameters that make up a view of the frames (`cursor` and `page` are where in it).
STATE_KEYS = ("filters", "label", "frame_query", "sources_query", "sort", "order", "view", "group", "source", "cols", "limit")
FILTER_KEYS = ("filters", "label", "frame_query", "sources_query", "sort", "order")
DEFAULTS = {"sort": "context", "order": "asc", "view": "grid", "group": "", "source": "", "limit": "100"}
PAGE_SIZES = (50, 100, 200, 500)
SORTS = (("context", "Context + timestamp"), ("id", "Frame id"), ("timestamp", "Timestamp"), ("saved", "Saved"))
MAX_META_COLUMNS = 8
CACHE_SECONDS = 600


# -- the URL state ----------------------------------------------------------------------------------------------


@dataclass
class BrowseState:
    params: QueryDict
    path: str = ""
    filters: list[FrameFilter] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    sort: str = "context"
    descending: bool = False
    cursor: str | None = None
    page: int = 1
    view: str = "grid"
    group: str = ""
    source: str = ""
    cols: list[str] = field(default_factory=list)
    limit: int = 100

    @classmethod
    def from_request(cls, request) -> "BrowseState":
        params = request.GET
        state = cls(params=params, path=request.path)
        state.labels = [label for label in params.getlist("label") if label]
        try:
            state.filters = ui_filters(params)
        except ServiceError as exc:
            state.errors.extend(exc.errors)
        state.sort = params.get("sort") or "context"
        if state.sort not in dict(SORTS) and not _is_meta_sort(state.sort):
            state.errors.append({"field": "sort", "message": f"unknown sort {state.sort!r}: use context, id, timestamp, saved or meta.<key>"})
            state.sort = "context"
        order = params.get("order") or "asc"
        if order not in ("asc", "desc"):
            state.errors.append({"field": "order", "message": "must be asc or desc"})
        state.descending = order == "desc"
        state.cursor = params.get("cursor") or None
        state.page = _int(params.get("page"), 1, 1, 10**9)
        state.view = "table" if params.get("view") == "table" else "grid"
        state.group = "context" if params.get("group") == "context" else ""
        state.source = params.get("source", "")
        state.cols = [c for c in params.get("cols", "").split(",") if c.strip()][:MAX_META_COLUMNS]
        state.limit = _int(params.get("limit"), 100, 1, selectors.MAX_PAGE_SIZE)
        return state

    @property
    def filtered(self) -> bool:
        return bool(self.filters) and any(f.roi_rules or f.frame_query or f.sources_query for f in self.filters)

    @property
    def order(self) -> str:
        return "desc" if self.descending else "asc"

    def query(self, *, keys=STATE_KEYS, **changes) -> str:
        """This view's query string with `changes` applied (None or "" removes a key), defaults left out."""
        q = QueryDict(mutable=True)
        for key in keys:
            values = [v for v in self.params.getlist(key) if v != ""]
            if values:
                q.setlist(key, values)
        for key, value in changes.items():
            if value is None or value == "" or value == []:
                q.pop(key, None)
            elif isinstance(value, (list, tuple)):
                q.setlist(key, [str(v) for v in value])
            else:
                q[key] = str(value)
        for key, default in DEFAULTS.items():
            if q.get(key) == default and len(q.getlist(key)) == 1:
                q.pop(key)
        encoded = q.urlencode()
        return f"?{encoded}" if encoded else ""

    def url(self, **changes) -> str:
        """This page's URL with `changes` applied."""
        return self.path + self.query(**changes)

    def filter_query(self, **changes) -> str:
        """Only the filter and sort (for links to the context view, the frame page and the export)."""
        return self.query(keys=FILTER_KEYS, **changes)

    def filters_json(self) -> str:
        return self.params.get("filters", "")


def _int(raw, default, low, high) -> int:
    try:
        value = int(raw)
    except (TypeError, ValueError):
        return default
    return max(low, min(high, value))


def _is_meta_sort(sort: str) -> bool:
    keys = sort[5:].split(".") if sort.startswith("meta.") else []
    return bool(keys) and all(keys) and not any("__" in k for k in keys)


def ui_filters(params) -> list[FrameFilter]:
    """The browser's filters: the advanced `filters` JSON (OR-ed filter blocks) AND the quick `label` picks.

    The API's shortcuts (`frame_query`, `sources_query`) are accepted too, so an API URL's query string
    opens the same view in the browser.
    """
    raw = params.get("filters", "").strip()
    blocks = []
    if raw:
        try:
            blocks = parse_filters(json.loads(raw))
        except json.JSONDecodeError as exc:
            raise ServiceError(f"not valid JSON: {exc}", field="filters") from None
    shortcuts = {k: params.get(k) for k in ("frame_query", "sources_query") if params.get(k)}
    if shortcuts:
        blocks = blocks + parse_filters([shortcuts]) if not blocks else [
            FrameFilter(b.roi_rules, *(_and(getattr(b, k), shortcuts.get(k, "")) for k in ("frame_query", "sources_query")))
            for b in blocks
        ]
    quick = tuple(RoiRule(labels=(label,)) for label in params.getlist("label") if label)
    if not quick:
        return blocks
    if not blocks:
        return [FrameFilter(roi_rules=quick)]
    return [FrameFilter(b.roi_rules + quick, b.frame_query, b.sources_query) for b in blocks]


def _and(a: str, b: str) -> str:
    return f"({a}) AND ({b})" if a and b else a or b


def json_view(view):
    """For the Frames tab's JSON views: `view(request, version, state)` gets the version (404 when missing) and
    the URL state; bad parameters, or filters a selector refuses, answer 400 naming them."""

    @wraps(view)
    def wrapper(request, version_id):
        version = version_or_404(version_id)
        state = BrowseState.from_request(request)
        if state.errors:
            return JsonResponse({"errors": state.errors}, status=400)
        try:
            return view(request, version, state)
        except ServiceError as exc:
            return JsonResponse({"errors": exc.errors}, status=400)

    return wrapper


def version_or_404(version_id):
    try:
        return selectors.version_get(version_id=version_id)
    except NotFound:
        raise Http404(f"no version {version_id}") from None


def filter_cache_key(state: BrowseState, version) -> str:
    """A cache key for what a filter counts in a version as it is now (drafts change; the key follows)."""
    parts = [version.id, str(version.updated.timestamp()), str(version.frame_count), state.filter_query(sort=None, order=None)]
    return "hd-ui:" + hashlib.sha256("|".join(parts).encode()).hexdigest()
