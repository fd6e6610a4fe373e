"""Statistics of large versions are computed by a real worker after publishing, not in the request."""
import re
import time

import pytest
from django.test import override_settings
from django.urls import reverse

from frames import selectors, services
from frames.models import DatasetVersion, Job
from frames.selectors import SYSTEM as ACTOR

pytestmark = pytest.mark.django_db(transaction=True)


def frames(n):
    return [
        {"id": f"f{i}", "sources": [{"uri": f"s3://bucket/{i}.jpg"}],
         "rois": [{"labels": ["car"] if i % 2 else ["bus"], "poly": [0, 0, 4, 0, 4, 4]}]}
        for i in range(n)
    ]


def keeping_no_counts(version):
    """The draft as if written before drafts kept their label counts (frames.services.label_counts.LabelCounts): a
    draft that keeps them is published with them, and no job is needed."""
    DatasetVersion.objects.filter(pk=version.pk).update(stats=None)
    return DatasetVersion.objects.get(pk=version.pk)


@override_settings(HYPERDATA_STATS_SYNC_FRAMES=5, HYPERDATA_PREVIEWS_AUTO=False)
def test_large_versions_get_their_statistics_from_a_worker(celery_worker_process):
    version = services.dataset_create(user=ACTOR, name="stats-later").versions.get()
    services.frames_add(user=ACTOR, version=version, frames=frames(8))
    version = keeping_no_counts(version)
    published = services.version_publish(user=ACTOR, version=version)
    assert published.stats is None  # not computed in the request
    live = selectors.label_stats(user=ACTOR, version=published)  # readers get them live meanwhile
    job = Job.objects.get(kind="stats_publish", version=published)  # the job the users can follow
    assert live["frame_count"] == 8 and {e["label"]: e["frame_count"] for e in live["labels"]} == {"car": 4, "bus": 4}

    deadline = time.monotonic() + 60
    while DatasetVersion.objects.get(pk=published.pk).stats is None:
        assert time.monotonic() < deadline, f"the worker did not store the statistics:\n{celery_worker_process.log()[-2000:]}"
        time.sleep(0.2)
    assert selectors.stored_stats(DatasetVersion.objects.get(pk=published.pk)) == live
    job.refresh_from_db()
    assert job.state == Job.DONE and job.finished is not None


@override_settings(HYPERDATA_STATS_SYNC_FRAMES=5, HYPERDATA_PREVIEWS_AUTO=False)
def test_small_versions_get_their_statistics_when_published():
    version = services.dataset_create(user=ACTOR, name="stats-now").versions.get()
    services.frames_add(user=ACTOR, version=version, frames=frames(3))
    assert services.version_publish(user=ACTOR, version=version).stats["frame_count"] == 3


def wait_for_panel(client, url, worker):
    """The panel's first answer (202, counted by the worker), then the panel once the worker is done."""
    first = client.get(url)
    assert first.status_code == 202 and "a worker is counting it" in first.content.decode(), first.content[:300]
    deadline = time.monotonic() + 60
    while (response := client.get(url)).status_code == 202:
        assert time.monotonic() < deadline, f"the worker did not count {url}:\n{worker.log()[-2000:]}"
        time.sleep(0.3)
    assert response.status_code == 200
    return response.content.decode()


@override_settings(HYPERDATA_STATS_SYNC_FRAMES=5, HYPERDATA_PREVIEWS_AUTO=False)
def test_statistics_panels_of_large_drafts_are_counted_by_a_worker(celery_worker_process, admin_client):
    version = services.dataset_create(user=ACTOR, name="stats-panels").versions.get()
    services.frames_add(user=ACTOR, version=version, frames=[{**f, "meta": {"speed": i * 10}} for i, f in enumerate(frames(8))])
    # A label and a frame query (a label alone is read from the pairs the draft keeps: nothing to count).
    labels_url = reverse("viewer:version-stats-labels", args=[version.pk]) + "?label=car&frame_query=meta.speed:[0 TO 1000]"
    labels = wait_for_panel(admin_client, labels_url, celery_worker_process)
    # Under the filter `car`: the 4 frames with a car, and no bus.
    assert re.search(r'data-label="car".*?data-col="frames">4<', labels, re.S) and 'data-label="bus"' not in labels, labels[:2000]
    histogram = wait_for_panel(admin_client, reverse("viewer:version-stats-meta", args=[version.pk]) + "?key=speed&bins=2",
                               celery_worker_process)
    assert 'data-kind="numeric"' in histogram  # speeds 0..70 in two buckets of four frames
    assert re.findall(r'<td class="num">(\d+)</td></tr>', histogram) == ["4", "4"], histogram[:2000]
    # Counted once: asking again is answered from the cache at once.
    assert admin_client.get(labels_url).status_code == 200


@override_settings(HYPERDATA_STATS_SYNC_FRAMES=5, HYPERDATA_PREVIEWS_AUTO=False)
def test_a_version_of_exactly_the_threshold_is_counted_by_a_worker(celery_worker_process):
    """The threshold is "from N frames on": publishing exactly N frames does not count them in the request."""
    version = services.dataset_create(user=ACTOR, name="stats-threshold").versions.get()
    services.frames_add(user=ACTOR, version=version, frames=frames(5))
    version = keeping_no_counts(version)
    published = services.version_publish(user=ACTOR, version=version)
    assert published.stats is None
    job = Job.objects.get(kind="stats_publish", version=published)
    deadline = time.monotonic() + 60
    while (job := Job.objects.get(pk=job.pk)).state != Job.DONE:
        assert time.monotonic() < deadline and job.state != Job.FAILED, f"{job.state} {job.error}\n{celery_worker_process.log()[-2000:]}"
        time.sleep(0.2)
    assert DatasetVersion.objects.get(pk=published.pk).stats["frame_count"] == 5
