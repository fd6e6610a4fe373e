"""A worker killed with SIGKILL in the middle of its work: once a worker runs again, the work completes and
nothing is done twice. Real processes: a gunicorn web server and Celery workers of the test's own, on a queue
of their own (the session's worker never sees these tasks); the kill goes to the worker's whole process group.

What brings the work back: tasks are acknowledged late (a task whose worker died is handed out again once the
broker's visibility timeout passes), a job's lease runs out once nobody renews it, and the workers' sweep
queues a job whose lease ran out again; renditions skip rows already made, and each row is counted in the
transaction that finishes it."""
from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.core.cache import cache
from PIL import Image
from rest_framework.authtoken.models import Token

from frames import services
from frames.models import FrameRevision, Job, MediaPreview
from frames.selectors.jobs import live_progress_key
from hyperdata.atomic_storage import TEMPORARY_PREFIX

from .fault_processes import ImageServer, app_env, kill_worker, start_web, start_worker, stop_worker

pytestmark = pytest.mark.django_db(transaction=True)
WAIT_SECONDS = 120
# Short enough that a killed worker's work comes back within seconds.
FAST_RECOVERY = {
    "CELERY_VISIBILITY_TIMEOUT": "3", "HYPERDATA_JOB_LEASE_SECONDS": "8",
    "HYPERDATA_SWEEP_SECONDS": "1", "HYPERDATA_SWEEP_STALE_SECONDS": "2",
}


@pytest.fixture
def owner(django_user_model):
    return django_user_model.objects.create_user("owner", password="pw-owner-123")


@pytest.fixture
def stack(celery_broker_url, tmp_path, owner):
    """A web server and the environment of workers on a queue of this test's own; workers started by the test
    are stopped at the end."""
    env = app_env(redis_url=celery_broker_url, queue=f"faults-{uuid.uuid4().hex[:8]}", **FAST_RECOVERY)
    web = start_web(env, tmp_path / "web.log")
    workers = []

    def worker(name: str, **extra: str):
        workers.append(start_worker({**env, **extra}, tmp_path / f"{name}.log", name=name))
        return workers[-1]

    api = requests.Session()
    api.headers["Authorization"] = f"Token {Token.objects.create(user=owner).key}"
    try:
        yield web, worker, api
    finally:
        for started in workers:
            stop_worker(started)
        web.stop()


def wait_for(condition, what: str, log) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"{what} did not happen:\n{log()[-4000:]}"
        time.sleep(0.1)


@pytest.mark.parametrize("files", [5, 24])  # a task per file; a task per ten files (a write of 20 or more)
def test_a_worker_killed_mid_preview_leaves_every_rendition_made_once_after_a_restart(stack, owner, files):
    web, worker, api = stack
    images = ImageServer()
    names = ["a.png", "b.png", "stall.png"] + [f"{n}.png" for n in range(files - 3)]
    version = services.dataset_create(user=owner, name="killed-previews").versions.get()
    written = api.post(f"{web.url}/api/versions/{version.pk}/frames/", timeout=30,
                       json=[{"id": name, "sources": [{"uri": images.uri(name)}]} for name in names])
    assert written.status_code in (200, 201), written.text
    first = worker("first")
    wait_for(images.arrived.is_set, "the worker reading stall.png", first.log)
    kill_worker(first)  # mid-preview: stall.png is being read, d and e are still queued
    images.release.set()
    rows = MediaPreview.objects.filter(uri__in=[images.uri(n) for n in names])
    assert rows.filter(status=MediaPreview.DONE).count() < len(names)

    second = worker("second")
    job = Job.objects.get(kind="previews", version=version)
    wait_for(lambda: Job.objects.get(pk=job.pk).state == Job.DONE, "the previews job finishing", second.log)
    job.refresh_from_db()
    assert (job.done, job.total) == (len(names), len(names))
    assert rows.count() == len(names) and set(rows.values_list("status", flat=True)) == {MediaPreview.DONE}
    for row in rows:  # one file per rendition, whole, and no temporary file left beside it
        folder = Path(settings.MEDIA_ROOT) / "previews" / row.key[:2]
        assert [p.name for p in folder.iterdir() if row.key in p.name] == [Path(row.file).name]
        assert not [p for p in folder.iterdir() if p.name.startswith(TEMPORARY_PREFIX)]
        assert Image.open(Path(settings.MEDIA_ROOT) / row.file).size == (64, 48)
    images.shutdown()


def imported_so_far(job_id: str) -> int:
    """Frames the import has read: on PostgreSQL in the job row, on SQLite in the cache (the import's
    transaction holds SQLite's lock)."""
    return max(Job.objects.get(pk=job_id).done, (cache.get(live_progress_key(job_id)) or {}).get("done", 0))


def test_a_worker_killed_mid_import_imports_every_frame_once_after_a_restart(stack, owner, media_roots):
    web, worker, api = stack
    count = 40_000
    path = media_roots / f"killed-{uuid.uuid4().hex[:6]}.jsonl"
    with path.open("w") as out:
        for i in range(count):
            out.write(json.dumps({"id": f"f{i}", "sources": [{"uri": f"s3://b/{i}.jpg"}], "meta": {"i": i}}) + "\n")
    version = services.dataset_create(user=owner, name="killed-import").versions.get()
    started = api.post(f"{web.url}/api/versions/{version.pk}/imports/", json={"format": "clearml", "path": str(path)}, timeout=30)
    assert started.status_code == 202, started.text
    job_id = started.json()["id"]
    first = worker("first", HYPERDATA_PREVIEWS_AUTO="false")
    wait_for(lambda: imported_so_far(job_id) >= 10_000, "the import reading its first 10,000 frames", first.log)
    kill_worker(first)  # mid-import: its transaction is rolled back with the connection
    assert Job.objects.get(pk=job_id).state == Job.RUNNING

    second = worker("second", HYPERDATA_PREVIEWS_AUTO="false")
    wait_for(lambda: Job.objects.get(pk=job_id).state not in Job.ACTIVE, "the import finishing", second.log)
    job = Job.objects.get(pk=job_id)
    assert job.state == Job.DONE, job.error
    assert job.attempts == 2 and job.result["added"] == count and job.result["replaced"] == 0
    version.refresh_from_db()
    assert version.frame_count == count
    assert FrameRevision.objects.filter(version=version).count() == count
