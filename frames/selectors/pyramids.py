"""Deep zoom pyramids as viewers see them: which sources are shown through one, and the state of a source's
pyramid (none, pending, ready, failed) with the signed links the viewer needs.

A source is shown through a pyramid when it is an image (a video frame has its large rendition) whose long side
is larger than HYPERDATA_PYRAMID_MIN_SIDE, by default the size of that large rendition (HYPERDATA_VIEW_SIZE):
beyond it the rendition loses detail and the original is too heavy for a browser. One pyramid per source file,
named by its uri, page and storage fingerprint (a changed file gets a new one), so every frame, version and
dataset showing that file shares it. Its build is a `pyramid` job (frames.services.pyramids); this module only
reads the latest such job.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from .. import links
from ..exceptions import NotFound
from ..models import DatasetVersion, Job
from ..storage import StorageError, storage_for_uri
from .access import VIEWER, require
from .credentials import credentials_provider
from .frames import frame_get, frame_to_dict
from .previews import attach_previews, browser_can_show, is_video, source_page

PYRAMID_JOB = "pyramid"
NONE, PENDING, READY, FAILED = "none", "pending", "ready", "failed"
# A failed or cancelled build is shown as failed for this long, then counts as never asked for: the next viewer
# asks again (the task broker may have been down, a worker may have run out of disk).
RETRY_AFTER = timedelta(minutes=5)


NO_PYRAMID_TYPES = {"application/dicom"}  # libvips cannot read them: their slices are shown through a PNG preview


def pyramid_wanted(source: dict) -> bool:
    """Whether the viewer shows this source through a pyramid (pure): an image, not a video, whose long side is
    larger than HYPERDATA_PYRAMID_MIN_SIDE, or HYPERDATA_PYRAMID_MIN_SIDE_WEB for a format the browser shows
    itself (a 4K JPEG is better sent whole). A source whose size is not known yet (the thumbnail worker measures
    sources that came without one) is shown as before."""
    if not isinstance(source, dict) or not isinstance(source.get("uri"), str) or not source["uri"] or is_video(source):
        return False
    if source.get("content_type") in NO_PYRAMID_TYPES:
        return False
    width, height = source.get("width"), source.get("height")
    if not all(isinstance(side, int) and not isinstance(side, bool) for side in (width, height)):
        return False
    limit = settings.HYPERDATA_PYRAMID_MIN_SIDE_WEB if browser_can_show(source) else settings.HYPERDATA_PYRAMID_MIN_SIDE
    return max(width, height) > limit


def pyramid_job_key(uri: str, page: int, fingerprint: str | None) -> str:
    return "pyramid:" + hashlib.sha256(f"{uri}|{page}|{fingerprint or ''}".encode()).hexdigest()


def pyramid_tile_name(pyramid_id: str, level: int, x: int, y: int, tile_format: str) -> str:
    """Where a tile lives in Django's default storage (`pyramid_id` names one build: its job and attempt)."""
    return f"pyramids/{pyramid_id[:2]}/{pyramid_id}/{level}/{x}_{y}.{tile_format}"


@dataclass(frozen=True)
class SourcePyramid:
    """The pyramid of one source of a frame: the file it is made of and its latest build (or why the file could
    not be looked at)."""

    link: links.PyramidLink
    uri: str
    page: int
    fingerprint: str | None
    job: Job | None = None
    unreadable: str = ""

    @property
    def job_key(self) -> str:
        return pyramid_job_key(self.uri, self.page, self.fingerprint)

    @property
    def state(self) -> str:
        job = self.job
        if self.unreadable:
            return FAILED
        if job is None:
            return NONE
        if job.state in Job.ACTIVE:
            return PENDING
        if job.state == Job.DONE and isinstance(job.result, dict):
            return READY
        finished = job.finished or job.updated
        return NONE if finished and timezone.now() - finished > RETRY_AFTER else FAILED

    @property
    def reason(self) -> str:
        state, job = self.state, self.job
        if state == PENDING:
            return job.message or ("waiting for a worker" if job.state == Job.QUEUED else "making the tiles")
        if state == FAILED:
            return self.unreadable or job.error or f"the build was {job.state}"
        return ""

    def to_dict(self) -> dict:
        """The frame contract's `pyramid` entry of the source (viewer/contract.py documents each field)."""
        entry = {"state": self.state, "reason": self.reason, "status_url": links.pyramid_status_url(self.link)}
        if entry["state"] == READY:
            made = self.job.result
            entry.update({
                "width": made["width"], "height": made["height"], "tile_size": made["tile_size"],
                "overlap": made["overlap"], "format": made["format"], "max_level": made["max_level"],
                "tile_url": links.pyramid_tile_url(self.link.dataset_id, made["pyramid"], made["format"]),
            })
        return entry


def source_pyramids(*, user, version: DatasetVersion, frame: dict) -> list[dict | None]:
    """The `pyramid` entry of each of the frame's sources, in order (a frame as frames_to_dicts shows it, with
    the sizes the workers measured): None for a source shown without one. One query for all their builds, and a
    storage stat per large source (its fingerprint)."""
    require(user, version, VIEWER)
    found = [_described(version, frame["id"], source, user) if pyramid_wanted(source) else None for source in frame.get("sources") or []]
    jobs = _latest_jobs({p.job_key for p in found if p is not None and not p.unreadable})
    return [replace(p, job=jobs.get(p.job_key)).to_dict() if p is not None else None for p in found]


def source_pyramid(*, user, version: DatasetVersion, frame_id: str, source_id: str) -> SourcePyramid | None:
    """The pyramid of the frame's source `source_id` ("default" for a source without an id), with its latest
    build; None when the source is shown without one. NotFound for a frame or source the version lacks."""
    revision = frame_get(user=user, version=version, frame_id=frame_id)
    frame = attach_previews([frame_to_dict(revision, version_id=version.id)])[0]
    source = next((s for s in frame.get("sources") or [] if str(s.get("id", "default")) == source_id), None)
    if source is None:
        raise NotFound(f"frame {frame_id!r} has no source {source_id!r}", field="source")
    if not pyramid_wanted(source):
        return None
    found = _described(version, frame_id, source, user)
    return found if found.unreadable else replace(found, job=_latest_jobs({found.job_key}).get(found.job_key))


def _described(version: DatasetVersion, frame_id: str, source: dict, user) -> SourcePyramid:
    uri, page = source["uri"], source_page(source)
    link = links.PyramidLink(version.dataset_id, version.id, frame_id, str(source.get("id", "default")))
    try:
        fingerprint = storage_for_uri(uri, credentials_provider=credentials_provider(user=user)).stat(uri).fingerprint
    except StorageError as exc:
        return SourcePyramid(link, uri, page, None, unreadable=f"could not read the source: {exc.reason}")
    return SourcePyramid(link, uri, page, fingerprint)


def _latest_jobs(keys: set[str]) -> dict[str, Job]:
    latest: dict[str, Job] = {}
    if keys:
        for job in Job.objects.filter(kind=PYRAMID_JOB, key__in=keys).order_by("-created"):
            latest.setdefault(job.key, job)
    return latest
