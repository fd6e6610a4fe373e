"""Redis stopped while users write: the writes succeed, and the work they asked for (previews, an import,
statistics) runs once Redis is back, without anyone clicking "regenerate". Real
processes: a redis-server of the test's own (stopped and started again; never the machine's shared one), a
gunicorn web server and a Celery worker on it. The tasks the broker could not take wait in the TaskOutbox
table; the worker's sweep sends them when the broker answers again."""
from __future__ import annotations

import json
import time
import uuid

import pytest
import requests
from rest_framework.authtoken.models import Token

from frames import services
from frames.models import DatasetVersion, Job, MediaPreview, TaskOutbox
from frames.services.jobs import BROKER_DOWN_MESSAGE

from .fault_processes import ImageServer, RedisServer, app_env, start_web, start_worker, stop_worker

pytestmark = pytest.mark.django_db(transaction=True)
WAIT_SECONDS = 120


@pytest.fixture
def owner(django_user_model):
    return django_user_model.objects.create_user("owner", password="pw-owner-123")


@pytest.fixture
def redis_stack(tmp_path, owner):
    redis = RedisServer(tmp_path).start()
    # HYPERDATA_STATS_SYNC_FRAMES=1: the statistics of a few frames are a job's work.
    env = app_env(redis_url=redis.url, queue=f"faults-{uuid.uuid4().hex[:8]}", HYPERDATA_SWEEP_SECONDS="1",
                  HYPERDATA_STATS_SYNC_FRAMES="1")
    api = requests.Session()
    api.headers["Authorization"] = f"Token {Token.objects.create(user=owner).key}"
    web = worker = None
    try:
        web = start_web(env, tmp_path / "web.log")
        worker = start_worker(env, tmp_path / "worker.log", name="broker")
        yield redis, web, worker, api
    finally:
        if worker is not None:
            stop_worker(worker)
        if web is not None:
            web.stop()
        redis.stop()


def wait_for(condition, what: str, log) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"{what} did not happen:\n{log()[-4000:]}"
        time.sleep(0.2)


def test_writes_while_redis_is_down_succeed_and_their_work_runs_when_it_is_back(redis_stack, owner, media_roots):
    redis, web, worker, api = redis_stack
    images = ImageServer()
    images.release.set()
    pictures = services.dataset_create(user=owner, name="written-while-down").versions.get()
    imported = services.dataset_create(user=owner, name="imported-while-down").versions.get()
    lines = media_roots / f"down-{uuid.uuid4().hex[:6]}.jsonl"
    lines.write_text("".join(json.dumps({"id": f"i{i}", "sources": [{"uri": f"s3://b/{i}.jpg"}]}) + "\n" for i in range(50)))

    redis.stop()
    for batch in range(3):  # three users' saves, two frames each
        frames = [{"id": f"f{batch}-{n}", "sources": [{"uri": images.uri(f"{batch}-{n}.png")}]} for n in range(2)]
        written = api.post(f"{web.url}/api/versions/{pictures.pk}/frames/", json=frames, timeout=30)
        assert written.status_code in (200, 201), written.text
    started = api.post(f"{web.url}/api/versions/{imported.pk}/imports/", json={"format": "clearml", "path": str(lines)}, timeout=30)
    assert started.status_code == 202, started.text
    counted = api.get(f"{web.url}/api/versions/{pictures.pk}/stats/?roi_query=labels:car", timeout=30)  # a job's work
    assert counted.status_code == 202, counted.text
    published = api.post(f"{web.url}/api/versions/{pictures.pk}/publish/", json={}, timeout=30)
    assert published.status_code == 200, published.text

    jobs = Job.objects.filter(version__in=[pictures, imported])
    assert set(jobs.values_list("kind", "state", "message")) == {
        ("previews", Job.QUEUED, BROKER_DOWN_MESSAGE), ("import", Job.QUEUED, BROKER_DOWN_MESSAGE),
        ("stats", Job.QUEUED, BROKER_DOWN_MESSAGE),
    }
    assert TaskOutbox.objects.count() == 6 + 1 + 1  # a render task per image file, the import, the statistics job
    rows = MediaPreview.objects.filter(uri__startswith=images.uri(""))
    assert rows.count() == 6 and set(rows.values_list("status", flat=True)) == {MediaPreview.PENDING}

    redis.start()  # the same port: the worker reconnects, its sweep sends what the outbox kept
    wait_for(lambda: not jobs.filter(state__in=Job.ACTIVE).exists(), "every job finishing", worker.log)
    assert set(jobs.values_list("kind", "state")) == {("previews", Job.DONE), ("import", Job.DONE), ("stats", Job.DONE)}
    assert set(rows.values_list("status", flat=True)) == {MediaPreview.DONE}
    assert jobs.get(kind="previews", version=pictures).done == 6 and not jobs.filter(message=BROKER_DOWN_MESSAGE).exists()
    assert DatasetVersion.objects.get(pk=imported.pk).frame_count == 50
    assert api.get(f"{web.url}/api/versions/{pictures.pk}/stats/?roi_query=labels:car", timeout=30).json()["frame_count"] == 0
    assert not TaskOutbox.objects.exists()
    images.shutdown()
