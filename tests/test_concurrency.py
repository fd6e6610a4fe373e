"""Parallel clients against the live server, each a thread with its own HTTP session (and so its own database
connection in the server), released together by a barrier: several saves of one frame read at the same moment
(exactly one wins, the rest get 412), many clients adding frames to one version (every frame lands, the counts
are exact), and publishing while clients write (each batch is in the published version whole or refused whole;
two publishes at once: one wins), and a write in flight on one draft holding up no write to another draft of the
dataset. tests/test_preconditions.py has the two clients incrementing one counter."""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.db import connection, transaction
from rest_framework.authtoken.models import Token

from frames import services
from frames.models import Dataset, DatasetVersion, FrameRevision
from frames.services.versions import lock_version

pytestmark = pytest.mark.django_db(transaction=True)
CLIENTS = 6


@pytest.fixture
def owner(django_user_model):
    return django_user_model.objects.create_user("owner", password="pw-owner-123")


@pytest.fixture
def session_factory(owner, live_server):
    token = Token.objects.create(user=owner).key

    def session() -> requests.Session:
        client = requests.Session()
        client.headers["Authorization"] = f"Token {token}"
        return client

    return session


@pytest.fixture
def draft(owner, settings):
    settings.HYPERDATA_PREVIEWS_AUTO = False
    return services.dataset_create(user=owner, name="concurrent").versions.get()


def together(work, count: int) -> list:
    """work(index, wait) in `count` threads; each calls wait() right before the request that must race."""
    barrier = threading.Barrier(count)
    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(lambda index: work(index, barrier.wait), range(count)))


def frames_of(prefix: str, count: int) -> list[dict]:
    return [{"id": f"{prefix}-{n}", "sources": [{"uri": f"s3://b/{prefix}-{n}.jpg"}],
             "rois": [{"labels": ["car"], "poly": [0, 0, 1, 0, 1, 1]}]} for n in range(count)]


def test_saves_of_one_frame_read_at_the_same_moment_exactly_one_wins(draft, owner, live_server, session_factory):
    services.frames_add(user=owner, version=draft, frames=[{"id": "f1", "sources": [{"uri": "s3://b/f1.jpg"}], "meta": {"by": None}}])
    url = f"{live_server.url}/api/versions/{draft.pk}/frames/f1/"

    def save(index, wait):
        with session_factory() as client:
            read = client.get(url, timeout=30)
            frame = {**read.json(), "meta": {"by": index}}
            wait()
            return index, client.put(url, json=frame, headers={"If-Match": read.headers["ETag"]}, timeout=60)

    answers = together(save, CLIENTS)
    statuses = sorted(answer.status_code for _, answer in answers)
    assert statuses == [200] + [412] * (CLIENTS - 1), [a.text for _, a in answers]
    winner = next(index for index, answer in answers if answer.status_code == 200)
    for _, answer in answers:
        if answer.status_code == 412:  # each loser is shown the winner's frame
            assert answer.json()["current"]["meta"] == {"by": winner}
    with session_factory() as client:
        assert client.get(url, timeout=30).json()["meta"] == {"by": winner}
    assert FrameRevision.objects.filter(version=draft, frame_id="f1").count() == 1  # one row, saved twice


def test_clients_adding_frames_to_one_version_at_once_lose_none(draft, live_server, session_factory):
    rounds, per_batch = 4, 25
    url = f"{live_server.url}/api/versions/{draft.pk}/frames/"

    def add(index, wait):
        with session_factory() as client:
            wait()
            return [client.post(url, json=frames_of(f"c{index}-r{r}", per_batch), timeout=120).status_code for r in range(rounds)]

    assert together(add, CLIENTS) == [[201] * rounds] * CLIENTS
    expected = CLIENTS * rounds * per_batch
    version = DatasetVersion.objects.get(pk=draft.pk)
    assert version.frame_count == expected
    assert FrameRevision.objects.filter(version=draft).count() == expected
    with session_factory() as client:
        stats = client.get(f"{live_server.url}/api/versions/{draft.pk}/stats/", timeout=60).json()
    assert stats["frame_count"] == expected and stats["annotated_frame_count"] == expected
    assert {e["label"]: e["roi_count"] for e in stats["labels"]} == {"car": expected}


def test_publishing_while_clients_write_leaves_each_batch_whole_or_refused(draft, live_server, session_factory):
    writers, per_batch = CLIENTS - 2, 10
    url = f"{live_server.url}/api/versions/{draft.pk}/frames/"
    published = threading.Event()

    def client_work(index, wait):
        with session_factory() as client:
            if index >= writers:  # two owners publish at the same moment, once some batches are in
                wait()
                while client.get(f"{live_server.url}/api/versions/{draft.pk}/", timeout=30).json()["frame_count"] < 3 * per_batch:
                    time.sleep(0.05)
                answer = client.post(f"{live_server.url}/api/versions/{draft.pk}/publish/", json={}, timeout=120)
                published.set()
                return ("publish", answer.status_code, answer.text)
            landed, refused = [], []
            wait()
            batch = 0
            while True:
                prefix = f"w{index}-b{batch}"
                answer = client.post(url, json=frames_of(prefix, per_batch), timeout=120)
                if answer.status_code == 201:
                    landed.append(prefix)
                else:
                    assert answer.status_code == 409 and "published" in answer.text, answer.text
                    refused.append(prefix)
                    if published.is_set():
                        return ("write", landed, refused)
                batch += 1

    results = together(client_work, CLIENTS)
    publishes = sorted(status for kind, status, _ in (r for r in results if r[0] == "publish"))
    assert publishes == [200, 409], results
    landed = {prefix for r in results if r[0] == "write" for prefix in r[1]}
    refused = {prefix for r in results if r[0] == "write" for prefix in r[2]}
    assert landed and refused

    version = DatasetVersion.objects.get(pk=draft.pk)
    assert version.status == DatasetVersion.PUBLISHED
    ids = set(FrameRevision.objects.filter(version=draft).values_list("frame_id", flat=True))
    assert ids == {f"{prefix}-{n}" for prefix in landed for n in range(per_batch)}  # whole batches, only those
    assert version.frame_count == len(ids) == len(landed) * per_batch
    with session_factory() as client:
        stats = client.get(f"{live_server.url}/api/versions/{draft.pk}/stats/", timeout=60).json()
        assert stats["frame_count"] == len(ids) and {e["label"]: e["roi_count"] for e in stats["labels"]} == {"car": len(ids)}
        listed = client.get(url, params={"limit": 1000}, timeout=60).json()
    assert {f["id"] for f in listed["results"]} == ids


def test_a_write_in_flight_on_one_draft_holds_up_no_write_to_another_draft_of_the_dataset(owner, draft, session_factory, live_server):
    """A transaction holds what a write to one draft holds until it commits (its version's lock) and, on PostgreSQL,
    the KEY SHARE lock on the dataset row that a worker's foreign-key checks take at commit. A write to a sibling
    draft still lands at once. Before, every write locked the dataset row FOR UPDATE too: writes to one dataset's
    versions queued behind each other, and a write deadlocked with the worker's commits (a 503 under load).
    SQLite has one writer at a time (transactions begin IMMEDIATE): there the write waits for the holder, which
    lets go after a second, and lands rather than being refused."""
    services.frames_add(user=owner, version=draft, frames=frames_of("base", 2))
    parent = services.version_publish(user=owner, version=draft)
    first, second = (services.version_create(user=owner, parent=parent, name=name) for name in ("first", "second"))
    holding, release = threading.Event(), threading.Event()
    on_postgres = connection.vendor == "postgresql"

    def hold_a_write_in_flight():
        try:
            with transaction.atomic():
                lock_version(first)
                if on_postgres:
                    with connection.cursor() as cursor:
                        cursor.execute(f"SELECT 1 FROM {Dataset._meta.db_table} WHERE id = %s FOR KEY SHARE", [str(first.dataset_id)])
                holding.set()
                release.wait(60 if on_postgres else 1)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_a_write_in_flight)
    holder.start()
    try:
        assert holding.wait(30)
        with session_factory() as client:
            answer = client.post(f"{live_server.url}/api/versions/{second.pk}/frames/", json=frames_of("b", 3), timeout=20)
            assert answer.status_code == 201, answer.text
            assert holder.is_alive() == on_postgres  # on PostgreSQL it landed while the other write was in flight
            assert client.get(f"{live_server.url}/api/versions/{second.pk}/", timeout=20).json()["frame_count"] == 5
    finally:
        release.set()
        holder.join()
