"""Who may do what with a dataset: the one place access is decided.

Roles are per dataset (DatasetMember): a viewer reads, an annotator also writes the frames of draft versions,
an owner also manages versions, publishing, deleting and members. Staff see and manage everything. A user who
is not a member is told the dataset does not exist (404), so names and ids of other people's datasets do not
leak; a member whose role is too low is refused (403) with the role that is needed.

`SYSTEM` is the actor of work nobody asked for in a request (the demo loader, management commands).
"""
from __future__ import annotations

from dataclasses import dataclass

from django.db.models import OuterRef, QuerySet, Subquery

from ..exceptions import Forbidden, NotFound
from ..models import Dataset, DatasetMember, DatasetVersion

VIEWER, ANNOTATOR, OWNER = DatasetMember.VIEWER, DatasetMember.ANNOTATOR, DatasetMember.OWNER
RANK = {VIEWER: 1, ANNOTATOR: 2, OWNER: 3}
ROLE_NAMES = dict(DatasetMember.ROLES)


class SystemActor:
    """The acting user of work started by the system itself: it may do everything, like staff."""

    pk = id = None
    username = "system"
    is_staff = is_superuser = is_authenticated = is_active = True
    is_anonymous = False

    def get_username(self) -> str:
        return self.username

    def __str__(self) -> str:
        return self.username


SYSTEM = SystemActor()


@dataclass(frozen=True)
class Grant:
    """A role looked up for one user, kept on the dataset or version object it was looked up for, so the
    selectors and services a request calls with that object do not ask the database again."""

    user_id: int | None
    role: str | None


def _signed_in(user) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and getattr(user, "is_active", False))


def role_of(*, user, dataset_id: str) -> str | None:
    """The user's role in the dataset: OWNER for staff, the member's role, or None."""
    if not _signed_in(user):
        return None
    if user.is_staff:
        return OWNER
    return DatasetMember.objects.filter(dataset_id=dataset_id, user_id=user.pk).values_list("role", flat=True).first()


def _grant(user, target) -> str | None:
    grant = getattr(target, "_grant", None)
    if grant is not None and grant.user_id == getattr(user, "pk", None) and _signed_in(user):
        return grant.role
    dataset_id = target.pk if isinstance(target, Dataset) else target.dataset_id
    role = role_of(user=user, dataset_id=dataset_id)
    target._grant = Grant(getattr(user, "pk", None), role)
    return role


def require(user, target: Dataset | DatasetVersion, role: str = VIEWER) -> str:
    """The user's role in the target's dataset, at least `role`; NotFound for a non-member, Forbidden for a
    member whose role is lower."""
    have = _grant(user, target)
    if have is None:
        kind = "dataset" if isinstance(target, Dataset) else "version"
        raise NotFound(f"no {kind} with id {target.pk!r}", field=kind)
    if RANK[have] < RANK[role]:
        raise Forbidden(
            f"your role in this dataset is {ROLE_NAMES[have].lower()}; this needs {ROLE_NAMES[role].lower()}",
            field="role",
        )
    return have


def with_grant(queryset: QuerySet, *, user, dataset_field: str) -> QuerySet:
    """The queryset with the user's role read in the same query (`_member_role`); `stamp_grant` keeps it on
    each object, so fetching a dataset or version and checking access costs one query."""
    if not _signed_in(user) or user.is_staff:
        return queryset
    role = DatasetMember.objects.filter(dataset_id=OuterRef(dataset_field), user_id=user.pk).values("role")[:1]
    return queryset.annotate(_member_role=Subquery(role))


def stamp_grant(obj, *, user):
    """Keep the role `with_grant` read on the object (staff: owner; signed out: none)."""
    if not _signed_in(user):
        role = None
    elif user.is_staff:
        role = OWNER
    else:
        role = getattr(obj, "_member_role", None)
    obj._grant = Grant(getattr(user, "pk", None), role)
    return obj


def allows(user, target: Dataset | DatasetVersion, role: str) -> bool:
    """Whether the user has at least `role` (for pages deciding which actions to offer)."""
    have = _grant(user, target)
    return have is not None and RANK[have] >= RANK[role]


def visible_datasets(*, user) -> QuerySet[Dataset]:
    """The datasets the user may see: every one for staff, else those they are a member of."""
    if not _signed_in(user):
        return Dataset.objects.none()
    if user.is_staff:
        return Dataset.objects.all()
    return Dataset.objects.filter(members__user_id=user.pk)
