"""How the job pages write a job's running time (static/js/jobs.js writes it the same way while it runs), and
whether they offer Cancel."""
from django import template
from django.utils import timezone

from frames.selectors.jobs import can_cancel as job_can_cancel

register = template.Library()


@register.filter
def can_cancel(job, user) -> bool:
    """{% if job|can_cancel:user %}: its user, an owner of its dataset or staff, while it is queued or running."""
    return job_can_cancel(user, job)


@register.filter
def job_duration(job) -> str:
    """How long the job ran (started to finished), or has run so far; "" when it never started."""
    if job.started is None:
        return ""
    return format_seconds(((job.finished or timezone.now()) - job.started).total_seconds())


def format_seconds(seconds: float) -> str:
    """<1 s, 12 s, 3 min 4 s, 2 h 5 min, 1 d 3 h: the two largest units."""
    whole = max(0, int(seconds))
    if whole < 1:
        return "<1 s"
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60} s"
    if whole < 86400:
        return f"{whole // 3600} h {whole % 3600 // 60} min"
    return f"{whole // 86400} d {whole % 86400 // 3600} h"
