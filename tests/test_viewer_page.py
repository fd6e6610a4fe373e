"""The frame page in Chromium, used as a user uses it, checked on what it draws.

Every check of the drawing reads the overlay canvas where OpenSeadragon placed the image (tests/viewer_canvas.py):
outlines painted in their label's colour along their length, key points dotted, and, away from every outline,
nothing drawn outside the ROIs and exactly one light fill inside each, so a shape drawn in the wrong place fails
twice. Frames are built through frames.services over pictures made here with PIL. Screenshots go to
test-artifacts/screenshots/page-*.png (or HYPERDATA_SCREENSHOTS).

- seed 001's COCO frame (its JSON values as data): the two-part polygon and the large one, at fit, at 250% typed
  into the zoom field, and after zooming with the wheel;
- every shape kind (a turned box, a turned ellipse, key points, a polygon);
- hover tooltip, highlight from the list to the image and back, show/hide one and all;
- the minimum-confidence slider, kept for the next frame;
- a FrameGroup: switcher, `s`, all sources side by side, each ROI only on the sources it names;
- the keys across a filter (next/previous, 10, confident, context), Esc back to the grid's scroll position, the
  `?` overlay, the zoom keys;
- compare with the parent version after REST API edits in a child version;
- the source/preview switch, a TIFF shown through the worker's rendition, a video at the frame's timestamp.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest
from django.urls import reverse
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from frames import services
from frames.selectors import SYSTEM
from viewer.tiles import label_colour

from .clients import api_client
from .media_helpers import frame_number, make_video, naive_frame_at
from .viewer_canvas import (
    Placement, Shape, assert_dotted, assert_not_outlined, assert_nothing_else, assert_outlined, box_shape, drawn_on, ellipse_shape, outline_hits,
    picture, points_shape, poly_shape, sample, settle, wait_for_viewer,
)

pytestmark = pytest.mark.django_db(transaction=True)
SCREENSHOTS = Path(os.environ.get("HYPERDATA_SCREENSHOTS") or Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots")

# Seed 001 (ClearML's SingleFrame documentation): the COCO frame 287024, as the WebApp shows it.
SEED_RACKET = [174, 189, 149, 152, 117, 107, 91, 72, 68, 45, 57, 33, 53, 30, 49, 32, 48, 34, 46, 35, 46, 37, 84, 92, 112, 128, 143, 166,
               166, 191, 170, 203, 178, 196, 179, 194, -999999999, 194, 238, 204, 250, 212, 250, 221, 250, 223, 249, 206, 230, 205, 230]
SEED_PERSON = [
    158, 365, 161, 358, 165, 335, 170, 329, 171, 321, 171, 307, 173, 299, 172, 292, 171, 277, 171, 269, 170, 260, 170, 254, 171, 237, 177, 225,
    172, 218, 167, 215, 164, 207, 167, 205, 171, 199, 174, 196, 183, 193, 188, 192, 192, 192, 202, 199, 207, 200, 232, 187, 238, 182, 240, 178,
    244, 172, 245, 169, 245, 166, 241, 163, 235, 164, 233, 159, 239, 150, 240, 146, 240, 134, 237, 137, 231, 141, 222, 142, 217, 136, 216, 130,
    215, 123, 215, 116, 224, 102, 229, 99, 233, 96, 245, 108, 256, 92, 272, 84, 292, 87, 309, 92, 319, 101, 328, 121, 329, 134, 327, 137, 325,
    140, 331, 152, 327, 155, 323, 159, 324, 167, 320, 174, 319, 183, 327, 196, 329, 232, 328, 243, 323, 248, 315, 254, 316, 262, 314, 269, 314,
    280, 317, 302, 313, 326, 311, 330, 301, 351, 299, 361, 288, 386, 274, 410, 269, 417, 260, 427, 256, 431, 249, 439, 244, 448, 247, 468, 249,
    486, 247, 491, 245, 493, 243, 509, 242, 524, 241, 532, 237, 557, 232, 584, 233, 608, 233, 618, 228, 640, 172, 640, 169, 640, 176, 621, 174,
    604, 147, 603, 146, 609, 151, 622, 144, 634, 138, 638, 128, 640, 49, 640, 0, 640, 0, 636, 0, 631, 0, 630, 0, 629, 37, 608, 55, 599, 66,
    594, 74, 594, 84, 593, 91, 593, 99, 571, 110, 534, 114, 523, 117, 498, 116, 474, 113, 467, 113, 459, 113, 433, 113, 427, 118, 412, 137,
    391, 143, 390, 147, 386, 157, 378, 157, 370]
SEED_CONTEXT = "https://s3.amazonaws.com/allegro-datasets/coco/train2017/000000287024.jpg"


def seed_frame(uri: str) -> dict:
    """Seed 001's COCO frame as the WebApp shows it (server fields left to the server), its image at `uri`."""
    return {
        "id": "287024", "timestamp": 0, "context_id": SEED_CONTEXT,
        "rois": [
            {"label": ["tennis racket"], "poly": SEED_RACKET, "confidence": 1, "sources": ["default"], "id": "f9fc8629d99b4e65aecacedd32ac356e"},
            {"label": ["person"], "poly": SEED_PERSON, "confidence": 1, "sources": ["default"], "id": "eda8c727fea24c49b6438e5e17c0a846"},
        ],
        "sources": [{"id": "default", "uri": uri, "content_type": "image/jpeg", "width": 427, "height": 640, "timestamp": 0}],
    }


# ------------------------------------------------------------------------------------------------ helpers


def scene(path: Path, size: tuple[int, int], colour=(70, 90, 110)) -> Path:
    """A picture of `size`: a soft vertical gradient from `colour` with a grid every 50 px (so zoom shows)."""
    width, height = size
    ramp = np.linspace(0.75, 1.25, height)[:, None, None]
    pixels = np.clip(np.broadcast_to(np.array(colour, float), (height, width, 3)) * ramp, 0, 255).astype(np.uint8)
    image = Image.fromarray(pixels)
    draw = ImageDraw.Draw(image)
    for x in range(0, width, 50):
        draw.line([(x, 0), (x, height)], fill=tuple(min(255, c + 40) for c in colour))
    for y in range(0, height, 50):
        draw.line([(0, y), (width, y)], fill=tuple(min(255, c + 40) for c in colour))
    image.save(path)
    return path


def version_with(name: str, frames: list[dict]):
    """A draft version holding `frames`, written through the services."""
    version = services.dataset_create(user=SYSTEM, name=name).versions.get()
    services.frames_add(user=SYSTEM, version=version, frames=frames)
    return version


def open_frame(page, version, frame_id: str, query: str = "") -> list[str]:
    page.goto(reverse("viewer:frame", args=[version.pk, frame_id]) + query)
    ids = wait_for_viewer(page)
    settle(page, ids[0])
    return ids


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"page-{name}.png"))


def zoom_percent(page, index: int = 0) -> float:
    return page.evaluate("(i) => window.hyperdataViewer.views[i].stage.zoomPercent()", index)


@pytest.fixture
def no_worker(settings):
    """Pages without a worker: sources that a browser can show are shown as they are, no preview is queued."""
    settings.HYPERDATA_PREVIEWS_AUTO = False


# ----------------------------------------------------------------------------------------- seed 001's frame


def test_seed_001_coco_frame_both_polygons_at_every_zoom(logged_in_page, media_roots, no_worker):
    page = logged_in_page
    frame = seed_frame(scene(media_roots / "287024.jpg", (427, 640)).as_uri())
    version = version_with("seed 001", [frame])
    assert open_frame(page, version, "287024") == ["default"]
    racket = poly_shape(label_colour("tennis racket"), SEED_RACKET)
    person = poly_shape(label_colour("person"), SEED_PERSON)
    assert len(racket.outlines) == 2 and racket.colour != person.colour
    assert [(d["index"], d["text"], d["kind"]) for d in drawn_on(page, "default")] == [(0, "tennis racket", "polygon"), (1, "person", "polygon")]

    def check(name: str, expect_all_on_screen: bool) -> None:
        settle(page, "default")
        for shape in (racket, person):
            counts = outline_hits(page, "default", shape)
            for hits, looked, missed in counts:  # another ROI's outline may cross a point or two
                assert hits >= 0.9 * looked - 1 and (looked >= 8 or not expect_all_on_screen), (name, shape.colour, hits, looked, missed)
            assert sum(looked for _, looked, _ in counts) >= 20, (name, shape.colour, counts)
        assert assert_nothing_else(page, "default", [racket, person]) > 300, name
        shot(page, f"seed-001-{name}")

    # Fit: the whole frame on screen, both parts of the racket and the person where the seed's numbers say;
    # nothing joins the racket's two parts (the separator is no coordinate).
    check("fit", True)
    assert 60 < zoom_percent(page) < 200
    end_of_first, start_of_second = (179, 194), (194, 238)
    toward_separator = (0, 194 - 179)  # the line to (-999999999, -999999999) leaves the image there
    for wrong in ([end_of_first, start_of_second], [end_of_first, toward_separator]):
        assert assert_not_outlined(page, "default", Shape(racket.colour, [wrong]), [racket, person]) > 5

    # 250% typed into the zoom field.
    page.fill("#frame-zoom", "250")
    page.press("#frame-zoom", "Enter")
    settle(page, "default")
    assert zoom_percent(page) == pytest.approx(250, rel=1e-3)
    page.locator("#frame-zoom").blur()
    check("250", False)

    # The wheel over the racket's second part zooms about the pointer: it stays under it, outlined.
    page.keyboard.press("0")
    settle(page, "default")
    fit_zoom = zoom_percent(page)
    x, y = Placement(page, "default").page(208, 240)
    page.mouse.move(x, y)
    target = "window.hyperdataViewer.views[0].stage.viewer.viewport.getZoom(false)"
    for _ in range(3):  # one step at a time: OpenSeadragon drops wheel steps closer than 50 ms
        before = page.evaluate(target)
        page.mouse.wheel(0, -120)
        page.wait_for_function(f"(before) => {target} > before", arg=before)
        settle(page, "default")
    assert zoom_percent(page) == pytest.approx(fit_zoom * 1.25 ** 3, rel=1e-3)  # zoomPerScroll
    after = Placement(page, "default").page(208, 240)
    assert abs(after[0] - x) < 2 and abs(after[1] - y) < 2
    page.mouse.move(5, 5)  # off the image: hovering highlights an ROI
    check("wheel", False)
    assert_outlined(page, "default", poly_shape(racket.colour, SEED_RACKET[SEED_RACKET.index(-999999999) + 1:]))


# ------------------------------------------------------------------------------------------ shapes, pointer

BOX = {"type": "box", "xywh": [60, 50, 220, 110], "angle": 30}
ELLIPSE = {"type": "ellipse", "xyrrt": [470, 140, 95, 45, -25]}
KEY_POINTS = {"type": "points", "xy": [110, 330, 150, 300, 190, 330, 150, 380, 150, 430]}
ROAD = [330, 300, 600, 290, 620, 450, 360, 460, 300, 400]


def shapes_frame(uri: str, frame_id: str = "shapes", confidences=(0.2, 0.9, None, 0.66)) -> dict:
    """A 640x480 frame with one ROI of every kind: a turned box, a turned ellipse, key points, a polygon."""
    rois = [
        {"id": "box", "labels": ["car"], "shape": BOX},
        {"id": "ellipse", "labels": ["speed limit"], "shape": ELLIPSE},
        {"id": "points", "labels": ["pedestrian"], "shape": KEY_POINTS},
        {"id": "road", "labels": ["road"], "poly": ROAD},
        {"id": "sunny", "labels": ["sunny"], "confidence": 0.8},  # a frame label: listed apart, not drawn
    ]
    for roi, confidence in zip(rois, confidences):
        if confidence is not None:
            roi["confidence"] = confidence
    return {"id": frame_id, "context_id": "shapes", "sources": [{"id": "default", "uri": uri, "content_type": "image/jpeg", "width": 640, "height": 480}],
            "rois": rois}


def expected_shapes() -> dict:
    return {
        "box": box_shape(label_colour("car"), BOX["xywh"], BOX["angle"]),
        "ellipse": ellipse_shape(label_colour("speed limit"), ELLIPSE["xyrrt"]),
        "points": points_shape(label_colour("pedestrian"), KEY_POINTS["xy"]),
        "road": poly_shape(label_colour("road"), ROAD),
    }


@pytest.fixture
def shapes_version(media_roots, no_worker):
    uri = scene(media_roots / "shapes.jpg", (640, 480), (60, 70, 60)).as_uri()
    return version_with("shapes", [shapes_frame(uri), shapes_frame(uri, "shapes-2", (0.3, 0.95, None, None))])


def test_every_shape_kind_is_drawn_where_it_should_be(logged_in_page, shapes_version):
    page = logged_in_page
    open_frame(page, shapes_version, "shapes")
    want = expected_shapes()
    assert len({s.colour for s in want.values()}) == 4
    assert [(d["text"], d["kind"]) for d in drawn_on(page, "default")] == [("car", "box"), ("speed limit", "ellipse"), ("pedestrian", "points"), ("road", "polygon")]
    expect(page.locator("#frame-labels")).to_contain_text("sunny")
    for zoom in ("fit", "one-to-one"):
        page.click(f'[data-zoom="{zoom}"]')
        settle(page, "default")
        for name in ("box", "ellipse", "road"):
            assert_outlined(page, "default", want[name])
        assert_dotted(page, "default", want["points"])
        assert assert_nothing_else(page, "default", list(want.values())) > 200
        # Turned, not upright: the box and the ellipse without their angle are not where they are drawn.
        upright = [box_shape(want["box"].colour, BOX["xywh"]), ellipse_shape(want["ellipse"].colour, ELLIPSE["xyrrt"][:4])]
        for shape in upright:
            assert assert_not_outlined(page, "default", shape, list(want.values())) > 20
        shot(page, f"shapes-{zoom}")


def hover(page, point) -> None:
    page.mouse.move(*Placement(page, "default").page(*point))


def test_hover_select_and_show_hide(logged_in_page, shapes_version):
    page = logged_in_page
    open_frame(page, shapes_version, "shapes")
    want = expected_shapes()
    layer = "window.hyperdataViewer.views[0].layer"
    row = lambda i: page.locator(f'#frame-objects .fv-obj[data-roi-index="{i}"]')
    tip = page.locator(".fv-tip")
    road_inside = (470, 380)

    # Hover: the tooltip names the label and confidence, the ROI is highlighted (a stronger fill) with its row.
    before = sample(page, "default", [road_inside])[0]
    hover(page, road_inside)
    expect(tip).to_be_visible()
    expect(tip).to_have_text("road · 0.66")
    expect(row(3)).to_have_class(re.compile(r"\bis-highlighted\b"))
    assert page.evaluate(f"{layer}.highlighted") == 3
    assert sample(page, "default", [road_inside])[0][3] > before[3] + 30
    shot(page, "hover")
    hover(page, (150, 380))  # a key point: no confidence, the label alone
    expect(tip).to_have_text("pedestrian")
    page.mouse.move(5, 5)
    expect(tip).to_be_hidden()
    assert page.evaluate(f"{layer}.highlighted") is None

    # The list to the image: a row clicked highlights its ROI.
    row(1).click()
    expect(row(1)).to_have_class(re.compile(r"\bis-selected\b"))
    assert page.evaluate(f"[{layer}.highlighted, window.hyperdataViewer.selected]") == [1, 1]
    page.mouse.move(5, 5)
    assert sample(page, "default", [(470, 140)])[0][3] > before[3] + 30

    # The image to the list: a click on the box selects its row.
    page.mouse.click(*Placement(page, "default").page(170, 105))
    expect(row(0)).to_have_class(re.compile(r"\bis-selected\b"))
    expect(row(1)).not_to_have_class(re.compile(r"\bis-selected\b"))
    assert page.evaluate("window.hyperdataViewer.selected") == 0
    page.mouse.click(*Placement(page, "default").page(20, 460))  # nothing there: no selection
    expect(page.locator("#frame-objects .is-selected")).to_have_count(0)
    page.mouse.move(5, 5)

    # One row's box hides its ROI; "Show all" hides them all, and brings them back.
    row(0).locator("input").uncheck()
    expect(row(0)).to_have_class(re.compile(r"\bis-hidden\b"))
    expect(page.locator("#frame-objects-shown")).to_have_text("3")
    others = [want["ellipse"], want["points"], want["road"]]
    assert assert_not_outlined(page, "default", want["box"], others) > 50
    assert_outlined(page, "default", want["road"])
    assert_nothing_else(page, "default", others)
    shot(page, "one-hidden")
    page.uncheck("#frame-objects-all")
    expect(page.locator("#frame-objects-shown")).to_have_text("0")
    for name in ("ellipse", "road"):
        assert_not_outlined(page, "default", want[name])
    assert_nothing_else(page, "default", [])
    page.check("#frame-objects-all")
    assert_outlined(page, "default", want["road"])
    assert_not_outlined(page, "default", want["box"], others)  # still hidden by its own box
    row(0).locator("input").check()
    assert_outlined(page, "default", want["box"])
    expect(page.locator("#frame-objects-shown")).to_have_text("4")


def set_slider(page, value: float) -> None:
    """Drag the minimum-confidence slider to `value` (input while dragging, change when let go)."""
    page.locator("#frame-min-confidence").evaluate(
        "(s, v) => { s.value = String(v); s.dispatchEvent(new Event('input', {bubbles: true})); s.dispatchEvent(new Event('change', {bubbles: true})); }", value)


def test_minimum_confidence_hides_rois_below_it_and_is_kept(logged_in_page, shapes_version):
    page = logged_in_page
    open_frame(page, shapes_version, "shapes", "?sort=id")
    want = expected_shapes()
    row = lambda i: page.locator(f'#frame-objects .fv-obj[data-roi-index="{i}"]')
    set_slider(page, 0.5)
    expect(page.locator("#frame-min-confidence-value")).to_have_text("0.50")
    expect(page.locator("#frame-objects-shown")).to_have_text("3")
    # The box (0.2) is gone; the ellipse (0.9), the road (0.66) and the key points (no confidence) stay.
    expect(row(0)).to_have_class(re.compile(r"\bis-below\b"))
    for i in (1, 2, 3):
        expect(row(i)).not_to_have_class(re.compile(r"\bis-below\b"))
    kept = [want["ellipse"], want["points"], want["road"]]
    assert_not_outlined(page, "default", want["box"], kept)
    assert_outlined(page, "default", want["road"])
    assert_dotted(page, "default", want["points"])
    assert_nothing_else(page, "default", kept)
    shot(page, "confidence")
    set_slider(page, 0.7)
    expect(row(3)).to_have_class(re.compile(r"\bis-below\b"))
    assert_not_outlined(page, "default", want["road"], [want["ellipse"], want["points"]])
    set_slider(page, 0.5)

    # The next frame opens with the same minimum: its box (0.3) hidden, its road (no confidence) drawn.
    page.click('[data-nav="next"]')
    page.wait_for_url(re.compile(r"/frame/shapes-2\?sort=id$"))
    wait_for_viewer(page)
    expect(page.locator("#frame-min-confidence-value")).to_have_text("0.50")
    assert page.locator("#frame-min-confidence").input_value() == "0.5"
    expect(row(0)).to_have_class(re.compile(r"\bis-below\b"))
    expect(row(3)).not_to_have_class(re.compile(r"\bis-below\b"))
    assert_not_outlined(page, "default", want["box"], kept)
    assert_outlined(page, "default", want["road"])


def shown_picture(page, source_id: str) -> np.ndarray:
    """The part of the source's drawn picture where its image is on screen (RGB)."""
    where = Placement(page, source_id)
    size = page.evaluate("(id) => window.hyperdataViewer.views.find((v) => v.id === id).stage.size", source_id)
    pixels = picture(page, source_id)
    x0, y0 = max(0, round(where.x)), max(0, round(where.y))
    x1 = min(pixels.shape[1], round(where.x + size["width"] * where.scale))
    y1 = min(pixels.shape[0], round(where.y + size["height"] * where.scale))
    return pixels[y0 + 2 : y1 - 2, x0 + 2 : x1 - 2, :3].astype(int)


def colour_at(page, source_id: str, point) -> np.ndarray:
    """The picture's mean colour in the 9x9 screen pixels around a source point."""
    sx, sy = (round(v) for v in Placement(page, source_id).screen(*point))
    return picture(page, source_id)[sy - 4 : sy + 5, sx - 4 : sx + 5, :3].reshape(-1, 3).mean(axis=0)


# ------------------------------------------------------------------------------------------------ FrameGroup

CAR = [60, 60, 250, 60, 250, 180, 60, 180]
PERSON = [300, 150, 380, 150, 380, 290, 300, 290]
TRUCK = [420, 220, 600, 220, 600, 360, 420, 360]
SIGN = {"type": "ellipse", "xyrrt": [200, 300, 40, 40]}


def test_framegroup_switcher_cycle_and_side_by_side(logged_in_page, media_roots, no_worker):
    page = logged_in_page
    front = scene(media_roots / "front.jpg", (640, 400), (150, 60, 50)).as_uri()
    rear = scene(media_roots / "rear.jpg", (640, 400), (40, 70, 160)).as_uri()
    version = version_with("group", [{
        "id": "group", "sources": [{"id": "front", "uri": front, "content_type": "image/jpeg", "width": 640, "height": 400},
                                   {"id": "rear", "uri": rear, "content_type": "image/jpeg", "width": 640, "height": 400}],
        "rois": [{"labels": ["car"], "poly": CAR, "sources": ["front"]}, {"labels": ["person"], "poly": PERSON, "sources": ["rear"]},
                 {"labels": ["speed limit"], "shape": SIGN, "sources": ["front", "rear"]}, {"labels": ["truck"], "poly": TRUCK}],
    }])
    car, person, truck = (poly_shape(label_colour(label), poly) for label, poly in (("car", CAR), ("person", PERSON), ("truck", TRUCK)))
    sign = ellipse_shape(label_colour("speed limit"), SIGN["xyrrt"])
    on = {"front": [car, sign, truck], "rear": [person, sign]}  # truck names no source: the first one's
    off = {"front": [person], "rear": [car, truck]}
    figure = lambda id: page.locator(f'.fv-source[data-source-id="{id}"]')
    button = lambda id: page.locator(f'[data-show-source="{id}"]')

    def drawn_right(id: str) -> None:
        settle(page, id)
        for shape in on[id]:
            assert_outlined(page, id, shape)
        for shape in off[id]:
            assert_not_outlined(page, id, shape, on[id])
        assert_nothing_else(page, id, on[id])

    def shows(id: str) -> None:
        expect(figure(id)).to_be_visible()
        expect(figure({"front": "rear", "rear": "front"}[id])).to_be_hidden()
        expect(button(id)).to_have_attribute("aria-pressed", "true")
        drawn_right(id)
        assert (colour_at(page, id, (450, 100)) > 0).all()

    assert open_frame(page, version, "group") == ["front", "rear"]
    assert [d["text"] for d in drawn_on(page, "front")] == ["car", "speed limit", "truck"]
    assert [d["text"] for d in drawn_on(page, "rear")] == ["person", "speed limit"]
    shows("front")
    assert colour_at(page, "front", (450, 100))[0] > 120  # the front camera's (red) picture
    shot(page, "group-front")
    button("rear").click()
    shows("rear")
    assert colour_at(page, "rear", (450, 100))[2] > 130  # the rear camera's (blue) picture
    shot(page, "group-rear")
    page.keyboard.press("s")
    shows("front")

    page.click("#frame-all-sources")
    expect(page.locator("#frame-all-sources")).to_have_attribute("aria-pressed", "true")
    expect(figure("front")).to_be_visible()
    expect(figure("rear")).to_be_visible()
    left, right = figure("front").bounding_box(), figure("rear").bounding_box()
    assert right["x"] >= left["x"] + left["width"] - 1 and abs(right["y"] - left["y"]) < 2  # side by side
    for id in ("front", "rear"):
        drawn_right(id)
    shot(page, "group-all")
    page.keyboard.press("s")  # a source button again: one at a time
    shows("rear")


# ------------------------------------------------------------------------------------------------ keyboard

def nav_frame(i: int, uri: str) -> dict:
    """Frame k<i>: car when i is even, else person; contexts c0..c2 with timestamps out of id order; the object's
    confidence (i % 10) / 10."""
    label = "car" if i % 2 == 0 else "person"
    return {"id": f"k{i:02d}", "context_id": f"c{i % 3}", "timestamp": (i * 7) % 90 * 100,
            "sources": [{"id": "default", "uri": uri, "content_type": "image/jpeg", "width": 320, "height": 240}],
            "rois": [{"labels": [label], "poly": [40, 40, 200, 40, 200, 160, 40, 160], "confidence": (i % 10) / 10}]}


def test_keyboard_across_a_filter_and_back_to_the_grid(logged_in_page, media_roots, no_worker):
    page = logged_in_page
    uri = scene(media_roots / "nav.jpg", (320, 240), (90, 80, 60)).as_uri()
    frames = [nav_frame(i, uri) for i in range(90)]
    version = version_with("keys", frames)
    cars = sorted((f for f in frames if f["rois"][0]["labels"] == ["car"]), key=lambda f: f["id"])  # label=car, sort=id
    ids = [f["id"] for f in cars]
    query = "?label=car&sort=id"
    grid = reverse("viewer:version", args=[version.pk]) + query

    def at(frame_id: str) -> None:
        page.wait_for_url(re.compile(re.escape(f"/frame/{frame_id}{query}") + "$"))
        wait_for_viewer(page)

    # Open a frame from far down the grid.
    page.goto(grid)
    tile = page.locator('.tile[data-frame-id="k60"]')
    tile.scroll_into_view_if_needed()
    scrolled = page.evaluate("window.scrollY")
    assert scrolled > 300
    tile.locator("a").click()
    at("k60")

    page.keyboard.press("ArrowRight")
    at(ids[ids.index("k60") + 1])
    page.keyboard.press("ArrowLeft")
    at("k60")
    jumped = ids[ids.index("k60") + 10]
    page.keyboard.press("Shift+ArrowRight")
    at(jumped)
    # `.`: the next frame in the filter with an ROI at or above the slider's minimum.
    set_slider(page, 0.55)
    page.keyboard.press(".")
    confident = [f["id"] for f in cars if f["id"] > jumped and f["rois"][0]["confidence"] >= 0.55]
    at(confident[0])
    assert confident[0] != ids[ids.index(jumped) + 1]  # it skipped frames below the minimum
    page.keyboard.press("Shift+ArrowRight")  # fewer than 10 left: the last
    at(ids[-1])
    page.keyboard.press("Shift+ArrowRight")  # past the last: nowhere, and the page says so
    expect(page.locator("#frame-nav-status")).to_have_text("No such frame in this direction.")
    expect(page.locator('.fv-nav [aria-disabled="true"]')).to_have_text("Next ›")
    assert page.url.endswith(f"/frame/{ids[-1]}{query}")
    # `]`: the next frame of the same context (film strip order: by timestamp), still in the filter.
    here = next(f for f in cars if f["id"] == ids[-1])
    context = sorted((f for f in cars if f["context_id"] == here["context_id"]), key=lambda f: (f["timestamp"], f["id"]))
    following = context[context.index(here) + 1]
    page.keyboard.press("]")
    at(following["id"])
    page.keyboard.press("[")
    at(here["id"])
    page.keyboard.press("]")
    at(following["id"])
    shot(page, "keys-frame")

    # `?` lists the keys; Esc closes it first, and stays.
    page.keyboard.press("?")
    help_box = page.locator("#frame-help")
    expect(help_box).to_be_visible()
    expect(help_box.locator(".fv-help-row:not(.is-annotating)")).to_have_count(15)
    expect(help_box.locator(".fv-help-row.is-annotating").nth(1)).to_contain_text("Box tool")  # a draft: the annotator's keys follow
    for text in ("Previous / next frame in the current filter and order", "10 frames back / forward", "Zoom in / out", "Back to the frames"):
        expect(help_box).to_contain_text(text)
    assert help_box.locator("kbd").all_inner_texts()[:4] == ["←", "→", "Shift+←", "Shift+→"]
    shot(page, "keys-help")
    page.keyboard.press("Escape")
    expect(help_box).to_be_hidden()
    assert page.url.endswith(f"/frame/{following['id']}{query}")

    # Zoom keys: + and - by the zoom step, 1 is 100%, 0 fits again.
    settle(page, "default")
    fit = zoom_percent(page)
    page.keyboard.press("+")
    settle(page, "default")
    assert zoom_percent(page) == pytest.approx(fit * 1.25, rel=1e-3)
    page.keyboard.press("-")
    page.keyboard.press("-")
    settle(page, "default")
    assert zoom_percent(page) == pytest.approx(fit / 1.25, rel=1e-3)
    page.keyboard.press("1")
    settle(page, "default")
    assert zoom_percent(page) == pytest.approx(100, rel=1e-3)
    expect(page.locator("#frame-zoom")).to_have_value("100%")
    page.keyboard.press("0")
    settle(page, "default")
    assert zoom_percent(page) == pytest.approx(fit, rel=1e-3)

    # Esc: back to the grid with the same filter, where it was scrolled to.
    page.keyboard.press("Escape")
    page.wait_for_url(re.compile(re.escape(grid) + "$"))
    page.wait_for_function("(y) => Math.abs(window.scrollY - y) <= 1", arg=scrolled)
    expect(page.locator('.tile[data-frame-id="k60"]')).to_be_in_viewport()
    shot(page, "keys-grid")


# ------------------------------------------------------------------------------------- compare with parent

DIFF_COLOURS = {"added": "#1a9e3f", "changed": "#e08a00", "before": "#e08a00", "removed": "#d62728", "unchanged": "#8a929c"}  # roi-layer.js
MOVED_CAR = [110, 90, 300, 90, 300, 210, 110, 210]
SIGN_POLY = [450, 60, 560, 60, 560, 150, 450, 150]


def dash_share(page, shape) -> float:
    """The share of points along the shape's outlines (1.5 CSS pixels apart) painted in its colour: near 1 for a
    solid line, about 0.6 for the 6-on 4-off dashes."""
    counts = outline_hits(page, "default", shape, spacing=1.5)
    return sum(c[0] for c in counts) / sum(c[1] for c in counts)


def test_compare_with_the_parent_after_api_edits_in_a_child(logged_in_page, admin_user, media_roots, no_worker):
    page = logged_in_page
    uri = scene(media_roots / "diff.jpg", (640, 480), (70, 75, 80)).as_uri()
    root = version_with("diff", [{"id": "street", "sources": [{"id": "default", "uri": uri, "content_type": "image/jpeg", "width": 640, "height": 480}],
                                  "rois": [{"id": "car-1", "labels": ["car"], "poly": CAR, "confidence": 0.9},
                                           {"id": "person-1", "labels": ["person"], "poly": PERSON, "confidence": 0.8},
                                           {"id": "sign-1", "labels": ["sign"], "poly": SIGN_POLY}]}])
    root = services.version_publish(user=SYSTEM, version=root, name="v1")
    child = services.version_create(user=SYSTEM, parent=root, name="v2")

    # Through the REST API, as a client would: move the car, delete the person, add a truck.
    api, url = api_client(admin_user), f"/api/versions/{child.pk}/frames/street/"

    def edit(change) -> None:
        current = api.get(url)
        rois = change(current.json()["rois"])
        response = api.patch(url, {"rois": rois}, format="json", HTTP_IF_MATCH=current["ETag"])
        assert response.status_code == 200, response.content

    edit(lambda rois: [{**r, "poly": MOVED_CAR} if r["id"] == "car-1" else r for r in rois])
    edit(lambda rois: [r for r in rois if r["id"] != "person-1"])
    edit(lambda rois: rois + [{"id": "truck-1", "labels": ["truck"], "poly": TRUCK, "confidence": 0.7}])

    open_frame(page, child, "street")
    expect(page.get_by_role("toolbar", name="View")).to_contain_text("edited in this version")
    changes = page.locator("[data-panel='changes']")
    expect(changes).to_be_hidden()
    now = {"car": poly_shape(label_colour("car"), MOVED_CAR), "sign": poly_shape(label_colour("sign"), SIGN_POLY),
           "truck": poly_shape(label_colour("truck"), TRUCK)}
    for shape in now.values():
        assert_outlined(page, "default", shape)
    shot(page, "diff-off")

    page.check("#frame-compare")
    expect(changes).to_be_visible()
    expect(changes.locator(".fv-change")).to_have_count(3)
    expect(changes.locator(".fv-change-added")).to_contain_text("truck")
    expect(changes.locator(".fv-change-changed")).to_contain_text("car")
    expect(changes.locator(".fv-change-changed .fv-change-detail")).to_have_text("poly")
    expect(changes.locator(".fv-change-removed")).to_contain_text("person")
    added = poly_shape(DIFF_COLOURS["added"], TRUCK)
    changed = poly_shape(DIFF_COLOURS["changed"], MOVED_CAR)
    unchanged = poly_shape(DIFF_COLOURS["unchanged"], SIGN_POLY)
    before = poly_shape(DIFF_COLOURS["before"], CAR, filled=False)
    removed = poly_shape(DIFF_COLOURS["removed"], PERSON, filled=False)
    for shape in (added, changed, unchanged):
        assert_outlined(page, "default", shape)
        assert dash_share(page, shape) > 0.9
    # The removed ROI and the changed one's old place: dashed, where the parent had them.
    for shape in (before, removed):
        assert 0.35 < dash_share(page, shape) < 0.85, shape.colour
    assert_nothing_else(page, "default", [added, changed, unchanged, before, removed])
    shot(page, "diff-on")

    # `c` turns it off: the label colours again, the removed ROI gone.
    page.keyboard.press("c")
    expect(changes).to_be_hidden()
    for shape in now.values():
        assert_outlined(page, "default", shape)
    assert_not_outlined(page, "default", removed, list(now.values()))
    assert_nothing_else(page, "default", list(now.values()))


# ------------------------------------------------------------------------------------------ source, preview

def test_source_and_preview_switch(logged_in_page, media_roots, no_worker):
    page = logged_in_page
    source = scene(media_roots / "original.jpg", (640, 480), (170, 60, 40)).as_uri()
    preview = scene(media_roots / "original-preview.jpg", (160, 120), (40, 80, 170)).as_uri()
    version = version_with("preview", [{"id": "pv", "rois": [{"labels": ["road"], "poly": ROAD}],
                                        "sources": [{"id": "default", "uri": source, "content_type": "image/jpeg", "width": 640, "height": 480,
                                                     "preview": {"uri": preview}}]}])
    road = poly_shape(label_colour("road"), ROAD)
    open_frame(page, version, "pv")
    figure = page.locator(".fv-source")
    expect(page.locator("#frame-image-switch")).to_be_visible()
    expect(figure).to_have_attribute("data-shown", "image")
    assert colour_at(page, "default", (100, 100))[0] > 120  # the (red) original
    page.click('[data-show-kind="preview"]')
    expect(figure).to_have_attribute("data-shown", "preview")
    expect(page.locator('[data-show-kind="preview"]')).to_have_attribute("aria-pressed", "true")
    settle(page, "default")
    assert colour_at(page, "default", (100, 100))[2] > 120  # the (blue) preview, 4x smaller, over the same place
    assert page.evaluate("window.hyperdataViewer.views[0].stage.size") == {"width": 640, "height": 480}
    assert_outlined(page, "default", road)
    assert_nothing_else(page, "default", [road])
    shot(page, "preview")
    page.keyboard.press("p")
    expect(figure).to_have_attribute("data-shown", "image")
    settle(page, "default")
    assert colour_at(page, "default", (100, 100))[0] > 120
    assert_outlined(page, "default", road)


def test_tiff_and_video_sources_are_shown_through_the_workers(logged_in_page, media_roots, celery_worker_process):
    """A TIFF (a browser cannot show it) appears as the worker's rendition; a video source as its frame at the
    frame's timestamp; the ROIs over either where they belong."""
    page = logged_in_page
    halves = np.zeros((400, 600, 3), np.uint8)
    halves[:, :300] = (200, 40, 40)
    halves[:, 300:] = (40, 190, 60)
    Image.fromarray(halves).save(media_roots / "halves.tif", compression="tiff_lzw")
    times = list(range(0, 1000, 40))
    video = make_video(media_roots / "drive.mp4", frame_times_ms=times, size=(640, 480), gop=6)
    box = [100, 80, 500, 80, 500, 320, 100, 320]

    def video_frame(t: int) -> dict:
        return {"id": f"drive-{t:04d}", "context_id": "drive", "timestamp": t, "rois": [{"labels": ["car"], "poly": box}],
                "sources": [{"id": "default", "uri": video.as_uri(), "content_type": "video/mp4", "timestamp": t, "width": 640, "height": 480}]}

    version = version_with("workers", [
        {"id": "tiff", "rois": [{"labels": ["car"], "poly": box}],
         "sources": [{"id": "default", "uri": (media_roots / "halves.tif").as_uri(), "content_type": "image/tiff", "width": 600, "height": 400}]},
        video_frame(333), video_frame(720),
    ])
    car = poly_shape(label_colour("car"), box)

    open_frame(page, version, "tiff")
    figure = page.locator(".fv-source")
    expect(figure).to_have_attribute("data-shown", "image")
    assert "/media/view/" in page.evaluate("window.hyperdataViewer.views[0].media.image")
    expect(figure.locator(".fv-source-status")).to_be_hidden()
    left, right = colour_at(page, "default", (150, 200)), colour_at(page, "default", (450, 200))
    assert np.abs(left - (200, 40, 40)).max() < 25 and np.abs(right - (40, 190, 60)).max() < 25, (left, right)
    assert_outlined(page, "default", car)
    assert_nothing_else(page, "default", [car])
    shot(page, "tiff")

    for t in (333, 720):
        open_frame(page, version, f"drive-{t:04d}")
        expect(figure).to_have_attribute("data-shown", "image")
        expected, _ = naive_frame_at(video, t)
        assert frame_number(shown_picture(page, "default")) == expected, t
        assert_outlined(page, "default", car)
        shot(page, f"video-{t}")
