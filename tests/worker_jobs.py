"""Job kinds for the worker tests, registered in the test process and in the worker (which loads tests.conftest).

`tests.count`: records each execution (a row per run, in the cache the worker shares) and holds for
params["hold"] seconds reporting progress, so a test can ask for the same work again while it runs.
"""
from __future__ import annotations

import time

from django.core.cache import cache

from frames import services


def executions_key(job_id: str) -> str:
    return f"tests:job-executions:{job_id}"


def count_and_hold(*, user, job):
    if not cache.add(executions_key(job.pk), 1, 600):
        cache.incr(executions_key(job.pk))
    steps = job.params.get("steps", 5)
    for step in range(steps):
        time.sleep(job.params.get("hold", 0) / steps)
        services.job_progress(job=job, done=step + 1, total=steps, message=f"step {step + 1} of {steps}")
    return {"steps": steps}


services.register_job_kind("tests.count", count_and_hold)
