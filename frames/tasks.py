"""Celery tasks: thin shells over the services, with one base task for how every task is run.

HyperDataTask: acknowledged late (a task whose worker dies is delivered again), retried with exponential
back-off and jitter on errors that may pass, and bounded by time limits. JobTask: a task that moves one Job
forward; it claims the job first, so a second delivery of the same job (queued twice, or redelivered while
the first is still running) does nothing, and a job whose worker died is taken over once its lease ran out.
"""
from __future__ import annotations

import hashlib
import logging
import threading

from celery import Task, bootsteps, current_app, shared_task
from celery.exceptions import Retry, SoftTimeLimitExceeded
from django.conf import settings
from django.core.cache import cache
from django.db import OperationalError, close_old_connections, connection

from . import services
from .storage import TransientStorageError

logger = logging.getLogger(__name__)
MAX_RETRIES = 6
RETRY_BACKOFF_MAX = 300


class HyperDataTask(Task):
    acks_late = True
    reject_on_worker_lost = True
    autoretry_for = (TransientStorageError, OperationalError)
    retry_backoff = 2
    retry_backoff_max = RETRY_BACKOFF_MAX
    retry_jitter = True
    max_retries = MAX_RETRIES
    soft_time_limit = settings.HYPERDATA_TASK_SOFT_TIME_LIMIT
    time_limit = settings.HYPERDATA_TASK_SOFT_TIME_LIMIT + 60

    def backoff(self, exc: Exception | None = None) -> float:
        """Seconds before the next try: what the source asked for (Retry-After), else 2, 4, 8, ... capped."""
        asked = getattr(exc, "retry_after", None)
        return asked or min(RETRY_BACKOFF_MAX, 2 ** (self.request.retries + 1))


class JobTask(HyperDataTask):
    """run(job) does the work of a claimed job; its return value is the job's result."""

    def __call__(self, job_id: str):
        job = services.job_claim(job_id=job_id)
        if job is None:
            return None  # finished, cancelled, or being run by another delivery
        with _Every(lambda: services.job_heartbeat(job_id=job_id)):
            try:
                result = self.run(job)
            except services.JobCancelled:
                services.job_mark_cancelled(job_id=job_id)  # a cancel still waiting for SQLite's lock
                return None
            except services.JobFailed as exc:
                services.job_fail(job=job, error=exc.message, result=exc.result)
                return None
            except Retry:
                services.job_retry_later(job=job, reason="a service did not answer", countdown=self.backoff())
                raise
            except SoftTimeLimitExceeded:
                services.job_fail(job=job, error=f"took longer than the time limit ({self.soft_time_limit} s)")
                raise
            except Exception as exc:
                services.job_fail(job=job, error=f"{type(exc).__name__}: {exc}")
                raise
        services.job_finish(job=job, result=result)
        return None


class _Every:
    """Calls `renew` every third of the lease from a thread of its own while the work holds the task's thread
    (one long query reports no progress), so no second delivery takes work that is alive; once the worker dies
    the renewals stop and the lease runs out."""

    def __init__(self, renew):
        self.renew = renew
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._beat, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()

    def _beat(self):
        interval = settings.HYPERDATA_JOB_LEASE_SECONDS / 3
        try:
            while not self.stop.wait(interval):
                self.renew()
        finally:
            connection.close()  # this thread's own database connection


@shared_task(base=JobTask, name="frames.tasks.run_job")
def run_job(job):
    return services.job_run(job=job)


@shared_task(base=HyperDataTask, bind=True, name="frames.tasks.generate_previews", autoretry_for=())
def generate_previews(self, uri: str, keys: list[str], job_id: str | None = None) -> None:
    """Render the previews `keys` of one uri. Idempotent: rows already rendered are skipped, and a lock per
    uri keeps two workers from rendering the same video at once (the second one retries shortly)."""
    try:
        _render_file(uri, keys, job_id, owner=self.request.id, give_up=self.request.retries >= MAX_RETRIES)
    except FileBusy:
        raise self.retry(countdown=5, max_retries=None)
    except TransientStorageError as exc:
        raise self.retry(exc=exc, countdown=self.backoff(exc))


@shared_task(base=HyperDataTask, bind=True, name="frames.tasks.generate_previews_many", autoretry_for=())
def generate_previews_many(self, items: list[list]) -> None:
    """Render several files' previews one after the other ([uri, keys, job id] each): an import queues a task
    per file otherwise, and each costs its sender about a millisecond. A file another worker holds, or whose
    storage failed for now, is queued again on its own, to be retried as generate_previews retries. A batch
    delivered again (its worker died) skips what was rendered already."""
    for uri, keys, job_id in items:
        try:
            _render_file(uri, keys, job_id, owner=self.request.id, give_up=False)
        except (FileBusy, TransientStorageError):
            generate_previews.apply_async(args=[uri, keys, job_id], countdown=5)


class FileBusy(Exception):
    """Another worker holds the file's lock."""


def _render_file(uri: str, keys: list[str], job_id: str | None, *, owner: str | None, give_up: bool) -> None:
    """The lock is a lease renewed while the work runs: a worker killed mid-render holds it for one lease at
    most."""
    lock, hold = "preview-lock:" + hashlib.sha256(uri.encode()).hexdigest(), settings.HYPERDATA_JOB_LEASE_SECONDS
    if not cache.add(lock, owner or "1", hold):
        raise FileBusy(uri)
    try:
        with _Every(lambda: cache.touch(lock, hold)):
            services.render_previews(uri=uri, keys=keys, job_id=job_id, give_up=give_up)
    finally:
        cache.delete(lock)
        close_old_connections()


@shared_task(base=HyperDataTask, name="frames.tasks.clean_uploads")
def clean_uploads() -> int:
    """Remove the uploaded media files no frame names, past the grace period (Celery beat runs it: settings'
    CELERY_BEAT_SCHEDULE). Idempotent: a second run finds nothing more to remove."""
    return len(services.uploads_clean_scheduled().removed)


class WorkSweep(bootsteps.StartStopStep):
    """Every worker runs services.work_sweep when it starts and every HYPERDATA_SWEEP_SECONDS, from its timer
    thread: tasks kept while the broker was down are sent, stalled jobs queued again, the pending renditions of a
    previews job that stopped moving (their tasks lost by the broker) sent again. No beat process to run;
    several workers sweeping at once is harmless (every task tolerates a second delivery)."""

    requires = {"celery.worker.components:Timer"}

    def __init__(self, worker, **kwargs):
        super().__init__(worker, **kwargs)
        self.timer_entry = None

    def start(self, worker):
        worker.timer.call_after(0.5, sweep_now)
        self.timer_entry = worker.timer.call_repeatedly(settings.HYPERDATA_SWEEP_SECONDS, sweep_now)

    def stop(self, worker):
        if self.timer_entry is not None:
            self.timer_entry.cancel()


def sweep_now() -> None:
    try:
        swept = services.work_sweep()
        if any(swept.values()):
            logger.info("work sweep: %s", swept)
    except Exception:  # the database is down: the next sweep tries again
        logger.exception("work sweep failed")
    finally:
        connection.close()  # none kept open in the main process, where pool processes are forked from


# The worker imports this module (autodiscovery) before it builds its bootsteps.
current_app.steps["worker"].add(WorkSweep)
