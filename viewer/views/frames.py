"""The version's Frames tab: a grid or table of frames, or one tile per context (Group by URL), and the JSON the
tab fetches after it is shown (the count under a filter, the label pickers' counts).

Previous is found by walking back from the first frame on the page, so the URL never grows and page 10,000 costs
what page 1 costs. Counts under a filter are fetched after the page is shown (`version_count`), so a first paint
never waits for counting a million rows.
"""
from __future__ import annotations


from django.http import JsonResponse
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from frames import selectors, services
from frames.exceptions import ServiceError
from frames.services import positions as position_services
from viewer.browse import PAGE_SIZES, SORT_CHOICES, BrowseState, json_view, jump_fields, table_sort_links, version_or_404
from viewer.media import source_image
from viewer.render import items_html, tile_rois
from viewer.streaming import streamed_page
from viewer.tiles import chosen_sources, context_name, label_chips, meta_keys, source_ids, tile

from .versions import version_context


@require_GET
def version_frames(request, version_id):
    """The version page's Frames tab: a grid or table of frames, or one tile per context (Group by URL).

    The page's header and tabs are sent first; the toolbar, counts and frames follow once they are read
    (viewer/streaming.py), so the first paint does not wait for the frames query.
    """
    version = version_or_404(request, version_id)
    state = BrowseState.from_request(request)
    context = {
        **version_context(request, version, "frames"),
        "state": state,
        "sorts": SORT_CHOICES,
        "page_sizes": PAGE_SIZES,
        "initial_labels": selectors.stored_stats(version),
        "count_url": reverse("viewer:version-count", args=[version.id]) + state.filter_query(sort=None, order=None),
        "labels_url": reverse("viewer:version-labels", args=[version.id]),
        "jump_fields": jump_fields(state),
        "export_url": reverse("viewer:version-export", args=[version.id]) + state.filter_query(),
        "links": {
            "grid": state.url(view=None, group=None, cursor=None, page=None),
            "table": state.url(view="table", group=None, cursor=None, page=None),
            "group": state.url(group=None if state.group else "context", cursor=None, page=None),
            "clear_filters": state.url(filters=None, frame_query=None, sources_query=None, roi_query=None, cursor=None, page=None),
            "clear_sample": state.url(sample_by=None, sample_n=None, sample_seed=None, cursor=None, page=None),
            "split": reverse("viewer:version-split", args=[version.id]) + state.filter_query(sort=None, order=None),
        },
        "quick_chips": [
            {"label": label, "url": state.url(label=[other for other in state.labels if other != label], cursor=None, page=None)}
            for label in state.labels
        ],
    }
    return streamed_page(request, "viewer/version_frames.html", context, "viewer/version_frames_body.html",
                         lambda: _browse_results(request.user, version, state))


def _browse_results(user, version, state: BrowseState) -> dict:
    """What the tab's body shows: a page of frames or of contexts, with its markup, pager and counts."""
    results = {"tiles": [], "contexts": [], "tile_rois": {}}
    if not state.errors:
        try:
            results.update(_contexts_page(user, version, state) if state.group else _frames_page(user, version, state))
        except ServiceError as exc:
            state.errors.extend(exc.errors)
    items = results["contexts"] if state.group else results["tiles"]
    results["items_html"] = items_html("contexts" if state.group else state.view, items) if items else ""
    results["sort_links"] = table_sort_links(state) if state.view == "table" and not state.group else {}
    results["error_fields"] = {e["field"]: e["message"] for e in state.errors}
    return results


def _frames_page(user, version, state: BrowseState) -> dict:
    """A page after the URL's cursor, or (page N without a cursor: the page box, the slider, a shared link) the page
    at offset (N - 1) * limit, found through the position index (frames.selectors.positions). The page number is
    shown only when it is known to be true: a jump's by construction, a cursor's once checked against the index;
    otherwise the tab asks `position_url` after it is shown."""
    rows, next_cursor, total, page_known = _page_rows(user, version, state)
    frames = selectors.frames_to_dicts(rows, user=user, version=version)
    link_query = state.url_query(cursor=state.cursor, page=state.page if state.page > 1 else None)
    changes = selectors.frame_changes(user=user, version=version, rows=rows) if state.changed else {}
    has_previous, previous_cursor = False, None
    if rows and (state.cursor or state.page > 1):
        has_previous, previous_cursor = selectors.previous_page_cursor(user=user, version=version, first_row=rows[0], query=state.query)
    elif state.cursor or state.page > 1:
        has_previous = True  # past the end: offer the way back to the start
    # The count is known without counting when there is no filter (kept on the version), after a jump (the
    # position index has it) or when everything fits on this one page; otherwise the page asks for it.
    count = total
    if count is None and not state.filtered:
        count = version.frame_count
    elif count is None and not state.cursor and not next_cursor:
        count = len(rows)
    page = state.page if page_known else None
    start = (state.page - 1) * state.limit
    return {
        "tiles": [_with_source_size(tile(f, state=state, version=version, link_query=link_query, change=changes.get(f["id"], "")), f) for f in frames],
        "tile_rois": {f["id"]: tile_rois(f) for f in frames},
        "count": count,
        "next_url": state.url(cursor=next_cursor, page=(page + 1) if page else None) if next_cursor else None,
        "previous_url": _previous_url(state, has_previous, previous_cursor, page),
        "first_url": state.url(cursor=None, page=None) if state.cursor or state.page > 1 else None,
        "meta_keys": sorted(set(meta_keys(frames)) | set(state.cols)),
        "source_ids": source_ids(frames),
        "page_number": page,
        "last_page": _last_page(count, state),
        "last_page_url": state.url(cursor=None, page=_last_page(count, state)) if count else None,
        "position_url": None if page_known or not rows else reverse("viewer:version-position", args=[version.id]) + state.url_query(cursor=state.cursor),
        "page_start": start + 1,
        "page_end": start + len(rows),
        "past_end": not rows and state.page > 1 and not state.cursor,
    }


def _last_page(count: int | None, state: BrowseState) -> int | None:
    return max(1, -(-count // state.limit)) if count is not None else None


def _page_rows(user, version, state: BrowseState):
    """(rows, next cursor, total or None, whether state.page is the page shown)."""
    if not state.cursor:
        if state.page == 1:
            page = selectors.frames_browse(user=user, version=version, query=state.query)
            return page.frames, page.next_cursor, None, True
        at = position_services.frames_page_at(user=user, version=version, query=state.query, offset=(state.page - 1) * state.limit)
        return at.frames, at.next_cursor, at.total, True
    page = selectors.frames_browse(user=user, version=version, query=state.query)
    checked = state.page > 1 and position_services.page_checked(user=user, version=version, query=state.query, page=state.page)
    return page.frames, page.next_cursor, None, bool(checked)


def _previous_url(state: BrowseState, has_previous: bool, cursor: str | None, page: int | None) -> str | None:
    if not has_previous:
        return None
    if page is None:
        return state.url(cursor=cursor, page=None) if cursor else state.url(cursor=None, page=None)
    return state.url(cursor=cursor, page=(page - 1) if cursor else None)


def _with_source_size(item: dict, frame: dict) -> dict:
    """A tile with its first source's size (the one the width and height sorts read; measured by the worker
    for sources that came without one)."""
    first = (frame.get("sources") or [{}])[0]
    item["size"] = (first.get("width"), first.get("height")) if isinstance(first, dict) else (None, None)
    return item


def _contexts_page(user, version, state: BrowseState) -> dict:
    """A Group-by-URL page after the URL's cursor, or (page N without a cursor: the page box, the slider, a shared
    link) the page starting at context (N - 1) * limit, found through the contexts' checkpoints
    (frames.selectors.context_positions); its number is then known, a cursor page's is asked for after it is shown."""
    jumped = state.page > 1 and not state.cursor
    total = None
    if jumped:
        page, total = position_services.contexts_page_at(user=user, version=version, query=state.query, offset=(state.page - 1) * state.limit)
        if page is None:
            return _contexts_past_end(state, total, version.frame_count if not state.filtered else None)
    else:
        page = services.contexts_page(user=user, version=version, query=state.query)
    firsts = selectors.frames_to_dicts([row.first_frame for row in page.contexts], user=user, version=version)
    context_url = reverse("viewer:context", args=[version.id]) + state.filter_query()
    context_url += "&" if "?" in context_url else "?"
    contexts, rois = [], {}
    for row, first in zip(page.contexts, firsts):
        images = [source_image(version.dataset_id, s) for s in chosen_sources(first.get("sources") or [], state.source)]
        contexts.append({
            "context_id": row.context_id,
            "name": context_name(row.context_id),
            "frame_count": row.frame_count,
            "first": first,
            "images": images,
            "span": min(len(images), 3),
            "chips": label_chips(first.get("rois")),
            "url": context_url + urlencode({"context": row.context_id}),
        })
        rois[row.context_id] = tile_rois(first)
    previous_url = None
    if (state.cursor or jumped) and page.contexts:
        before = selectors.contexts_before(user=user, version=version, context_id=page.contexts[0].context_id, query=state.query)
        if before.exists:
            previous_url = state.url(cursor=before.cursor, page=max(1, state.page - 1) if before.cursor else None)
    elif state.cursor:
        previous_url = state.url(cursor=None, page=None)
    if total is None and not state.cursor and not page.next_cursor:
        total = len(page.contexts)
    page_known = not state.cursor
    position_url = reverse("viewer:version-position", args=[version.id]) + state.url_query(cursor=state.cursor, page=None)
    return {
        "contexts": contexts,
        "tile_rois": rois,
        "context_count": total,
        "count": version.frame_count if not state.filtered else None,
        "next_url": state.url(cursor=page.next_cursor, page=state.page + 1) if page.next_cursor else None,
        "previous_url": previous_url,
        "first_url": state.url(cursor=None, page=None) if state.cursor or jumped else None,
        "source_ids": source_ids(firsts),
        "meta_keys": [],
        "page_start": (state.page - 1) * state.limit + 1,
        "page_end": (state.page - 1) * state.limit + len(contexts),
        "page_number": state.page if page_known else None,
        "last_page": _last_page(total, state),
        # Asked after the page is shown: a cursor page's number, or how many contexts there are (the slider's end).
        "position_url": position_url if not page_known or total is None else None,
    }


def _contexts_past_end(state: BrowseState, total: int, count: int | None) -> dict:
    last = _last_page(total, state)
    return {"contexts": [], "tile_rois": {}, "context_count": total, "count": count, "next_url": None,
            "previous_url": state.url(cursor=None, page=None), "first_url": state.url(cursor=None, page=None),
            "source_ids": [], "meta_keys": [], "page_start": 0, "page_end": 0, "page_number": None, "last_page": last,
            "last_page_url": state.url(cursor=None, page=last) if total else None, "past_end": True, "position_url": None}


@require_GET
@json_view
def version_count(request, version, state: BrowseState):
    """How many frames the current filter matches (JSON); kept while the version is unchanged."""
    count = services.frames_count(user=request.user, version=version, filters=state.filters, changed=state.changed, sample=state.sample)
    return JsonResponse({"count": count, "total": version.frame_count})


@require_GET
@json_view
def version_position(request, version, state: BrowseState):
    """Where the page after the URL's cursor is: {"offset", "total", "page"} (page: when the offset starts one of
    `limit` frames, else null), for the Frames tab's label when the page number in its URL was not checked. In
    Group by URL (group=context) it counts contexts, and the cursor may be left out (offset 0: the total alone,
    for the slider's end)."""
    if state.group:
        positions = position_services.context_positions(user=request.user, version=version, query=state.query)
        total = positions.total
        offset = selectors.context_cursor_offset(user=request.user, version=version, query=state.query, positions=positions)
        page = offset // state.limit + 1 if offset % state.limit == 0 else None
        return JsonResponse({"offset": offset, "total": total, "page": page, "limit": state.limit, "unit": "contexts"})
    if not state.cursor:
        return JsonResponse({"errors": [{"field": "cursor", "message": "required"}]}, status=400)
    offset, total = position_services.cursor_offset(user=request.user, version=version, query=state.query)
    page = offset // state.limit + 1 if offset % state.limit == 0 else None
    return JsonResponse({"offset": offset, "total": total, "page": page, "limit": state.limit})


@require_GET
def version_labels(request, version_id):
    """Labels with their frame and ROI counts (for the label pickers); kept while the version is unchanged."""
    version = version_or_404(request, version_id)
    return JsonResponse(services.label_stats(user=request.user, version=version))
