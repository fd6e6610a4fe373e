"""Job kinds for the worker tests, registered in the test process and in the worker (which loads tests.conftest).

`tests.count`: records each execution (a row per run, in the cache the worker shares) and holds for
params["hold"] seconds reporting progress, so a test can ask for the same work again while it runs.

`tests.gated`: a job the test moves forward by hand, through files in the folder params["gate"] (see
`gated_steps`), so a test can look at each step (a browser watching the progress bar) and cancel in between.
"""
from __future__ import annotations

import time
from pathlib import Path

from django.core.cache import cache

from frames import services
from frames.models import Job


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


GATED = "tests.gated"
GATE_WAIT_SECONDS = 120


def gated_steps(*, user, job):
    """Report step k of params["steps"] once the file `go-<k>` exists in params["gate"] (`fail-<k>` fails the
    job there instead, `abort` ends the wait: a test that failed midway frees the worker). Leaves `done-<k>`
    after each step it reported, and `cancelled-at-<k>` when that report found the job cancelled: where the
    worker stopped."""
    gate, steps = Path(job.params["gate"]), job.params.get("steps", 3)
    for step in range(1, steps + 1):
        if _wait_for_gate(gate, step) == "fail":
            raise RuntimeError(f"step {step} failed, as the test asked")
        try:
            services.job_progress(job=job, done=step, total=steps, message=f"step {step} of {steps}")
        except services.JobCancelled:
            (gate / f"cancelled-at-{step}").touch()
            raise
        (gate / f"done-{step}").touch()
    return {"steps": steps}


def _wait_for_gate(gate: Path, step: int) -> str:
    deadline = time.monotonic() + GATE_WAIT_SECONDS
    while time.monotonic() < deadline and not (gate / "abort").exists():
        for word in ("go", "fail"):
            if (gate / f"{word}-{step}").exists():
                return word
        time.sleep(0.05)
    raise TimeoutError(f"step {step} of the gated job was not released")


services.register_job_kind(GATED, gated_steps)


def wait_for_job(job_id: str, worker, seconds: float = 60) -> Job:
    """The job once it ended (done, failed or cancelled), read from the database; the worker's log on time-out."""
    deadline = time.monotonic() + seconds
    while (job := Job.objects.get(pk=job_id)).state in Job.ACTIVE:
        assert time.monotonic() < deadline, f"job {job.state}:\n{worker.log()[-3000:]}"
        time.sleep(0.1)
    return job
