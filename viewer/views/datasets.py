"""Dataset list, dataset page (version tree) and the version actions (create child, publish, snapshot,
rename, delete). Reads go through frames.selectors, writes through frames.services; a ServiceError comes back
next to the field it names.

Every form is a page of its own (so it works without JavaScript) and, asked for with the `X-Dialog` header,
the same form without the page around it, which static/js/app.js shows in a <dialog>: a successful POST
answers {"redirect": url}, a refused one the form again with the errors inline (status 400).
"""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods

from frames import selectors, services
from frames.exceptions import Forbidden, NotFound, ServiceError
from frames.models import Dataset, DatasetVersion, Project
from frames.selectors.access import stamp_grant, with_grant
from frames.selectors.filtersets import DatasetFilterSet

from .. import forms, listing
from ..roles import role_chip
from ..versioning import OWNERS_ONLY, version_actions, version_tree

DIALOG_HEADER = "HTTP_X_DIALOG"


# -- helpers ----------------------------------------------------------------------------------------------------


def get_dataset(request, dataset_id: str, role: str = selectors.VIEWER) -> Dataset:
    """The dataset the signed-in user may see (404 for a missing one and for one they are not a member of);
    403 when their role is lower than `role`, so a form they may not send is not even shown."""
    try:
        dataset = selectors.dataset_get(user=request.user, dataset_id=dataset_id)
    except NotFound:
        raise Http404(f"no dataset {dataset_id}") from None
    return require_role(request, dataset, role)


def get_version(request, version_id: str, role: str = selectors.VIEWER) -> DatasetVersion:
    try:
        version = selectors.version_get(user=request.user, version_id=version_id)
    except NotFound:
        raise Http404(f"no version {version_id}") from None
    return require_role(request, version, role)


WHY_NOT = {selectors.OWNER: OWNERS_ONLY, selectors.ANNOTATOR: "Only annotators and owners of this dataset can do this"}


def require_role(request, target, role: str):
    """The target, when the user's role in its dataset is at least `role`; 403 saying who may otherwise."""
    if not selectors.allows(request.user, target, role):
        raise PermissionDenied(WHY_NOT[role])
    return target


def next_or(request, default: str) -> str:
    """The page to go back to: ?next= when it is a path on this site, else `default`."""
    target = request.GET.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}) and target.startswith("/"):
        return target
    return default


def posted(request):
    """The form data of a POST (even an empty one: a confirmation has no fields), None otherwise."""
    return request.POST if request.method == "POST" else None


def is_dialog(request) -> bool:
    return bool(request.META.get(DIALOG_HEADER))


def _without_etag(data: dict) -> dict:
    return {key: value for key, value in data.items() if key != "etag"}


def form_page(request, *, form, submit, context, template="viewer/dataset_form.html"):
    """GET: the form. POST: `submit(cleaned_data)` returns where to go; its ServiceError lands in the form."""
    if request.method == "POST" and form.is_valid():
        try:
            target = submit(form.cleaned_data)
        except Forbidden as exc:  # the role, not the input: nothing to correct in the form
            raise PermissionDenied(exc.message) from None
        except ServiceError as exc:
            form.add_service_errors(exc)
        else:
            if is_dialog(request):
                return JsonResponse({"redirect": target})
            return redirect(target)
    status = 400 if request.method == "POST" else 200
    layout = "viewer/_dialog.html" if is_dialog(request) else "base.html"
    return render(request, template, {"form": form, "layout": layout, **context}, status=status)


# -- dataset list --------------------------------------------------------------------------------------------


@require_GET
def home(request):
    """The dataset list, grouped by project, as cards or a table (remembered in a cookie), narrowed by search,
    project, tag chips (any / all / not) and "Created by me", all in the URL. Bad filter values: 400 naming
    the parameter, with the page around it."""
    view, view_error = listing.chosen_view(request.GET, request.COOKIES)
    # The user's role is read in the same query, for the Edit and Delete buttons only owners may use.
    listed = with_grant(selectors.datasets_list(user=request.user), user=request.user, dataset_field="pk")
    filterset = DatasetFilterSet(listing.filter_data(request.GET), queryset=listed, request=request)
    errors = [view_error] if view_error else []
    if not filterset.is_valid():
        errors += [f"{name}: {' '.join(messages_)}" for name, messages_ in filterset.errors.items()]
    datasets = [] if errors else [stamp_grant(dataset, user=request.user) for dataset in filterset.qs]
    for dataset in datasets:
        dataset.last_change = max(filter(None, [dataset.versions_updated, dataset.updated]))
        dataset.is_owner = selectors.allows(request.user, dataset, selectors.OWNER)
    chips = listing.tag_chips(list(listed.values_list("tags", flat=True)), request.GET)
    chip_urls = {chip.label: chip.url for chip in chips}
    for dataset in datasets:
        dataset.tag_links = [(tag, chip_urls.get(tag, "?")) for tag in dataset.tags]
    filtered = listing.is_filtered(request.GET)
    projects = list(selectors.projects_list(user=request.user))
    chosen_project = request.GET.get("project")
    context = {
        "datasets": datasets, "search": request.GET.get("q", "").strip(), "view": view, "errors": errors, "filtered": filtered,
        "groups": listing.group_by_project(
            datasets, [p for p in projects if not chosen_project or p.pk == chosen_project], request.GET, show_empty=not filtered,
            may_manage=lambda project: selectors.may_manage_project(request.user, project)),
        "projects": projects, "chosen_project": next((p for p in projects if p.pk == chosen_project), None),
        "tag_chips": chips,
        "tag_modes": listing.mode_links(request.GET), "tags_chosen": bool(request.GET.getlist("tag")),
        "mine": request.GET.get("created_by_me") == "true", "chosen_tags": request.GET.getlist("tag"),
        "mine_url": listing.url_with(request.GET, "created_by_me", None if request.GET.get("created_by_me") == "true" else "true"),
        "all_projects_url": listing.url_with(request.GET, "project", None),
        "clear_url": "?", "view_urls": {name: listing.url_with(request.GET, "view", name) for name in listing.VIEWS},
    }
    response = render(request, "viewer/home.html", context, status=400 if errors else 200)
    if request.GET.get("view") in listing.VIEWS:
        response.set_cookie(listing.VIEW_COOKIE, view, max_age=365 * 24 * 3600, samesite="Lax")
    return response


@require_http_methods(["GET", "POST"])
def dataset_create(request):
    # ?project=<id> (the "+ New dataset" of a project's group) picks that project.
    projects = [p for p in selectors.projects_list(user=request.user) if p.name != Project.DEFAULT_NAME]
    form = forms.DatasetForm(posted(request), projects=projects, blank_label=Project.DEFAULT_NAME,
                             initial={"project": request.GET.get("project", "")})

    def submit(data):
        dataset = services.dataset_create(user=request.user, **_without_etag(data))
        messages.success(request, f"Dataset “{dataset.name}” created with a draft version “Current”.")
        return reverse("viewer:dataset", args=[dataset.pk])

    return form_page(request, form=form, submit=submit, context={"title": "New dataset", "submit_label": "Create dataset"})


@require_http_methods(["GET", "POST"])
def dataset_edit(request, dataset_id):
    dataset = get_dataset(request, dataset_id, selectors.OWNER)
    initial = {"name": dataset.name, "description": dataset.description, "tags": dataset.tags, "metadata": dataset.metadata,
               "etag": dataset.etag, "project": dataset.project_id}
    form = forms.DatasetForm(posted(request), initial=initial, projects=selectors.projects_list(user=request.user))

    def submit(data):
        services.dataset_update(user=request.user, dataset=dataset, if_match=form.if_match(), **_without_etag(data))
        messages.success(request, "Dataset saved.")
        return next_or(request, reverse("viewer:dataset", args=[dataset.pk]))

    context = {"title": f"Edit dataset “{dataset.name}”", "submit_label": "Save", "dataset": dataset}
    return form_page(request, form=form, submit=submit, context=context)


@require_http_methods(["GET", "POST"])
def dataset_delete(request, dataset_id):
    dataset = get_dataset(request, dataset_id, selectors.OWNER)
    form = forms.ConfirmForm(posted(request))

    def submit(data):
        services.dataset_delete(user=request.user, dataset=dataset)
        messages.success(request, f"Dataset “{dataset.name}” deleted.")
        return reverse("viewer:home")

    context = {
        "title": f"Delete dataset “{dataset.name}”?",
        "submit_label": "Delete dataset",
        "danger": True,
        "dataset": dataset,
        "warning": f"All {dataset.versions.count()} versions and their frames are deleted. This cannot be undone.",
    }
    return form_page(request, form=form, submit=submit, context=context)


# -- dataset page --------------------------------------------------------------------------------------------


def dataset_header(request, dataset: Dataset, versions: list[DatasetVersion]) -> dict:
    """What the header and the tabs of templates/viewer/dataset_page.html show (the Members tab shares them)."""
    return {
        "dataset": dataset,
        "versions": versions,
        "total_frames": max((v.frame_count for v in versions), default=0),
        "draft_count": sum(1 for v in versions if not v.is_published),
        "is_owner": selectors.allows(request.user, dataset, selectors.OWNER),
        "my_role": role_chip(request.user, dataset),
        "member_count": len(selectors.members_list(user=request.user, dataset=dataset)),
    }


@require_GET
def dataset_page(request, dataset_id):
    """The dataset's versions as a tree (parent -> children) or as a list by last change."""
    dataset = get_dataset(request, dataset_id)
    versions = list(selectors.versions_list(user=request.user, dataset=dataset))
    context = dataset_header(request, dataset, versions)
    for version in versions:
        version.actions = version_actions(version, owner=context["is_owner"])
    # ?find= narrows the tree to the matching versions and their ancestors (static/js/datasets.js does the same
    # as one types, and keeps ?find= in the URL).
    find = request.GET.get("find", "").strip()
    found = listing.versions_matching(versions, find)
    matches, shown = found if found else (None, None)
    for version in versions:
        version.is_match = matches is not None and version.pk in matches
        version.is_hidden = shown is not None and version.pk not in shown
    context.update({
        "tab": "versions",
        "view": "list" if request.GET.get("view") == "list" else "tree",
        "tree": version_tree(versions),
        "by_update": sorted(versions, key=lambda v: v.updated, reverse=True),
        "find": find, "match_count": len(matches) if matches is not None else None,
    })
    return render(request, "viewer/dataset_page.html", context)


# -- version actions ------------------------------------------------------------------------------------------


def _back(version):
    return reverse("viewer:version", args=[version.pk])


def _version_form(request, version, *, form, submit, title, submit_label, **extra):
    context = {"title": title, "submit_label": submit_label, "version": version, "dataset": version.dataset, **extra}
    return form_page(request, form=form, submit=submit, context=context)


@require_http_methods(["GET", "POST"])
def version_edit(request, version_id):
    version = get_version(request, version_id, selectors.OWNER)
    form = forms.VersionEditForm(posted(request), initial={"name": version.name, "description": version.description, "etag": version.etag})

    def submit(data):
        services.version_update(user=request.user, version=version, name=data["name"], description=data["description"], if_match=form.if_match())
        messages.success(request, "Version saved.")
        return next_or(request, _back(version))

    return _version_form(request, version, form=form, submit=submit, title=f"Rename or describe “{version.name}”", submit_label="Save")


@require_http_methods(["GET", "POST"])
def version_child(request, version_id):
    version = get_version(request, version_id, selectors.OWNER)
    form = forms.VersionChildForm(posted(request), initial={"name": "Current"})

    def submit(data):
        child = services.version_create(user=request.user, parent=version, name=data["name"], description=data["description"])
        messages.success(request, f"Draft “{child.name}” created from “{version.name}”.")
        return next_or(request, _back(child))

    return _version_form(
        request, version, form=form, submit=submit, title=f"New child of “{version.name}”", submit_label="Create draft",
        explain=f"The new draft starts with all {version.frame_count:,} frames of “{version.name}” (nothing is copied).",
    )


@require_http_methods(["GET", "POST"])
def version_publish(request, version_id):
    version = get_version(request, version_id, selectors.OWNER)
    form = forms.PublishForm(posted(request), initial={"name": version.name, "open_child": False})

    def submit(data):
        name = data["name"] or None
        if data["open_child"]:
            published, child = services.version_snapshot(user=request.user, version=version, name=name, child_name=data["child_name"] or None)
            messages.success(request, f"Published “{published.name}”; draft “{child.name}” opened.")
            return next_or(request, _back(child))
        published = services.version_publish(user=request.user, version=version, name=name)
        messages.success(request, f"Published “{published.name}”. It can no longer change.")
        return next_or(request, _back(published))

    return _version_form(
        request, version, form=form, submit=submit, title=f"Publish “{version.name}”", submit_label="Publish",
        explain="A published version is frozen: its frames and metadata can no longer change; children can be made from it.",
    )


@require_http_methods(["GET", "POST"])
def version_snapshot(request, version_id):
    version = get_version(request, version_id, selectors.OWNER)
    suggested = f"v{version.seq}" if version.name == services.INITIAL_VERSION_NAME else version.name
    form = forms.SnapshotForm(posted(request), initial={"name": suggested})

    def submit(data):
        published, child = services.version_snapshot(
            user=request.user, version=version, name=data["name"] or None, child_name=data["child_name"] or None
        )
        messages.success(request, f"Snapshot “{published.name}” published; keep working in “{child.name}”.")
        return next_or(request, _back(child))

    return _version_form(
        request, version, form=form, submit=submit, title=f"Snapshot “{version.name}”", submit_label="Take snapshot",
        explain="Publishes this draft as it is now and opens a new draft child of it to keep working in.",
    )


@require_http_methods(["GET", "POST"])
def version_delete(request, version_id):
    version = get_version(request, version_id, selectors.OWNER)
    form = forms.ConfirmForm(posted(request))

    def submit(data):
        services.version_delete(user=request.user, version=version)
        messages.success(request, f"Draft “{version.name}” deleted.")
        return next_or(request, reverse("viewer:dataset", args=[version.dataset_id]))

    return _version_form(
        request, version, form=form, submit=submit, title=f"Delete draft “{version.name}”?", submit_label="Delete draft",
        danger=True, warning="The draft and the changes saved in it are deleted. This cannot be undone.",
    )
