"""A frame stored in S3 (moto's server on loopback), shown on the frame page in Chromium: through the streaming
proxy (the browser asks only HyperData) and, once the row says so, through a short-lived signed URL (the browser
reads the bucket itself, and never sees the secret)."""
from __future__ import annotations

import pytest
from PIL import Image
from playwright.sync_api import expect

from frames import services

from .test_cloud_s3 import JPEG, moto  # noqa: F401 - the module's S3 server fixture
from .viewer_canvas import wait_for_viewer

pytestmark = pytest.mark.django_db(transaction=True)
SECRET = "browser-must-never-see-this-secret"


def test_the_frame_page_shows_an_s3_image_through_the_proxy_then_signed(logged_in_page, live_server, admin_user, moto, testdata, settings):  # noqa: F811
    settings.HYPERDATA_PREVIEWS_AUTO = False  # only the original is wanted here
    row = services.credential_create(user=admin_user, data={
        "provider": "s3", "name": "moto", "host": moto, "bucket": "frames", "region": "us-east-1", "key": "test",
        "secret": "test", "use_tls": False, "delivery": "proxy", "shared": False})
    version = services.dataset_create(user=admin_user, name="s3 frames").versions.get()
    uri = f"s3://{moto}/frames/{JPEG}"
    services.frames_add(user=admin_user, version=version, frames=[{"id": "photo", "sources": [{"uri": uri, "content_type": "image/jpeg"}]}])
    with Image.open(testdata / JPEG) as original:
        size = {"x": original.width, "y": original.height}
    page = logged_in_page
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    opened = "window.hyperdataViewer.views[0].stage.viewer.world.getItemAt(0).getContentSize()"

    page.goto(f"/versions/{version.pk}/frame/photo")
    wait_for_viewer(page)
    expect(page.locator('.fv-source[data-shown="image"]')).to_have_count(1)
    assert {k: round(v) for k, v in page.evaluate(opened).items()} == size
    assert not [url for url in requests if moto in url]  # streamed by HyperData: the browser never asked the bucket
    assert SECRET not in page.content() and "test" not in page.evaluate("JSON.stringify(window.hyperdataViewer.contract.sources)")

    services.credential_update(user=admin_user, credential=row, data={"delivery": "signed"})
    # A fresh context (same sign-in, empty HTTP cache): the proxy's answer above may be cached for an hour.
    context = page.context.browser.new_context(storage_state=page.context.storage_state(), base_url=live_server.url)
    page = context.new_page()
    requests.clear()
    page.on("request", lambda request: requests.append(request.url))
    page.goto(f"/versions/{version.pk}/frame/photo")
    wait_for_viewer(page)
    assert {k: round(v) for k, v in page.evaluate(opened).items()} == size
    signed = [url for url in requests if moto in url]
    assert signed and "X-Amz-Signature=" in signed[0] and "X-Amz-Expires=" in signed[0]  # the bucket, signed, briefly
    context.close()
