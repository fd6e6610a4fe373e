"""ROIs on the Frames tab's thumbnails (issue 13, item 1), in Debian's Chromium: every tile draws its frame's
polygons, boxes, ellipses and key points with the viewer's draw.js over the preview, placed where
`object-fit: contain` puts the picture whatever its aspect ratio (sizes from the frame, or measured by the
worker); a switch hides them and is remembered; label chips that do not fit end with "+N".

Each preview has the ROI's region painted in, so the pixels under an SVG shape are checked against the
picture, not only the SVG's numbers. Screenshots go to /tmp/shots-13/frames-tab/ (or $HYPERDATA_SCREENSHOTS).
"""
from __future__ import annotations

import io
import json
import os
import re
from pathlib import Path

import pytest
from django.urls import reverse
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from frames import services
from frames.models import DatasetVersion, MediaPreview
from frames.selectors import SYSTEM as ACTOR
from frames.selectors.previews import source_request
from viewer.tiles import label_colour

from .pages import html as page_html

SHOTS = Path(os.environ.get("HYPERDATA_SCREENSHOTS") or "/tmp/shots-13/frames-tab")
RED, BLUE, GREEN, GREY = (220, 30, 30), (30, 60, 220), (30, 180, 60), (70, 74, 80)
MANY = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliett", "kilo", "lima"]

# id: (source width, height, what is painted in the preview at the ROI, the ROI); previews are half size.
FRAMES = {
    "a-wide": (640, 240, ("rect", RED, (80, 60, 240, 180)), {"labels": ["car"], "poly": [80, 60, 240, 60, 240, 180, 80, 180]}),
    "b-tall": (240, 480, ("ellipse", BLUE, (60, 140, 180, 340)), {"labels": ["person"], "shape": {"type": "ellipse", "xyrrt": [120, 240, 60, 100, 0]}}),
    "c-points": (300, 300, ("rect", GREEN, (140, 140, 160, 160)), {"labels": ["wheel"], "shape": {"type": "points", "xy": [150, 150, 60, 60]}}),
    "d-measured": (400, 300, ("rect", RED, (100, 75, 300, 225)), {"labels": ["truck"], "shape": {"type": "box", "xywh": [100, 75, 200, 150]}}),
    "e-many-labels": (320, 240, ("rect", RED, (40, 40, 120, 100)), {"labels": ["car"], "poly": [40, 40, 120, 40, 120, 100, 40, 100]}),
    "f-no-size": (320, 240, ("rect", RED, (40, 40, 120, 100)), {"labels": ["car"], "poly": [40, 40, 120, 40, 120, 100, 40, 100]}),
}


def preview_bytes(width, height, paint) -> bytes:
    image = Image.new("RGB", (width // 2, height // 2), GREY)
    kind, colour, box = paint
    half = [v // 2 for v in box]
    (ImageDraw.Draw(image).rectangle if kind == "rect" else ImageDraw.Draw(image).ellipse)(half, fill=colour)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def frame_json(frame_id: str) -> dict:
    width, height, _, roi = FRAMES[frame_id]
    source = {"id": "default", "uri": f"s3://overlay-bucket/{frame_id}.jpg", "content_type": "image/jpeg", "width": width, "height": height,
              "preview": {"uri": f"/media/previews/ov/{frame_id}.png"}}
    if frame_id in ("d-measured", "f-no-size"):
        del source["width"], source["height"]
    if frame_id == "d-measured":
        del source["preview"]  # its preview and size come from the worker's row (make_version)
    rois = [roi]
    if frame_id == "e-many-labels":
        rois += [{"labels": [label]} for label in MANY]  # frame labels: chips only
    return {"id": frame_id, "context_id": frame_id, "timestamp": 0, "sources": [source], "rois": rois}


@pytest.fixture
def overlay_media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.HYPERDATA_PREVIEWS_AUTO = False
    folder = tmp_path / "previews" / "ov"
    folder.mkdir(parents=True)
    for frame_id, (width, height, paint, _) in FRAMES.items():
        (folder / f"{frame_id}.png").write_bytes(preview_bytes(width, height, paint))
    return tmp_path


def make_version() -> DatasetVersion:
    dataset = services.dataset_create(user=ACTOR, name="overlays", description="ROIs on thumbnails")
    version = dataset.versions.get()
    data = [frame_json(frame_id) for frame_id in FRAMES]
    services.frames_add(user=ACTOR, version=version, frames=data)
    # What a worker leaves for a source that came without its size: a preview and the size it measured.
    measured = source_request(data[3]["sources"][0])
    MediaPreview.objects.update_or_create(key=measured.key, defaults={
        "kind": MediaPreview.SOURCE, "uri": measured.uri, "media": measured.media, "max_size": measured.max_size,
        "status": MediaPreview.DONE, "file": "previews/ov/d-measured.png", "content_type": "image/png", "width": 400, "height": 300})
    return DatasetVersion.objects.get(pk=version.pk)


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"overlays-{name}.png"))


def rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))


def near(a, b, tolerance=60) -> bool:
    return sum(abs(x - y) for x, y in zip(a, b)) <= tolerance


# ------------------------------------------------------------------------------------------------ server side


@pytest.mark.django_db
def test_the_page_carries_the_rois_and_source_sizes(admin_client, overlay_media):
    version = make_version()
    html = page_html(admin_client.get(reverse("viewer:version", args=[version.pk]), {"sort": "id"}))
    island = json.loads(re.search(r'<script id="fb-rois" type="application/json">(.*?)</script>', html, re.S).group(1))
    assert set(island) == set(FRAMES)
    assert island["b-tall"] == {"sources": ["default"], "rois": [FRAMES["b-tall"][3]]}
    assert island["e-many-labels"]["rois"] == [FRAMES["e-many-labels"][3]]  # frame labels are chips, not shapes
    sizes = dict((i, (int(w), int(h))) for i, w, h in re.findall(r'data-frame-id="([^"]+)".*?data-w="(\d+)" data-h="(\d+)"', html, re.S))
    assert sizes["a-wide"] == (640, 240) and sizes["b-tall"] == (240, 480)
    assert sizes["d-measured"] == (400, 300)  # measured by the worker
    assert "f-no-size" not in sizes  # no size, nothing placed (its tile shows no ROIs)
    assert html.count("<script") - html.count('type="module"') < 12  # one island, not a script per tile


# ---------------------------------------------------------------------------------------------- in Chromium


@pytest.fixture
def ui_page(logged_in_page):
    logged_in_page.set_default_timeout(30_000)
    return logged_in_page


def geometry(page, frame_id: str, selector: str) -> dict:
    """The preview's box and natural size, and the screen box of the tile's first `selector` in its overlay."""
    return page.locator(f'.tile[data-frame-id="{frame_id}"] .tile-src').evaluate(
        """(fig, selector) => {
            const img = fig.querySelector("img").getBoundingClientRect();
            const shape = fig.querySelector(`.tile-rois ${selector}`).getBoundingClientRect();
            return {img: [img.x, img.y, img.width, img.height], shape: [shape.x, shape.y, shape.width, shape.height]};
        }""", selector)


def expected_box(img_box, source_size, region) -> list[float]:
    """Where `region` (x0, y0, x1, y1 in source pixels) is on screen in a contained picture."""
    x, y, w, h = img_box
    sw, sh = source_size
    scale = min(w / sw, h / sh)
    left, top = x + (w - sw * scale) / 2, y + (h - sh * scale) / 2
    x0, y0, x1, y1 = region
    return [left + x0 * scale, top + y0 * scale, (x1 - x0) * scale, (y1 - y0) * scale]


def pixel(page, x: float, y: float) -> tuple[int, int, int]:
    """The colour on screen at page coordinates (x, y)."""
    image = Image.open(io.BytesIO(page.screenshot(clip={"x": x - 1, "y": y - 1, "width": 3, "height": 3}))).convert("RGB")
    return image.getpixel((1, 1))


@pytest.mark.django_db(transaction=True)
def test_thumbnails_draw_rois_over_the_picture_whatever_its_shape(ui_page, live_server, overlay_media):
    page = ui_page
    version = make_version()
    page.goto(f"/versions/{version.pk}/?sort=id")
    expect(page.locator("#fb-grid .tile")).to_have_count(len(FRAMES))
    for frame_id in FRAMES:
        expect(page.locator(f'.tile[data-frame-id="{frame_id}"] img')).to_have_js_property("complete", True)
    expect(page.locator("#fb-rois-toggle")).to_have_attribute("aria-checked", "true")

    checks = {"a-wide": "polygon", "b-tall": "ellipse", "d-measured": "polygon", "e-many-labels": "polygon"}
    for frame_id, selector in checks.items():
        width, height, (_, colour, region), roi = FRAMES[frame_id]
        if frame_id == "d-measured":
            width, height = 400, 300
        got = geometry(page, frame_id, selector)
        want = expected_box(got["img"], (width, height), region)
        assert all(abs(a - b) <= 1.5 for a, b in zip(got["shape"], want)), (frame_id, got, want)
        # The picture under the shape is the region painted for it; the shape's outline has the label's colour.
        x, y, w, h = want
        assert near(pixel(page, x + w / 2, y + h / 2), tuple(0.8 * c + 0.2 * l for c, l in zip(colour, rgb(label_colour(roi["labels"][0]))))), frame_id
        edge = [pixel(page, x + dx, y + h / 2) for dx in (-0.5, 0.5)]
        assert any(near(p, rgb(label_colour(roi["labels"][0])), 90) for p in edge), (frame_id, edge)
    # Key points: a dot per point, centred on it.
    points = page.locator('.tile[data-frame-id="c-points"] .tile-rois circle')
    expect(points).to_have_count(2)
    box = points.first.bounding_box()
    img = geometry(page, "c-points", "circle")["img"]
    centre = expected_box(img, (300, 300), (150, 150, 150, 150))
    assert abs(box["x"] + box["width"] / 2 - centre[0]) <= 1 and abs(box["y"] + box["height"] / 2 - centre[1]) <= 1
    assert box["width"] >= 4  # readable on a thumbnail
    expect(page.locator('.tile[data-frame-id="f-no-size"] .tile-rois')).to_have_count(0)
    shot(page, "01-grid")

    # Bigger tiles: the shapes follow the picture.
    page.locator("#fb-tile-size").fill("340")
    got = geometry(page, "a-wide", "polygon")
    assert all(abs(a - b) <= 1.5 for a, b in zip(got["shape"], expected_box(got["img"], (640, 240), FRAMES["a-wide"][2][2])))
    shot(page, "02-big-tiles")


@pytest.mark.django_db(transaction=True)
def test_the_switch_hides_the_rois_and_is_remembered(ui_page, live_server, overlay_media):
    page = ui_page
    version = make_version()
    page.goto(f"/versions/{version.pk}/?sort=id")
    overlay = page.locator('.tile[data-frame-id="a-wide"] .tile-rois')
    expect(overlay).to_be_visible()
    page.click("#fb-rois-toggle")
    expect(overlay).to_be_hidden()
    expect(page.locator("#fb-rois-toggle")).to_have_attribute("aria-checked", "false")
    _, _, (_, colour, region), _ = FRAMES["a-wide"]
    img = geometry(page, "a-wide", "polygon")["img"]
    x, y, w, h = expected_box(img, (640, 240), region)
    assert near(pixel(page, x + w / 2, y + h / 2), colour, 30)  # the picture alone
    shot(page, "03-rois-off")

    page.reload()  # remembered, and hidden from the first paint on (set before the tiles are drawn)
    expect(page.locator("#fb-rois-toggle")).to_have_attribute("aria-checked", "false")
    assert page.evaluate("document.documentElement.dataset.tileRois") == "off"
    assert page.evaluate("localStorage.getItem('hd.tileRois')") == "off"
    expect(page.locator(".tile-rois:visible")).to_have_count(0)
    page.goto(f"/versions/{version.pk}/?view=table&sort=id")  # the table's thumbnails too
    expect(page.locator("#fb-table .tile-rois:visible")).to_have_count(0)
    page.click("#fb-rois-toggle")
    expect(page.locator('#fb-table tr[data-frame-id="a-wide"] .tile-rois')).to_be_visible()
    page.goto(f"/versions/{version.pk}/?sort=id")
    expect(overlay).to_be_visible()


@pytest.mark.django_db(transaction=True)
def test_chips_that_do_not_fit_end_with_plus_n(ui_page, live_server, overlay_media):
    page = ui_page
    version = make_version()
    page.goto(f"/versions/{version.pk}/?sort=id")
    chips = page.locator('.tile[data-frame-id="e-many-labels"] .tile-info .chips')
    more = chips.locator(".chip-more")
    expect(more).to_be_visible()
    state = chips.evaluate("""c => ({
        shown: [...c.querySelectorAll('.chip:not(.chip-more)')].filter(x => !x.hidden).map(x => x.firstChild.textContent),
        hidden: [...c.querySelectorAll('.chip:not(.chip-more)')].filter(x => x.hidden).map(x => x.firstChild.textContent),
        fits: [...c.children].filter(x => !x.hidden).every(x => x.offsetTop + x.offsetHeight <= c.clientHeight),
        more: c.querySelector('.chip-more').textContent, title: c.querySelector('.chip-more').title })""")
    assert len(state["shown"]) + len(state["hidden"]) == len(MANY) + 1 and state["hidden"]
    assert state["more"] == f"+{len(state['hidden'])}" and state["fits"]
    assert all(label in state["title"] for label in state["hidden"]) and state["shown"][0] not in state["title"]
    expect(page.locator('.tile[data-frame-id="a-wide"] .chip-more')).to_have_count(0)
    shot(page, "04-chips-more")

    page.locator("#fb-tile-size").fill("360")  # wider tiles: more fit, fewer left for "+N"
    page.wait_for_function("""([selector, before]) => {
        const c = document.querySelector(selector);
        const hidden = [...c.querySelectorAll('.chip:not(.chip-more)')].filter(x => x.hidden).length;
        const more = c.querySelector('.chip-more');
        return hidden < before && (more ? more.textContent === `+${hidden}` : hidden === 0);
    }""", arg=['.tile[data-frame-id="e-many-labels"] .tile-info .chips', len(state["hidden"])])
    shot(page, "05-chips-wide-tiles")
