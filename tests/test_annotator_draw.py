"""The annotator (issue 12) in Chromium, used with real mouse and keys at 250% zoom, checked where a user would
check: through the REST API (GET /api/versions/<v>/frames/<f>/) after Save and a reload of the page.

- drawing a polygon (clicks, closed on its first vertex), a box and an ellipse (drags) and key points (clicks +
  Enter), labelled with the default label and the editor's label field: stored at the image coordinates aimed at;
- reshaping with the select tool: a vertex dragged, a midpoint dragged into a new vertex, Alt+click deleting a
  vertex, a box corner, a whole shape moved, a vertex dragged off the image snapping to its edge, Del;
- undo and redo, one change at a time, with the saved marker and the toolbar buttons.

Screen points are computed from image points with the stage's own imageToScreen; the pointer lands on whole CSS
pixels, so a stored coordinate may be off by up to one CSS pixel in image pixels (plus the 0.01 rounding).
Screenshots go to /tmp/annotator-shots/ (or HYPERDATA_ANNOTATOR_SHOTS).
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from .clients import api_client
from .test_viewer_page import no_worker, scene, version_with  # noqa: F401 - the fixture without a worker
from .viewer_canvas import drawn_on, settle, wait_for_viewer

pytestmark = pytest.mark.django_db(transaction=True)
SHOTS = Path(os.environ.get("HYPERDATA_ANNOTATOR_SHOTS") or "/tmp/annotator-shots")
WIDTH, HEIGHT = 640, 400  # not square, so that x and y cannot be mixed up unnoticed
ZOOM = 250
FRAME = "street"
VIEW = "window.hyperdataViewer.views[0]"


# ------------------------------------------------------------------------------------------------ helpers


def make_draft(media_roots, name: str, rois: list[dict]):
    picture = scene(media_roots / f"{name}.png", (WIDTH, HEIGHT))
    source = {"id": "default", "uri": picture.as_uri(), "content_type": "image/png", "width": WIDTH, "height": HEIGHT}
    return version_with(name, [{"id": FRAME, "context_id": name, "sources": [source], "rois": rois}])


class Annotating:
    """The frame page of a draft, zoomed to ZOOM, driven with the mouse at image coordinates."""

    def __init__(self, page, user, version):
        self.page = page
        self.user = user
        self.version = version
        self.open()

    def open(self, reload: bool = False) -> None:
        if reload:
            self.page.reload()
        else:
            self.page.goto(reverse("viewer:frame", args=[self.version.pk, FRAME]))
        wait_for_viewer(self.page)
        expect(self.page.locator("#frame-view")).to_have_attribute("data-annotator", "ready")
        self.page.evaluate(f"{VIEW}.stage.setZoomPercent({ZOOM}, true)")
        settle(self.page, "default")
        assert self.page.evaluate(f"{VIEW}.stage.zoomPercent()") == pytest.approx(ZOOM, rel=1e-3)
        self.tolerance = 100 / ZOOM + 0.01  # one CSS pixel in image pixels, and the rounding to hundredths

    def look_at(self, x: float, y: float) -> None:
        """Pan so that image point (x, y) is in the middle of the stage."""
        self.page.evaluate(f"""([x, y]) => {{ const viewport = {VIEW}.stage.viewer.viewport;
            viewport.panTo(viewport.imageToViewportCoordinates(x, y), true); }}""", [x, y])
        settle(self.page, "default")

    def at(self, x: float, y: float) -> tuple[float, float]:
        """Where image point (x, y) is on the page (CSS pixels), asserted to be inside the stage."""
        where = self.page.evaluate(f"""([x, y]) => {{
            const box = {VIEW}.figure.querySelector(".fv-viewport").getBoundingClientRect();
            const [sx, sy] = {VIEW}.stage.imageToScreen([x, y]);
            return [box.left + sx, box.top + sy, sx >= 2 && sy >= 2 && sx <= box.width - 2 && sy <= box.height - 2];
        }}""", [x, y])
        assert where[2], ("not on screen", x, y)
        return round(where[0]), round(where[1])

    def tool(self, name: str) -> None:
        self.page.click(f"#frame-annotate [data-tool={name}]")

    def click(self, x: float, y: float, alt: bool = False) -> None:
        if alt:
            self.page.keyboard.down("Alt")
        self.page.mouse.click(*self.at(x, y))
        if alt:
            self.page.keyboard.up("Alt")

    def drag(self, start: tuple[float, float], end: tuple[float, float]) -> None:
        """Press at image point `start`, move to `end` in steps, release there (the end may be off the image)."""
        self.page.mouse.move(*self.at(*start))
        self.page.mouse.down()
        self.page.mouse.move(*self.at(*end), steps=6)
        self.page.mouse.up()

    def save(self) -> dict:
        """Ctrl+S, then the frame as the REST API answers."""
        self.page.keyboard.press("Control+s")
        self.expect_status("saved")
        return self.stored()

    def stored(self) -> dict:
        got = api_client(self.user).get(f"/api/versions/{self.version.pk}/frames/{FRAME}/")
        assert got.status_code == 200, got.content[:300]
        return got.json()

    def expect_status(self, status: str) -> None:
        expect(self.page.locator("#frame-view")).to_have_attribute("data-save-status", status)

    def expect_objects(self, count: int) -> None:
        expect(self.page.locator("#frame-objects-count")).to_have_text(str(count))
        assert len(drawn_on(self.page, "default")) == count  # what the stage draws, not only the list

    def shot(self, name: str, selector: str | None = None) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        target = self.page.locator(selector) if selector else self.page
        target.screenshot(path=str(SHOTS / f"{name}.png"))


@pytest.fixture
def annotate(logged_in_page, admin_user, media_roots, no_worker):  # noqa: F811
    return lambda name, rois: Annotating(logged_in_page, admin_user, make_draft(media_roots, name, rois))


def by_kind(rois: list[dict]) -> dict:
    return {(roi.get("shape") or {}).get("type", "polygon" if roi.get("poly") else "frame"): roi for roi in rois}


def assert_points(got: list[float], wanted: list[float], tolerance: float) -> None:
    assert len(got) == len(wanted) and all(abs(a - b) <= tolerance for a, b in zip(got, wanted)), (got, wanted, tolerance)


# ------------------------------------------------------------------------------------------------ drawing

POLYGON = [(200, 120), (290, 110), (310, 190), (215, 200)]
BOX_DRAG = ((430, 210), (340, 140))  # from the bottom right corner to the top left one
ELLIPSE_DRAG = ((80, 250), (170, 310))
KEY_POINTS = [(400, 300), (440, 330), (480, 290)]


def test_draw_every_kind_label_save_and_find_them_at_the_image_coordinates(annotate):
    a = annotate("draw", [])
    page = a.page
    page.fill("#frame-default-label", "car")
    page.locator("#frame-default-label").blur()  # `change`: new shapes get "car"

    a.tool("polygon")
    a.look_at(255, 155)
    for point in POLYGON[:3]:
        a.click(*point)
    page.mouse.move(*a.at(*POLYGON[3]))
    expect(page.locator("#frame-annotate-message")).to_contain_text("3 points: click the first point or press Enter")
    a.shot("1-polygon-mid-draw")
    a.click(*POLYGON[3])
    a.click(*POLYGON[0])  # on the first vertex: closes it
    a.expect_objects(1)
    page.fill("#roi-label-input", "vehicle")
    page.press("#roi-label-input", "Enter")
    expect(page.locator("#roi-editor .chip")).to_have_text(["car×", "vehicle×"])

    a.tool("box")
    a.look_at(385, 175)
    a.drag(*BOX_DRAG)
    a.expect_objects(2)
    a.tool("ellipse")
    a.look_at(125, 280)
    a.drag(*ELLIPSE_DRAG)
    a.expect_objects(3)
    a.tool("points")
    a.look_at(440, 310)
    for point in KEY_POINTS:
        a.click(*point)
    page.keyboard.press("Enter")
    a.expect_objects(4)
    a.expect_status("unsaved")
    a.shot("1-drawn-key-points-selected")
    assert a.stored()["rois"] == []  # nothing is saved before Save

    a.save()
    a.open(reload=True)
    a.expect_status("saved")
    a.expect_objects(4)
    expect(page.locator("#frame-objects .fv-obj-text")).to_have_text(["car, vehicle", "car", "car", "car"])
    expect(page.locator("#frame-objects .fv-obj-kind")).to_have_text(["polygon", "box", "ellipse", "3 points"])

    rois = a.stored()["rois"]
    assert [roi["labels"] for roi in rois] == [["car", "vehicle"], ["car"], ["car"], ["car"]]
    shapes, t = by_kind(rois), a.tolerance
    assert_points(shapes["polygon"]["poly"], [v for point in POLYGON for v in point], t)
    box = shapes["box"]["shape"]
    assert box["angle"] == 0
    assert_points(box["xywh"], [340, 140, 90, 70], t)
    ellipse = shapes["ellipse"]["shape"]["xyrrt"]
    assert_points(ellipse, [125, 280, 45, 30, 0], t)
    assert_points(shapes["points"]["shape"]["xy"], [v for point in KEY_POINTS for v in point], t)
    assert all(roi.get("id") for roi in rois)  # the server named the new ROIs


# ------------------------------------------------------------------------------------------------ reshaping

FIELD = [100, 100, 200, 100, 200, 200, 100, 200]
SIGN = {"type": "box", "xywh": [300, 100, 120, 80], "angle": 0}
LAMP = {"type": "ellipse", "xyrrt": [520, 300, 40, 30, 0]}


def test_reshape_move_snap_and_delete_with_the_select_tool(annotate):
    a = annotate("reshape", [{"labels": ["field"], "poly": FIELD}, {"labels": ["sign"], "shape": SIGN}, {"labels": ["lamp"], "shape": LAMP}])
    page = a.page
    selected = "() => window.hyperdataViewer.selected"
    a.look_at(150, 150)
    a.click(130, 160)  # inside the polygon: selects it, its handles show
    assert page.evaluate(selected) == 0
    expect(page.locator("#roi-editor")).to_contain_text("polygon #0")
    a.shot("2-polygon-selected-handles")
    a.shot("2-editor-panel", "[data-panel=edit]")

    a.drag((200, 200), (230, 240))  # a vertex
    a.drag((150, 100), (150, 70))  # the first edge's midpoint: a new vertex after the first
    a.click(100, 200, alt=True)  # deletes that vertex
    expect(page.locator("#roi-editor .fv-geometry-note")).to_contain_text("4 vertices")
    assert page.evaluate(selected) == 0, "Alt+click on a vertex left the polygon unselected"
    a.look_at(150, 60)
    a.drag((150, 70), (170, -30))  # off the top of the image: stops at its edge
    a.shot("2-polygon-reshaped")

    a.look_at(380, 150)
    a.click(330, 130)  # inside the box
    expect(page.locator("#roi-editor")).to_contain_text("box #1")
    a.drag((420, 180), (440, 200))  # the bottom right corner: the top left one stays
    expect(page.locator("#roi-geometry-2")).to_have_value("140")
    a.drag((350, 120), (370, 150))  # inside: the whole box moves
    a.look_at(520, 300)
    a.click(520, 300)
    expect(page.locator("#roi-editor")).to_contain_text("ellipse #2")
    page.keyboard.press("Delete")
    a.expect_objects(2)

    a.save()
    a.open(reload=True)
    a.expect_objects(2)
    rois, t = a.stored()["rois"], a.tolerance
    assert [roi["labels"] for roi in rois] == [["field"], ["sign"]]
    poly = rois[0]["poly"]
    assert poly[0:2] == [100, 100] and poly[4:6] == [200, 100] and poly[3] == 0  # untouched vertices; snapped to the top
    assert_points(poly, [100, 100, 170, 0, 200, 100, 230, 240], t)
    assert rois[1]["shape"]["angle"] == 0
    assert_points(rois[1]["shape"]["xywh"], [320, 130, 140, 100], 2 * t)  # a move adds two pointer positions' errors


# ------------------------------------------------------------------------------------------------ undo and redo


def test_undo_and_redo_one_change_at_a_time_with_the_saved_marker(annotate):
    a = annotate("undo", [])
    page = a.page
    undo, redo = page.locator("[data-annotate=undo]"), page.locator("[data-annotate=redo]")
    expect(undo).to_be_disabled()
    expect(redo).to_be_disabled()
    a.expect_status("saved")
    expect(page.locator("#frame-save-status")).to_have_text("All changes saved")

    a.tool("box")
    a.look_at(150, 140)
    a.drag((100, 100), (200, 180))
    a.expect_objects(1)
    a.expect_status("unsaved")
    expect(page.locator("#frame-save-status")).to_have_text("Unsaved changes")
    expect(undo).to_be_enabled()
    a.tool("ellipse")
    a.look_at(290, 135)
    a.drag((250, 100), (330, 170))
    a.expect_objects(2)
    a.tool("points")
    a.look_at(410, 130)
    a.click(400, 120)
    a.click(420, 140)
    page.keyboard.press("Enter")
    a.expect_objects(3)
    assert [roi["shape"]["type"] for roi in a.save()["rois"]] == ["box", "ellipse", "points"]
    expect(page.locator("#frame-save-status")).to_have_text("All changes saved")
    expect(redo).to_be_disabled()

    for keys, count, status in [("Control+z", 2, "unsaved"), ("Control+z", 1, "unsaved"), ("Control+y", 2, "unsaved"),
                                ("Control+z", 1, "unsaved"), ("Control+z", 0, "unsaved"), ("Control+z", 0, "unsaved")]:
        page.keyboard.press(keys)
        a.expect_objects(count)
        a.expect_status(status)
    expect(undo).to_be_disabled()
    expect(redo).to_be_enabled()
    assert len(a.stored()["rois"]) == 3  # undo changes nothing on the server until saved
    for count in (1, 2, 3):
        page.keyboard.press("Control+Shift+Z" if count == 2 else "Control+y")
        a.expect_objects(count)
    a.expect_status("saved")  # back where it was saved
    expect(redo).to_be_disabled()

    undo.click()
    a.expect_objects(2)
    a.expect_status("unsaved")
    assert [roi["shape"]["type"] for roi in a.save()["rois"]] == ["box", "ellipse"]
    page.keyboard.press("Control+z")
    a.expect_status("unsaved")  # saved, then an undo: unsaved again
    a.expect_objects(1)
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.type), dialog.accept()))
    a.open(reload=True)  # leaving with unsaved changes asks first; accepted: the undo is dropped
    assert asked == ["beforeunload"]
    a.expect_objects(2)
    expect(undo).to_be_disabled()
