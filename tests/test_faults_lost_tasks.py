"""Render tasks Redis took and then lost (a Redis run without persistence killed and started again): the
workers' sweep finds the previews job that stopped moving and sends its pending renditions again, without
anyone clicking "Retry failed previews"; each rendition is made once and the job finishes with the right
counts. Real processes: a redis-server of the test's own (no persistence), a gunicorn web server and a Celery
worker on it, PNG sources on a loopback HTTP server that counts the reads of every file."""
from __future__ import annotations

import re
import time
import uuid
from pathlib import Path

import pytest
import redis as redis_client
import requests
from django.conf import settings
from rest_framework.authtoken.models import Token

from frames import services
from frames.models import Job, MediaPreview

from .fault_processes import ImageServer, RedisServer, app_env, start_web, start_worker, stop_worker

pytestmark = pytest.mark.django_db(transaction=True)
WAIT_SECONDS = 120
STALE_SECONDS = 6  # a previews job that has not moved for this long, with nothing in the queue, is sent again


@pytest.fixture
def owner(django_user_model):
    return django_user_model.objects.create_user("owner", password="pw-owner-123")


@pytest.fixture
def lossy_stack(tmp_path, owner):
    redis = RedisServer(tmp_path, persist=False).start()
    queue = f"lost-{uuid.uuid4().hex[:8]}"
    env = app_env(redis_url=redis.url, queue=queue, HYPERDATA_SWEEP_SECONDS="1",
                  HYPERDATA_SWEEP_STALE_SECONDS=str(STALE_SECONDS))
    api = requests.Session()
    api.headers["Authorization"] = f"Token {Token.objects.create(user=owner).key}"
    web = None
    workers = []

    def start_sweeping_worker():
        workers.append(start_worker(env, tmp_path / "worker.log", name="sweeper"))
        return workers[-1]

    try:
        web = start_web(env, tmp_path / "web.log")
        yield redis, queue, web, api, start_sweeping_worker
    finally:
        for worker in workers:
            stop_worker(worker)
        if web is not None:
            web.stop()
        redis.stop()


def waiting_tasks(redis: RedisServer, queue: str) -> int:
    """Render tasks in the queue's lists (one per priority)."""
    client = redis_client.Redis.from_url(redis.url)
    return sum(client.llen(name) for name in client.keys(f"{queue}*"))


def wait_until_done(job: Job, worker) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while Job.objects.get(pk=job.pk).state != Job.DONE:
        assert time.monotonic() < deadline, f"the previews job did not finish:\n{worker.log()[-4000:]}"
        time.sleep(0.2)


def add_frames(api, web, version, images, names):
    written = api.post(f"{web.url}/api/versions/{version.pk}/frames/", timeout=30,
                       json=[{"id": name, "sources": [{"uri": images.uri(name)}]} for name in names])
    assert written.status_code in (200, 201), written.text


def test_render_tasks_redis_lost_are_sent_again_by_the_sweep_and_each_rendition_is_made_once(lossy_stack, owner):
    redis, queue, web, api, start_sweeping_worker = lossy_stack
    images = ImageServer()
    images.release.set()
    version = services.dataset_create(user=owner, name="lost-renders").versions.get()
    lost, kept = [f"lost-{n}.png" for n in range(3)], [f"kept-{n}.png" for n in range(3)]

    add_frames(api, web, version, images, lost)  # accepted by Redis ...
    assert waiting_tasks(redis, queue) == 3
    redis.kill()  # ... and gone with it: it kept nothing
    redis.start()
    assert waiting_tasks(redis, queue) == 0
    add_frames(api, web, version, images, kept)  # these tasks are in the queue (or the outbox) when the worker starts
    job = Job.objects.get(kind="previews", version=version)
    assert (job.state, job.done, job.total) == (Job.QUEUED, 0, 6)

    worker = start_sweeping_worker()
    wait_until_done(job, worker)
    rows = assert_each_made_once(job, images, lost + kept)
    for row in rows:  # one file per rendition
        folder = Path(settings.MEDIA_ROOT) / "previews" / row.key[:2]
        assert [p.name for p in folder.iterdir() if row.key in p.name] == [Path(row.file).name]
    # Only the lost ones were sent again: the kept ones waited in the queue, which is not lost work.
    resent = [int(n) for n in re.findall(r"'renditions_resent': (\d+)", worker.log())]
    assert sum(resent) == 3, worker.log()[-4000:]
    images.shutdown()


def test_retrying_renditions_whose_tasks_were_lost_keeps_the_job_count(lossy_stack, owner):
    """A user clicks "Retry failed previews" before any sweep: the lost rows are sent again under the job that
    counts them already (its total stays 3, it finishes at 3 of 3), each made once."""
    redis, queue, web, api, start_sweeping_worker = lossy_stack
    images = ImageServer()
    images.release.set()
    version = services.dataset_create(user=owner, name="lost-then-retried").versions.get()
    names = [f"retried-{n}.png" for n in range(3)]
    add_frames(api, web, version, images, names)
    redis.kill()
    redis.start()
    retried = api.post(f"{web.url}/api/versions/{version.pk}/previews/regenerate/", json={}, timeout=30)
    assert retried.status_code in (200, 202), retried.text
    assert waiting_tasks(redis, queue) == 3
    job = Job.objects.get(kind="previews", version=version)
    assert (job.state, job.done, job.total) == (Job.QUEUED, 0, 3)

    worker = start_sweeping_worker()
    wait_until_done(job, worker)
    assert_each_made_once(job, images, names)
    assert Job.objects.filter(kind="previews", version=version).count() == 1
    images.shutdown()


def assert_each_made_once(job, images, names):
    """The job finished at n of n, and each source's rendition was made once, under it, from one read of the
    source; the renditions' rows."""
    job.refresh_from_db()
    assert (job.done, job.total) == (len(names), len(names))
    rows = MediaPreview.objects.filter(uri__in=[images.uri(n) for n in names])
    assert rows.count() == len(names)
    assert set(rows.values_list("status", "attempts", "job_id")) == {(MediaPreview.DONE, 1, job.pk)}
    assert images.hits == {f"/{name}": 1 for name in names}  # each source read once: rendered once
    return rows
