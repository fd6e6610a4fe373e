"""Small screens (issue 13, item 9): every page at a phone's 390 x 844 CSS pixels (device scale 3, touch), in
Debian's Chromium. Nothing is wider than the screen, the menu button opens and closes the side bar, pictures keep
their proportions with the ROIs drawn where they belong, and wide tables scroll inside their own box.

Screenshots of every page go to test-artifacts/screenshots/small-*.png (or $HYPERDATA_SCREENSHOTS).
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from viewer.tiles import label_colour

from .test_ui_frames import VIDEO_CONTEXT, make_version, media_dirs, media_settings, video_frame  # noqa: F401 - fixtures
from .test_viewer_module import assert_drawn
from .viewer_canvas import PLACEMENT, SETTLED, assert_outlines_drawn, close, edge_midpoints, sample, wait_for_viewer

SCREENSHOTS = Path(os.environ.get("HYPERDATA_SCREENSHOTS") or Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots")
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3, "is_mobile": True, "has_touch": True}
WIDTH = PHONE["viewport"]["width"]

# Elements that stick out of the screen on the right (the page's scroll width says that something does; this
# says what), skipping what sits inside a box that scrolls or clips it.
WIDER_THAN_SCREEN = """(width) => [...document.querySelectorAll("body *")].filter((e) => {
    if (e.getBoundingClientRect().right <= width + 0.5) return false;
    for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) {
        if (getComputedStyle(p).overflowX !== "visible") return false;
    }
    return true;
}).slice(0, 8).map((e) => `${e.tagName.toLowerCase()}#${e.id}.${[...e.classList].join(".")} right=${Math.round(e.getBoundingClientRect().right)}`)"""


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"small-{name}.png"))


def assert_fits(page, name: str) -> None:
    """Nothing on the page, the fixed top bar included, reaches past the screen's right edge."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= WIDTH, (name, width, page.evaluate(WIDER_THAN_SCREEN, WIDTH))
    assert page.evaluate(WIDER_THAN_SCREEN, WIDTH) == [], name
    assert page.evaluate("window.innerWidth") == WIDTH  # a phone browser did not zoom out to fit a wider page


@pytest.fixture
def phone(browser, live_server, admin_user):
    """A page in a phone-sized browser context, signed in as pytest-django's admin (staff)."""
    client = Client()
    client.force_login(admin_user)
    context = browser.new_context(base_url=live_server.url, **PHONE)
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value, "url": live_server.url}])
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.set_default_navigation_timeout(30_000)
    yield page
    context.close()


@pytest.fixture
def draft(db, media_settings):
    """A draft version (so the frame page shows the annotator) of 332 frames: 30 street scenes, a 300-frame video
    context and a two-source group (tests/test_ui_frames.py)."""
    return make_version(media_settings["originals"], publish=False)


# --------------------------------------------------------------------------------------------------------- pages


@pytest.mark.django_db(transaction=True)
def test_every_page_fits_the_screen(phone, draft):
    page, (version, _) = phone, draft
    v = f"/versions/{version.pk}"
    pages = {
        "datasets": ("/?view=cards", "h1"),
        "datasets-table": ("/?view=table", ".content table.table"),
        "dataset": (f"/datasets/{version.dataset_id}/", ".vnode"),
        "members": (f"/datasets/{version.dataset_id}/members/", "h1"),
        "grid": (f"{v}/", "#fb-grid .tile"),
        "table": (f"{v}/?view=table", ".fb-table tbody tr"),
        "groups": (f"{v}/?group=context", "#fb-contexts .tile"),
        "filters": (f"{v}/?label=car&frame_query=meta.speed:[10 TO 60]", "#fb-grid .tile"),
        "page-2": (f"{v}/?page=2&limit=10", "#fb-jump"),
        "split": (f"{v}/split/?a_roi_query=car&b_frame_query=meta.speed:[10 TO 60]", ".split-side .tile"),
        "frame": (f"{v}/frame/street-03", "#frame-view[data-annotator='ready']"),
        "framegroup": (f"{v}/frame/group-00", "#frame-view[data-annotator='ready']"),
        "context": (f"{v}/context/?context={VIDEO_CONTEXT}", "#cx-strip .cx-cell"),
        "statistics": (f"{v}/stats/", "h1"),
        "metadata": (f"{v}/metadata/", "h1"),
        "info": (f"{v}/info/", "h1"),
        "jobs": ("/jobs/", "h1"),
        "cloud-access": ("/settings/cloud-access/", "h1"),
    }
    for name, (url, ready) in pages.items():
        page.goto(url)
        expect(page.locator(ready).first).to_be_visible()
        page.wait_for_load_state("load")
        assert_fits(page, name)
        shot(page, name)
        if name == "filters":  # the filter editor open: its rows stack
            page.click("#fb-filters-toggle")
            expect(page.locator("#fb-advanced")).to_be_visible()
            assert_fits(page, "filter editor")
            shot(page, "filter-editor")
    # The grid shows at least two tiles a row, side by side inside the screen.
    page.goto(f"{v}/")
    boxes = page.locator("#fb-grid .tile").evaluate_all("tiles => tiles.slice(0, 4).map((t) => t.getBoundingClientRect().toJSON())")
    assert boxes[0]["top"] == boxes[1]["top"] and boxes[1]["left"] >= boxes[0]["right"] and boxes[1]["right"] <= WIDTH


# ------------------------------------------------------------------------------------------------------ the menu


@pytest.mark.django_db(transaction=True)
def test_menu_button_opens_and_closes_the_side_bar(phone):
    page = phone
    page.goto("/")
    button, nav = page.locator("#nav-toggle"), page.locator("#sidenav")
    expect(button).to_be_visible()
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(button).to_have_attribute("aria-controls", "sidenav")
    expect(nav).to_be_hidden()  # hidden from sight, from the keyboard and from screen readers
    expect(page.locator(".topbar .user-name")).to_be_hidden()  # the name and Sign out moved into the side bar
    assert_fits(page, "closed menu")

    button.click()
    expect(button).to_have_attribute("aria-expanded", "true")
    expect(nav).to_be_visible()
    expect(page.locator("#sidenav .nav-item.active")).to_be_focused()  # focus moves into the menu
    expect(nav.get_by_role("link", name="Cloud access")).to_be_visible()
    expect(nav.get_by_role("button", name="Sign out")).to_be_visible()
    expect(nav.locator(".nav-user")).to_have_text("admin")
    expect(nav).to_have_css("transform", "none")  # slid in all the way
    box = nav.bounding_box()
    assert box["x"] == 0 and box["width"] < WIDTH  # over the page, leaving a strip of it to tap
    assert_fits(page, "open menu")
    shot(page, "menu-open")

    page.keyboard.press("Escape")  # Esc closes it and gives focus back to the button
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(nav).to_be_hidden()
    expect(button).to_be_focused()

    button.click()  # a tap beside the menu closes it too
    expect(nav).to_be_visible()
    page.mouse.click(WIDTH - 10, 600)
    expect(nav).to_be_hidden()
    expect(button).to_have_attribute("aria-expanded", "false")

    button.click()  # the button closes what it opened; its links work
    expect(nav).to_be_visible()
    button.click()
    expect(nav).to_be_hidden()
    button.click()
    nav.get_by_role("link", name="Jobs").click()
    page.wait_for_url(re.compile(r"/jobs/$"))
    expect(page.locator("#sidenav")).to_be_hidden()

    # On a wide screen the side bar is always there and the button is not.
    page.set_viewport_size({"width": 1280, "height": 800})
    expect(page.locator("#sidenav")).to_be_visible()
    expect(page.locator("#nav-toggle")).to_be_hidden()
    expect(page.locator("#sidenav .nav-account")).to_be_hidden()
    expect(page.locator(".topbar .user-name")).to_be_visible()


# ------------------------------------------------------------------------------------------- pictures and ROIs


@pytest.mark.django_db(transaction=True)
def test_frame_page_keeps_the_picture_in_proportion_with_its_rois(phone, draft):
    page, (version, data) = phone, draft
    page.goto(f"/versions/{version.pk}/frame/street-03")
    assert wait_for_viewer(page) == ["default"]
    expect(page.locator("#frame-view")).to_have_attribute("data-annotator", "ready")
    placed = page.evaluate(PLACEMENT, "default")
    shown_w, shown_h = page.evaluate(
        "() => { const s = window.hyperdataViewer.views[0].stage; const b = s.viewer.world.getItemAt(0).getBounds(true);"
        " const r = s.viewer.viewport.viewportToViewerElementRectangle(b); return [r.width, r.height]; }")
    assert abs(shown_w / shown_h - 320 / 240) < 0.01  # 4:3, as the source
    assert placed["left"] >= 0 and placed["left"] + placed["width"] <= WIDTH  # the stage fits the screen
    assert placed["x"] >= -0.5 and placed["x"] + shown_w <= placed["width"] + 0.5  # fitted: all of it is in view
    assert shown_w >= 0.9 * placed["width"]  # and it uses the screen's width
    rois = next(f for f in data if f["id"] == "street-03")["rois"]
    assert_outlines_drawn(page, rois, "default", "default")

    # The annotator's toolbar wraps inside the screen; every button can be tapped.
    toolbar = page.locator("#frame-annotate")
    expect(toolbar).to_be_visible()
    for button in toolbar.locator("button").all():
        box = button.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= WIDTH, button.inner_text()
    assert toolbar.evaluate("t => t.scrollWidth <= t.clientWidth")
    assert page.evaluate("document.querySelectorAll('#frame-annotate .btn').length") >= 8

    # Zoomed in, the overlay still follows the picture (checked on the ROIs still wholly in view).
    page.evaluate("window.hyperdataViewer.views[0].stage.setZoomPercent(170)")
    page.wait_for_function(SETTLED, arg="default")
    placed = page.evaluate(PLACEMENT, "default")
    left, right = -placed["x"] / placed["scale"], (placed["width"] - placed["x"]) / placed["scale"]
    top, bottom = -placed["y"] / placed["scale"], (placed["height"] - placed["y"]) / placed["scale"]
    in_view = [roi for roi in rois if roi.get("poly") and all(
        left + 4 <= x <= right - 4 and top + 4 <= y <= bottom - 4 for x, y in zip(roi["poly"][0::2], roi["poly"][1::2]) if x > -1e6)]
    assert [roi["labels"] for roi in in_view] == [["car"]], (placed, left, right, top, bottom)
    colour = label_colour("car")
    hits = [close(rgba, colour) for rgba in sample(page, "default", edge_midpoints(in_view[0]["poly"]))]
    assert all(hits), hits
    assert_fits(page, "zoomed frame")
    shot(page, "frame-zoomed")


@pytest.mark.django_db(transaction=True)
def test_film_strip_keeps_the_picture_in_proportion(phone, draft):
    page, (version, _) = phone, draft
    page.goto(f"/versions/{version.pk}/context/?context={VIDEO_CONTEXT}")
    expect(page.locator("#cx-strip .cx-cell")).to_have_count(300)
    image = page.locator("#cx-image")
    expect(image).to_have_js_property("complete", True)
    box = image.bounding_box()
    assert abs(box["width"] / box["height"] - 160 / 90) < 0.02  # 16:9, as the frames
    assert box["x"] >= 0 and box["x"] + box["width"] <= WIDTH
    assert_drawn(page.locator("#cx-canvas"), video_frame(0)["rois"], "default", "default", (160, 90))
    # The strip scrolls sideways inside itself, not the page.
    strip = page.locator("#cx-strip")
    assert strip.evaluate("s => s.scrollWidth > s.clientWidth")
    strip.evaluate("s => { s.scrollLeft = 400; }")
    assert strip.evaluate("s => s.scrollLeft") > 0 and page.evaluate("window.scrollX") == 0
    page.click("#cx-next")
    expect(page.locator("#cx-index")).to_have_text("frame 2 / 300")
    assert_fits(page, "context")


# ---------------------------------------------------------------------------------------------------- tables


def assert_scrolls_in_its_box(page, selector: str) -> None:
    box = page.locator(selector).first
    assert box.evaluate("b => b.scrollWidth > b.clientWidth"), f"{selector} is not wider than its box"
    assert box.evaluate("b => b.getBoundingClientRect().right") <= WIDTH
    box.evaluate("b => { b.scrollLeft = 200; }")
    assert box.evaluate("b => b.scrollLeft") > 0, f"{selector} does not scroll"
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH and page.evaluate("window.scrollX") == 0


@pytest.mark.django_db(transaction=True)
def test_tables_scroll_inside_their_own_box(phone, draft):
    page, (version, _) = phone, draft
    page.goto(f"/versions/{version.pk}/?view=table&cols=speed,city,weather")
    expect(page.locator(".fb-table tbody tr").first).to_be_visible()
    assert_scrolls_in_its_box(page, ".fb-table-wrap")
    # A row's thumbnail keeps its proportions in the narrow table.
    thumb = page.locator('.fb-table tr:has-text("street-00") img').first
    expect(thumb).to_have_js_property("complete", True)
    fit = thumb.evaluate("i => [getComputedStyle(i).objectFit, i.naturalWidth / i.naturalHeight, i.width / i.height]")
    assert fit[0] in ("contain", "cover") or abs(fit[1] - fit[2]) < 0.05, fit
    shot(page, "table-scrolled")

    page.goto("/settings/cloud-access/")
    assert_scrolls_in_its_box(page, "table.credentials")
    page.goto("/?view=table")
    assert_scrolls_in_its_box(page, ".content table.table")
