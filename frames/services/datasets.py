"""Datasets and their members. One transaction per service; the acting user's role is checked first."""
from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F

from ..exceptions import Conflict, Forbidden, NotFound, ServiceError
from ..models import Dataset, DatasetMember, DatasetVersion, FrameRevision, FrameSource, RoiLabel
from ..selectors.access import OWNER, RANK, require
from .columns_local import columns_forget
from .projects import project_for_dataset
from .size_indexes import size_indexes_drop
from .validation import clean_metadata, clean_tags, clean_text, require_fresh, unique_name

INITIAL_VERSION_NAME = "Current"


@transaction.atomic
def dataset_create(*, user, name, description="", tags=None, metadata=None, project=None, new_project=None) -> Dataset:
    """A new dataset with one empty draft version, `Current`; its creator is its owner. It goes to the project
    with id `project`, to a new project named `new_project`, or else to the default project ("General")."""
    if not getattr(user, "is_authenticated", False):
        raise Forbidden("sign in to create datasets", field="user")
    name = unique_name(Dataset, name, kind="dataset")
    creator = user if user.pk is not None else None
    home = project_for_dataset(user=user, project_id=project, new_project=new_project)
    dataset = Dataset.objects.create(
        project=home, name=name, description=clean_text(description or "", field_name="description"), tags=clean_tags(tags),
        metadata=clean_metadata(metadata), created_by=creator,
    )
    if creator is not None:
        DatasetMember.objects.create(dataset=dataset, user=creator, role=OWNER)
    DatasetVersion.objects.create(dataset=dataset, seq=1, lineage=[1], name=INITIAL_VERSION_NAME)
    return dataset


@transaction.atomic
def dataset_update(*, user, dataset: Dataset, if_match=None, name=None, description=None, tags=None, metadata=None,
                   project=None, new_project=None) -> Dataset:
    """Change what is given (owners); `project` / `new_project` move it to another (or a new) project."""
    require(user, dataset, OWNER)
    dataset = Dataset.objects.select_for_update(no_key=True).get(pk=dataset.pk)
    require_fresh(dataset, if_match)
    if name is not None:
        dataset.name = unique_name(Dataset, name, kind="dataset", instance=dataset)
    if description is not None:
        dataset.description = clean_text(description, field_name="description")
    if tags is not None:
        dataset.tags = clean_tags(tags)
    if metadata is not None:
        dataset.metadata = clean_metadata(metadata)
    if project or new_project:
        dataset.project = project_for_dataset(user=user, project_id=project, new_project=new_project)
    dataset.revision = F("revision") + 1
    dataset.save()
    dataset.refresh_from_db()
    return dataset


@transaction.atomic
def dataset_delete(*, user, dataset: Dataset, if_match=None) -> None:
    require(user, dataset, OWNER)
    # Versions first, as every frame write locks its version before its inserts' FK checks touch the dataset
    # row: the opposite order would deadlock with a write in flight.
    list(DatasetVersion.objects.select_for_update().filter(dataset=dataset).order_by("pk").values_list("pk"))
    dataset = Dataset.objects.select_for_update().get(pk=dataset.pk)
    require_fresh(dataset, if_match)
    delete_revisions(dataset=dataset)
    columns_forget(user=user, dataset=dataset)
    DatasetVersion.objects.filter(dataset=dataset).update(parent=None)
    size_indexes_drop(user=user, dataset=dataset)
    dataset.delete()


def delete_revisions(**owner) -> None:
    """Delete the frame rows of a dataset or version in bulk, index rows first: the ORM's cascade would load
    every frame row into memory."""
    related = {f"revision__{key}": value for key, value in owner.items()}
    RoiLabel.objects.filter(**related).delete()
    FrameSource.objects.filter(**related).delete()
    FrameRevision.objects.filter(**owner)._raw_delete(FrameRevision.objects.db)


# -- members -------------------------------------------------------------------------------------------------


@transaction.atomic
def member_set(*, user, dataset: Dataset, username, role) -> DatasetMember:
    """Give a user (by user name) a role in the dataset, or change their role."""
    require(user, dataset, OWNER)
    if role not in RANK:
        raise ServiceError(f"must be one of {', '.join(RANK)}", field="role")
    if not isinstance(username, str) or not username.strip():
        raise ServiceError("must be a user name", field="username")
    member_user = get_user_model().objects.filter(username=username.strip(), is_active=True).first()
    if member_user is None:
        raise ServiceError(f"there is no active user named {username.strip()!r}", field="username")
    Dataset.objects.select_for_update(no_key=True).get(pk=dataset.pk)  # serialises the last-owner rule
    member, _ = DatasetMember.objects.get_or_create(dataset=dataset, user=member_user, defaults={"role": role})
    if member.role != role:
        _keep_an_owner(dataset, member, leaving=member.role == OWNER)
        member.role = role
        member.save(update_fields=["role"])
    return member


@transaction.atomic
def member_remove(*, user, dataset: Dataset, member_id: int) -> None:
    require(user, dataset, OWNER)
    Dataset.objects.select_for_update(no_key=True).get(pk=dataset.pk)
    member = DatasetMember.objects.filter(dataset=dataset, pk=member_id).first()
    if member is None:
        raise NotFound(f"no member {member_id} in this dataset", field="member")
    _keep_an_owner(dataset, member, leaving=member.role == OWNER)
    member.delete()


def _keep_an_owner(dataset: Dataset, member: DatasetMember, *, leaving: bool) -> None:
    if leaving and not dataset.members.filter(role=OWNER).exclude(pk=member.pk).exists():
        raise Conflict("a dataset keeps at least one owner: make someone else an owner first", field="role")
