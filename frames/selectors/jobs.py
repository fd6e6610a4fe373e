"""Jobs as their users see them: a user's own jobs, a version's job history, one job."""
from __future__ import annotations

from django.core.cache import cache
from django.db.models import QuerySet

from ..exceptions import NotFound
from ..models import DatasetVersion, Job
from .access import OWNER, VIEWER, allows, require


def jobs_list(*, user, version: DatasetVersion | None = None) -> QuerySet[Job]:
    """Newest first: the jobs of a version (for its members), else the user's own (every job for staff).
    Narrowed by filtersets.JobFilterSet."""
    if version is not None:
        require(user, version, VIEWER)
        qs = Job.objects.filter(version=version)
    elif user.is_staff:
        qs = Job.objects.all()
    else:
        qs = Job.objects.filter(user_id=user.pk)
    return qs.select_related("user", "dataset", "version").order_by("-created")


def job_get(*, user, job_id: str) -> Job:
    """A job its user, a member of its dataset, or staff may see; NotFound for anyone else. A running job's
    progress kept in the cache (an import on SQLite, services.jobs.job_progress_outside) is shown when newer."""
    job = Job.objects.select_related("user", "dataset", "version").filter(pk=job_id).first()
    if job is None or not can_see(user, job):
        raise NotFound(f"no job with id {job_id!r}", field="job")
    live = cache.get(live_progress_key(job.pk)) if job.state == Job.RUNNING else None
    if live and live["done"] > job.done:
        job.done, job.message = live["done"], live["message"]
    return job


def live_progress_key(job_id: str) -> str:
    return f"job-progress:{job_id}"


def can_cancel(user, job: Job) -> bool:
    """Whether the user may cancel the job: it is queued or running, and they started it, own its dataset, or
    are staff."""
    if not job.is_active:
        return False
    return user.is_staff or job.user_id == user.pk or (job.dataset is not None and allows(user, job.dataset, OWNER))


def can_see(user, job: Job) -> bool:
    if user.is_staff or (job.user_id is not None and job.user_id == user.pk):
        return True
    return job.dataset is not None and allows(user, job.dataset, VIEWER)

