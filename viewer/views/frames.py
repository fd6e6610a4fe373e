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
from viewer.browse import PAGE_SIZES, SORT_CHOICES, BrowseState, json_view, table_sort_links, version_or_404
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
    page = selectors.frames_browse(user=user, version=version, query=state.query)
    frames = selectors.frames_to_dicts(page.frames, user=user, version=version)
    link_query = state.url_query(cursor=state.cursor, page=state.page if state.page > 1 else None)
    changes = selectors.frame_changes(user=user, version=version, rows=page.frames) if state.changed else {}
    has_previous, previous_cursor = False, None
    if state.cursor and page.frames:
        has_previous, previous_cursor = selectors.previous_page_cursor(user=user, version=version, first_row=page.frames[0], query=state.query)
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
        "tiles": [_with_source_size(tile(f, state=state, version=version, link_query=link_query, change=changes.get(f["id"], "")), f) for f in frames],
        "tile_rois": {f["id"]: tile_rois(f) for f in frames},
        "count": count,
        "next_url": state.url(cursor=page.next_cursor, page=state.page + 1) if page.next_cursor else None,
        "previous_url": state.url(cursor=previous_cursor, page=max(1, state.page - 1) if previous_cursor else None) if has_previous else None,
        "first_url": state.url(cursor=None, page=None) if state.cursor else None,
        "meta_keys": sorted(set(meta_keys(frames)) | set(state.cols)),
        "source_ids": source_ids(frames),
        "page_start": (state.page - 1) * state.limit + 1,
        "page_end": (state.page - 1) * state.limit + len(page.frames),
    }


def _with_source_size(item: dict, frame: dict) -> dict:
    """A tile with its first source's size (the one the width and height sorts read; measured by the worker
    for sources that came without one)."""
    first = (frame.get("sources") or [{}])[0]
    item["size"] = (first.get("width"), first.get("height")) if isinstance(first, dict) else (None, None)
    return item


def _contexts_page(user, version, state: BrowseState) -> dict:
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
    if state.cursor and page.contexts:
        before = selectors.contexts_before(user=user, version=version, context_id=page.contexts[0].context_id, query=state.query)
        if before.exists:
            previous_url = state.url(cursor=before.cursor, page=max(1, state.page - 1) if before.cursor else None)
    elif state.cursor:
        previous_url = state.url(cursor=None, page=None)
    count = None
    if not state.cursor and not page.next_cursor:
        count = len(page.contexts)
    return {
        "contexts": contexts,
        "tile_rois": rois,
        "context_count": count,
        "count": version.frame_count if not state.filtered else None,
        "next_url": state.url(cursor=page.next_cursor, page=state.page + 1) if page.next_cursor else None,
        "previous_url": previous_url,
        "first_url": state.url(cursor=None, page=None) if state.cursor else None,
        "source_ids": source_ids(firsts),
        "meta_keys": [],
        "page_start": (state.page - 1) * state.limit + 1,
        "page_end": (state.page - 1) * state.limit + len(contexts),
    }


@require_GET
@json_view
def version_count(request, version, state: BrowseState):
    """How many frames the current filter matches (JSON); kept while the version is unchanged."""
    count = services.frames_count(user=request.user, version=version, filters=state.filters, changed=state.changed, sample=state.sample)
    return JsonResponse({"count": count, "total": version.frame_count})


@require_GET
def version_labels(request, version_id):
    """Labels with their frame and ROI counts (for the label pickers); kept while the version is unchanged."""
    version = version_or_404(request, version_id)
    return JsonResponse(services.label_stats(user=request.user, version=version))
