"""Versions, as in ClearML: a child starts from a published parent and copies nothing; publishing freezes a
version; a snapshot publishes a draft and opens a new draft child of it; only drafts can be deleted."""
from __future__ import annotations

from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone

from ..exceptions import Conflict, VersionImmutable
from ..models import Dataset, DatasetVersion
from ..selectors.access import OWNER, require
from .datasets import INITIAL_VERSION_NAME, delete_revisions
from .positions import positions_store_or_queue
from .size_indexes import size_indexes_queue
from .columns import columns_queue
from .stats import published_answers_carry, published_stats_store_or_queue
from .stats_keys import state_of
from .validation import clean_metadata, clean_name, clean_text, require_fresh


def lock_version(version: DatasetVersion) -> DatasetVersion:
    """Re-read the version under a row lock: writes to one version are serialised.

    Only the version row is locked (`of`), and in the mode that does not block foreign-key checks (`no_key`):
    locking the joined dataset row too serialised writes to every version of a dataset, and deadlocked with
    transactions whose deferred FK checks hold KEY SHARE on that dataset row (jobs and previews the worker writes)."""
    return (DatasetVersion.objects.select_for_update(of=("self",), no_key=True)
            .select_related("dataset").get(pk=version.pk))


@transaction.atomic
def version_create(*, user, parent: DatasetVersion, name, description="", metadata=None) -> DatasetVersion:
    """A child of a published version. It copies no frames: it sees its parent's through its lineage."""
    require(user, parent, OWNER)
    name = clean_name(name)
    Dataset.objects.select_for_update(no_key=True).get(pk=parent.dataset_id)  # serialises seq numbering
    parent = DatasetVersion.objects.get(pk=parent.pk)
    if not parent.is_published:
        raise Conflict(f"version {parent.name!r} is a draft: publish it before creating a child from it", field="parent")
    seq = (DatasetVersion.objects.filter(dataset_id=parent.dataset_id).aggregate(m=Max("seq"))["m"] or 0) + 1
    return DatasetVersion.objects.create(
        dataset_id=parent.dataset_id,
        parent=parent,
        seq=seq,
        lineage=[*parent.lineage, seq],
        name=name,
        description=clean_text(description or "", field_name="description"),
        metadata=clean_metadata(metadata) if metadata is not None else dict(parent.metadata),
        frame_count=parent.frame_count,
    )


@transaction.atomic
def version_update(*, user, version: DatasetVersion, if_match=None, name=None, description=None, metadata=None) -> DatasetVersion:
    """Name and description are labels and may change at any time; metadata is content, frozen on publish."""
    require(user, version, OWNER)
    version = lock_version(version)
    require_fresh(version, if_match)
    if metadata is not None:
        refuse_published(version)
        version.metadata = clean_metadata(metadata)
    if name is not None:
        version.name = clean_name(name)
    if description is not None:
        version.description = clean_text(description, field_name="description")
    return _saved(version)


def refuse_published(version: DatasetVersion) -> None:
    if version.is_published:
        raise VersionImmutable(version)


def _saved(version: DatasetVersion) -> DatasetVersion:
    version.revision = F("revision") + 1
    version.save()
    version.refresh_from_db()
    return version


@transaction.atomic
def version_publish(*, user, version: DatasetVersion, name=None, if_match=None) -> DatasetVersion:
    require(user, version, OWNER)
    version = lock_version(version)
    require_fresh(version, if_match)
    refuse_published(version)
    draft_state = state_of(version)  # what its cached answers were keyed by
    if name is not None:
        version.name = clean_name(name)
    version.status = DatasetVersion.PUBLISHED
    version.published = timezone.now()
    version = _saved(version)
    transaction.on_commit(lambda: published_answers_carry(user=user, version=version, draft_state=draft_state))
    published_stats_store_or_queue(user=user, version=version)
    positions_store_or_queue(user=user, version=version)  # pages at any offset (selectors.positions)
    size_indexes_queue(user=user, version=version)  # the width and height sorts of a large dataset
    columns_queue(user=user, version=version)  # any filter's counts and label statistics in milliseconds
    return version


@transaction.atomic
def version_snapshot(*, user, version: DatasetVersion, name=None, child_name=None, if_match=None) -> tuple[DatasetVersion, DatasetVersion]:
    """Publish a draft and open a new draft child of it in one step (ClearML's snapshot)."""
    if name is None and version.name == INITIAL_VERSION_NAME:
        name = f"v{version.seq}"
    published = version_publish(user=user, version=version, name=name, if_match=if_match)
    child = version_create(user=user, parent=published, name=child_name or INITIAL_VERSION_NAME, description="")
    return published, child


@transaction.atomic
def version_delete(*, user, version: DatasetVersion, if_match=None) -> None:
    require(user, version, OWNER)
    version = lock_version(version)
    require_fresh(version, if_match)
    if version.is_published:
        raise Conflict(f"version {version.name!r} is published; only drafts can be deleted", field="version")
    delete_revisions(version=version)
    version.delete()
