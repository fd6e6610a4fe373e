"""Statistics of large versions are computed by a real worker after publishing, not in the request."""
import time

import pytest
from django.test import override_settings

from frames import selectors, services
from frames.models import DatasetVersion

pytestmark = pytest.mark.django_db(transaction=True)


def frames(n):
    return [
        {"id": f"f{i}", "sources": [{"uri": f"s3://bucket/{i}.jpg"}],
         "rois": [{"labels": ["car"] if i % 2 else ["bus"], "poly": [0, 0, 4, 0, 4, 4]}]}
        for i in range(n)
    ]


@override_settings(HYPERDATA_STATS_SYNC_FRAMES=5, HYPERDATA_PREVIEWS_AUTO=False)
def test_large_versions_get_their_statistics_from_a_worker(celery_worker_process):
    version = services.dataset_create(name="stats-later").versions.get()
    services.frames_add(version=version, frames=frames(8))
    published = services.version_publish(version=version)
    assert published.stats is None  # not computed in the request
    live = selectors.version_stats(version=published)  # readers get them live meanwhile
    assert live["frame_count"] == 8 and {e["label"]: e["frame_count"] for e in live["labels"]} == {"car": 4, "bus": 4}

    deadline = time.monotonic() + 60
    while DatasetVersion.objects.get(pk=published.pk).stats is None:
        assert time.monotonic() < deadline, f"the worker did not store the statistics:\n{celery_worker_process.log()[-2000:]}"
        time.sleep(0.2)
    assert DatasetVersion.objects.get(pk=published.pk).stats == live


@override_settings(HYPERDATA_STATS_SYNC_FRAMES=5, HYPERDATA_PREVIEWS_AUTO=False)
def test_small_versions_get_their_statistics_when_published():
    version = services.dataset_create(name="stats-now").versions.get()
    services.frames_add(version=version, frames=frames(3))
    assert services.version_publish(version=version).stats["frame_count"] == 3
