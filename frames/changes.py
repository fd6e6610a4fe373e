"""What a version changed against its parent, as the revisions to list (the `changed` browse filter).

    added    revisions saved in this version whose frame id the parent's view does not show
    edited   revisions saved in this version whose frame id the parent's view shows
    deleted  the parent's revisions of the frame ids this version deleted (the version's tombstones)
    any      all three

A root version has no parent: every frame it shows is added, nothing is edited or deleted.

The version's own rows are found through the `version_id` index and each is checked against its parent with a
lookup in the (dataset, frame_id, version_seq) index, so the cost follows the size of the change, not the size
of the version. Tombstones exist only where the parent's view shows the frame (frames.services.frames removes
an own revision that hides nothing), so every tombstone stands for one frame the parent had.
"""
from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

from .models import DatasetVersion, FrameRevision

ADDED, EDITED, DELETED, ANY = "added", "edited", "deleted", "any"
CHANGES = (ANY, ADDED, EDITED, DELETED)


def changed_rows(version: DatasetVersion, changed: str) -> QuerySet[FrameRevision]:
    """The revisions to list for `changed` (one of CHANGES): the version's own for added and edited, the
    parent's for deleted (tombstones carry no frame)."""
    if changed not in CHANGES:
        raise ValueError(f"changed must be one of {CHANGES}, not {changed!r}")
    if version.parent_id is None:
        visible = FrameRevision.objects.visible_in(version)
        return visible if changed in (ANY, ADDED) else visible.none()
    rows = FrameRevision.objects.filter(dataset_id=version.dataset_id, deleted=False)
    own = Q(version_id=version.pk)
    if changed == EDITED:
        return rows.filter(own & Exists(_parent_shows(version)))
    if changed == ADDED:
        return rows.filter(own & ~Exists(_parent_shows(version)))
    deleted = _in_parent_view(version) & Q(frame_id__in=_tombstones(version).values("frame_id"))
    return rows.filter(deleted if changed == DELETED else own | deleted)


def listed_as_deleted(version: DatasetVersion, changed: str, row: FrameRevision) -> bool:
    """Whether a row the `changed` filter listed is the parent's revision of a frame this version deleted
    (every other row it lists is the version's own; a root version's rows are all its own)."""
    return bool(changed) and row.version_id != version.pk


def _parent_lineage(version: DatasetVersion) -> list[int]:
    return list(version.lineage[:-1])


def _in_parent_view(version: DatasetVersion) -> Q:
    """Rows that are the parent's view: the nearest revision in its lineage (tombstones are filtered out by
    the caller's deleted=False, which also hides a frame whose nearest revision is one)."""
    return Q(version_seq__in=_parent_lineage(version)) & ~Exists(_nearer_in_parent(version))


def _parent_shows(version: DatasetVersion) -> QuerySet[FrameRevision]:
    """For an outer row: the parent's view shows its frame id (its nearest revision there is no tombstone)."""
    return FrameRevision.objects.filter(
        dataset_id=version.dataset_id, frame_id=OuterRef("frame_id"), version_seq__in=_parent_lineage(version), deleted=False,
    ).filter(~Exists(_nearer_in_parent(version)))


def _nearer_in_parent(version: DatasetVersion) -> QuerySet[FrameRevision]:
    """For an outer row: a revision of its frame id nearer to the parent in the parent's lineage."""
    return FrameRevision.objects.filter(
        dataset_id=version.dataset_id, frame_id=OuterRef("frame_id"),
        version_seq__in=_parent_lineage(version), version_seq__gt=OuterRef("version_seq"),
    )


def _tombstones(version: DatasetVersion) -> QuerySet[FrameRevision]:
    return FrameRevision.objects.filter(version_id=version.pk, deleted=True)
