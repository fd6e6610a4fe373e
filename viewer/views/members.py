"""The dataset's Members tab: who may see the dataset (viewer), also edit the frames of its drafts (annotator) or
also manage its versions and members (owner). Every member sees the list; owners and staff add a user by name,
change a member's role and remove a member through frames.services, whose errors (no such user, the last
owner leaving) come back next to the field they name. Everyone else gets 403 for the forms (404 outside the
dataset), whatever the page offered them.
"""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from frames import selectors, services
from frames.exceptions import Forbidden, ServiceError
from frames.models import Dataset, DatasetMember

from .. import forms
from ..roles import ROLE_DOES, STAFF_DOES
from .datasets import dataset_header, form_page, get_dataset, is_dialog, posted


def _members_url(dataset: Dataset) -> str:
    return reverse("viewer:dataset-members", args=[dataset.pk])


def _member(request, dataset: Dataset, member_id: int) -> DatasetMember:
    member = next((m for m in selectors.members_list(user=request.user, dataset=dataset) if m.pk == member_id), None)
    if member is None:
        raise Http404(f"no member {member_id} in this dataset")
    return member


def _call(request, dataset: Dataset, service, **kwargs) -> None:
    """Run a member service: a refused role is a 403; any other ServiceError is the caller's to show."""
    try:
        service(user=request.user, dataset=dataset, **kwargs)
    except Forbidden as exc:
        raise PermissionDenied(exc.message) from None


def _a(role: str) -> str:
    return f"{'a' if role == selectors.VIEWER else 'an'} {role}"


def _page(request, dataset: Dataset, *, form=None, row_errors=None, status=200):
    """The tab: the header of the dataset page, the members (owners first) and, for owners, the forms."""
    members = selectors.members_list(user=request.user, dataset=dataset)
    context = dataset_header(request, dataset, list(selectors.versions_list(user=request.user, dataset=dataset)))
    for member in members:
        member.is_me = member.user_id == request.user.pk
        member.error = (row_errors or {}).get(member.pk)
    context.update({
        "tab": "members",
        "members": members,
        "owners": [m.user.get_username() for m in members if m.role == selectors.OWNER],
        "form": form if form is not None else forms.MemberForm(),
        "roles": DatasetMember.ROLES,
        "role_does": [(value, label, ROLE_DOES[value]) for value, label in DatasetMember.ROLES],
        "staff_does": STAFF_DOES,
    })
    return render(request, "viewer/dataset_members.html", context, status=status)


@require_http_methods(["GET", "POST"])
def dataset_members(request, dataset_id):
    """GET: the list (and the add form for owners). POST: give a user a role (a member's role changes)."""
    dataset = get_dataset(request, dataset_id, selectors.OWNER if request.method == "POST" else selectors.VIEWER)
    form = forms.MemberForm(posted(request))
    if request.method != "POST":
        return _page(request, dataset)
    if form.is_valid():
        try:
            _call(request, dataset, services.member_set, **form.cleaned_data)
        except ServiceError as exc:
            form.add_service_errors(exc)
        else:
            name, role = form.cleaned_data["username"].strip(), form.cleaned_data["role"]
            messages.success(request, f"{name} is now {_a(role)} of “{dataset.name}”.")
            if is_dialog(request):
                return JsonResponse({"redirect": _members_url(dataset)})
            return redirect(_members_url(dataset))
    return _page(request, dataset, form=form, status=400)


@require_POST
def member_role(request, dataset_id, member_id):
    """Change one member's role (the role picker of their row)."""
    dataset = get_dataset(request, dataset_id, selectors.OWNER)
    member = _member(request, dataset, member_id)
    form = forms.MemberRoleForm(request.POST)
    if form.is_valid():
        try:
            _call(request, dataset, services.member_set, username=member.user.get_username(), role=form.cleaned_data["role"])
        except ServiceError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, f"{member.user.get_username()} is now {_a(form.cleaned_data['role'])}.")
            return redirect(_members_url(dataset))
    errors = [str(error) for field_errors in form.errors.values() for error in field_errors]
    return _page(request, dataset, row_errors={member.pk: " ".join(errors)}, status=400)


@require_http_methods(["GET", "POST"])
def member_remove(request, dataset_id, member_id):
    """A confirmation (a page, or a dialog with X-Dialog), then the member is removed."""
    dataset = get_dataset(request, dataset_id, selectors.OWNER)
    member = _member(request, dataset, member_id)
    name = member.user.get_username()
    leaving = member.user_id == request.user.pk

    def submit(data):
        _call(request, dataset, services.member_remove, member_id=member.pk)
        messages.success(request, f"You left “{dataset.name}”." if leaving else f"{name} is no longer a member of “{dataset.name}”.")
        still_sees = request.user.is_staff or not leaving
        return _members_url(dataset) if still_sees else reverse("viewer:home")

    warning = (f"You will no longer see “{dataset.name}”." if leaving and not request.user.is_staff
               else f"{name} will no longer see “{dataset.name}” (unless they are staff).")
    context = {"title": f"Remove {name} from “{dataset.name}”?", "submit_label": "Remove member", "danger": True,
               "dataset": dataset, "warning": warning}
    return form_page(request, form=forms.ConfirmForm(posted(request)), submit=submit, context=context)
