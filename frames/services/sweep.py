"""The workers' sweep (frames.tasks.WorkSweep runs it when a worker starts and every
HYPERDATA_SWEEP_SECONDS): nothing a user asked for is lost to a broker that was down or a message that went
missing.

1. Tasks kept in the outbox while the broker was down are sent (frames.services.outbox).
2. A job whose task should have run by now is queued again: queued for longer than HYPERDATA_SWEEP_STALE_SECONDS
   (its message never reached the broker, or was lost with a Redis that kept no data), or running with a lease
   that ran out (its worker died and the broker has not handed the task out again yet). Sending it twice does
   no harm: the first delivery claims the job (frames.services.jobs.job_claim), the others do nothing.
3. Renditions whose render tasks the broker took and then lost (a Redis without persistence restarted, a web
   process killed between its commit and handing the tasks over): when no task waits in the queue and a
   `previews` job has made no progress for HYPERDATA_SWEEP_STALE_SECONDS, its pending rows are sent again, one
   task per source file. A task a worker still holds makes no second rendition: the per-file lease keeps two
   from rendering at once and a row already made is skipped; each row counts once, towards the job it names.
   Not while tasks wait in the queue: a backlog is not lost work (a job behind it is not sent twice).
"""
from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from ..models import Job, MediaPreview
from .job_kinds import RUNNERS
from .jobs import RUN_JOB_TASK, job_waiting_for_broker
from .outbox import broker_waiting, outbox_send, task_send, tasks_send
from .previews import RENDER_TASK

STALLED_PREVIEW_JOBS = 100  # per sweep


def work_sweep(*, user=None) -> dict:
    """Send what the outbox kept, then queue stalled jobs and lost renditions again; the counts."""
    sent, broker_answered = outbox_send(user=user)
    if not broker_answered:
        return {"outbox_sent": sent, "jobs_requeued": 0, "renditions_resent": 0}
    return {"outbox_sent": sent, "jobs_requeued": _requeue_stalled_jobs(), "renditions_resent": _resend_lost_renditions()}


def _requeue_stalled_jobs() -> int:
    now = timezone.now()
    stale = now - timedelta(seconds=settings.HYPERDATA_SWEEP_STALE_SECONDS)
    stalled = Job.objects.filter(
        Q(state=Job.QUEUED) | Q(state=Job.RUNNING, lease_until__lt=now), kind__in=list(RUNNERS), updated__lt=stale
    ).values_list("pk", flat=True)
    requeued = 0
    for job_id in list(stalled[:1000]):
        # Touched first, so it is sent again once per stale period at most.
        Job.objects.filter(pk=job_id).update(updated=now)
        if not task_send(RUN_JOB_TASK, [job_id]):
            job_waiting_for_broker(job_id=job_id)
            break
        requeued += 1
    return requeued


def _resend_lost_renditions() -> int:
    now = timezone.now()
    stale = now - timedelta(seconds=settings.HYPERDATA_SWEEP_STALE_SECONDS)
    stalled = Job.objects.filter(kind="previews", state__in=Job.ACTIVE, updated__lt=stale).values_list("pk", flat=True)
    stalled = list(stalled[:STALLED_PREVIEW_JOBS])
    if not stalled or broker_waiting() != 0:
        return 0
    # Touched first, only those still stalled: one sweep of several workers sends them, once per stale period.
    claimed = [job_id for job_id in stalled if Job.objects.filter(pk=job_id, updated__lt=stale).update(updated=now)]
    tasks: dict[tuple[str, str], list[str]] = {}  # (job, source file) -> keys
    pending = MediaPreview.objects.filter(job_id__in=claimed, status=MediaPreview.PENDING).values_list("job_id", "uri", "key")
    for job_id, uri, key in pending.iterator(chunk_size=2000):
        tasks.setdefault((job_id, uri), []).append(key)
    if not tasks_send(RENDER_TASK, [[uri, sorted(keys), job_id] for (job_id, uri), keys in tasks.items()]):
        for job_id in claimed:
            job_waiting_for_broker(job_id=job_id)
    return sum(len(keys) for keys in tasks.values())
