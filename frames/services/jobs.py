"""Jobs: every piece of work longer than a request, one mechanism for all of them.

A service that wants work done calls `job_start` with a key naming the work (`stats:<version>:<digest>`):
while a job with that key is queued or running, the existing job is returned and nothing new is queued (a
partial unique index makes that hold between processes too). The job's task is queued once the caller's
transaction commits. The worker claims the job (`job_claim`: queued, or running with an expired lease, so a
job whose worker died is taken over by the task's next delivery and a duplicate delivery does nothing),
reports progress (`job_progress`, which also tells it when the user cancelled), and finishes or fails it.

Preview generation is the one job moved forward by many tasks (one per source file): `job_add_work` and
`job_count_done` keep its done/total.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections, transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from ..exceptions import Conflict, Forbidden
from ..models import Dataset, DatasetVersion, Job
from ..selectors.jobs import can_cancel, job_get, live_progress_key
from .outbox import task_send

logger = logging.getLogger(__name__)
RUN_JOB_TASK = "frames.tasks.run_job"
ERROR_LIMIT = 4000
BROKER_DOWN_MESSAGE = "waiting for the task broker (Redis did not answer): it runs once the broker is back"


class JobCancelled(Exception):
    """The user cancelled the job the worker is running: stop, nothing more to record."""


class JobFailed(Exception):
    """A runner's work could not be done for a reason the user must read (an import with problems): the job
    fails with `message` as its error and `result` (the report) kept."""

    def __init__(self, message: str, *, result=None):
        super().__init__(message)
        self.message = message
        self.result = result


def job_start(
    *, user, kind: str, key: str = "", subject: str = "", dataset: Dataset | None = None,
    version: DatasetVersion | None = None, params: dict | None = None, total: int | None = None,
    task: str | None = RUN_JOB_TASK, job_id: str | None = None,
) -> Job:
    """The active job doing this work (`key`), or a new one whose task is queued after commit. With task=None
    nobody is queued (work moved forward by other tasks, e.g. preview generation). `job_id`: the new job's id,
    when rows naming it were written before it (renditions)."""
    with transaction.atomic():
        existing = _active(key)
        if existing is not None:
            return existing
        try:
            with transaction.atomic():
                job = Job.objects.create(
                    **({"id": job_id} if job_id else {}), kind=kind, key=key, subject=subject[:300], user=user if getattr(user, "pk", None) else None,
                    dataset=dataset or (version.dataset if version else None), version=version,
                    params=params or {}, total=total,
                )
        except IntegrityError:  # another process started the same work a moment ago
            return _active(key) or Job.objects.filter(key=key).order_by("-created").first()
        if task:
            transaction.on_commit(lambda: send_task(task, [job.id], job=job))
    return job


def _active(key: str) -> Job | None:
    return Job.objects.filter(key=key, state__in=Job.ACTIVE).first() if key else None


def send_task(task: str, args: list, *, job: Job | None, priority: int | None = None) -> bool:
    """Queue a task (call it after commit). When the broker does not answer, the task is kept in the outbox and
    sent by the workers' sweep once it is back; the job stays queued and says what it waits for."""
    if task_send(task, args, priority=priority):
        return True
    if job is not None:
        job_waiting_for_broker(job_id=job.pk)
    return False


def job_waiting_for_broker(*, job_id: str) -> None:
    Job.objects.filter(pk=job_id, state__in=Job.ACTIVE).update(message=BROKER_DOWN_MESSAGE, updated=timezone.now())


def lease() -> timedelta:
    return timedelta(seconds=settings.HYPERDATA_JOB_LEASE_SECONDS)


def job_claim(*, job_id: str) -> Job | None:
    """Take the job for this worker: it must be queued, or running under a lease that ran out (its worker
    died). None when it is finished, cancelled or running elsewhere: the caller does nothing."""
    now = timezone.now()
    claimable = Q(state=Job.QUEUED) | Q(state=Job.RUNNING, lease_until__lt=now)
    taken = Job.objects.filter(claimable, pk=job_id).update(
        state=Job.RUNNING, started=Coalesce(F("started"), now), lease_until=now + lease(),
        attempts=F("attempts") + 1, message="", updated=now,
    )
    return Job.objects.get(pk=job_id) if taken else None


def job_heartbeat(*, job_id: str) -> None:
    """Keep the lease of a running job (a worker busy in one long query reports no progress)."""
    now = timezone.now()
    Job.objects.filter(pk=job_id, state=Job.RUNNING).update(lease_until=now + lease(), updated=now)


def job_progress(*, job: Job, done: int | None = None, total: int | None = None, message: str | None = None) -> None:
    """Record progress of a running job and renew its lease; JobCancelled when the user cancelled it."""
    now = timezone.now()
    changes = {"lease_until": now + lease(), "updated": now}
    if done is not None:
        changes["done"] = job.done = done
    if total is not None:
        changes["total"] = job.total = total
    if message is not None:
        changes["message"] = job.message = message[:500]
    if not Job.objects.filter(pk=job.pk, state=Job.RUNNING).update(**changes):
        raise JobCancelled(job.pk)


def job_progress_outside(*, job: Job, done: int, message: str = "") -> None:
    """Progress of a job whose work runs in one long transaction (an import), seen before that transaction
    commits: written through a connection of its own on PostgreSQL; on SQLite (one writer at a time, the
    work's transaction holds the lock) kept in the cache, where job_get finds it. JobCancelled when the user
    cancelled (its state read through the side connection, or the request job_cancel leaves in the cache before
    it waits for SQLite's lock: the work then rolls back and the cancel goes through)."""
    side = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        with side.cursor() as cursor:
            if side.vendor == "postgresql":
                cursor.execute(
                    f"UPDATE {Job._meta.db_table} SET done = %s, message = %s, updated = %s, lease_until = %s "
                    "WHERE id = %s AND state = %s",
                    [done, message[:500], timezone.now(), timezone.now() + lease(), job.pk, Job.RUNNING],
                )
            else:
                cache.set(live_progress_key(job.pk), {"done": done, "message": message[:500]}, settings.HYPERDATA_JOB_LEASE_SECONDS)
            cursor.execute(f"SELECT state FROM {Job._meta.db_table} WHERE id = %s", [job.pk])
            row = cursor.fetchone()
    finally:
        side.close()
    if (row is not None and row[0] == Job.CANCELLED) or cache.get(cancel_requested_key(job.pk)):
        raise JobCancelled(job.pk)


def job_finish(*, job: Job, result=None, message: str = "") -> None:
    _finish(job.pk, Job.DONE, result=result, message=message)


def job_fail(*, job: Job, error: str, result=None) -> None:
    _finish(job.pk, Job.FAILED, error=error, result=result)


def _finish(job_id: str, state: str, *, result=None, message: str = "", error: str = "") -> None:
    now = timezone.now()
    changes = {"state": state, "finished": now, "updated": now, "lease_until": None, "error": error[:ERROR_LIMIT]}
    if result is not None:
        changes["result"] = result
    if message:
        changes["message"] = message[:500]
    if state == Job.DONE:
        changes["done"] = Coalesce(F("total"), F("done"))
    Job.objects.filter(pk=job_id, state__in=Job.ACTIVE).update(**changes)


def job_retry_later(*, job: Job, reason: str, countdown: float) -> None:
    """Hand a running job back to the queue: its task runs again in `countdown` seconds."""
    Job.objects.filter(pk=job.pk, state=Job.RUNNING).update(
        state=Job.QUEUED, lease_until=None, message=f"retrying in {countdown:.0f} s: {reason}"[:500], updated=timezone.now()
    )


def job_cancel(*, user, job_id: str) -> Job:
    """Cancel a queued or running job: its user, an owner of its dataset, or staff may. The worker stops at
    its next progress report; what it finished stays."""
    job = job_get(user=user, job_id=job_id)
    if job.is_active and not can_cancel(user, job):
        raise Forbidden("only the user who started a job, an owner of its dataset or staff can cancel it", field="job")
    if job.is_active:  # seen at once by work in one long transaction, which on SQLite holds the lock this waits for
        cache.set(cancel_requested_key(job.pk), True, settings.HYPERDATA_JOB_LEASE_SECONDS)
    if not job_mark_cancelled(job_id=job.pk):
        job.refresh_from_db()
        raise Conflict(f"the job is {job.state} already", field="job")
    job.refresh_from_db()
    return job


def job_mark_cancelled(*, job_id: str) -> bool:
    """Cancelled, if it is still queued or running (False otherwise)."""
    now = timezone.now()
    return bool(Job.objects.filter(pk=job_id, state__in=Job.ACTIVE).update(state=Job.CANCELLED, finished=now, updated=now, lease_until=None))


def cancel_requested_key(job_id: str) -> str:
    return f"job-cancel:{job_id}"


# -- jobs moved forward by many tasks (preview generation) ---------------------------------------------------


def job_add_work(*, job: Job, count: int) -> bool:
    """Add `count` items to an active job's total; False when the job finished or was cancelled meanwhile."""
    return bool(Job.objects.filter(pk=job.pk, state__in=Job.ACTIVE).update(total=Coalesce(F("total"), 0) + count, updated=timezone.now()))


def job_is_cancelled(*, job_id: str | None) -> bool:
    return bool(job_id) and Job.objects.filter(pk=job_id, state=Job.CANCELLED).exists()


def job_count_done(*, job_id: str | None, count: int) -> None:
    """`count` more items of a many-task job are finished; the job is done when all of them are."""
    if not job_id or not count:
        return
    now = timezone.now()
    Job.objects.filter(pk=job_id, state__in=Job.ACTIVE).update(
        done=F("done") + count, state=Job.RUNNING, started=Coalesce(F("started"), now), updated=now,
        message="",  # no longer waiting for the broker, if it was
    )
    Job.objects.filter(pk=job_id, state=Job.RUNNING, done__gte=F("total")).update(
        state=Job.DONE, finished=now, lease_until=None
    )
