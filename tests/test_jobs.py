"""Jobs with a real Celery worker: the same work asked for twice runs once, a job delivered three times runs
once, a job whose worker died is taken over, cancelling stops it, and users see their own jobs only."""
import time

import pytest
from celery import current_app
from django.core.cache import cache
from django.test import override_settings
from django.utils import timezone

from frames import services
from frames.models import Job

from . import worker_jobs
from .worker_jobs import executions_key
from .clients import api_client

pytestmark = pytest.mark.django_db(transaction=True)
WAIT_SECONDS = 60


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user("alice", password="pw-alice-123")


def start(user, key="tests:work", hold=1.5, steps=5) -> Job:
    assert worker_jobs.count_and_hold  # the kind is registered in this process too
    return services.job_start(user=user, kind="tests.count", key=key, subject="a test job", params={"hold": hold, "steps": steps})


def wait_until(job: Job, *states, worker) -> Job:
    deadline = time.monotonic() + WAIT_SECONDS
    while (job := Job.objects.get(pk=job.pk)).state not in states:
        ended = job.state in (Job.DONE, Job.FAILED, Job.CANCELLED)
        assert not ended and time.monotonic() < deadline, f"job {job.state} ({job.error}), wanted {states}:\n{worker.log()[-3000:]}"
        time.sleep(0.1)
    return job


def executions(job: Job) -> int:
    return cache.get(executions_key(job.pk), 0)


def test_the_same_work_asked_for_again_while_it_runs_runs_once(alice, celery_worker_process):
    first = start(alice)
    wait_until(first, Job.RUNNING, worker=celery_worker_process)
    again = start(alice)
    assert again.pk == first.pk  # joined, not queued a second time
    finished = wait_until(first, Job.DONE, worker=celery_worker_process)
    assert executions(first) == 1
    assert (finished.done, finished.total, finished.result) == (5, 5, {"steps": 5})
    later = start(alice)  # the work asked for once it is done is new work
    assert later.pk != first.pk
    wait_until(later, Job.DONE, worker=celery_worker_process)


def test_a_job_delivered_three_times_runs_once(alice, celery_worker_process):
    """Three messages for one job (as a probe sent three under one task id): the worker's two processes take
    them at once; only the delivery that claims the job runs it."""
    job = start(alice, hold=1.0)
    for _ in range(2):
        current_app.send_task("frames.tasks.run_job", args=[job.pk])
    wait_until(job, Job.DONE, worker=celery_worker_process)
    time.sleep(1.5)  # give the other deliveries time to be taken (and do nothing)
    assert executions(job) == 1


def test_a_job_whose_worker_died_is_taken_over_once_its_lease_ran_out(alice, celery_worker_process):
    job = Job.objects.create(kind="tests.count", key="tests:orphan", user=alice, params={"hold": 0.2, "steps": 2},
                             state=Job.RUNNING, started=timezone.now(), lease_until=timezone.now() - timezone.timedelta(seconds=1))
    current_app.send_task("frames.tasks.run_job", args=[job.pk])  # the broker hands the task out again
    assert wait_until(job, Job.DONE, worker=celery_worker_process).attempts == 1
    alive = Job.objects.create(kind="tests.count", key="tests:alive", user=alice, params={"hold": 0.2, "steps": 2},
                               state=Job.RUNNING, started=timezone.now(), lease_until=timezone.now() + timezone.timedelta(minutes=5))
    current_app.send_task("frames.tasks.run_job", args=[alive.pk])
    time.sleep(2)
    assert Job.objects.get(pk=alive.pk).state == Job.RUNNING and executions(alive) == 0  # its worker holds it


def test_cancel_stops_a_running_job_at_its_next_progress_report(alice, celery_worker_process):
    job = start(alice, hold=20, steps=40)
    wait_until(job, Job.RUNNING, worker=celery_worker_process)
    response = api_client(alice).post(f"/api/jobs/{job.pk}/cancel/")
    assert response.status_code == 200 and response.json()["state"] == "cancelled"
    time.sleep(1.5)  # a few progress reports later the worker has stopped
    stopped = Job.objects.get(pk=job.pk)
    assert stopped.state == Job.CANCELLED and stopped.done < 40
    progress = stopped.done
    time.sleep(1.5)
    assert Job.objects.get(pk=job.pk).done == progress  # it does not go on in the background
    again = api_client(alice).post(f"/api/jobs/{job.pk}/cancel/")
    assert again.status_code == 409 and again.json()["errors"][0]["field"] == "job"


def test_users_see_their_own_jobs(alice, django_user_model, admin_user):
    bob = django_user_model.objects.create_user("bob", password="pw-bob-123")
    mine = start(alice, key="tests:alice", hold=0)
    theirs = start(bob, key="tests:bob", hold=0)
    listed = api_client(alice).get("/api/jobs/").json()
    assert listed["count"] == 1 and [j["id"] for j in listed["results"]] == [mine.pk]
    assert listed["results"][0]["user"] == "alice" and listed["results"][0]["state"] in ("queued", "running", "done")
    assert api_client(alice).get(f"/api/jobs/{theirs.pk}/").status_code == 404
    assert api_client(alice).post(f"/api/jobs/{theirs.pk}/cancel/").status_code == 404
    dataset = services.dataset_create(user=alice, name="owned-by-alice")
    services.member_set(user=alice, dataset=dataset, username="bob", role="viewer")
    slow = {"hold": 30, "steps": 60}  # still queued or running when cancelled, with or without a worker
    on_her_dataset = services.job_start(user=bob, kind="tests.count", key="tests:bob-on-alice", dataset=dataset, params=slow)
    assert api_client(bob).post(f"/api/jobs/{on_her_dataset.pk}/cancel/").status_code == 200  # he started it
    by_someone = services.job_start(user=admin_user, kind="tests.count", key="tests:admin-on-alice", dataset=dataset, params=slow)
    assert api_client(bob).post(f"/api/jobs/{by_someone.pk}/cancel/").status_code == 403  # a viewer of the dataset
    assert api_client(alice).post(f"/api/jobs/{by_someone.pk}/cancel/").status_code == 200  # its owner
    assert {j["id"] for j in api_client(admin_user).get("/api/jobs/").json()["results"]} >= {mine.pk, theirs.pk}
    Job.objects.filter(pk=mine.pk).update(state=Job.DONE)
    assert api_client(alice).get("/api/jobs/?active=true").json()["count"] == 0
    assert api_client(alice).get("/api/jobs/?state=done").json()["count"] == 1
    for query, field in (("state=sleeping", "state"), ("active=maybe", "active")):
        bad = api_client(alice).get(f"/api/jobs/?{query}")
        assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == field


@override_settings(HYPERDATA_STATS_SYNC_FRAMES=3, HYPERDATA_PREVIEWS_AUTO=False)
def test_statistics_of_a_large_version_through_the_api_are_a_job(alice, celery_worker_process):
    dataset = services.dataset_create(user=alice, name="stats-job")
    draft = dataset.versions.get()
    services.frames_add(user=alice, version=draft, frames=[
        {"id": f"f{i}", "sources": [{"uri": f"s3://b/{i}.jpg"}], "rois": [{"labels": ["car"], "poly": [0, 0, 1, 0, 1, 1]}]}
        for i in range(4)
    ])
    api = api_client(alice)
    first = api.get(f"/api/versions/{draft.pk}/stats/?roi_query=labels:car")
    assert first.status_code == 202 and first.json()["kind"] == "stats" and first.headers["Retry-After"]
    again = api.get(f"/api/versions/{draft.pk}/stats/?roi_query=labels:car")
    # Asked again: the same job while it runs (or its answer, when the worker was quicker than the second request),
    # never a second job.
    assert (again.status_code == 202 and again.json()["id"] == first.json()["id"]) or (
        again.status_code == 200 and again.json()["frame_count"] == 4), again.json()
    assert Job.objects.filter(kind="stats", version=draft).count() == 1
    wait_until(Job.objects.get(pk=first.json()["id"]), Job.DONE, worker=celery_worker_process)
    answer = api.get(f"/api/versions/{draft.pk}/stats/?roi_query=labels:car")
    assert answer.status_code == 200 and answer.json()["frame_count"] == 4
    assert {e["label"]: e["roi_count"] for e in answer.json()["labels"]} == {"car": 4}
