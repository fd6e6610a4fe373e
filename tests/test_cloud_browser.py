"""A frame stored in S3 (moto's server on loopback), shown on the frame page in Chromium: through the streaming
proxy (the browser asks only HyperData) and, once the row says so, through a short-lived signed URL (the browser
reads the bucket itself, and never sees the secret)."""
from __future__ import annotations

import time

import pytest
from PIL import Image
from playwright.sync_api import expect

from frames import services
from frames.models import MediaPreview

from .test_cloud_s3 import JPEG, moto  # noqa: F401 - the module's S3 server fixture
from .viewer_canvas import wait_for_viewer

pytestmark = pytest.mark.django_db(transaction=True)
SECRET = "browser-must-never-see-this-secret"
OPENED = "window.hyperdataViewer.views[0].stage.viewer.world.getItemAt(0).getContentSize()"
WAIT_SECONDS = 180  # a bound on waiting for the worker, never asserted


def open_frame(page, path: str) -> tuple[dict, list[str]]:
    """Open a frame page in a fresh context of `page`'s browser (same sign-in, an empty HTTP cache): the size of
    the picture the viewer opened, and every URL the browser asked for."""
    origin = "/".join(page.url.split("/")[:3])  # scheme://host:port of the live server
    context = page.context.browser.new_context(storage_state=page.context.storage_state(), base_url=origin)
    fresh, requests = context.new_page(), []
    fresh.on("request", lambda request: requests.append(request.url))
    fresh.goto(path)
    wait_for_viewer(fresh)
    expect(fresh.locator('.fv-source[data-shown="image"]')).to_have_count(1)
    size = {k: round(v) for k, v in fresh.evaluate(OPENED).items()}
    context.close()
    return size, requests


def wait_for_previews(version) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while MediaPreview.objects.filter(status=MediaPreview.PENDING).exists() and time.monotonic() < deadline:
        time.sleep(0.3)
    failed = list(MediaPreview.objects.exclude(status=MediaPreview.DONE).values_list("uri", "error"))
    assert not failed, failed


def test_the_frame_page_shows_an_s3_image_through_the_proxy_then_signed(logged_in_page, admin_user, moto, testdata, settings):  # noqa: F811
    settings.HYPERDATA_PREVIEWS_AUTO = False  # only the original is wanted here
    row = services.credential_create(user=admin_user, data={
        "provider": "s3", "name": "moto", "host": moto, "bucket": "frames", "region": "us-east-1", "key": "test",
        "secret": SECRET, "use_tls": False, "delivery": "proxy", "shared": False})
    version = services.dataset_create(user=admin_user, name="s3 frames").versions.get()
    uri = f"s3://{moto}/frames/{JPEG}"
    services.frames_add(user=admin_user, version=version, frames=[{"id": "photo", "sources": [{"uri": uri, "content_type": "image/jpeg"}]}])
    with Image.open(testdata / JPEG) as original:
        size = {"x": original.width, "y": original.height}
    page = logged_in_page
    page.goto(f"/versions/{version.pk}/frame/photo")
    assert SECRET not in page.content() and SECRET not in page.evaluate("JSON.stringify(window.hyperdataViewer.contract)")

    shown, asked = open_frame(page, f"/versions/{version.pk}/frame/photo")
    assert shown == size and not [url for url in asked if moto in url]  # streamed by HyperData: never the bucket

    services.credential_update(user=admin_user, credential=row, data={"delivery": "signed"})
    shown, asked = open_frame(page, f"/versions/{version.pk}/frame/photo")
    signed = [url for url in asked if moto in url]
    assert shown == size and signed and "X-Amz-Signature=" in signed[0] and "X-Amz-Expires=" in signed[0]
