"""One parser for the frame query of the REST API and of the pages: request parameters in, one FrameQuery out.

    filters        JSON list of ClearML frame filters (OR-ed): ROI label rules, frame_query, sources_query
    label          quick label filter, repeatable: frames with an ROI carrying it, AND-ed with everything else
    frame_query    Lucene rule on meta.* AND-ed into every filter
    roi_query      Lucene rule on one ROI's labels, confidence, id, meta.*: an ROI rule added to every filter
    sources_query  Lucene rule on sources.* AND-ed into every filter
    changed        any | added | edited | deleted: only what the version changed against its parent (frames.changes)
    sort, order    context (default) | id | timestamp | saved | width | height | meta.<key>;  asc | desc
                   (width, height: the first source's, as stored; without the value, or null: last either way)
    cursor         keyset cursor of the page to show (the `next` of the previous page)
    limit          page size, 1..MAX_PAGE_SIZE
    offset, page   (with positions=True: the API) where the page starts, 0-based, or the 1-based page of `limit`
                   frames; either one, never with a cursor (selectors.positions: as fast as a cursor at any depth)
    sample_by, sample_n, sample_seed   Sample by Property: N frames per value of meta.<key> or label, seeded
                   (selectors.sampling), taken from what the filters match

Every error is collected and reported with the parameter it belongs to, so a page can show them all next to
their fields and the API answers them in one 400.
"""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field, replace

from django.db.models import F
from django.db.models.fields.json import KeyTransform, compile_json_path

from ..changes import CHANGES
from ..exceptions import ServiceError
from ..filters import FrameFilter, RoiRule, filtering, parse_filters
from .sampling import Sample, parse_sample

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
SORTS = {"context": "Context + timestamp", "id": "Frame id", "timestamp": "Timestamp", "saved": "Saved",
         "width": "Source width", "height": "Source height"}
FILTER_KEYS = ("filters", "label", "frame_query", "sources_query", "roi_query")


class QueryInvalid(ServiceError):
    """One or more query parameters are wrong; `errors` names each."""

    def __init__(self, errors: list[dict]):
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors), errors=errors)


@dataclass(frozen=True)
class FrameQuery:
    """Which frames (filters, changed), in which order (sort, descending) and which page of them (cursor, limit).

    `min_confidence` is no URL parameter: frame navigation sets it to step to frames with an object ROI at
    least that confident (the frame page's slider)."""

    filters: tuple[FrameFilter, ...] = ()
    sort: str = "context"
    descending: bool = False
    cursor: str | None = None
    limit: int = DEFAULT_PAGE_SIZE
    changed: str = ""
    min_confidence: float | None = None
    sample: Sample | None = None
    offset: int | None = None

    @property
    def filtered(self) -> bool:
        return filtering(self.filters) or bool(self.changed) or self.min_confidence is not None or self.sample is not None

    @property
    def order(self) -> str:
        return "desc" if self.descending else "asc"

    def page(self, cursor: str | None = None, limit: int | None = None) -> "FrameQuery":
        """The same frames and order, another page (after `cursor`)."""
        return replace(self, cursor=cursor, offset=None, limit=self.limit if limit is None else limit)


@dataclass
class _Errors:
    items: list[dict] = field(default_factory=list)

    def add(self, name: str, message: str) -> None:
        self.items.append({"field": name, "message": message})

    def take(self, exc: ServiceError) -> None:
        self.items.extend(exc.errors)


def parse_frame_query(params, *, cursor_columns: list[str] | None = None, positions: bool = False) -> FrameQuery:
    """Read a FrameQuery from a QueryDict (request.GET or DRF's query_params); QueryInvalid names every bad
    parameter. The cursor is one of a frame page in the sort order, or of `cursor_columns` (Group by URL
    pages: CONTEXT_CURSOR). With `positions`, `offset` or `page` say where the page starts instead."""
    errors = _Errors()
    filters: list[FrameFilter] = []
    try:
        filters = parse_filter_params(params)
    except ServiceError as exc:
        errors.take(exc)
    sort = params.get("sort") or "context"
    if sort not in SORTS and not is_meta_sort(sort):
        errors.add("sort", unknown_sort(sort))
    order = params.get("order") or "asc"
    if order not in ("asc", "desc"):
        errors.add("order", "must be asc or desc")
    limit = _limit(params.get("limit"), errors)
    changed = params.get("changed") or ""
    if changed and changed not in CHANGES:
        errors.add("changed", f"must be one of {', '.join(CHANGES)}")
    sample = None
    try:
        sample = parse_sample(params)
    except ServiceError as exc:
        errors.take(exc)
    cursor = params.get("cursor") or None
    offset = _offset(params, limit, cursor, errors) if positions else None
    if cursor and not errors.items:
        try:
            decode_cursor(cursor, cursor_columns or sort_columns(sort))
        except ServiceError as exc:
            errors.take(exc)
    if errors.items:
        raise QueryInvalid(errors.items)
    return FrameQuery(tuple(filters), sort, order == "desc", cursor, limit, changed=changed, sample=sample, offset=offset)


def parse_filter_params(params) -> list[FrameFilter]:
    """The frame filter of a request: `filters` (OR-ed blocks) with `frame_query`/`sources_query` AND-ed into
    each block and the quick `label` picks AND-ed too."""
    blocks = _filters_json(params.get("filters", "") or "")
    shortcuts = {k: params.get(k) for k in ("frame_query", "sources_query", "roi_query") if params.get(k)}
    if shortcuts:
        extra = parse_filters([shortcuts])[0]
        blocks = [
            FrameFilter(b.roi_rules + extra.roi_rules, _and(b.frame_query, extra.frame_query), _and(b.sources_query, extra.sources_query))
            for b in blocks
        ] or [extra]
    labels = params.getlist("label") if hasattr(params, "getlist") else [params.get("label")]
    quick = tuple(RoiRule(labels=(label,)) for label in labels if label)
    if not quick:
        return blocks
    return [FrameFilter(b.roi_rules + quick, b.frame_query, b.sources_query) for b in blocks] or [FrameFilter(roi_rules=quick)]


def _filters_json(raw: str) -> list[FrameFilter]:
    raw = raw.strip()
    if not raw:
        return []
    try:
        value = json.loads(raw)
    except RecursionError:
        raise ServiceError("nested too deeply", field="filters") from None
    except json.JSONDecodeError as exc:
        raise ServiceError(f"not valid JSON: {exc}", field="filters") from None
    return parse_filters(value)


def _and(a: str, b: str) -> str:
    return f"({a}) AND ({b})" if a and b else a or b


def _limit(raw, errors: _Errors) -> int:
    if raw in (None, ""):
        return DEFAULT_PAGE_SIZE
    try:
        limit = int(raw)
    except (TypeError, ValueError):
        errors.add("limit", f"must be a whole number, got {raw!r}")
        return DEFAULT_PAGE_SIZE
    if not 1 <= limit <= MAX_PAGE_SIZE:
        errors.add("limit", f"must be between 1 and {MAX_PAGE_SIZE}")
    return limit


def _offset(params, limit: int, cursor: str | None, errors: _Errors) -> int | None:
    """`offset` (0-based) or `page` (1-based, pages of `limit`) as an offset; None when neither is given."""
    raw_offset, raw_page = params.get("offset"), params.get("page")
    given = [name for name, raw in (("offset", raw_offset), ("page", raw_page)) if raw not in (None, "")]
    if not given:
        return None
    if len(given) == 2:
        errors.add("page", "give offset or page, not both")
        return None
    name = given[0]
    if cursor:
        errors.add(name, "cannot be combined with cursor: a cursor already says where the page starts")
        return None
    raw = raw_offset if name == "offset" else raw_page
    try:
        value = int(raw)
    except (TypeError, ValueError):
        errors.add(name, f"must be a whole number, got {raw!r}")
        return None
    lowest = 0 if name == "offset" else 1
    if value < lowest or value > MAX_OFFSET:
        errors.add(name, f"must be between {lowest} and {MAX_OFFSET}")
        return None
    return value if name == "offset" else (value - 1) * limit


MAX_OFFSET = 10**12


# -- sorts and keyset cursors -------------------------------------------------------------------------------

SORT_COLUMNS = {
    "context": ("context_id", "timestamp", "frame_id"),
    "id": ("frame_id",),
    "timestamp": ("timestamp", "frame_id"),
    "saved": ("saved", "frame_id"),
}
# Sorts on a JSON value of the frame (a metadata key, the first source's size) order by it under this alias,
# then by frame id; frames without the value come last in either direction.
META_SORT_ALIAS = "_sort_meta"
JSON_SORTS = {"width": ("sources", "0", "width"), "height": ("sources", "0", "height")}
CONTEXT_CURSOR = ["context_id"]  # Group by URL pages
STRIP_CURSOR = ["timestamp", "frame_id"]  # a context's frames


def unknown_sort(sort: str) -> str:
    return f"unknown sort {sort!r}: use {', '.join(SORTS)} or meta.<key>"


def meta_sort_keys(sort: str) -> list[str] | None:
    """["camera", "model"] for sort "meta.camera.model"; None for other sorts."""
    keys = sort[5:].split(".") if sort.startswith("meta.") else []
    return keys if keys and all(keys) and not any("__" in k for k in keys) else None


def is_meta_sort(sort: str) -> bool:
    return meta_sort_keys(sort) is not None


def json_sort_path(sort: str) -> tuple[str, ...] | None:
    """The frame's JSON field and keys a sort orders by: ("meta", "camera") for meta.camera, ("sources", "0",
    "width") for width; None for the sorts on columns."""
    if sort in JSON_SORTS:
        return JSON_SORTS[sort]
    keys = meta_sort_keys(sort)
    return ("meta", *keys) if keys else None


def json_sort_expression(sort: str):
    """The database expression of a JSON sort (a digit key is an array index), a JSON null read as no value."""
    name, *keys = json_sort_path(sort)
    expr = F(name)
    for key in keys[:-1]:
        expr = KeyTransform(key, expr)
    return ValueAt(keys[-1], expr)


class ValueAt(KeyTransform):
    """A JSON key's value, or NULL when the key is missing or its value is JSON null: frames with a null sort
    with the frames without, as json_sort_value reads both (on their own, PostgreSQL orders a JSON null before
    every number and SQLite reads it as the text 'null'). A large dataset's size indexes are built on this very
    expression (services.size_indexes). KeyTransform's lookups apply."""

    def as_postgresql(self, compiler, connection):
        sql, params = super().as_postgresql(compiler, connection)
        return f"NULLIF({sql}, 'null'::jsonb)", params

    def as_sqlite(self, compiler, connection):
        lhs, params, key_transforms = self.preprocess_lhs(compiler, connection)
        sql, value_params = super().as_sqlite(compiler, connection)
        case = f"(CASE WHEN JSON_TYPE({lhs}, %s) = 'null' THEN NULL ELSE {sql} END)"
        return case, (*params, compile_json_path(key_transforms), *value_params)


def json_sort_value(row, sort: str):
    """What json_sort_expression reads, read from a loaded revision (None when it is missing)."""
    name, *keys = json_sort_path(sort)
    value = getattr(row, name)
    for key in keys:
        if isinstance(value, list) and key.isdigit():
            value = value[int(key)] if int(key) < len(value) else None
        else:
            value = value.get(key) if isinstance(value, dict) else None
    return value


def sort_columns(sort: str) -> list[str]:
    """The ordering columns of a sort; a JSON value sorts by itself (aliased), then frame id."""
    if sort in SORT_COLUMNS:
        return list(SORT_COLUMNS[sort])
    if json_sort_path(sort):
        return [META_SORT_ALIAS, "frame_id"]
    raise ServiceError(unknown_sort(sort), field="sort")


COLUMN_TYPES = {"context_id": str, "frame_id": str, "timestamp": int, "saved": int}


def encode_cursor(payload) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, columns: list[str]) -> list:
    """The values of a keyset cursor for these ordering columns, each of its column's type."""
    try:
        payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, RecursionError):
        raise ServiceError("not a cursor this server issued", field="cursor") from None
    if not isinstance(payload, list) or len(payload) != len(columns):
        raise ServiceError("the cursor belongs to another sort order", field="cursor")
    for value, column in zip(payload, columns):
        wanted = COLUMN_TYPES.get(column)
        if wanted is int and (isinstance(value, bool) or not isinstance(value, int)):
            raise ServiceError("not a cursor this server issued", field="cursor")
        if wanted is str and not isinstance(value, str):
            raise ServiceError("not a cursor this server issued", field="cursor")
        if wanted is None and isinstance(value, (dict, list)):  # a metadata sort value is a JSON scalar
            raise ServiceError("not a cursor this server issued", field="cursor")
    return payload
