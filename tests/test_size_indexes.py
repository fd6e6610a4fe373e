"""A large published dataset's own indexes for the width and height sorts (frames.services.size_indexes).

On PostgreSQL, publishing a version of HYPERDATA_SIZE_INDEX_FRAMES frames or more queues a job that the session's
real worker runs: it builds the two partial indexes without blocking writes, the size sorts' queries can walk
them (the planner is told not to sort, so only a matching index gives it the order), and deleting the dataset drops
them. SQLite has no such job and sorts each page itself. The pages are the same either way.
"""
import pytest
from django.db import connection, transaction

from frames import services
from frames.models import Job
from frames.selectors import SYSTEM as ACTOR
from frames.selectors import FrameQuery
from frames.selectors.frames import ordered_parts, query_rows
from frames.services import positions as position_services
from frames.services.size_indexes import size_index_names

from .clients import api_client
from .test_browse import frame, paged_ids
from .worker_jobs import wait_for_job

pytestmark = pytest.mark.django_db(transaction=True)  # CREATE INDEX CONCURRENTLY runs outside any transaction

SIZES = [(640, 480), (1920, 1080), (1280, 720), None]


@pytest.fixture(autouse=True)
def small_threshold(settings):
    settings.HYPERDATA_SIZE_INDEX_FRAMES = 40
    settings.HYPERDATA_PREVIEWS_AUTO = False


def sized_frames(n):
    made = []
    for i in range(n):
        size = SIZES[(i * 5) % len(SIZES)]
        source = {"id": "default", "uri": f"file:///d/{i}.jpg", **(dict(zip(("width", "height"), size)) if size else {})}
        made.append({**frame(f"f{i:03d}"), "sources": [source]})
    return made


def expected_order(made, side, descending):
    sized = sorted((f["sources"][0][side], f["id"]) for f in made if side in f["sources"][0])
    sized = [frame_id for _size, frame_id in (reversed(sized) if descending else sized)]
    return sized + sorted((f["id"] for f in made if side not in f["sources"][0]), reverse=descending)


def existing_indexes(names):
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname FROM pg_class WHERE relname = ANY(%s)", [names])
        return sorted(row[0] for row in cursor.fetchall())


def plan_without_sorting(version, side, descending) -> str:
    """The plan of a size sort's first page when the database may not sort (nor scan the table whole)."""
    rows = ordered_parts(query_rows(version, FrameQuery(sort=side)), side, None, descending=descending)[0][:11]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("SET LOCAL enable_seqscan = off")
        return rows.explain()


def test_publishing_a_large_version_indexes_its_size_orders_and_deleting_the_dataset_drops_them(celery_worker_process):
    dataset = services.dataset_create(user=ACTOR, name="sizes")
    draft = dataset.versions.get()
    made = sized_frames(60)
    services.frames_add(user=ACTOR, version=draft, frames=made)
    services.version_publish(user=ACTOR, version=draft)
    jobs = Job.objects.filter(kind="size_indexes", dataset=dataset)
    names = size_index_names(dataset.pk)
    if connection.vendor == "postgresql":
        job = wait_for_job(jobs.get().pk, celery_worker_process)
        assert job.state == Job.DONE, job.error
        assert existing_indexes(names) == sorted(names)
        for side, name in zip(("width", "height"), names):
            for descending in (False, True):
                assert name in plan_without_sorting(draft, side, descending)
    else:
        assert not jobs.exists()
    for side in ("width", "height"):
        for descending in (False, True):
            assert paged_ids(draft, sort=side, descending=descending, limit=7) == expected_order(made, side, descending)
    services.dataset_delete(user=ACTOR, dataset=dataset)
    if connection.vendor == "postgresql":
        assert existing_indexes(names) == []


def test_a_small_version_gets_no_size_indexes(celery_worker_process):
    dataset = services.dataset_create(user=ACTOR, name="small sizes")
    draft = dataset.versions.get()
    services.frames_add(user=ACTOR, version=draft, frames=sized_frames(39))
    services.version_publish(user=ACTOR, version=draft)
    assert not Job.objects.filter(kind="size_indexes").exists()
    if connection.vendor == "postgresql":
        assert existing_indexes(size_index_names(dataset.pk)) == []


def test_a_large_published_versions_size_orders_are_numbered_by_its_positions_job(celery_worker_process, admin_user, monkeypatch, settings):
    # The job that stores a large version's page positions numbers its width and height orders too (PostgreSQL), so
    # the first jump to a page of them reads kept checkpoints instead of numbering a million frames while the user waits.
    settings.HYPERDATA_STATS_SYNC_FRAMES = 40  # "large": positions by a job
    dataset = services.dataset_create(user=ACTOR, name="size orders")
    draft = dataset.versions.get()
    made = sized_frames(260)
    services.frames_add(user=ACTOR, version=draft, frames=made)
    services.version_publish(user=ACTOR, version=draft)
    job = wait_for_job(Job.objects.get(kind="positions", version=draft).pk, celery_worker_process)
    assert job.state == Job.DONE, job.error
    assert job.result["size_orders"] == (4 if connection.vendor == "postgresql" else 0)
    if connection.vendor == "postgresql":  # the web reads what the worker kept: nothing is numbered again
        monkeypatch.setattr(position_services.position_selectors, "positions_compute", numbered_again)
    client = api_client(admin_user)
    for side in ("width", "height"):
        for order in ("asc", "desc"):
            response = client.get(f"/api/versions/{draft.pk}/frames/", {"sort": side, "order": order, "offset": 203, "limit": 7})
            assert response.status_code == 200, response.content
            expected = expected_order(made, side, order == "desc")[203:210]
            assert [f["id"] for f in response.json()["results"]] == expected, (side, order)


def numbered_again(**kwargs):
    raise AssertionError(f"an order was numbered again: {kwargs['query']}")
