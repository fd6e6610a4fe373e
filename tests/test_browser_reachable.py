"""An http(s) source the server cannot fetch (here: a host name only the browser's network knows, as on an
intranet or behind a VPN) is shown by the browser itself, in the grid and on the frame page, with why it has no
preview, instead of a wall of warning tiles. The server's failure is real (a worker tried and recorded why);
the browser reaches the host through Playwright's routing, which stands in for the user's own network."""
from __future__ import annotations

import io
import time

import pytest
from PIL import Image
from playwright.sync_api import expect

from frames import services
from frames.models import MediaPreview
from frames.selectors import SYSTEM

pytestmark = pytest.mark.django_db(transaction=True)
WAIT_SECONDS = 120  # a bound on waiting for the worker, never asserted
URL = "http://intranet.hyperdata.invalid/street.jpg"  # .invalid never resolves (RFC 2606)


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (160, 100), (30, 140, 90)).save(buffer, format="JPEG")
    return buffer.getvalue()


def test_an_image_only_the_browser_reaches_is_shown_with_the_reason(logged_in_page, celery_worker_process):
    version = services.dataset_create(user=SYSTEM, name="intranet").versions.get()
    services.frames_add(user=SYSTEM, version=version, frames=[{"id": "far", "sources": [{"uri": URL, "content_type": "image/jpeg"}]}])
    deadline = time.monotonic() + WAIT_SECONDS
    while MediaPreview.objects.filter(status=MediaPreview.PENDING).exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    row = MediaPreview.objects.get()
    assert row.status == MediaPreview.FAILED and row.error  # the server could not read it, and says why

    page = logged_in_page
    asked = []
    body = jpeg()

    def intranet(route):
        asked.append(route.request.url)
        route.fulfill(status=200, content_type="image/jpeg", body=body)

    page.route("http://intranet.hyperdata.invalid/**", intranet)
    page.goto(f"/versions/{version.pk}/")
    tile = page.locator('.tile[data-frame-id="far"]')
    image = tile.locator("img")
    expect(image).to_have_attribute("src", URL)
    expect(image).to_have_js_property("complete", True)
    assert image.evaluate("img => img.naturalWidth") == 160 and asked  # the browser fetched it itself
    expect(tile.locator(".tile-src-note")).to_have_attribute("title", f"Shown by your browser: preview failed: {row.error}")
    tile.locator("a").first.click()
    expect(page.locator(".fv-source-status")).to_contain_text("Shown by your browser · no preview")
    expect(page.locator('.fv-source[data-shown="image"]')).to_have_count(1)
