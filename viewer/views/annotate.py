"""The read-only frame page's way into annotating: "Annotate in a new draft" on a published version.

    POST /versions/<version>/annotate/?frame=<frame id>&<browse query>   (or `frame` in the form body)

An owner of the dataset makes a draft child of the published version and lands on the same frame in it, under
the same filter and order; on a draft the same POST just opens the frame (nothing is made). The frame page
offers the URL as the contract's `edit.annotate_url` (viewer/contract.py).
"""
from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from frames import selectors, services
from frames.exceptions import NotFound
from frames.services.validation import NAME_LIMIT
from viewer.browse import STATE_KEYS, BrowseState, version_or_404
from viewer.tiles import frame_url

from .datasets import require_role


@require_POST
def annotate_in_draft(request, version_id):
    version = require_role(request, version_or_404(request, version_id), selectors.OWNER)
    frame_id = request.POST.get("frame") or request.GET.get("frame") or ""
    if not frame_id:
        return HttpResponse("frame: required (the id of the frame to annotate)", status=400, content_type="text/plain")
    try:
        selectors.frame_get(user=request.user, version=version, frame_id=frame_id)
    except NotFound:
        raise Http404(f"no frame {frame_id}") from None
    target = version
    if version.is_published:
        target = services.version_create(user=request.user, parent=version, name=draft_name(request.user, version))
        messages.success(request, f"Draft “{target.name}” created from “{version.name}”: annotate here.")
    nav_query = BrowseState.from_request(request).url_query(keys=STATE_KEYS + ("cursor", "page"))
    return redirect(frame_url(target.id, frame_id) + nav_query)


def draft_name(user, version) -> str:
    """"<name> draft", numbered when the dataset has a version of that name already (names need not be unique,
    but two drafts of one name would be hard to tell apart in the version tree)."""
    taken = {other.name for other in selectors.versions_list(user=user, dataset=version.dataset)}
    base = f"{version.name[:NAME_LIMIT - 12]} draft"  # room for " <number>"
    name, number = base, 1
    while name in taken:
        number += 1
        name = f"{base} {number}"
    return name
