"""A frame stored in Azure Blob (Azurite on loopback, which checks SAS signatures): previews made by a real
worker with the row's key, the frame page in Chromium through the streaming proxy, then through a short-lived
read SAS once the row says signed delivery."""
from __future__ import annotations

import pytest
from PIL import Image

from frames import services

from .test_cloud_azure import ACCOUNT, JPEG, KEY, azurite, photo, service, uri_of  # noqa: F401 - fixtures
from .test_cloud_browser import open_frame, wait_for_previews

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_azure_frame_is_previewed_and_shown_through_the_proxy_then_a_sas(logged_in_page, admin_user, azurite, photo, testdata, celery_worker_process):  # noqa: F811
    row = services.credential_create(user=admin_user, data={
        "provider": "azure", "name": "Azurite", "host": f"{azurite}/{ACCOUNT}", "bucket": "photos", "key": ACCOUNT,
        "secret": KEY, "azure_auth": "key", "use_tls": False, "delivery": "proxy"})
    version = services.dataset_create(user=admin_user, name="on azure").versions.get()
    services.frames_add(user=admin_user, version=version, frames=[{"id": "photo", "sources": [{"uri": uri_of(azurite), "content_type": "image/jpeg"}]}])
    wait_for_previews(version)
    with Image.open(testdata / JPEG) as original:
        size = {"x": original.width, "y": original.height}
    logged_in_page.goto("/")

    shown, asked = open_frame(logged_in_page, f"/versions/{version.pk}/frame/photo")
    assert shown == size and not [url for url in asked if azurite in url]  # streamed by HyperData

    services.credential_update(user=admin_user, credential=row, data={"delivery": "signed"})
    shown, asked = open_frame(logged_in_page, f"/versions/{version.pk}/frame/photo")
    sas = [url for url in asked if azurite in url]
    assert shown == size and sas and "sig=" in sas[0] and "se=" in sas[0] and KEY not in sas[0]
