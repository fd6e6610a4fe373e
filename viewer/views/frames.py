"""The version's Frames tab: grid and table of frames, filters, sort, Group by URL, the context film strip, the
export and the frame page. Reads only, through frames.selectors and frames.selectors_context.

Everything the user chose lives in the URL (`BrowseState`), so a view can be bookmarked and shared. Pages use
keyset cursors (`cursor`); Previous is found by walking back from the first frame on the page, so the URL
never grows and page 10,000 costs what page 1 costs. Counts under a filter are fetched after the page is
shown (`version_count`), so a first paint never waits for counting a million rows.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field

from django.core.cache import cache
from django.http import Http404, JsonResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from frames import selectors, selectors_context
from frames.exceptions import NotFound, ServiceError
from frames.filters import FrameFilter, RoiRule, parse_filters
from frames.schema import split_poly
from viewer.media import source_image

from .versions import version_context

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


def _version(version_id):
    try:
        return selectors.version_get(version_id=version_id)
    except NotFound:
        raise Http404(f"no version {version_id}") from None


def _filter_key(state: BrowseState, version) -> str:
    """A cache key for what a filter counts in a version as it is now (drafts change; the key follows)."""
    parts = [version.id, str(version.updated.timestamp()), str(version.frame_count), state.filter_query(sort=None, order=None)]
    return "hd-ui:" + hashlib.sha256("|".join(parts).encode()).hexdigest()


# -- shaping frames for templates -----------------------------------------------------------------------------


# Distinct, saturated colours that read on white chips and on photos alike.
LABEL_PALETTE = (
    "#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#17becf", "#f032e6", "#9acd32", "#d62728", "#1f77b4",
    "#ff9f1c", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#469990", "#bcbd22", "#000075", "#9a6324", "#008080",
)


def label_colour(label: str) -> str:
    """A stable colour per label (the same in tiles, tables, polygons and the film strip, on every page).

    A hash picks the palette entry; the salt is one under which common labels (street scenes, COCO) differ.
    """
    digest = int(hashlib.blake2s(f"1874:{label}".encode(), digest_size=4).hexdigest(), 16)
    return LABEL_PALETTE[digest % len(LABEL_PALETTE)]


def _labels(roi: dict) -> list[str]:
    labels = roi.get("labels", roi.get("label")) or []
    return [labels] if isinstance(labels, str) else [str(label) for label in labels]


def label_chips(rois: list[dict]) -> list[dict]:
    """One chip per distinct label: frame labels (no poly, no mask) apart from object labels, with counts."""
    chips: dict[tuple[str, bool], dict] = {}
    for roi in rois or []:
        is_frame_label = not roi.get("poly") and not roi.get("mask")
        for label in _labels(roi):
            chip = chips.setdefault((label, is_frame_label), {"label": label, "frame_label": is_frame_label, "count": 0, "colour": label_colour(label)})
            chip["count"] += 1
    return sorted(chips.values(), key=lambda c: (not c["frame_label"], c["label"]))


def frame_dicts(revisions, *, version) -> list[dict]:
    """Frames as the UI shows them: ClearML JSON with the workers' previews attached."""
    if hasattr(selectors, "frames_to_dicts"):
        return selectors.frames_to_dicts(revisions, version_id=version.id)
    return [selectors.frame_to_dict(r, version_id=version.id) for r in revisions]


def _chosen_sources(sources: list[dict], choice: str) -> list[dict]:
    if not sources:
        return []
    if choice == "all":
        return sources
    if choice:
        named = [s for s in sources if s.get("id") == choice]
        if named:
            return named
    return sources[:1]


def _meta_value(meta, key: str):
    value = meta
    for part in key.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list, bool)):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return str(value)


def tile(frame: dict, *, state: BrowseState, version, link_query: str) -> dict:
    sources = frame.get("sources") or []
    images = [source_image(s) for s in _chosen_sources(sources, state.source)]
    return {
        "id": frame["id"],
        "context_id": frame["context_id"],
        "timestamp": frame["timestamp"],
        "url": reverse("viewer:frame", args=[version.id, frame["id"]]) + link_query,
        "images": images,
        "span": min(len(images), 3),
        "source_count": len(sources),
        "chips": label_chips(frame.get("rois")),
        "meta": [_cell(_meta_value(frame.get("meta") or {}, key)) for key in state.cols],
    }


def context_name(context_id: str) -> str:
    """The short name of a context (the file name of a URI), for tiles and headings."""
    tail = context_id.rstrip("/").rsplit("/", 1)[-1]
    return tail or context_id or "(no context)"


def _meta_keys(frames: list[dict]) -> list[str]:
    keys: dict[str, None] = {}
    for frame in frames:
        for key, value in (frame.get("meta") or {}).items():
            keys[key] = None
            if isinstance(value, dict):
                for sub in value:
                    keys[f"{key}.{sub}"] = None
    return sorted(keys)


def _source_ids(frames: list[dict]) -> list[str]:
    ids: dict[str, None] = {}
    for frame in frames:
        for source in frame.get("sources") or []:
            ids[str(source.get("id", "default"))] = None
    return list(ids)


# -- the Frames tab -------------------------------------------------------------------------------------------


@require_GET
def version_frames(request, version_id):
    """The version page's Frames tab: a grid or table of frames, or one tile per context (Group by URL)."""
    version = _version(version_id)
    state = BrowseState.from_request(request)
    context = {
        **version_context(version, "frames"),
        "state": state,
        "sorts": SORTS,
        "page_sizes": PAGE_SIZES,
        "initial_labels": version.stats if version.is_published and version.stats is not None else None,
        "count_url": reverse("viewer:version-count", args=[version.id]) + state.filter_query(sort=None, order=None),
        "labels_url": reverse("viewer:version-labels", args=[version.id]),
        "export_url": reverse("viewer:version-export", args=[version.id]) + state.filter_query(),
        "tiles": [],
        "contexts": [],
    }
    if not state.errors:
        try:
            if state.group == "context":
                context.update(_contexts_page(version, state))
            else:
                context.update(_frames_page(version, state))
        except ServiceError as exc:
            state.errors.extend(exc.errors)
    context["error_fields"] = {e["field"]: e["message"] for e in state.errors}
    context["links"] = {
        "grid": state.url(view=None, group=None, cursor=None, page=None),
        "table": state.url(view="table", group=None, cursor=None, page=None),
        "group": state.url(group=None if state.group else "context", cursor=None, page=None),
        "clear_filters": state.url(filters=None, frame_query=None, sources_query=None, cursor=None, page=None),
    }
    context["quick_chips"] = [
        {"label": label, "url": state.url(label=[other for other in state.labels if other != label], cursor=None, page=None)}
        for label in state.labels
    ]
    return render(request, "viewer/version_frames.html", context)


def _frames_page(version, state: BrowseState) -> dict:
    page = selectors.frames_browse(
        version=version, filters=state.filters, sort=state.sort, descending=state.descending, cursor=state.cursor, limit=state.limit
    )
    frames = frame_dicts(page.frames, version=version)
    link_query = state.query(cursor=state.cursor, page=state.page if state.page > 1 else None)
    has_previous, previous_cursor = False, None
    if state.cursor and page.frames:
        has_previous, previous_cursor = selectors_context.previous_page_cursor(
            version=version, first_row=page.frames[0], filters=state.filters, sort=state.sort,
            descending=state.descending, limit=state.limit,
        )
    elif state.cursor:
        has_previous = True  # a cursor past the end: offer the way back to the start
    # The count is known without counting when there is no filter (kept on the version) or when everything
    # fits on this one page; otherwise the page asks for it after it is shown.
    count = None
    if not state.filtered:
        count = version.frame_count
    elif not state.cursor and not page.next_cursor:
        count = len(page.frames)
    return {
        "tiles": [tile(f, state=state, version=version, link_query=link_query) for f in frames],
        "count": count,
        "next_url": state.url(cursor=page.next_cursor, page=state.page + 1) if page.next_cursor else None,
        "previous_url": state.url(cursor=previous_cursor, page=max(1, state.page - 1) if previous_cursor else None) if has_previous else None,
        "first_url": state.url(cursor=None, page=None) if state.cursor else None,
        "meta_keys": sorted(set(_meta_keys(frames)) | set(state.cols)),
        "source_ids": _source_ids(frames),
        "page_start": (state.page - 1) * state.limit + 1,
        "page_end": (state.page - 1) * state.limit + len(page.frames),
    }


def _contexts_page(version, state: BrowseState) -> dict:
    page = selectors.contexts_list(version=version, filters=state.filters, cursor=state.cursor, limit=state.limit)
    firsts = frame_dicts([row.first_frame for row in page.contexts], version=version)
    contexts = []
    for row, first in zip(page.contexts, firsts):
        images = [source_image(s) for s in _chosen_sources(first.get("sources") or [], state.source)]
        contexts.append({
            "context_id": row.context_id,
            "name": context_name(row.context_id),
            "frame_count": row.frame_count,
            "first": first,
            "images": images,
            "span": min(len(images), 3),
            "chips": label_chips(first.get("rois")),
            "url": reverse("viewer:context", args=[version.id]) + state.filter_query(context=row.context_id),
        })
    previous_url = None
    if state.cursor and page.contexts:
        before = selectors_context.contexts_before(
            version=version, filters=state.filters, context_id=page.contexts[0].context_id, limit=state.limit
        )
        if before.exists:
            previous_url = state.url(cursor=before.cursor, page=max(1, state.page - 1) if before.cursor else None)
    elif state.cursor:
        previous_url = state.url(cursor=None, page=None)
    count = None
    if not state.cursor and not page.next_cursor:
        count = len(page.contexts)
    return {
        "contexts": contexts,
        "context_count": count,
        "count": version.frame_count if not state.filtered else None,
        "next_url": state.url(cursor=page.next_cursor, page=state.page + 1) if page.next_cursor else None,
        "previous_url": previous_url,
        "first_url": state.url(cursor=None, page=None) if state.cursor else None,
        "source_ids": _source_ids(firsts),
        "meta_keys": [],
        "page_start": (state.page - 1) * state.limit + 1,
        "page_end": (state.page - 1) * state.limit + len(contexts),
    }


@require_GET
def version_count(request, version_id):
    """How many frames the current filter matches (JSON); cached while the version is unchanged."""
    version = _version(version_id)
    state = BrowseState.from_request(request)
    if state.errors:
        return JsonResponse({"errors": state.errors}, status=400)
    if not state.filtered:
        return JsonResponse({"count": version.frame_count, "total": version.frame_count})
    key = _filter_key(state, version) + ":count"
    count = cache.get(key)
    if count is None:
        count = selectors.frames_count(version=version, filters=state.filters)
        cache.set(key, count, CACHE_SECONDS)
    return JsonResponse({"count": count, "total": version.frame_count})


@require_GET
def version_labels(request, version_id):
    """Labels with their frame and ROI counts (for the label pickers); cached while the version is unchanged."""
    version = _version(version_id)
    key = "hd-ui:labels:" + hashlib.sha256(f"{version.id}|{version.updated.timestamp()}|{version.frame_count}".encode()).hexdigest()
    stats = cache.get(key)
    if stats is None:
        stats = selectors.version_stats(version=version)
        cache.set(key, stats, CACHE_SECONDS)
    return JsonResponse(stats)


# -- export -----------------------------------------------------------------------------------------------------


def _safe_filename(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "frames"


@require_GET
def version_export(request, version_id):
    """The filtered frames as ClearML frame JSON, streamed one keyset page at a time: `[`, frames, `]`."""
    version = _version(version_id)
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


# -- Group by URL: one context as a film strip -----------------------------------------------------------------


def strip_frame(frame: dict, *, version, link_query: str) -> dict:
    """What the film strip needs of one frame: its thumbnail, a larger image and the ROIs to draw."""
    sources = frame.get("sources") or []
    source = sources[0] if sources else {}
    thumb = source_image(source)
    large = source_image(source, full=True)
    return {
        "id": frame["id"],
        "timestamp": frame["timestamp"],
        "thumb": thumb["url"],
        "image": large["url"] or thumb["url"],
        "reason": thumb["reason"],
        "width": source.get("width"),
        "height": source.get("height"),
        "href": reverse("viewer:frame", args=[version.id, frame["id"]]) + link_query,
        "chips": [{"label": c["label"], "colour": c["colour"]} for c in label_chips(frame.get("rois"))],
        "shapes": roi_shapes(frame.get("rois") or [], source_id=source.get("id", "default"), sources=sources),
    }


@require_GET
def context_view(request, version_id):
    """A context's frames in timestamp order: film strip, play/pause, step, timestamp readout, large frame."""
    version = _version(version_id)
    state = BrowseState.from_request(request)
    context_id = request.GET.get("context", "")
    link_query = state.filter_query()
    page = None
    if not state.errors:
        try:
            page = selectors_context.context_frames(version=version, context_id=context_id, filters=state.filters)
        except ServiceError as exc:
            state.errors.extend(exc.errors)
    frames = frame_dicts(page.frames, version=version) if page else []
    if page is not None and not frames and not state.errors:
        raise Http404("no frames in this context")
    total = len(frames)
    if page is not None and page.next_cursor:
        total = selectors.filtered_frames(version=version, filters=state.filters).filter(context_id=context_id).count()
    payload = {
        "frames": [strip_frame(f, version=version, link_query=link_query) for f in frames],
        "next": page.next_cursor if page else None,
        "total": total,
        "more_url": reverse("viewer:context-frames", args=[version.id]) + state.filter_query(context=context_id),
    }
    return render(request, "viewer/context.html", {
        **version_context(version, "frames"),
        "state": state,
        "context_id": context_id,
        "total": total,
        "payload": payload,
        "back_url": reverse("viewer:version", args=[version.id]) + state.filter_query(group="context"),
        "first": frames[0] if frames else None,
    })


@require_GET
def context_frames_json(request, version_id):
    """The next page of a context's film strip (JSON)."""
    version = _version(version_id)
    state = BrowseState.from_request(request)
    if state.errors:
        return JsonResponse({"errors": state.errors}, status=400)
    try:
        page = selectors_context.context_frames(
            version=version, context_id=request.GET.get("context", ""), filters=state.filters, cursor=request.GET.get("cursor") or None
        )
    except ServiceError as exc:
        return JsonResponse({"errors": exc.errors}, status=400)
    link_query = state.filter_query()
    return JsonResponse({
        "frames": [strip_frame(f, version=version, link_query=link_query) for f in frame_dicts(page.frames, version=version)],
        "next": page.next_cursor,
    })


# -- the frame page ---------------------------------------------------------------------------------------------


def roi_shapes(rois: list[dict], *, source_id: str, sources: list[dict]) -> list[dict]:
    """The polygons to draw on one source: each ROI's polys (split on -999999999) in its label's colour.

    An ROI names its sources; one that names none belongs to the first source (ClearML's "default").
    """
    first_id = str(sources[0].get("id", "default")) if sources else "default"
    shapes = []
    for index, roi in enumerate(rois):
        poly = roi.get("poly")
        if not poly:
            continue
        named = [str(s) for s in roi.get("sources") or []]
        if (named and source_id not in named) or (not named and source_id != first_id):
            continue
        labels = _labels(roi)
        polygons = []
        for part in split_poly(poly):
            if len(part) >= 4:
                polygons.append(" ".join(f"{part[i]:g},{part[i + 1]:g}" for i in range(0, len(part) - 1, 2)))
        if polygons:
            shapes.append({
                "index": index,
                "labels": labels,
                "text": ", ".join(labels) or "(no label)",
                "colour": label_colour(labels[0]) if labels else "hsl(0 0% 50%)",
                "confidence": roi.get("confidence"),
                "polygons": polygons,
                "anchor": polygons[0].split(" ")[0].split(","),
            })
    return shapes


@require_GET
def frame_page(request, version_id, frame_id):
    """One frame: its sources side by side with the ROIs drawn, its details, metadata and raw JSON."""
    version = _version(version_id)
    state = BrowseState.from_request(request)
    try:
        revision = selectors.frame_get(version=version, frame_id=frame_id)
    except NotFound:
        raise Http404(f"no frame {frame_id}") from None
    frame = frame_dicts([revision], version=version)[0]
    sources = frame.get("sources") or []
    neighbours = selectors_context.Neighbours(None, None)
    if not state.errors:
        try:
            neighbours = selectors_context.frame_neighbours(
                version=version, frame=revision, filters=state.filters, sort=state.sort, descending=state.descending
            )
        except ServiceError as exc:
            state.errors.extend(exc.errors)
    nav_query = state.query(keys=STATE_KEYS + ("cursor", "page"))
    views = []
    for source in sources:
        image = source_image(source, full=True)
        image["fallback"] = source_image(source)["url"]
        views.append({**image, "shapes": roi_shapes(frame.get("rois") or [], source_id=str(source.get("id", "default")), sources=sources)})
    raw = selectors.frame_to_dict(revision, version_id=version.id)
    return render(request, "viewer/frame.html", {
        **version_context(version, "frames"),
        "state": state,
        "frame": frame,
        "views": views,
        "chips": label_chips(frame.get("rois")),
        "frame_labels": [c for c in label_chips(frame.get("rois")) if c["frame_label"]],
        "meta_rows": [(k, _cell(v)) for k, v in sorted((frame.get("meta") or {}).items())],
        "raw_json": json.dumps(raw, indent=2, ensure_ascii=False),
        "previous_url": reverse("viewer:frame", args=[version.id, neighbours.previous.frame_id]) + nav_query if neighbours.previous else None,
        "next_url": reverse("viewer:frame", args=[version.id, neighbours.next.frame_id]) + nav_query if neighbours.next else None,
        "back_url": reverse("viewer:version", args=[version.id]) + nav_query,
        "context_url": reverse("viewer:context", args=[version.id]) + state.filter_query(context=frame["context_id"], frame=frame["id"]),
        "saved_in_version": revision.version,
    })
