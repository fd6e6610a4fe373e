"""The version page: a header (breadcrumb, status, actions) and tabs. Frames is the default tab (built in
viewer/views/frames.py); this module serves Statistics, Metadata and Info, and `version_page` until the
Frames tab has its own view.

`version_context(version, tab)` is what templates/viewer/version_base.html needs; every tab view calls it.
"""
from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from frames import services
from frames.exceptions import ServiceError

from .. import forms
from ..versioning import version_actions
from .datasets import get_version

TABS = [("frames", "Frames", "viewer:version"), ("stats", "Statistics", "viewer:version-stats"),
        ("metadata", "Metadata", "viewer:version-metadata"), ("info", "Info", "viewer:version-info")]


def version_context(version, tab: str) -> dict:
    """Context for version_base.html: the version (with .dataset), its parent, the actions, the tabs."""
    return {
        "version": version,
        "dataset": version.dataset,
        "parent": version.parent,
        "tab": tab,
        "tabs": TABS,
        "actions": version_actions(version),
    }


@require_GET
def version_page(request, version_id):
    """The version page's default tab, Frames (templates/viewer/version_frames.html)."""
    version = get_version(version_id)
    return render(request, "viewer/version_frames.html", version_context(version, "frames"))


@require_GET
def version_stats(request, version_id):
    version = get_version(version_id)
    return render(request, "viewer/version_stats.html", version_context(version, "stats"))


@require_http_methods(["GET", "POST"])
def version_metadata(request, version_id):
    version = get_version(version_id)
    form = forms.MetadataForm(request.POST or None, initial={"metadata": version.metadata})
    if request.method == "POST" and form.is_valid():
        try:
            services.version_update(version=version, metadata=form.cleaned_data["metadata"])
        except ServiceError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, "Metadata saved.")
            return redirect(reverse("viewer:version-metadata", args=[version.pk]))
    context = {**version_context(version, "metadata"), "form": form}
    return render(request, "viewer/version_metadata.html", context, status=400 if form.errors else 200)


@require_GET
def version_info(request, version_id):
    version = get_version(version_id)
    return render(request, "viewer/version_info.html", version_context(version, "info"))
