"""Deep zoom pyramids of large images: the frame page's status link asks a real worker for one, the tiles land in
default storage and are served one by one through links signed for the dataset, and their pixels are the
source's at that place and scale. Also: one build per file however many viewers ask, access, bad coordinates,
and small images shown without a pyramid."""
from __future__ import annotations

import io
import os
import json
import re
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
import pyvips
from django.conf import settings
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from frames import media, services
from frames.models import Job
from frames.selectors.pyramids import PYRAMID_JOB, RETRY_AFTER

from .pages import html as page_html

pytestmark = pytest.mark.django_db(transaction=True)

READY_WAIT_SECONDS = 180  # only a bound on waiting for the worker, never asserted
GIGA = 20000


# --------------------------------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def gigapixel_tiff(media_roots) -> Path:
    """20000 x 20000 RGB in 512 px JPEG tiles, no reduced levels (~15 MB): red random in 512 px squares (no two
    tiles alike), green and blue gradients along x and y, in 16 px steps (cheap to encode, so quick to tile)."""
    path = media_roots / "synthetic-20000.tif"
    if not path.exists():
        n = GIGA // 16
        rows, cols = np.mgrid[0:n, 0:n]
        red = np.random.default_rng(GIGA).integers(0, 256, (n // 32 + 1, n // 32 + 1))[rows // 32, cols // 32]
        blocks = np.stack([red, cols * 255 // n, rows * 255 // n], axis=2).astype(np.uint8)
        image = pyvips.Image.new_from_array(blocks).copy(interpretation="srgb").zoom(16, 16)
        image.tiffsave(str(path), tile=True, tile_width=512, tile_height=512, compression="jpeg", Q=90)
    return path


@pytest.fixture
def no_thumbnails(settings):
    settings.HYPERDATA_PREVIEWS_AUTO = False  # the thumbnails of these frames would only keep the worker busy


@pytest.fixture
def made_pyramids():
    """Pyramid ids a test made; their tiles are removed from default storage afterwards."""
    made: list[str] = []
    yield made
    for pyramid_id in made:
        folder = Path(default_storage.path(f"pyramids/{pyramid_id[:2]}/{pyramid_id}"))
        for file in sorted(folder.rglob("*"), reverse=True):
            file.unlink() if file.is_file() else file.rmdir()
        folder.rmdir()


def make_frame(owner, name: str, path: Path, width: int, height: int):
    """A dataset whose draft version has frame "big" showing `path`; returns the version."""
    dataset = services.dataset_create(user=owner, name=name)
    version = dataset.versions.get()
    source = {"id": "default", "uri": path.as_uri(), "content_type": "image/tiff", "width": width, "height": height}
    services.frames_add(user=owner, version=version, frames=[{"id": "big", "sources": [source]}])
    return version


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def contract_of(client, version, frame_id="big") -> dict:
    html = page_html(client.get(reverse("viewer:frame", args=[version.pk, frame_id])))
    return json.loads(re.search(r'<script id="frame-contract" type="application/json">(.*?)</script>', html, re.S).group(1))


def wait_until_built(client, status_url: str) -> dict:
    deadline = time.monotonic() + READY_WAIT_SECONDS
    while True:
        entry = client.get(status_url).json()
        if entry["state"] in ("ready", "failed") or time.monotonic() > deadline:
            return entry
        time.sleep(0.2)


def tile_url(entry: dict, level, x, y) -> str:
    return entry["tile_url"].replace("{level}", str(level)).replace("{x}", str(x)).replace("{y}", str(y))


def fetch_tile(client, entry: dict, level: int, x: int, y: int) -> np.ndarray:
    """The tile as an array of (height, width, bands) floats."""
    response = client.get(tile_url(entry, level, x, y))
    assert response.status_code == 200, (level, x, y, response.status_code)
    assert response["Content-Type"] == f"image/{entry['format']}" and "immutable" in response["Cache-Control"]
    pixels = np.asarray(Image.open(io.BytesIO(b"".join(response.streaming_content))), dtype=float)
    return pixels.reshape(*pixels.shape[:2], -1)


def level_size(entry: dict, level: int) -> tuple[int, int]:
    width, height = entry["width"], entry["height"]
    for _ in range(entry["max_level"] - level):
        width, height = (width + 1) // 2, (height + 1) // 2
    return width, height


def tile_box(entry: dict, level: int, x: int, y: int) -> tuple[int, int, int, int]:
    """(left, top, width, height) of tile (x, y) in its level's pixels: Deep Zoom tiles repeat `overlap`
    pixels of each neighbour."""
    size, overlap = entry["tile_size"], entry["overlap"]
    level_width, level_height = level_size(entry, level)
    left, top = x * size - (overlap if x else 0), y * size - (overlap if y else 0)
    right, bottom = min(level_width, (x + 1) * size + overlap), min(level_height, (y + 1) * size + overlap)
    return left, top, right - left, bottom - top


def source_pixels(path: Path, entry: dict, level: int, box) -> np.ndarray:
    """The source read with pyvips at that level's scale (the mean of each scale x scale square, as dzsave
    shrinks), cropped to `box` (less the last row and column when the shrink rounded them away)."""
    scale = 2 ** (entry["max_level"] - level)
    image = pyvips.Image.new_from_file(str(path))
    if scale > 1:
        image = image.shrink(scale, scale)
    left, top, width, height = box
    pixels = image.crop(left, top, min(width, image.width - left), min(height, image.height - top)).numpy().astype(float)
    return pixels.reshape(*pixels.shape[:2], -1)


def mean_error(tile: np.ndarray, wanted: np.ndarray) -> float:
    """The mean difference of brightness (JPEG keeps brightness; it halves the resolution of colour)."""
    height, width = wanted.shape[:2]
    return float(np.abs(luma(tile[:height, :width]) - luma(wanted)).mean())


def luma(pixels: np.ndarray) -> np.ndarray:
    return pixels[..., :3] @ np.array([0.299, 0.587, 0.114]) if pixels.shape[2] >= 3 else pixels[..., 0]


def check_tile(client, entry: dict, path: Path, level: int, x: int, y: int) -> np.ndarray:
    """The tile has its box's size and the source's pixels there (JPEG's loss aside); returns it."""
    box = tile_box(entry, level, x, y)
    tile = fetch_tile(client, entry, level, x, y)
    assert tile.shape[:2] == (box[3], box[2]), (level, x, y, tile.shape, box)
    error = mean_error(tile, source_pixels(path, entry, level, box))
    assert error < 3, (level, x, y, error)
    return tile


# ------------------------------------------------------------------------------------------------------ tests
def test_a_gigapixel_tiled_tiff_is_built_once_and_served_tile_by_tile(
    admin_user, django_user_model, gigapixel_tiff, celery_worker_process, no_thumbnails, made_pyramids,
):
    version = make_frame(admin_user, "gigapixel", gigapixel_tiff, GIGA, GIGA)
    colleague = django_user_model.objects.create_user("colleague")
    services.member_set(user=admin_user, dataset=version.dataset, username="colleague", role="viewer")
    first, second = signed_in(admin_user), signed_in(colleague)

    shown = contract_of(first, version)["sources"][0]["pyramid"]
    assert (shown["state"], shown["reason"]) == ("none", "") and set(shown) == {"state", "reason", "status_url"}
    asked = first.get(shown["status_url"]).json()
    assert asked["state"] == "pending"
    # The second viewer asks while the first build runs (it takes seconds): it joins that build.
    also_asked = second.get(contract_of(second, version)["sources"][0]["pyramid"]["status_url"]).json()
    assert also_asked["state"] == "pending"
    entry = wait_until_built(second, shown["status_url"])
    assert entry["state"] == "ready", entry["reason"]
    made_pyramids.append(re.search(r"/media/pyramids/([^/]+)/", entry["tile_url"]).group(1))
    builds = Job.objects.filter(kind=PYRAMID_JOB)
    assert builds.count() == 1 and builds.get().state == Job.DONE  # two viewers, one build

    assert {k: entry[k] for k in ("width", "height", "format", "max_level", "reason")} == \
        {"width": GIGA, "height": GIGA, "format": "jpeg", "max_level": 15, "reason": ""}  # 2**15 >= 20000
    assert entry["tile_size"] + 2 * entry["overlap"] <= 1024 and entry["overlap"] >= 1
    assert contract_of(second, version)["sources"][0]["pyramid"] == entry  # the page shows it ready

    last = (GIGA - 1) // entry["tile_size"]
    for level, x, y in ((15, 0, 0), (15, last, last), (12, 2, 3), (9, 0, 0)):  # 9: the whole image in one tile
        check_tile(second, entry, gigapixel_tiff, level, x, y)
    deep = check_tile(second, entry, gigapixel_tiff, 15, 19, 23)
    assert mean_error(deep, source_pixels(gigapixel_tiff, entry, 15, tile_box(entry, 15, 20, 23))) > 10  # not any tile
    assert first.get(tile_url(entry, 15, last + 1, 0)).status_code == 404  # beyond the right edge
    assert first.get(shown["status_url"]).json() == entry and builds.count() == 1  # asked again: no second build


def test_a_strip_tiff_pyramid_is_only_for_members_and_its_links_only_for_their_dataset(
    admin_user, django_user_model, testdata, celery_worker_process, no_thumbnails, made_pyramids,
):
    grey = testdata / "tiff" / "large_image" / "grey10kx5k.tif"  # 10000 x 5000, strips, no reduced levels
    version = make_frame(admin_user, "strips", grey, 10000, 5000)
    owner = signed_in(admin_user)
    entry = wait_until_built(owner, contract_of(owner, version)["sources"][0]["pyramid"]["status_url"])
    assert entry["state"] == "ready", entry["reason"]
    made_pyramids.append(re.search(r"/media/pyramids/([^/]+)/", entry["tile_url"]).group(1))
    assert (entry["width"], entry["height"], entry["format"], entry["max_level"]) == (10000, 5000, "jpeg", 14)
    size = entry["tile_size"]
    for level, x, y in ((14, 9999 // size, 4999 // size), (8, 0, 0), (11, 1, 0)):
        check_tile(owner, entry, grey, level, x, y)
    edge = check_tile(owner, entry, grey, 14, 5, 2000 // size)  # rows 2000 and on are lighter
    assert mean_error(edge, source_pixels(grey, entry, 14, tile_box(entry, 14, 5, 2000 // size - 1))) > 10

    outsider = django_user_model.objects.create_user("outsider")
    services.dataset_create(user=outsider, name="the outsider's own")
    stranger = signed_in(outsider)
    assert stranger.get(tile_url(entry, 14, 0, 0)).status_code == 404
    assert stranger.get(entry["status_url"]).status_code == 404
    their_dataset = services.dataset_create(user=outsider, name="another").pk
    for url in (tile_url(entry, 14, 0, 0), entry["status_url"]):
        moved = re.sub(r"([?&]d=)[0-9a-f]+", rf"\g<1>{their_dataset}", url)
        assert moved != url
        refused = stranger.get(moved)
        assert refused.status_code == 403 and b"sig" in refused.content  # a link only works for its dataset

    for level, x, y, field in (("a", 0, 0, "level"), (41, 0, 0, "level"), (14, "-1", 0, "x"), (14, "1e3", 0, "x"),
                               (14, 0, "1.5", "y"), (14, 0, "0x1", "y")):
        response = owner.get(tile_url(entry, level, x, y))
        assert response.status_code == 400 and response.content.decode().startswith(f"{field}: "), (level, x, y, response.content)
    assert owner.get(tile_url(entry, 14, 20, 0)).status_code == 404  # well formed, but no such tile


def test_a_small_image_is_shown_without_a_pyramid(admin_user, testdata, no_thumbnails):
    photo = testdata / "coco" / "labelformat" / "000000109005.jpg"  # 640 x 428
    version = make_frame(admin_user, "small", photo, 640, 428)
    huge_video = {"id": "video", "uri": photo.with_suffix(".mp4").as_uri(), "content_type": "video/mp4", "width": 3840, "height": 2160}
    unmeasured = {"id": "unmeasured", "uri": photo.as_uri()}
    huge_dicom = {"id": "dicom", "uri": photo.with_suffix(".dcm").as_uri(), "content_type": "application/dicom", "width": 4096, "height": 4096}
    services.frames_update(user=admin_user, version=version, frames=[{"id": "big", "sources": [
        {"id": "default", "uri": photo.as_uri(), "width": 640, "height": 428}, huge_video, unmeasured, huge_dicom]}])
    client = signed_in(admin_user)
    assert [s["pyramid"] for s in contract_of(client, version)["sources"]] == [None, None, None, None]  # libvips cannot tile DICOM
    assert settings.HYPERDATA_PYRAMID_MIN_SIDE == settings.HYPERDATA_VIEW_SIZE == 1280


def test_a_request_for_a_small_source_answers_null_and_starts_nothing(admin_user, testdata, settings, no_thumbnails):
    """The status link of a source that needs no pyramid (the threshold was raised since the page was made)."""
    grey = testdata / "tiff" / "large_image" / "grey10kx5k.tif"
    version = make_frame(admin_user, "raised", grey, 10000, 5000)
    client = signed_in(admin_user)
    status_url = contract_of(client, version)["sources"][0]["pyramid"]["status_url"]
    settings.HYPERDATA_PYRAMID_MIN_SIDE = 10000
    response = client.get(status_url)
    assert response.status_code == 200 and response.json() is None
    assert not Job.objects.filter(kind=PYRAMID_JOB).exists()
    assert contract_of(client, version)["sources"][0]["pyramid"] is None


def test_a_file_that_cannot_be_tiled_fails_with_the_reason_and_is_asked_again_later(
    admin_user, testdata, celery_worker_process, no_thumbnails,
):
    old_jpeg = testdata / "tiff" / "pillow" / "old-style-jpeg-compression.tif"  # libvips lacks old-style JPEG
    version = make_frame(admin_user, "untileable", old_jpeg, 5000, 4000)  # a size that asks for a pyramid
    client = signed_in(admin_user)
    status_url = contract_of(client, version)["sources"][0]["pyramid"]["status_url"]
    entry = wait_until_built(client, status_url)
    assert entry == {"state": "failed", "status_url": status_url,
                     "reason": "cannot make tiles of this TIFF file: tiff2vips: Old-style JPEG compression support is not configured"}
    assert client.get(status_url).json() == entry and Job.objects.filter(kind=PYRAMID_JOB).count() == 1  # not again at once
    Job.objects.filter(kind=PYRAMID_JOB).update(finished=timezone.now() - RETRY_AFTER - timedelta(seconds=1))
    assert contract_of(client, version)["sources"][0]["pyramid"]["state"] == "none"  # a while later: asked again
    assert client.get(status_url).json()["state"] == "pending" and Job.objects.filter(kind=PYRAMID_JOB).count() == 2


def test_a_cancelled_build_stops_and_leaves_no_tiles(admin_user, gigapixel_tiff, celery_worker_process, no_thumbnails):
    version = make_frame(admin_user, "cancelled", gigapixel_tiff, GIGA, GIGA)
    client = signed_in(admin_user)
    status_url = contract_of(client, version)["sources"][0]["pyramid"]["status_url"]
    assert client.get(status_url).json()["state"] == "pending"
    build = Job.objects.get(kind=PYRAMID_JOB)
    deadline = time.monotonic() + READY_WAIT_SECONDS
    while not Job.objects.filter(pk=build.pk, state=Job.RUNNING, done__gt=0).exists() and time.monotonic() < deadline:
        time.sleep(0.05)  # until libvips is writing tiles
    finished_before = celery_worker_process.log().count("frames.tasks.run_job[")
    services.job_cancel(user=admin_user, job_id=build.pk)
    while celery_worker_process.log().count("frames.tasks.run_job[") == finished_before and time.monotonic() < deadline:
        time.sleep(0.1)  # until the worker's task has returned
    build.refresh_from_db()
    assert build.state == Job.CANCELLED and build.result is None
    entry = client.get(status_url).json()
    assert (entry["state"], entry["reason"]) == ("failed", "the build was cancelled")
    assert not default_storage.exists(f"pyramids/{build.pk[:2]}/{build.pk}-{build.attempts}")


# ------------------------------------------------------------------------------------ the media layer alone
@pytest.mark.parametrize("name", ["test_orient3.tif", "test_orient6.tif", "test_orient8.tif"])
def test_tiles_are_upright_like_the_previews(testdata, tmp_path, name):
    path = testdata / "tiff" / "large_image" / name
    pyramid = media.make_pyramid(path, tmp_path)
    preview = Image.open(io.BytesIO(media.render_image_preview(path, max_size=1024).data))
    tile = Image.open(Path(pyramid.tiles_dir, str(pyramid.max_level), f"0_0.{pyramid.format}"))
    assert tile.size == preview.size == (pyramid.width, pyramid.height)
    assert np.abs(np.asarray(tile, float) - np.asarray(preview, float)).mean() < 2


def test_high_bit_depth_and_alpha_are_shown_as_in_the_previews(testdata, tmp_path):
    for name, tile_format in (("tiff_16bit_RGB.tiff", "jpeg"), ("tiff_16bit_RGBa.tiff", "png")):
        path = testdata / "tiff" / "pillow" / name
        pyramid = media.make_pyramid(path, tmp_path / name)
        preview = Image.open(io.BytesIO(media.render_image_preview(path, max_size=1024).data))
        tile = Image.open(Path(pyramid.tiles_dir, str(pyramid.max_level), f"0_0.{pyramid.format}"))
        assert pyramid.format == tile_format and tile.mode == preview.mode
        assert np.abs(np.asarray(tile, float) - np.asarray(preview, float)).mean() < 2


def test_a_report_that_raises_stops_the_build(testdata, tmp_path):
    class Cancelled(Exception):
        pass

    def report(percent):
        raise Cancelled(percent)

    with pytest.raises(Cancelled):
        media.make_pyramid(testdata / "tiff" / "large_image" / "grey10kx5k.tif", tmp_path, report=report)


def test_a_file_libvips_cannot_read_fails_with_a_reason(testdata, tmp_path):
    with pytest.raises(media.PreviewError, match="Old-style JPEG"):
        media.make_pyramid(testdata / "tiff" / "pillow" / "old-style-jpeg-compression.tif", tmp_path)


# ------------------------------------------------------------------------------------------ in OpenSeadragon
SCREENSHOTS = Path(os.environ.get("HYPERDATA_SCREENSHOTS") or Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots")
OSD_PAGE = """<!doctype html><html><body style="margin:0;background:#f0f">
<div id="osd" style="width:1000px;height:500px"></div>
<script src="/static/vendor/openseadragon-6.1.1/openseadragon.min.js"></script></body></html>"""
# The frame page's way of showing a ready pyramid: a custom tile source made of the contract's entry.
SHOW_PYRAMID = """async (pyramid) => {
    const viewer = OpenSeadragon({
        element: document.getElementById("osd"), drawer: "canvas", showNavigationControl: false,
        animationTime: 0, blendTime: 0, immediateRender: true,
    });
    viewer.open({
        width: pyramid.width, height: pyramid.height, tileSize: pyramid.tile_size, tileOverlap: pyramid.overlap,
        minLevel: 0, maxLevel: pyramid.max_level,
        getTileUrl: (level, x, y) => pyramid.tile_url.replace("{level}", level).replace("{x}", x).replace("{y}", y),
    });
    window.shown = viewer;
    await allTilesDrawn(viewer);
}"""
SHOW_REGION = """async ([x, y, width, height]) => {
    const viewer = window.shown, image = viewer.world.getItemAt(0);
    viewer.viewport.fitBounds(image.imageToViewportRectangle(x, y, width, height), true);
    await allTilesDrawn(viewer);
}"""
# Until the image is open and every tile of the view is drawn, for a few frames in a row (OpenSeadragon says so
# a frame after a change; a minute at most).
ALL_TILES_DRAWN = """() => { window.allTilesDrawn = async (viewer) => {
    const frame = () => new Promise((resolve) => requestAnimationFrame(resolve));
    for (let settled = 0, frames = 0; settled < 5; frames++) {
        if (frames > 3600) throw new Error("the tiles were not all drawn");
        await frame();
        const image = viewer.world.getItemAt(0);
        settled = image && image.getFullyLoaded() && !viewer.world.needsDraw() ? settled + 1 : 0;
    }
}; }"""


def shown(page, name: str) -> np.ndarray:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    png = page.locator("#osd").screenshot(path=str(SCREENSHOTS / f"pyramid-{name}.png"))
    return np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=float)


def test_openseadragon_draws_the_pyramid_where_the_source_has_its_pixels(
    logged_in_page, admin_user, testdata, celery_worker_process, no_thumbnails, made_pyramids,
):
    grey = testdata / "tiff" / "large_image" / "grey10kx5k.tif"  # 64, with rows 2000 to 2999 at 192
    version = make_frame(admin_user, "in the browser", grey, 10000, 5000)
    entry = wait_until_built(signed_in(admin_user), contract_of(signed_in(admin_user), version)["sources"][0]["pyramid"]["status_url"])
    assert entry["state"] == "ready", entry["reason"]
    made_pyramids.append(re.search(r"/media/pyramids/([^/]+)/", entry["tile_url"]).group(1))
    page = logged_in_page
    tiles = []
    page.on("response", lambda response: "/media/pyramids/" in response.url and tiles.append(response.status))
    page.goto("/jobs/")
    page.set_content(OSD_PAGE)
    page.evaluate(ALL_TILES_DRAWN)
    page.evaluate(SHOW_PYRAMID, entry)

    whole = shown(page, "whole")  # 10000 x 5000 in 1000 x 500: a tenth
    rows = (100, 195, 205, 250, 295, 305, 400)
    assert np.allclose([whole[row, 100:900].mean() for row in rows], [64, 64, 192, 192, 192, 64, 64], atol=3)
    page.evaluate(SHOW_REGION, [4500, 1750, 1000, 500])  # one to one: the deepest level
    near = shown(page, "one-to-one")
    rows = (0, 245, 249, 250, 255, 499)  # image row 2000, the first light one, is the view's row 250
    assert np.allclose([near[row, :].mean() for row in rows], [64, 64, 64, 192, 192, 192], atol=3)
    assert tiles and set(tiles) == {200}
