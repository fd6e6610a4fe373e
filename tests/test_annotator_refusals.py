"""The annotator refusing in Chromium (issue 12): the read-only page for a viewer and on a published version
(with "Annotate in a new draft" for an owner), and bad input (a polygon of 2 points, a box of no area, an empty
label, a confidence of 1.5, invalid metadata JSON) refused beside the field with nothing saved, checked through
the REST API. The fixture and helpers are tests/test_annotator_flows.py's; screenshots go to its SHOTS folder.
"""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from frames import services
from frames.models import DatasetVersion
from viewer.contract import PUBLISHED_REASON, VIEWER_REASON

from .test_annotator_flows import (  # noqa: F401 - shop and no_worker are fixtures
    CAR, READY, Placement, add_frame_label, annotate, as_user, blur, click_image, frame_labels, frame_url, no_worker, open_frame,
    select_car, set_field, shop, shot, status, stored,
)

pytestmark = pytest.mark.django_db(transaction=True)


# --------------------------------------------------------------------------------------------- read-only


def test_a_viewer_sees_why_and_the_keys_change_nothing(page, live_server, shop):
    open_frame(as_user(page, live_server, shop.users["vera"]), shop.draft, "f1")
    before = stored(shop.draft, "f1")
    notice = page.locator("#frame-readonly")
    expect(notice).to_be_visible()
    expect(notice).to_have_text(VIEWER_REASON)
    assert "role in this dataset is viewer" in VIEWER_REASON
    expect(page.locator("#frame-annotate")).to_be_hidden()
    expect(page.locator("#frame-annotate-draft")).to_have_count(0)
    expect(page.locator("[data-panel=edit]")).to_be_hidden()
    shot(page, "readonly-viewer")
    page.keyboard.press("b")
    start, end = Placement(page, "default").page(200, 150), Placement(page, "default").page(320, 260)
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(*end, steps=8)
    page.mouse.up()
    click_image(page, CAR[0] + 10, CAR[1] + 10)  # on the box
    page.keyboard.press("Delete")
    page.keyboard.press("Control+v")
    assert page.evaluate("() => window.hyperdataViewer.annotator === undefined")
    assert stored(shop.draft, "f1") == before


def test_an_owner_on_a_published_version_annotates_in_a_new_draft(page, live_server, shop):
    published, _ = services.version_snapshot(user=shop.users["olga"], version=shop.draft, name="v1")
    drafts = set(DatasetVersion.objects.filter(parent=published).values_list("pk", flat=True))
    open_frame(as_user(page, live_server, shop.users["olga"]), published, "f2")
    notice = page.locator("#frame-readonly")
    expect(notice.locator(".fv-readonly-reason")).to_have_text(PUBLISHED_REASON + " Make a draft child to annotate in.")
    expect(page.locator("#frame-annotate")).to_be_hidden()
    shot(page, "readonly-published-owner")
    with page.expect_navigation():
        page.locator("#frame-annotate-draft").click()
    expect(page.locator(READY)).to_have_count(1)
    (child,) = DatasetVersion.objects.filter(parent=published).exclude(pk__in=drafts)
    assert not child.is_published and page.url.endswith(frame_url(child, "f2"))
    expect(page.locator("#frame-readonly")).to_have_count(0)
    shot(page, "new-draft")
    add_frame_label(page, "checked")
    page.keyboard.press("Control+s")
    expect(status(page)).to_have_text("All changes saved")
    assert frame_labels(stored(child, "f2")) == [["checked"]] and frame_labels(stored(published, "f2")) == []


def test_an_annotator_on_a_published_version_is_told_who_can_make_a_draft(page, live_server, shop):
    published, _ = services.version_snapshot(user=shop.users["olga"], version=shop.draft, name="v1")
    open_frame(as_user(page, live_server, shop.users["abe"]), published, "f1")
    expect(page.locator("#frame-readonly")).to_have_text(PUBLISHED_REASON + " An owner of this dataset can make a draft child to annotate in.")
    expect(page.locator("#frame-annotate-draft")).to_have_count(0)
    expect(page.locator("#frame-annotate")).to_be_hidden()


# ----------------------------------------------------------------------------------------------- bad input


def error_beside(page, field: str):
    return page.locator(f'.fv-field-error[data-error-for="{field}"]')


def test_bad_shapes_and_an_empty_label_are_refused_beside_the_field(page, live_server, shop):
    annotate(as_user(page, live_server, shop.users["abe"]), shop.draft)
    before = stored(shop.draft, "f1")
    page.keyboard.press("g")
    click_image(page, 100, 200)
    click_image(page, 160, 260)
    page.keyboard.press("Enter")
    expect(page.locator("#frame-annotate-message")).to_have_text("A polygon needs at least 3 points: click more, or Esc to cancel.")
    page.keyboard.press("Escape")
    page.keyboard.press("v")
    assert page.evaluate("() => window.hyperdataViewer.annotator.state.rois.length") == 2
    expect(status(page)).to_have_text("All changes saved")  # nothing was made

    select_car(page)
    page.locator("#roi-label-input").press("Enter")
    expect(error_beside(page, "roi-label-input")).to_have_text("a label cannot be empty")
    expect(status(page)).to_have_text("All changes saved")

    set_field(page, "#roi-geometry-2", "0")
    expect(error_beside(page, "shape.xywh")).to_have_text("a box needs a width and a height")
    blur(page)
    page.keyboard.press("Control+s")
    expect(status(page)).to_have_text("Not saved")
    expect(page.locator("#frame-annotate-message")).to_have_text("Not saved: 1 problem to fix (a box needs a width and a height)")
    shot(page, "refused-box", "edit")
    assert stored(shop.draft, "f1") == before


def test_confidence_and_metadata_are_refused_in_place_until_fixed(page, live_server, shop):
    annotate(as_user(page, live_server, shop.users["abe"]), shop.draft)
    before = stored(shop.draft, "f1")
    select_car(page)
    set_field(page, "#roi-confidence", "1.5")
    expect(error_beside(page, "confidence")).to_have_text("the confidence is a number from 0 to 1")
    page.locator("#roi-meta").fill('{"colour": "red"')
    expect(error_beside(page, "rois[0].meta")).to_contain_text("not valid JSON")
    page.locator("#frame-meta-input").fill('{"weather": }')
    expect(error_beside(page, "meta")).to_contain_text("not valid JSON")
    blur(page)
    page.keyboard.press("Control+s")
    expect(status(page)).to_have_text("Not saved")
    expect(page.locator("#frame-annotate-message")).to_have_text("Not saved: 3 problems to fix (the confidence is a number from 0 to 1)")
    shot(page, "refused-fields", "edit", "metadata")
    assert stored(shop.draft, "f1") == before

    set_field(page, "#roi-confidence", "0.5")  # the panel is drawn again: the metadata typed stays, and its error
    expect(page.locator("#roi-confidence")).to_have_value("0.5")
    expect(page.locator("#roi-meta")).to_have_value('{"colour": "red"')
    expect(error_beside(page, "rois[0].meta")).to_contain_text("not valid JSON")
    set_field(page, "#roi-meta", '{"colour": "red"}')
    expect(error_beside(page, "rois[0].meta")).to_have_text("")
    add_frame_label(page, "dusk")  # the frame's panel is drawn again: its metadata typed stays too
    expect(page.locator("#frame-meta-input")).to_have_value('{"weather": }')
    expect(error_beside(page, "meta")).to_contain_text("not valid JSON")
    set_field(page, "#frame-meta-input", '{"weather": "rain"}')
    expect(error_beside(page, "meta")).to_have_text("")
    blur(page)
    page.keyboard.press("Control+s")
    expect(status(page)).to_have_text("All changes saved")
    saved = stored(shop.draft, "f1")
    assert (saved["rois"][0]["confidence"], saved["rois"][0]["meta"], saved["meta"]) == (0.5, {"colour": "red"}, {"weather": "rain"})
    assert frame_labels(saved) == [["dusk"]]


def test_deleting_a_shape_drops_the_metadata_typed_for_it(page, live_server, shop):
    annotate(as_user(page, live_server, shop.users["abe"]), shop.draft)
    select_car(page)
    page.locator("#roi-meta").fill('{"colour": ')
    expect(error_beside(page, "rois[0].meta")).to_contain_text("not valid JSON")
    blur(page)
    page.keyboard.press("Delete")
    page.keyboard.press("Control+s")
    expect(status(page)).to_have_text("All changes saved")
    assert [roi["labels"] for roi in stored(shop.draft, "f1")["rois"]] == [["tree"]]
