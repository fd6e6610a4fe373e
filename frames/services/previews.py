"""Asking for previews: the rendition rows frames need, the tasks that make them (queued after commit, one per
source file), the version's `previews` job that follows them, regenerating failed ones, large renditions for
the viewer, and preview progress. Rendering itself is frames.services.renditions (run by the workers).
"""
from __future__ import annotations

import time
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ..filters import frames_matching
from ..models import Dataset, DatasetVersion, Job, MediaPreview, new_id
from ..selectors import previews as preview_selectors
from ..selectors.access import ANNOTATOR, VIEWER, require
from ..selectors.previews import PreviewRequest
from .bulk import frames_preview_requests, insert_missing_previews
from .jobs import job_add_work, job_progress, job_start, job_waiting_for_broker
from .outbox import tasks_send

RENDER_TASK = "frames.tasks.generate_previews"
RENDER_MANY_TASK = "frames.tasks.generate_previews_many"
FILES_PER_TASK = 10  # two workers still share an import's files; one batch is seconds of work, not hours
CHUNK = 500
PROGRESS_FRESH_SECONDS = 10  # a large version's preview count older than this is counted again when asked
RENDITION_REQUEUE_SECONDS = 30  # a large rendition asked for again after this is queued again (a lost task)
# The viewer waits for a large rendition: its task goes ahead of the thumbnail backlog (Redis: 0 is first).
INTERACTIVE_PRIORITY = 0


def previews_request(*, user, version: DatasetVersion, frames: list[dict], regenerate: str = "") -> int:
    """Create the missing rendition rows of these frames and queue their tasks once the write commits, under
    the version's `previews` job (each row names it, so the workers' sweep can send a stalled job's rows
    again). regenerate="failed" queues failed and still-pending rows again; "all" re-renders every one.
    Returns the number of renditions queued."""
    wanted = frames_preview_requests(frames)
    if not wanted:
        return 0
    job_id = _previews_job_id(version)
    if not regenerate:  # a write: only the rows nobody asked for yet (COPY on PostgreSQL)
        rows = [(key, r.kind, r.uri, r.media, r.timestamp, r.page, r.max_size) for key, r in wanted.items()]
        inserted = insert_missing_previews(rows, requested_by_id=getattr(user, "pk", None), job_id=job_id)
        queue, owned = inserted.keys, []
    else:
        queue, owned = _reset_for_regenerating(user, wanted, regenerate, job_id)
    if (queue or owned) and settings.HYPERDATA_PREVIEWS_AUTO:
        job = _previews_job(user, version, len(queue), job_id) if queue else Job.objects.get(pk=owned[0][1])
        if job.pk != job_id and queue:  # another write started the version's job meanwhile (rare)
            MediaPreview.objects.filter(key__in=queue).update(job=job)
        if not regenerate:
            pk_range = inserted.pk_range  # the callback keeps two numbers, not the chunk's keys
            transaction.on_commit(lambda: _enqueue_inserted(pk_range, job))
        else:
            by_uri: dict[str, list[str]] = {}
            for key in queue + [key for key, _ in owned]:
                by_uri.setdefault(wanted[key].uri, []).append(key)
            transaction.on_commit(lambda: _enqueue(by_uri, job))
    return len(queue) + len(owned)


def _enqueue_inserted(pk_range: tuple[int, int], job: Job) -> None:
    """Queue the renditions a write inserted, read back after its commit by their primary keys' range: an
    import of a million frames writes a few hundred chunks in one transaction, and holding every chunk's URIs
    and keys until it commits would grow its memory with the file. A concurrent write's rows in the range under
    the same job may be sent twice: the per-file lease and the skipping of finished rows make that harmless."""
    pending = (MediaPreview.objects.filter(pk__range=pk_range, job_id=job.pk, status=MediaPreview.PENDING)
               .order_by().values_list("uri", "key"))
    by_uri: dict[str, list[str]] = {}
    for uri, key in pending.iterator(chunk_size=CHUNK):
        by_uri.setdefault(uri, []).append(key)
    _enqueue(by_uri, job)


def _previews_job_id(version: DatasetVersion) -> str | None:
    """The id new rendition rows name: the version's active previews job, or the one about to be started."""
    if not settings.HYPERDATA_PREVIEWS_AUTO:
        return None  # nobody renders them unless asked (regenerating)
    return Job.objects.filter(key=_job_key(version), state__in=Job.ACTIVE).values_list("pk", flat=True).first() or new_id()


def _job_key(version: DatasetVersion) -> str:
    return f"previews:{version.pk}"


def _reset_for_regenerating(user, wanted: dict, regenerate: str, job_id: str | None) -> tuple[list[str], list[tuple]]:
    """Create the missing rows and set the failed (or all) ones pending again, under `job_id`: the keys it
    adds to that job's total. A row still pending under an active job (its task was lost) is sent again but
    stays that job's (it is in its total already): those come back as (key, job id)."""
    existing = {key: (status, owner) for key, status, owner in
                MediaPreview.objects.filter(key__in=list(wanted)).values_list("key", "status", "job_id")}
    active = set(Job.objects.filter(pk__in={o for _, o in existing.values() if o}, state__in=Job.ACTIVE).values_list("pk", flat=True))
    owned = [(key, owner) for key, (status, owner) in existing.items() if status == MediaPreview.PENDING and owner in active]
    sent_again = {key for key, _ in owned}
    again = [key for key, (status, _) in existing.items()
             if (regenerate == "all" or status != MediaPreview.DONE) and key not in sent_again]
    new = [key for key in wanted if key not in existing]
    MediaPreview.objects.bulk_create([_row(wanted[k], user, job_id) for k in new], ignore_conflicts=True)
    MediaPreview.objects.filter(key__in=again).update(status=MediaPreview.PENDING, error="", attempts=0,
                                                      requested_by_id=getattr(user, "pk", None), job_id=job_id)
    return new + again, owned


def _row(request: PreviewRequest, user, job_id: str | None = None) -> MediaPreview:
    # The worker reads the source with the cloud credentials of the user who asked (the system: shared ones).
    return MediaPreview(key=request.key, kind=request.kind, uri=request.uri, media=request.media,
                        timestamp=request.timestamp, page=request.page, max_size=request.max_size,
                        requested_by_id=getattr(user, "pk", None), job_id=job_id)


def _previews_job(user, version: DatasetVersion, count: int, job_id: str | None) -> Job:
    """The version's active `previews` job with `count` more renditions to make (a new job, with id `job_id`
    the rows name, when none is active: the last one finished or was cancelled)."""
    for attempt in range(3):
        job = job_start(user=user, kind="previews", key=_job_key(version), version=version, total=0, task=None,
                        subject=f"previews of {version.dataset.name} / {version.name}", job_id=job_id if attempt == 0 else None)
        if job_add_work(job=job, count=count):
            job.total = (job.total or 0) + count
            return job
    return job  # it keeps finishing under us: the renditions are made all the same


def _enqueue(by_uri: dict[str, list[str]], job: Job | None, priority: int | None = None) -> None:
    """One render task per source file, or per FILES_PER_TASK files when a write asks for many (sending a task
    costs about a millisecond: an import of 100,000 files spent more time sending than writing). When the
    broker is down they are kept in the outbox (sent by the workers' sweep once it is back) and the job says
    what it waits for."""
    many = [[uri, sorted(keys), job.pk if job else None] for uri, keys in by_uri.items()]
    if len(many) >= 2 * FILES_PER_TASK:
        sent = tasks_send(RENDER_MANY_TASK, [[many[i:i + FILES_PER_TASK]] for i in range(0, len(many), FILES_PER_TASK)], priority=priority)
    else:
        sent = tasks_send(RENDER_TASK, many, priority=priority)
    if not sent and job is not None:
        job_waiting_for_broker(job_id=job.pk)


# -- regenerating -----------------------------------------------------------------------------------------------


def previews_regenerate(*, user, version: DatasetVersion, everything: bool = False) -> int | Job:
    """Queue the version's failed and unfinished previews again (or all of them): now for a version of up to
    HYPERDATA_PROGRESS_SYNC_FRAMES frames, returning how many; else as a job (it reads every frame: about a
    minute at a million), returning the job."""
    require(user, version, ANNOTATOR)
    if version.frame_count > settings.HYPERDATA_PROGRESS_SYNC_FRAMES:
        return job_start(user=user, kind="previews_regenerate", key=f"previews-regenerate:{version.pk}:{int(everything)}",
                         version=version, params={"everything": everything}, total=version.frame_count,
                         subject=f"{'re-render all' if everything else 'retry failed'} previews of {version.dataset.name} / {version.name}")
    return regenerate_frames(user=user, version=version, everything=everything)


def regenerate_frames(*, user, version: DatasetVersion, everything: bool, job: Job | None = None) -> int:
    """Go through the version's frames, queueing their failed and unfinished (or all) previews again."""
    queued = seen = 0
    frames = frames_matching(version).order_by("pk").values_list("sources", flat=True).iterator(chunk_size=CHUNK)
    for chunk in _chunks(frames, CHUNK):
        with transaction.atomic():
            queued += previews_request(user=user, version=version, frames=[{"sources": s} for s in chunk],
                                       regenerate="all" if everything else "failed")
        seen += len(chunk)
        if job is not None:
            job_progress(job=job, done=seen, message=f"{queued} preview(s) queued again")
    return queued


def _chunks(iterable, size):
    chunk = []
    for item in iterable:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# -- large renditions for the viewer ---------------------------------------------------------------------------


def rendition_request(*, user, dataset: Dataset, request: PreviewRequest) -> MediaPreview:
    """The rendition row; when it is not made yet, its task is queued ahead of the thumbnail backlog (once:
    a row queued less than RENDITION_REQUEUE_SECONDS ago is not queued again)."""
    require(user, dataset, VIEWER)
    row, created = MediaPreview.objects.get_or_create(key=request.key, defaults={
        "kind": request.kind, "uri": request.uri, "media": request.media, "timestamp": request.timestamp,
        "page": request.page, "max_size": request.max_size, "requested_by_id": getattr(user, "pk", None),
    })
    stale = timezone.now() - timedelta(seconds=RENDITION_REQUEUE_SECONDS)
    if created or MediaPreview.objects.filter(pk=row.pk, status=MediaPreview.PENDING, updated__lt=stale).update(updated=timezone.now()):
        transaction.on_commit(lambda: _enqueue({row.uri: [row.key]}, None, priority=INTERACTIVE_PRIORITY))
    return row


# -- progress -------------------------------------------------------------------------------------------------


def previews_progress(*, user, version: DatasetVersion) -> dict:
    """done / failed / pending renditions of the version's frames, `as_of` when they were counted, and
    `counting` while a newer count is on its way.

    Up to HYPERDATA_PROGRESS_SYNC_FRAMES frames they are counted now; above, a `previews_count` job counts
    (reading every frame's sources: ~45 s at a million frames) and this answers its latest count at once,
    starting a new one when that count is older than PROGRESS_FRESH_SECONDS. Before the first count of a
    large version there are no figures yet: `counting` is true and the counts are None.
    """
    if version.frame_count <= settings.HYPERDATA_PROGRESS_SYNC_FRAMES:
        return {**preview_selectors.previews_count(user=user, version=version), "as_of": _iso(time.time()), "counting": False}
    latest = preview_selectors.latest_previews_count(user=user, version=version)
    counting = False
    if latest is None or time.time() - latest.finished.timestamp() > PROGRESS_FRESH_SECONDS:
        job = job_start(user=user, kind="previews_count", key=f"previews-count:{version.pk}", version=version,
                        subject=f"count previews of {version.dataset.name} / {version.name}")
        counting = job.state in Job.ACTIVE
    if latest is None:
        return {"total": None, "done": None, "failed": None, "pending": None, "as_of": None, "counting": counting}
    figures = {k: latest.result[k] for k in ("total", "done", "failed", "pending")}
    return {**figures, "as_of": latest.finished.isoformat(), "counting": counting}


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, tz=dt_timezone.utc).isoformat()
