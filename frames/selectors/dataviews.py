"""DataViews evaluated: the frames a user's saved queries select, in the order the DataView asks for.

Each query goes through the Frames tab's own code: its `roi_query` and `frame_query` are read by
parse_frame_query, its frames come from frames_browse (keyset pages) or query_rows, so a DataView and the
browser select the same frames for the same query.

    sequential  every query's frames merged by context, then timestamp (then frame id, then query order), as
                ClearML's DataView returns them; a cursor holds each query's keyset cursor, so page 1,000 costs
                what page 1 costs. Infinite: starts again after the last frame.
    random      seeded draws by weight (frames.selectors.dataview_draws): the same seed gives the same frames at
                any page size, another seed others. A finite view is one pass that yields each frame its queries
                match once (no replacement), the queries picked by weight while they have frames left; an
                infinite view draws with replacement, so the weights hold over any run.
    maximum_number_of_frames  caps either order.

A cursor is opaque JSON: {"p": frames yielded before the page, "c": [each query's keyset cursor]}, and for random
views "n": [each query's frame count], "m": [each query's highest revision id], both read on the first page, and
"k": [frames each query yielded in this pass] (finite views). A random page draws offsets into each query's
matched revision ids (dataview_query_ids, kept by services.dataview_pages), so it reads only the rows drawn.
"""
from __future__ import annotations

import base64
import bisect
import heapq
import json
from array import array
from dataclasses import dataclass

from django.db.models import QuerySet
from django.http import QueryDict

from ..dataview_models import DataView
from ..exceptions import NotFound, ServiceError
from ..models import DatasetVersion, FrameRevision
from .access import VIEWER, _signed_in, require
from .datasets import version_get
from .dataview_draws import draw, pass_draws
from .frames import cursor_of, frames_browse, frames_count, query_rows
from .previews import frames_to_dicts
from .query import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, SORT_COLUMNS, FrameQuery, QueryInvalid, parse_frame_query

QUERY_TEXTS = ("roi_query", "frame_query")


@dataclass
class DataViewPage:
    frames: list[dict]
    next_cursor: str | None
    position: int  # frames yielded before this page


@dataclass
class DataViewCount:
    count: int  # frames the queries match (a frame two queries match counts twice, as iterating yields it twice)
    per_query: list[int]
    length: int | None  # frames an iteration yields; None: endless (infinite, no maximum)


@dataclass
class DataViewQuery:
    version: DatasetVersion
    frame_query: FrameQuery
    weight: float


def dataviews_list(*, user) -> QuerySet[DataView]:
    """The user's own DataViews, newest first (staff too: a list of everybody's would bury one's own)."""
    if not _signed_in(user):
        return DataView.objects.none()
    return DataView.objects.filter(owner_id=user.pk).select_related("owner")


def dataview_get(*, user, dataview_id: str) -> DataView:
    """The DataView, if it is the user's (staff: anyone's); NotFound otherwise, so others' ids do not leak."""
    if not _signed_in(user):
        raise NotFound(f"no dataview with id {dataview_id!r}", field="dataview")
    rows = DataView.objects.select_related("owner")
    view = (rows if user.is_staff else rows.filter(owner_id=user.pk)).filter(pk=dataview_id).first()
    if view is None:
        raise NotFound(f"no dataview with id {dataview_id!r}", field="dataview")
    return view


def dataview_frame_query(query: dict, *, index: int, limit: int = DEFAULT_PAGE_SIZE) -> FrameQuery:
    """A DataView query's FrameQuery (context order), read by the browser's parser; errors name queries[i]."""
    params = QueryDict(mutable=True)
    for key in QUERY_TEXTS:
        if query.get(key):
            params[key] = query[key]
    if query.get("filters"):  # the Frames tab's filter blocks (the SDK's add_multi_query: several ROI rules)
        params["filters"] = json.dumps(query["filters"])
    params["limit"] = str(limit)
    try:
        return parse_frame_query(params)
    except QueryInvalid as exc:
        # The parser reads the two rules as one filter block ("filters[0].roi_query"): name the query's own key.
        prefix = "" if query.get("filters") else "filters[0]."
        errors = [{**e, "field": f"queries[{index}].{e['field'].removeprefix(prefix)}"} for e in exc.errors]
        raise QueryInvalid(errors) from None


def dataview_versions(*, user, queries: list[dict]) -> list[DatasetVersion]:
    """Each query's version as the user sees it; NotFound naming queries[i].version for one they cannot."""
    found = []
    for index, query in enumerate(queries):
        try:
            found.append(version_get(user=user, version_id=str(query.get("version") or "")))
        except NotFound:
            raise NotFound(f"no version with id {query.get('version')!r}", field=f"queries[{index}].version") from None
    return found


def dataview_queries(*, user, dataview: DataView) -> list[DataViewQuery]:
    """The view's queries, each with its version (NotFound naming queries[i].version for one the user cannot see)
    and its FrameQuery."""
    return _queries(user, dataview)


def _queries(user, view: DataView, limit: int = DEFAULT_PAGE_SIZE) -> list[DataViewQuery]:
    versions = dataview_versions(user=user, queries=view.queries)
    return [DataViewQuery(version, dataview_frame_query(q, index=i, limit=limit), float(q.get("weight", 1)))
            for i, (q, version) in enumerate(zip(view.queries, versions))]


def dataview_count(*, user, dataview: DataView) -> DataViewCount:
    queries = _queries(user, dataview)
    per_query = [frames_count(user=user, version=q.version, filters=q.frame_query.filters) for q in queries]
    count = sum(per_query)
    cap = dataview.maximum_number_of_frames
    if dataview.infinite:
        length = cap
    else:
        length = count if cap is None else min(count, cap)
    return DataViewCount(count, per_query, length)


def dataview_frames(*, user, dataview: DataView, cursor: str | None = None, limit: int = DEFAULT_PAGE_SIZE,
                    matched: list[array] | None = None) -> DataViewPage:
    """One page of the DataView's frames (the API's frame JSON, each with its dataset and version), after `cursor`.
    `matched`: a random view's dataview_query_ids for each query, when the caller keeps them (services.dataview_pages
    caches them); read here otherwise."""
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise ServiceError(f"must be between 1 and {MAX_PAGE_SIZE}", field="limit")
    queries = _queries(user, dataview, limit)
    position, cursors, drawn = _decode(cursor, len(queries))
    cap = dataview.maximum_number_of_frames
    if cap is not None:
        limit = min(limit, max(cap - position, 0))
    if dataview.iteration_order == DataView.RANDOM:
        rows, more, drawn = _random_rows(user, dataview, queries, position, limit, drawn, matched)
        cursors = []
    else:
        rows, cursors, more = _sequential_rows(user, queries, cursors, limit, wrap=dataview.infinite)
    position_after = position + len(rows)
    if cap is not None and position_after >= cap:
        more = False
    frames = _enumerated(_mapped(_as_dicts(user, rows), dataview.mapping_rules), dataview.labels)
    return DataViewPage(frames, _encode(position_after, cursors, drawn) if more and rows else None, position)


# -- sequential: the queries' keyset pages merged -----------------------------------------------------------


def _sequential_rows(user, queries: list[DataViewQuery], cursors: list, limit: int, *, wrap: bool):
    """Up to `limit` rows merged in context order, the cursors after them, and whether more follow."""
    if limit == 0:
        return [], cursors, False
    pages = [frames_browse(user=user, version=q.version, query=q.frame_query.page(cursor=c, limit=limit))
             for q, c in zip(queries, cursors)]
    merged = heapq.merge(*[[(_context_key(row), index, row) for row in page.frames] for index, page in enumerate(pages)])
    taken: list[tuple[int, FrameRevision]] = []
    for _key, index, row in merged:
        if len(taken) == limit:
            break
        taken.append((index, row))
    after = list(cursors)
    used = [0] * len(queries)
    for index, row in taken:
        after[index] = cursor_of(row, sort="context")
        used[index] += 1
    more = any(used[i] < len(p.frames) or p.next_cursor for i, p in enumerate(pages))
    if not more and wrap and taken:
        return _with_versions(queries, taken), [None] * len(queries), True  # the next page starts again
    return _with_versions(queries, taken), after, more


def _context_key(row: FrameRevision) -> tuple:
    return tuple(getattr(row, name) for name in SORT_COLUMNS["context"])


def _with_versions(queries: list[DataViewQuery], taken) -> list[tuple[DatasetVersion, FrameRevision]]:
    return [(queries[index].version, row) for index, row in taken]


# -- random: seeded draws by weight -------------------------------------------------------------------------


def dataview_query_ids(*, user, version: DatasetVersion, frame_query: FrameQuery) -> array:
    """The revision ids of the frames a DataView query matches, ascending: one pass over the query (the cost of
    counting it), after which a random page reads its draws by position instead of walking the query again."""
    require(user, version, VIEWER)
    return array("q", query_rows(version, frame_query).order_by("pk").values_list("pk", flat=True))


def _random_rows(user, view: DataView, queries: list[DataViewQuery], position: int, limit: int, drawn: dict, matched):
    """Up to `limit` drawn rows from draw `position` on, whether more follow, and the draws' state for the next
    page. The pass is frozen on its first page: each query's frame count and highest revision id (frames saved
    into a draft later wait for the next pass, and the draws stay those of the counts it started with); a finite
    view (one pass without replacement) also carries how many frames each query has yielded."""
    if matched is None:
        matched = [dataview_query_ids(user=user, version=q.version, frame_query=q.frame_query) for q in queries]
    bounds = drawn.get("m") or [ids[-1] if ids else 0 for ids in matched]
    matched = [ids[: bisect.bisect_right(ids, bound)] for ids, bound in zip(matched, bounds)]
    counts = drawn.get("n") or [len(ids) for ids in matched]
    weights = [q.weight for q in queries]
    if view.infinite:
        draws = [draw(view.random_seed, n, weights, counts) for n in range(position, position + limit)]
        draws = draws[: draws.index(None)] if None in draws else draws
        more, drawn = True, {"n": counts, "m": bounds}
    else:
        draws, taken = pass_draws(view.random_seed, position, limit, weights, counts, drawn.get("k") or [0] * len(queries))
        more, drawn = any(t < c for t, c in zip(taken, counts)), {"n": counts, "k": taken, "m": bounds}
    # An offset past a query's ids: frames deleted since the pass began (their draws are skipped).
    pks = [(index, matched[index][offset]) for index, offset in draws if offset < len(matched[index])]
    found = FrameRevision.objects.in_bulk([pk for _, pk in pks])
    rows = [(queries[index].version, found[pk]) for index, pk in pks if pk in found]
    return rows, more and bool(rows), drawn


# -- output ---------------------------------------------------------------------------------------------------


def _as_dicts(user, rows: list[tuple[DatasetVersion, FrameRevision]]) -> list[dict]:
    """The frames as the frames API shows them (previews attached), in the page's order."""
    by_version: dict[str, list[int]] = {}
    for position, (version, _row) in enumerate(rows):
        by_version.setdefault(version.pk, []).append(position)
    out: list[dict | None] = [None] * len(rows)
    for positions in by_version.values():
        version = rows[positions[0]][0]
        for position, frame in zip(positions, frames_to_dicts([rows[p][1] for p in positions], user=user, version=version)):
            out[position] = frame
    return out


def _mapped(frames: list[dict], rules: list[dict]) -> list[dict]:
    """ROI labels renamed by the mapping rules (a rule naming a version applies to that version's frames)."""
    if not rules:
        return frames
    for frame in frames:
        version = frame["dataset"]["version"]
        table = {label: rule["to_label"] for rule in rules if rule.get("version") in (None, version) for label in rule["from_labels"]}
        for roi in frame.get("rois") or []:
            labels = [table.get(label, label) for label in roi.get("labels") or []]
            roi["labels"] = list(dict.fromkeys(labels))
    return frames


def _enumerated(frames: list[dict], labels: dict[str, int]) -> list[dict]:
    """Each ROI's `label_num`: the enumeration (set_labels) of its first label that has one, after the mapping
    rules renamed them; null when none has. A view without an enumeration leaves the ROIs as they are."""
    if not labels:
        return frames
    for frame in frames:
        for roi in frame.get("rois") or []:
            roi["label_num"] = next((labels[label] for label in roi.get("labels") or [] if label in labels), None)
    return frames


def _encode(position: int, cursors: list, drawn: dict) -> str:
    payload = {"p": position, "c": cursors, **drawn}
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode(cursor: str | None, queries: int) -> tuple[int, list, dict]:
    """(frames yielded before, each query's keyset cursor, the random draws' state: "n" counts, "k" taken, "m"
    highest revision ids)."""
    if not cursor:
        return 0, [None] * queries, {}
    try:
        payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        position, cursors = int(payload["p"]), list(payload["c"]) or [None] * queries
        drawn = {key: payload[key] for key in ("n", "k", "m") if key in payload}
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
        raise ServiceError("not a cursor of this dataview", field="cursor") from None
    if position < 0 or len(cursors) != queries or not all(c is None or isinstance(c, str) for c in cursors):
        raise ServiceError("not a cursor of this dataview", field="cursor")
    for numbers in drawn.values():
        if not isinstance(numbers, list) or len(numbers) != queries or not all(
                isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in numbers):
            raise ServiceError("not a cursor of this dataview", field="cursor")
    return position, cursors, drawn
