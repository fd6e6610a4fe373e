"""Deep zoom pyramids for the viewer: asked for when a viewer opens a large image, made once per source file by
a worker, kept in Django's default storage and served tile by tile (viewer.views.media).

A build is a Job of kind `pyramid` rather than a MediaPreview rendition: it runs for seconds to minutes, so
people should see its progress and be able to cancel it on the jobs page, and the job's key (the file's uri,
page and storage fingerprint) already makes every viewer of one file join the one build that is running; its
result holds what the viewer needs (size, tile size, format, levels), which a rendition row has no place for.
"""
from __future__ import annotations

import os
import tempfile
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import replace
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from .. import media
from ..media.common import describe
from ..models import DatasetVersion, Job
from ..selectors import pyramids as pyramid_selectors
from ..selectors.pyramids import NONE, PYRAMID_JOB, pyramid_tile_name
from ..selectors.credentials import credentials_provider
from ..storage import StorageError, TransientStorageError, storage_for_uri
from .jobs import RUN_JOB_TASK, job_fail, job_progress, job_start, send_task
from .previews import INTERACTIVE_PRIORITY

BUILD_SHARE = 80  # percent of the job's progress for making the tiles; storing them is the rest
UPLOAD_THREADS = 8  # tiles stored at once: an object store answers each PUT in tens of milliseconds
PROGRESS_INTERVAL = 0.5  # seconds between two progress reports while storing (at most)


def pyramid_request(*, user, version: DatasetVersion, frame_id: str, source_id: str) -> dict | None:
    """The pyramid entry of a frame's source (as the frame contract shows it), asking a worker to build it when
    nobody has yet (or the last build failed or was cancelled a while ago). None when the source is shown
    without a pyramid. Many viewers of one file share one build."""
    wanted = pyramid_selectors.source_pyramid(user=user, version=version, frame_id=frame_id, source_id=source_id)
    if wanted is None:
        return None
    if wanted.state == NONE:
        job = job_start(
            user=user, kind=PYRAMID_JOB, key=wanted.job_key, version=version, total=100, task=None,
            params={"uri": wanted.uri, "page": wanted.page, "fingerprint": wanted.fingerprint},
            subject=f"deep zoom tiles of {describe(wanted.uri)}" + (f" (page {wanted.page})" if wanted.page else ""),
        )
        if job.state == Job.QUEUED:
            # Someone is looking at the image: ahead of the thumbnail backlog, like the large renditions. A
            # second request racing this one may send the task too; the second delivery finds the job claimed.
            transaction.on_commit(lambda: send_task(RUN_JOB_TASK, [job.id], job=job, priority=INTERACTIVE_PRIORITY))
        wanted = replace(wanted, job=job)
    return wanted.to_dict()


def pyramid_build(*, user, job: Job) -> dict | None:
    """The `pyramid` job, in a worker: tile the file of job.params (uri, page) into a temporary folder, copy
    the tiles into default storage under a folder of this attempt, and return what the selectors show.

    A file that cannot be tiled, or read, fails the job with the reason (returning None: the job is finished
    already). A storage error that may pass is raised for the task to retry. Tiles stored by an attempt that
    fails or is cancelled are deleted.
    """
    uri, page = job.params["uri"], int(job.params.get("page") or 0)
    pyramid_id = f"{job.pk}-{job.attempts}"  # a redelivered job never mixes its tiles with a dead attempt's
    stored: list[str] = []
    try:
        with storage_for_uri(uri, credentials_provider=credentials_provider(user=user)).local_path(uri) as path, \
                tempfile.TemporaryDirectory(prefix="hyperdata-pyramid-", dir=settings.HYPERDATA_FETCH_TMP_DIR) as out:
            job_progress(job=job, done=0, total=100, message="making the tiles")
            pyramid = media.make_pyramid(path, out, page=page, sample_size=settings.HYPERDATA_VIEW_SIZE,
                                         report=lambda percent: job_progress(job=job, done=percent * BUILD_SHARE // 100))
            _store_tiles(job, pyramid, pyramid_id, stored)
    except TransientStorageError:
        _delete(stored)
        raise
    except StorageError as exc:
        job_fail(job=job, error=f"could not read the source: {exc.reason}")
        return None
    except media.PreviewError as exc:
        _delete(stored)
        job_fail(job=job, error=exc.reason)
        return None
    except BaseException:
        _delete(stored)
        raise
    return {
        "pyramid": pyramid_id, "width": pyramid.width, "height": pyramid.height, "tile_size": pyramid.tile_size,
        "overlap": pyramid.overlap, "format": pyramid.format, "levels": pyramid.levels, "max_level": pyramid.max_level,
        "tiles": len(stored),
    }


def _store_tiles(job: Job, pyramid: media.Pyramid, pyramid_id: str, stored: list[str]) -> None:
    """Copy every tile into default storage (several at once), reporting progress; `stored` lists those copied,
    also when a copy fails or the job is cancelled midway (the caller deletes them)."""
    tiles = [(Path(pyramid.tiles_dir, level, name), int(level), name) for level in os.listdir(pyramid.tiles_dir)
             if level.isdigit() for name in os.listdir(os.path.join(pyramid.tiles_dir, level))]
    job_progress(job=job, done=BUILD_SHARE, message=f"storing {len(tiles)} tiles")
    with ThreadPoolExecutor(max_workers=UPLOAD_THREADS, thread_name_prefix="pyramid-store") as pool:
        pending = {pool.submit(_store_tile, file, _tile_name(pyramid_id, level, name, pyramid.format))
                   for file, level, name in tiles}
        try:
            while pending:
                finished, pending = wait(pending, timeout=PROGRESS_INTERVAL, return_when=FIRST_COMPLETED)
                _collect(finished, stored)
                share = (100 - BUILD_SHARE) * len(stored) // max(1, len(tiles))
                job_progress(job=job, done=BUILD_SHARE + share, message=f"stored {len(stored)} of {len(tiles)} tiles")
        finally:
            for future in pending:
                future.cancel()
            _collect(wait(pending)[0], stored, raise_errors=False)


def _collect(finished, stored: list[str], *, raise_errors: bool = True) -> None:
    """Add the names the finished copies stored; then raise the first copy's error, if any."""
    failed = [future.exception() for future in finished if not future.cancelled() and future.exception() is not None]
    stored.extend(future.result() for future in finished if not future.cancelled() and future.exception() is None)
    if failed and raise_errors:
        raise failed[0]


def _tile_name(pyramid_id: str, level: int, file_name: str, tile_format: str) -> str:
    x, _, y = file_name.removesuffix(f".{tile_format}").partition("_")
    return pyramid_tile_name(pyramid_id, level, int(x), int(y), tile_format)


def _store_tile(file: Path, name: str) -> str:
    saved = default_storage.save(name, ContentFile(file.read_bytes()))
    if saved != name:  # the storage renamed it: the tile URL would not find it
        default_storage.delete(saved)
        raise RuntimeError(f"default storage stored tile {name} as {saved}")
    return saved


def _delete(names: list[str]) -> None:
    with ThreadPoolExecutor(max_workers=UPLOAD_THREADS, thread_name_prefix="pyramid-delete") as pool:
        list(pool.map(default_storage.delete, names))
