"""What each kind of job does: the service a worker runs for it, as the user who started it."""
from __future__ import annotations

from typing import Callable

from ..models import DatasetVersion, Job
from ..selectors.access import SYSTEM
from ..selectors.previews import previews_count
from .previews import regenerate_frames
from .pyramids import pyramid_build
from .stats import published_distributions_warm, published_stats_store, stats_job_run

JobRunner = Callable[..., object]  # runner(user=..., job=...) -> the job's result (JSON) or None


def _count_previews(*, user, job: Job):
    return previews_count(user=user, version=_version(job))


def _regenerate_previews(*, user, job: Job):
    queued = regenerate_frames(user=user, version=_version(job), everything=job.params.get("everything", False), job=job)
    return {"queued": queued}


def _version(job: Job) -> DatasetVersion:
    return DatasetVersion.objects.select_related("dataset").get(pk=job.version_id)


RUNNERS: dict[str, JobRunner] = {
    "stats": stats_job_run,
    "stats_publish": lambda *, user, job: published_stats_store(user=user, version_id=job.version_id),
    "stats_warm": lambda *, user, job: published_distributions_warm(user=user, version_id=job.version_id),
    "previews_count": _count_previews,
    "previews_regenerate": _regenerate_previews,
    "pyramid": pyramid_build,
}


def register_job_kind(kind: str, runner: JobRunner) -> None:
    """Add a kind of job (importers and exporters register theirs)."""
    RUNNERS[kind] = runner


def job_run(*, job: Job):
    """Run a claimed job's work as the user who started it (the system for jobs nobody started)."""
    runner = RUNNERS.get(job.kind)
    if runner is None:
        raise LookupError(f"no runner for jobs of kind {job.kind!r}")
    return runner(user=job.user or SYSTEM, job=job)
