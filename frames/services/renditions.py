"""Rendering previews, in the workers: read a source file once, make the renditions asked for (thumbnails,
mask PNGs, large renditions of video frames and TIFF pages), store the files, record each row's outcome."""
from __future__ import annotations

import errno
import hashlib
from contextlib import contextmanager

from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from .. import media
from ..models import MediaPreview
from ..selectors.credentials import credentials_provider
from ..storage import PermanentStorageError, RemoteStorage, StorageError, TransientStorageError, storage_for_uri
from .jobs import job_count_done, job_is_cancelled

VIDEO_INDEX_SECONDS = 7 * 24 * 3600


def render_previews(*, uri: str, keys: list[str], job_id: str | None = None, give_up: bool = False) -> int:
    """Render the pending rows of `keys` (all of one uri), reading the uri once; returns how many rows this
    call finished (done or failed). Each row counts towards its own previews job (the one it names, else
    `job_id`) in the transaction that finishes it, so a worker killed midway leaves no row finished but
    uncounted (the redelivery does the rest), and a row sent again by the sweep or the viewer counts once.

    A storage error that may pass (timeout, 5xx) is raised for the task to retry, unless `give_up`, when it
    is recorded like a permanent one; a file that cannot be previewed is recorded with the reason. A
    cancelled job's renditions are left pending (regenerating queues them again).
    """
    if job_is_cancelled(job_id=job_id):
        return 0
    pending = MediaPreview.objects.filter(key__in=keys, status=MediaPreview.PENDING).select_related("requested_by")
    rows = list(pending.order_by("timestamp"))
    if not rows:  # a duplicate delivery: they were made already, and counted
        return 0
    MediaPreview.objects.filter(pk__in=[r.pk for r in rows]).update(attempts=rows[0].attempts + 1)
    _render(uri, rows, give_up=give_up, job_id=job_id)
    return MediaPreview.objects.filter(pk__in=[r.pk for r in rows]).exclude(status=MediaPreview.PENDING).count()


def _render(uri: str, rows: list[MediaPreview], *, give_up: bool, job_id: str | None) -> None:
    try:
        # With the cloud credentials of the user who asked for the first row (none recorded: the shared ones).
        storage = storage_for_uri(uri, credentials_provider=credentials_provider(user=rows[0].requested_by))
        with _readable(storage, uri) as path:
            if rows[0].media == "video":
                _render_video(path, rows, index=_video_index(storage, uri, path), job_id=job_id)
            else:
                for row in rows:
                    _render_image(path, row, job_id=job_id)
    except TransientStorageError as exc:
        if not give_up:
            raise
        _fail(rows, f"could not read the source: {exc.reason}", job_id)
    except (PermanentStorageError, StorageError) as exc:
        _fail(rows, f"could not read the source: {exc.reason}", job_id)
    except media.PreviewError as exc:  # not a readable video at all: every frame of it fails the same way
        _fail(rows, exc.reason, job_id)


@contextmanager
def _readable(storage, uri: str):
    """What the decoders read: a local file's path; a remote object as a seekable file (a large S3 object
    through ranged reads, so a video or a tiled TIFF is read where the decoder seeks, not downloaded whole)."""
    if isinstance(storage, RemoteStorage):
        with storage.open(uri) as handle:
            yield handle
    else:
        with storage.local_path(uri) as path:
            yield path


def _render_image(path: str, row: MediaPreview, *, job_id: str | None) -> None:
    try:
        if row.kind == MediaPreview.MASK:
            result = media.render_mask_png(path)
        else:
            result = media.render_image_preview(path, max_size=row.max_size, page=row.page)
    except media.PreviewError as exc:
        _fail([row], exc.reason, job_id)
        return
    _store(row, result, job_id)


def _video_index(storage, uri: str, path: str) -> media.VideoIndex:
    """The video's keyframe index: one demuxing pass per version of the file, cached for every later job
    (frames of one video arrive in several batches)."""
    fingerprint = storage.stat(uri).fingerprint
    key = "video-index:" + hashlib.sha256(f"{uri}|{fingerprint}".encode()).hexdigest() if fingerprint else None
    cached = cache.get(key) if key else None
    if cached:
        return media.VideoIndex.from_dict(cached)
    index = media.build_video_index(path)
    if key:
        cache.set(key, index.to_dict(), VIDEO_INDEX_SECONDS)
    return index


def _render_video(path: str, rows: list[MediaPreview], *, index: media.VideoIndex, job_id: str | None) -> None:
    masks = [r for r in rows if r.kind == MediaPreview.MASK]
    by_size: dict[int, dict[int, list[MediaPreview]]] = {}  # max_size -> timestamp -> rows (one pass per size)
    for row in rows:
        if row.kind == MediaPreview.SOURCE:
            by_size.setdefault(row.max_size, {}).setdefault(row.timestamp, []).append(row)
    for max_size, by_time in by_size.items():
        for timestamp, outcome in media.render_video_previews(path, sorted(by_time), max_size=max_size, index=index):
            for row in by_time.get(timestamp, []):
                if isinstance(outcome, media.PreviewError):
                    _fail([row], outcome.reason, job_id)
                else:
                    _store(row, outcome, job_id)
    for row in masks:
        try:
            _store(row, media.render_mask_png(path, timestamp_ms=row.timestamp, index=index), job_id)
        except media.PreviewError as exc:
            _fail([row], exc.reason, job_id)


def preview_file_name(row: MediaPreview, extension: str) -> str:
    return f"previews/{row.key[:2]}/{row.key}{extension}"


def _store(row: MediaPreview, result: media.Preview, job_id: str | None) -> None:
    """Write the file (whole or not at all: hyperdata.atomic_storage), then mark the row done and count it in
    one transaction. A disk that cannot take the file fails the row with the reason; nothing is left of it."""
    try:
        saved = default_storage.save(preview_file_name(row, result.extension), ContentFile(result.data))
    except OSError as exc:
        full = exc.errno in (errno.ENOSPC, errno.EDQUOT)
        what = "the previews disk is full" if full else "the preview could not be written"
        _fail([row], f"{what} ({exc.strerror or exc}); nothing was stored: free space, then retry failed previews", job_id)
        return
    with transaction.atomic():
        finished = MediaPreview.objects.filter(pk=row.pk, status=MediaPreview.PENDING).update(
            status=MediaPreview.DONE, file=saved, content_type=result.content_type,
            width=result.width, height=result.height, error="",
        )
        job_count_done(job_id=row.job_id or job_id, count=finished)


def _fail(rows: list[MediaPreview], reason: str, job_id: str | None) -> None:
    """Record the reason on the rows not yet rendered (a pass that fails midway keeps what it made)."""
    by_job: dict[str | None, list[int]] = {}
    for row in rows:
        by_job.setdefault(row.job_id or job_id, []).append(row.pk)
    with transaction.atomic():
        for owner, pks in by_job.items():
            failed = MediaPreview.objects.filter(pk__in=pks, status=MediaPreview.PENDING).update(
                status=MediaPreview.FAILED, error=reason[:2000]
            )
            job_count_done(job_id=owner, count=failed)
