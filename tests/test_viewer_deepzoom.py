"""The frame page on a large image: the 10000x5000 strip TIFF of the test data is shown through the deep-zoom
pyramid a real worker makes on first view; zoomed to 100% the browser asks for a few tiles only, never for the
whole file, and the ROIs stay where their coordinates say at every zoom."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from PIL import Image
from playwright.sync_api import expect

from frames import services
from frames.selectors import SYSTEM

from viewer.tiles import label_colour

from .viewer_canvas import assert_outlines_drawn, close, edge_midpoints, sample, wait_for_viewer

pytestmark = pytest.mark.django_db(transaction=True)
SCREENSHOTS = Path(os.environ.get("HYPERDATA_SCREENSHOTS") or Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots")
WIDTH, HEIGHT = 10000, 5000
# A box around the middle and a triangle near the bottom-right corner, in the TIFF's pixels.
ROIS = [
    {"labels": ["region"], "poly": [4800, 2300, 5200, 2300, 5200, 2700, 4800, 2700], "confidence": 0.9},
    {"labels": ["corner"], "poly": [9000, 4000, 9900, 4900, 9000, 4900]},
]


@pytest.fixture
def big_frame(testdata, settings):
    settings.HYPERDATA_PREVIEWS_AUTO = False  # only the pyramid is wanted from the worker
    path = testdata / "tiff" / "large_image" / "grey10kx5k.tif"
    version = services.dataset_create(user=SYSTEM, name="deep-zoom").versions.get()
    source = {"id": "default", "uri": path.as_uri(), "content_type": "image/tiff", "width": WIDTH, "height": HEIGHT}
    services.frames_add(user=SYSTEM, version=version, frames=[{"id": "big", "sources": [source], "rois": ROIS}])
    yield version
    root = Path(default_storage.path("pyramids"))
    for file in sorted(root.rglob("*"), reverse=True) if root.exists() else []:
        file.unlink() if file.is_file() else file.rmdir()


def test_a_large_tiff_is_shown_through_worker_made_tiles(logged_in_page, big_frame, celery_worker_process):
    page = logged_in_page
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(f"/versions/{big_frame.pk}/frame/big")
    figure = page.locator('.fv-source[data-source-id="default"]')
    expect(figure.locator(".fv-source-status")).to_have_text("Deep zoom", timeout=180_000)
    expect(figure).to_have_attribute("data-shown", "pyramid", timeout=30_000)
    wait_for_viewer(page)
    assert_outlines_drawn(page, ROIS, "default", "default")

    # 100% around the box: the tiles of the deepest level there, and the ROIs still on their coordinates.
    page.fill("#frame-zoom", "100")
    page.press("#frame-zoom", "Enter")
    page.evaluate("window.hyperdataViewer.views[0].stage.viewer.viewport.panTo(new OpenSeadragon.Point(0.5, 0.25), true)")
    page.wait_for_function("Math.abs(window.hyperdataViewer.views[0].stage.zoomPercent() - 100) < 1")
    page.wait_for_load_state("networkidle")
    wait_for_viewer(page)
    box = ROIS[0]["poly"]
    hits = [close(rgba, label_colour("region")) for rgba in sample(page, "default", edge_midpoints(box))]
    assert all(hits), hits
    page.screenshot(path=str(SCREENSHOTS / "viewer-deep-zoom-100.png"))

    tiles = [url for url in requests if "/media/pyramids/" in url]
    deepest = max(int(url.split("/media/pyramids/")[1].split("/")[1]) for url in tiles)
    assert deepest == 14  # 2^14 >= 10000: the full-size level, reached only around the view
    assert len([url for url in tiles if f"/{deepest}/" in url]) < 40  # a few 510 px tiles, not the 200 of the level
    # The file itself is never sent: before the tiles, the page showed the worker's downscaled rendition.
    assert not [url for url in requests if "/media/source/" in url]


def test_a_tiny_image_is_drawn_on_its_pixels_at_every_zoom(logged_in_page, media_roots, settings):
    """64x64 pixels, fitted (about 9x) and at 3200%: the outline stays on the pixels its coordinates name."""
    settings.HYPERDATA_PREVIEWS_AUTO = False
    path = media_roots / "tiny-64.png"
    Image.new("RGB", (64, 64), (30, 30, 30)).save(path)
    rois = [{"labels": ["speck"], "poly": [20, 20, 44, 20, 44, 40, 20, 40]}]
    version = services.dataset_create(user=SYSTEM, name="tiny").versions.get()
    source = {"id": "default", "uri": path.as_uri(), "content_type": "image/png", "width": 64, "height": 64}
    services.frames_add(user=SYSTEM, version=version, frames=[{"id": "tiny", "sources": [source], "rois": rois}])
    page = logged_in_page
    page.goto(f"/versions/{version.pk}/frame/tiny")
    wait_for_viewer(page)
    assert page.evaluate("window.hyperdataViewer.views[0].stage.zoomPercent()") > 500
    assert_outlines_drawn(page, rois, "default", "default")
    page.fill("#frame-zoom", "3200")
    page.press("#frame-zoom", "Enter")
    page.evaluate("window.hyperdataViewer.views[0].stage.viewer.viewport.panTo(new OpenSeadragon.Point(20 / 64, 20 / 64), true)")
    page.wait_for_function("Math.abs(window.hyperdataViewer.views[0].stage.zoomPercent() - 3200) < 5")
    wait_for_viewer(page)
    # Around the top-left corner at (20, 20): the top and left edges near it are painted, the inside is not.
    points = [(20, 20.5), (20.5, 20), (21, 20), (20, 21)]
    assert all(close(rgba, label_colour("speck")) for rgba in sample(page, "default", points))
    inside = sample(page, "default", [(21.5, 21.5)])[0]
    assert inside[3] < 100  # the light fill, not the outline
    page.screenshot(path=str(SCREENSHOTS / "viewer-tiny-3200.png"))
