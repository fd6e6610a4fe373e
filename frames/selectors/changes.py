"""What a version changed against its parent, frame by frame: the mark of each frame the `changed` filter lists
(added, edited, deleted) and one frame as the parent version shows it (the frame page's "compare with parent").

Which frames the filter lists is frames.changes (a queryset, so it pages, sorts and filters like any other).
"""
from __future__ import annotations

from dataclasses import dataclass

from ..changes import ADDED, DELETED, EDITED
from ..models import DatasetVersion, FrameRevision
from .access import VIEWER, require
from .previews import frames_to_dicts

UNCHANGED = "unchanged"


def frame_changes(*, user, version: DatasetVersion, rows: list[FrameRevision]) -> dict[str, str]:
    """{frame_id: "added" | "edited" | "deleted"} for rows the `changed` filter listed: a row of another
    version is the parent's revision of a frame this version deleted; one of this version is added or edited
    as the parent's view lacks or shows its frame id (one query for the page)."""
    require(user, version, VIEWER)
    if version.parent_id is None:
        return {row.frame_id: ADDED for row in rows}
    own = [row.frame_id for row in rows if row.version_id == version.pk]
    in_parent = FrameRevision.objects.latest_in(version, own, lineage=version.lineage[:-1])
    shown = {frame_id for frame_id, row in in_parent.items() if not row.deleted}
    return {
        row.frame_id: DELETED if row.version_id != version.pk else EDITED if row.frame_id in shown else ADDED
        for row in rows
    }


@dataclass
class ParentFrame:
    version: DatasetVersion
    frame: dict | None  # as frames_to_dicts gives it for the parent version; None when the parent lacks it
    status: str  # added | edited | unchanged


def parent_frame(*, user, version: DatasetVersion, revision: FrameRevision) -> ParentFrame | None:
    """The frame `revision` (of `version`'s view) as the parent version shows it, and whether this version
    added it, edited it or left it as it was; None for a root version."""
    require(user, version, VIEWER)
    if version.parent_id is None:
        return None
    parent = version.parent
    if revision.version_id != version.pk:  # inherited: the parent shows this very revision
        return ParentFrame(parent, frames_to_dicts([revision], user=user, version=parent)[0], UNCHANGED)
    latest = FrameRevision.objects.latest_in(parent, [revision.frame_id]).get(revision.frame_id)
    if latest is None or latest.deleted:
        return ParentFrame(parent, None, ADDED)
    return ParentFrame(parent, frames_to_dicts([latest], user=user, version=parent)[0], EDITED)
