"""The Jobs page (the signed-in user's jobs, staff: everyone's; newest first, filtered as GET /api/jobs/ is and
paged) and one job's page. Reads go through frames.selectors; cancelling is the API's
(POST /api/jobs/<id>/cancel/, sent by static/js/jobs.js, which also keeps the active rows moving).
"""
from __future__ import annotations

from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.http import Http404
from django.shortcuts import render
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from frames import selectors
from frames.exceptions import NotFound
from frames.selectors.filtersets import JobFilterSet

PAGE_SIZE = 50
# The segmented control above the list: its key, its label and the API's filter parameters it sets.
SHOWS = [
    ("all", "All", {}),
    ("active", "Running & queued", {"active": "true"}),
    ("done", "Done", {"state": "done"}),
    ("failed", "Failed", {"state": "failed"}),
    ("cancelled", "Cancelled", {"state": "cancelled"}),
]


@require_GET
def jobs_page(request):
    """The list with the parameters of GET /api/jobs/ (active, state, kind, version) plus `page`; a bad one
    answers 400 naming it."""
    filterset = JobFilterSet(request.GET, queryset=selectors.jobs_list(user=request.user), request=request)
    errors = [{"field": field, "message": " ".join(messages)} for field, messages in filterset.errors.items()]
    page = None
    if not errors:
        try:
            page = Paginator(filterset.qs, PAGE_SIZE).page(request.GET.get("page") or 1)
        except (PageNotAnInteger, EmptyPage) as exc:
            errors.append({"field": "page", "message": str(exc)})
    context = {
        "page": page,
        "jobs": list(page) if page else [],
        "errors": errors,
        "shows": _shows(request.GET),
        "narrowed": {key: request.GET[key] for key in ("kind", "version") if request.GET.get(key)},
        "page_query": _query_without_page(request.GET),
    }
    return render(request, "viewer/jobs.html", context, status=400 if errors else 200)


@require_GET
def job_page(request, job_id):
    """One job: what it works on, its progress, message, error and result (its user, a member of its dataset
    and staff may look; 404 for anyone else)."""
    try:
        job = selectors.job_get(user=request.user, job_id=job_id)
    except NotFound:
        raise Http404(f"no job {job_id}") from None
    return render(request, "viewer/job.html", {"job": job})


def _shows(params) -> list[dict]:
    """The segmented control's links; each keeps the kind/version narrowing and marks itself current when the
    request asks exactly its filter."""
    kept = [(key, params[key]) for key in ("kind", "version") if params.get(key)]
    asked = {key: params[key] for key in ("active", "state") if params.get(key)}
    shows = []
    for key, label, filters in SHOWS:
        query = urlencode([*filters.items(), *kept])
        shows.append({"key": key, "label": label, "href": f"?{query}" if query else "?", "current": asked == filters})
    return shows


def _query_without_page(params) -> str:
    """The request's query string without `page`, for the pager's links."""
    copy = params.copy()
    copy.pop("page", None)
    return copy.urlencode()
