"""The workers' sweep (frames.tasks.WorkSweep runs it when a worker starts and every
HYPERDATA_SWEEP_SECONDS): nothing a user asked for is lost to a broker that was down or a message that went
missing.

1. Tasks kept in the outbox while the broker was down are sent (frames.services.outbox).
2. A job whose task should have run by now is queued again: queued for longer than HYPERDATA_SWEEP_STALE_SECONDS
   (its message never reached the broker, or was lost with a Redis that kept no data), or running with a lease
   that ran out (its worker died and the broker has not handed the task out again yet). Sending it twice does
   no harm: the first delivery claims the job (frames.services.jobs.job_claim), the others do nothing.
"""
from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from ..models import Job
from .job_kinds import RUNNERS
from .jobs import RUN_JOB_TASK, job_waiting_for_broker
from .outbox import outbox_send, task_send


def work_sweep(*, user=None) -> dict:
    """Send what the outbox kept, then queue stalled jobs again; the counts of both."""
    sent, broker_answered = outbox_send(user=user)
    return {"outbox_sent": sent, "jobs_requeued": _requeue_stalled_jobs() if broker_answered else 0}


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
