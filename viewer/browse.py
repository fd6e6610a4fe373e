"""What the user chose on the Frames tab, kept in the URL so a view can be bookmarked and shared.

The frame query (filters, label picks, frame_query, sources_query, sort, order, cursor, limit) is read by the
same parser as the REST API (frames.selectors.parse_frame_query), so a query string shows the same frames in
both. `BrowseState` adds what only the page has: grid or table, Group by URL, the FrameGroup source shown,
metadata columns and the page number shown, and writes URLs with some of them changed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import wraps

from django.http import Http404, JsonResponse, QueryDict

from frames import selectors
from frames.exceptions import NotFound, ServiceError
from frames.selectors.query import SORTS, FrameQuery

# URL parameters that make up a view of the frames (`cursor` and `page` are where in it).
SAMPLE_KEYS = ("sample_by", "sample_n", "sample_seed")
STATE_KEYS = ("filters", "label", "frame_query", "sources_query", "roi_query", "changed", *SAMPLE_KEYS, "sort", "order", "view", "group",
              "source", "cols", "limit")
FILTER_KEYS = ("filters", "label", "frame_query", "sources_query", "roi_query", "changed", *SAMPLE_KEYS, "sort", "order")
DEFAULTS = {"sort": "context", "order": "asc", "view": "grid", "group": "", "source": "", "limit": "100"}
PAGE_SIZES = (50, 100, 200, 500)
SORT_CHOICES = tuple(SORTS.items())
MAX_META_COLUMNS = 8


@dataclass
class BrowseState:
    params: QueryDict
    path: str = ""
    query: FrameQuery = field(default_factory=FrameQuery)
    errors: list[dict] = field(default_factory=list)
    page: int = 1
    view: str = "grid"
    group: str = ""
    source: str = ""
    cols: list[str] = field(default_factory=list)

    @classmethod
    def from_request(cls, request, *, cursor_columns: list[str] | None = None) -> "BrowseState":
        """The state of the request's URL; its cursor is one of a frame page, a Group-by-URL page (group=context)
        or, with `cursor_columns`, of another walk (a context's film strip)."""
        params = request.GET
        state = cls(params=params, path=request.path)
        state.group = "context" if params.get("group") == "context" else ""
        try:
            cursor = cursor_columns or (selectors.CONTEXT_CURSOR if state.group else None)
            state.query = selectors.parse_frame_query(params, cursor_columns=cursor)
        except ServiceError as exc:
            state.errors.extend(exc.errors)
        state.page = _int(params.get("page"), 1, 1, 10**9)
        state.view = "table" if params.get("view") == "table" else "grid"
        state.source = params.get("source", "")
        state.cols = [c for c in params.get("cols", "").split(",") if c.strip()][:MAX_META_COLUMNS]
        return state

    # What the templates read of the frame query.
    filters = property(lambda self: self.query.filters)
    sort = property(lambda self: self.query.sort)
    descending = property(lambda self: self.query.descending)
    cursor = property(lambda self: self.query.cursor)
    limit = property(lambda self: self.query.limit)
    filtered = property(lambda self: self.query.filtered)
    order = property(lambda self: self.query.order)
    changed = property(lambda self: self.query.changed)
    sample = property(lambda self: self.query.sample)

    @property
    def labels(self) -> list[str]:
        return [label for label in self.params.getlist("label") if label]

    def url_query(self, *, keys=STATE_KEYS, **changes) -> str:
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
        return self.path + self.url_query(**changes)

    def filter_query(self, **changes) -> str:
        """Only the filter and sort (for links to the context view, the frame page and the export)."""
        return self.url_query(keys=FILTER_KEYS, **changes)

    def filters_json(self) -> str:
        return self.params.get("filters", "")


# The Frames table's sortable columns (their header links): the frame query's sorts, and a meta.<key> per
# metadata column shown.
TABLE_SORTS = ("id", "context", "timestamp", "width", "height")


def table_sort_links(state: BrowseState) -> dict:
    """Per sortable column: the URL its header opens (this order reversed when it is the current sort, else
    ascending; back to the first page), whether it is the current sort and which way. The metadata columns'
    are a list under "meta", in the order of the columns."""
    links: dict = {sort: _sort_link(state, sort) for sort in TABLE_SORTS}
    links["meta"] = [_sort_link(state, f"meta.{key}") for key in state.cols]
    return links


def _sort_link(state: BrowseState, sort: str) -> dict:
    active = state.sort == sort
    order = "asc" if active and state.descending else ("desc" if active else "asc")
    return {
        "sort": sort,
        "url": state.url(sort=sort, order=order, cursor=None, page=None),
        "active": active,
        "descending": active and state.descending,
        "aria": ("descending" if state.descending else "ascending") if active else "none",
    }


def jump_fields(state: BrowseState) -> list[tuple[str, str]]:
    """The view's parameters as (name, value) pairs, for the "Go to page" form's hidden fields (no cursor)."""
    return [(key, value) for key in STATE_KEYS for value in state.params.getlist(key) if value != ""]


def _int(raw, default, low, high) -> int:
    try:
        value = int(raw)
    except (TypeError, ValueError):
        return default
    return max(low, min(high, value))


def version_or_404(request, version_id):
    """The version the signed-in user may see (404 for a missing one and for a dataset they are not in)."""
    try:
        return selectors.version_get(user=request.user, version_id=version_id)
    except NotFound:
        raise Http404(f"no version {version_id}") from None


def json_view(view=None, *, cursor_columns: list[str] | None = None):
    """For the Frames tab's JSON views: `view(request, version, state)` gets the version (404 when missing) and
    the URL state; bad parameters, or filters a selector refuses, answer 400 naming them."""

    def decorate(view):
        @wraps(view)
        def wrapper(request, version_id):
            version = version_or_404(request, version_id)
            state = BrowseState.from_request(request, cursor_columns=cursor_columns)
            if state.errors:
                return JsonResponse({"errors": state.errors}, status=400)
            try:
                return view(request, version, state)
            except ServiceError as exc:
                return JsonResponse({"errors": exc.errors}, status=exc.status_code)

        return wrapper

    return decorate(view) if view else decorate
