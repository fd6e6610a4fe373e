"""A frame stored in Google Cloud Storage (gcp-storage-emulator on loopback): previews made by a real worker, and
the frame page in Chromium through the streaming proxy. (The emulator checks no signatures; the V4 signing is
checked against Google's published examples in tests/test_cloud_gcs.py.)"""
from __future__ import annotations

import pytest
from PIL import Image

from frames import services

from .test_cloud_browser import open_frame, wait_for_previews
from .test_cloud_gcs import JPEG, emulator, photo, uri_of  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_gcs_frame_is_previewed_and_shown_through_the_proxy(logged_in_page, admin_user, emulator, photo, testdata, celery_worker_process):  # noqa: F811
    services.credential_create(user=admin_user, data={
        "provider": "gcs", "name": "emulator", "host": emulator, "bucket": "frames", "anonymous": True,
        "use_tls": False, "delivery": "proxy"})
    version = services.dataset_create(user=admin_user, name="on gcs").versions.get()
    services.frames_add(user=admin_user, version=version, frames=[{"id": "photo", "sources": [{"uri": uri_of(emulator), "content_type": "image/jpeg"}]}])
    wait_for_previews(version)
    with Image.open(testdata / JPEG) as original:
        size = {"x": original.width, "y": original.height}
    logged_in_page.goto("/")
    shown, asked = open_frame(logged_in_page, f"/versions/{version.pk}/frame/photo")
    assert shown == size and not [url for url in asked if emulator in url]  # streamed by HyperData
