"""The annotator's flows in Chromium (issue 12): autosave when moving to another frame (and staying, saying why,
when the save is refused), the question before leaving otherwise, copy and paste onto another frame, the
conflict of two users saving the same frame (two browser contexts). The read-only page and bad input are
tests/test_annotator_refusals.py's (which uses this module's fixture and helpers); drawing and reshaping are
tests/test_annotator_draw.py's. What is stored is read back through the REST API
(GET /api/versions/<v>/frames/<f>/). Screenshots go to /tmp/annotator-shots/ (or HYPERDATA_ANNOTATOR_SHOTS).
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from frames import services

from .clients import api_client
from .test_members import sign_in
from .test_viewer_page import no_worker, open_frame, scene  # noqa: F401 - no_worker is a fixture
from .viewer_canvas import Placement

pytestmark = pytest.mark.django_db(transaction=True)
SHOTS = Path(os.environ.get("HYPERDATA_ANNOTATOR_SHOTS") or "/tmp/annotator-shots")

SIZE = (400, 300)  # every frame's picture: pasting keeps positions only between pictures of one size
CAR = [40, 40, 120, 80]  # f1's box
TREE = [250, 50, 350, 60, 300, 200]  # f1's polygon
READY = '#frame-view[data-annotator="ready"]'


@pytest.fixture
def shop(django_user_model, media_roots, no_worker):  # noqa: F811
    """olga owns "Harbour", a draft with frames f1 (a box "car" of confidence 0.9 and a polygon "tree"), f2 and
    f3 (nothing on them), each a 400x300 picture; abe and ann annotate it, vera views it."""
    users = {name: django_user_model.objects.create_user(name) for name in ("olga", "abe", "ann", "vera")}
    dataset = services.dataset_create(user=users["olga"], name="Harbour")
    draft = dataset.versions.get()
    frames = []
    for i, frame_id in enumerate(["f1", "f2", "f3"]):
        uri = scene(media_roots / f"harbour-{frame_id}.jpg", SIZE, (60 + 30 * i, 90, 110)).as_uri()
        frames.append({"id": frame_id, "context_id": "harbour", "timestamp": i, "rois": [], "sources": [
            {"id": "default", "uri": uri, "content_type": "image/jpeg", "width": SIZE[0], "height": SIZE[1]}]})
    frames[0]["rois"] = [{"labels": ["car"], "confidence": 0.9, "shape": {"type": "box", "xywh": CAR}},
                         {"labels": ["tree"], "poly": TREE}]
    services.frames_add(user=users["olga"], version=draft, frames=frames)
    for name, role in (("abe", "annotator"), ("ann", "annotator"), ("vera", "viewer")):
        services.member_set(user=users["olga"], dataset=dataset, username=name, role=role)
    return SimpleNamespace(users=users, dataset=dataset, draft=draft)


# ------------------------------------------------------------------------------------------------ helpers


def stored(version, frame_id: str) -> dict:
    """The frame as the REST API answers it now."""
    answer = api_client(version.dataset.members.get(role="owner").user).get(f"/api/versions/{version.pk}/frames/{frame_id}/")
    assert answer.status_code == 200, answer.content[:300]
    return answer.json()


def frame_url(version, frame_id: str) -> str:
    return reverse("viewer:frame", args=[version.pk, frame_id])


def annotate(page, version, frame_id: str = "f1"):
    """Open the frame page and wait for the annotator."""
    open_frame(page, version, frame_id)
    expect(page.locator(READY)).to_have_count(1)
    expect(page.locator("#frame-annotate")).to_be_visible()
    return page


def as_user(page, live_server, user):
    """`page`, signed in as `user`."""
    sign_in(page, live_server, user)
    return page


def status(page):
    return page.locator("#frame-save-status")


def add_frame_label(page, label: str) -> None:
    page.locator("#frame-label-input").fill(label)
    page.locator("#frame-label-input").press("Enter")
    expect(page.locator("#frame-labels")).to_contain_text(label)
    blur(page)


def blur(page) -> None:
    """Leave the field being typed in, so that the keys pressed next are the page's, not the field's."""
    page.evaluate("document.activeElement && document.activeElement.blur()")


def click_image(page, x: float, y: float) -> None:
    page.mouse.click(*Placement(page, "default").page(x, y))


def select_car(page) -> None:
    """Click inside f1's box with the select tool: its panel opens."""
    click_image(page, CAR[0] + CAR[2] / 2, CAR[1] + CAR[3] / 2)
    expect(page.locator("#roi-editor")).to_have_attribute("data-roi-index", "0")


def set_field(page, selector: str, value: str) -> None:
    """Type a value and leave the field (its `change`)."""
    page.locator(selector).fill(value)
    page.locator(selector).press("Tab")


def frame_labels(frame: dict) -> list[list[str]]:
    return [roi["labels"] for roi in frame["rois"] if not roi.get("poly") and not roi.get("shape")]


def geometry(roi: dict) -> dict:
    return {key: roi.get(key) for key in ("labels", "poly", "shape", "confidence", "meta")}


def shot(page, name: str, *panels: str) -> None:
    """The page as it is on screen, and each of the side `panels` ([data-panel=...]) whole."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))
    for panel in panels:
        page.locator(f"[data-panel={panel}]").screenshot(path=str(SHOTS / f"{name}-{panel}.png"))


# ------------------------------------------------------------------------------------ autosave on navigation


@pytest.mark.parametrize("move", ["key", "link"])
def test_moving_to_the_next_frame_saves_the_change_first(page, live_server, shop, move):
    annotate(as_user(page, live_server, shop.users["abe"]), shop.draft)
    before = stored(shop.draft, "f1")
    add_frame_label(page, "sunny")
    expect(status(page)).to_have_text("Unsaved changes")
    with page.expect_navigation(url=re.compile(re.escape(frame_url(shop.draft, "f2")))):
        page.keyboard.press("ArrowRight") if move == "key" else page.locator("[data-nav=next]").click()
    expect(page.locator(READY)).to_have_count(1)
    expect(status(page)).to_have_text("All changes saved")
    saved = stored(shop.draft, "f1")
    assert frame_labels(saved) == [["sunny"]] and saved["rois"][:2] == before["rois"] and saved["saved"] != before["saved"]


def test_a_refused_save_keeps_the_page_and_says_why(page, live_server, shop):
    annotate(as_user(page, live_server, shop.users["olga"]), shop.draft)
    before = stored(shop.draft, "f1")
    add_frame_label(page, "sunny")
    services.version_publish(user=shop.users["olga"], version=shop.draft, name="frozen")  # meanwhile, elsewhere
    page.keyboard.press("ArrowRight")
    expect(status(page)).to_have_text("Not saved")
    expect(page.locator("#frame-annotate-message")).to_contain_text("published")
    assert page.url.endswith(frame_url(shop.draft, "f1"))
    expect(page.locator("#frame-labels")).to_contain_text("sunny")  # the change is still there to keep
    assert stored(shop.draft, "f1") == before


def test_an_invalid_change_is_not_saved_and_the_page_stays(page, live_server, shop):
    annotate(as_user(page, live_server, shop.users["abe"]), shop.draft)
    before = stored(shop.draft, "f1")
    select_car(page)
    set_field(page, "#roi-confidence", "1.5")
    expect(page.locator('.fv-field-error[data-error-for="confidence"]')).to_have_text("the confidence is a number from 0 to 1")
    blur(page)
    page.locator("[data-nav=next]").click()
    expect(status(page)).to_have_text("Not saved")
    expect(page.locator("#frame-annotate-message")).to_have_text("Not saved: 1 problem to fix (the confidence is a number from 0 to 1)")
    assert page.url.endswith(frame_url(shop.draft, "f1"))
    assert stored(shop.draft, "f1") == before


# ---------------------------------------------------------------------------------- leaving by another way


def test_leaving_with_unsaved_changes_asks_first_and_staying_keeps_them(page, live_server, shop):
    annotate(as_user(page, live_server, shop.users["abe"]), shop.draft)
    asked = []

    def answer(dialog):
        asked.append(dialog.type)
        dialog.dismiss()

    page.on("dialog", answer)
    add_frame_label(page, "sunny")
    page.get_by_role("link", name="← Frames").click()
    expect(page.locator("#frame-labels")).to_contain_text("sunny")
    assert asked == ["beforeunload"] and page.url.endswith(frame_url(shop.draft, "f1"))
    with pytest.raises(Exception):  # the dismissed question stops the navigation
        page.goto(reverse("viewer:dataset", args=[shop.dataset.pk]), timeout=5000)
    assert asked == ["beforeunload", "beforeunload"] and page.url.endswith(frame_url(shop.draft, "f1"))
    expect(status(page)).to_have_text("Unsaved changes")
    expect(page.locator("#frame-labels")).to_contain_text("sunny")
    assert frame_labels(stored(shop.draft, "f1")) == []


def test_leaving_without_changes_asks_nothing(page, live_server, shop):
    annotate(as_user(page, live_server, shop.users["abe"]), shop.draft)
    asked = []
    page.on("dialog", lambda dialog: (asked.append(dialog.type), dialog.dismiss()))
    select_car(page)  # a click is no change
    page.get_by_role("link", name="← Frames").click()
    page.wait_for_url(lambda url: "/frame/" not in url)
    assert asked == []


# ------------------------------------------------------------------------------------------ copy and paste


def test_a_copied_shape_is_pasted_onto_another_frame_at_the_same_place(page, live_server, shop):
    annotate(as_user(page, live_server, shop.users["abe"]), shop.draft)
    before = stored(shop.draft, "f1")
    expect(page.locator("[data-annotate=paste]")).to_be_disabled()  # nothing copied yet
    select_car(page)
    page.keyboard.press("Control+c")
    expect(page.locator("#frame-annotate-message")).to_contain_text("Copied the selected shape")
    with page.expect_navigation(url=re.compile(re.escape(frame_url(shop.draft, "f2")))):
        page.keyboard.press("ArrowRight")
    expect(page.locator(READY)).to_have_count(1)
    page.keyboard.press("Control+v")
    expect(status(page)).to_have_text("Unsaved changes")
    page.keyboard.press("Control+s")
    expect(status(page)).to_have_text("All changes saved")
    pasted = stored(shop.draft, "f2")["rois"]
    car = before["rois"][0]
    assert [geometry(roi) for roi in pasted] == [geometry(car)] and geometry(car)["shape"]["xywh"] == CAR
    assert pasted[0]["id"] and pasted[0]["id"] != car["id"]
    assert stored(shop.draft, "f1") == before  # copying changed nothing


def test_copy_all_pastes_every_shape(page, live_server, shop):
    annotate(as_user(page, live_server, shop.users["abe"]), shop.draft)
    before = stored(shop.draft, "f1")
    page.locator("[data-annotate=copy-all]").click()
    expect(page.locator("#frame-annotate-message")).to_contain_text("Copied 2 shapes")
    annotate(page, shop.draft, "f3")  # no unsaved changes: the page is simply left
    page.locator("[data-annotate=paste]").click()
    expect(page.locator("#frame-annotate-message")).to_contain_text("Pasted 2 shapes")
    page.locator("[data-annotate=save]").click()
    expect(status(page)).to_have_text("All changes saved")
    pasted = stored(shop.draft, "f3")["rois"]
    assert [geometry(roi) for roi in pasted] == [geometry(roi) for roi in before["rois"]]
    assert not {roi["id"] for roi in pasted} & {roi["id"] for roi in before["rois"]}


# -------------------------------------------------------------------------------------------- the conflict


@pytest.mark.parametrize("choice", ["reload", "overwrite"])
def test_a_save_over_someone_elses_is_refused_and_then_chosen_knowingly(new_context, live_server, shop, choice):
    first = annotate(as_user(new_context().new_page(), live_server, shop.users["abe"]), shop.draft)
    second = annotate(as_user(new_context().new_page(), live_server, shop.users["ann"]), shop.draft)
    add_frame_label(first, "night")
    first.keyboard.press("Control+s")
    expect(status(first)).to_have_text("All changes saved")
    theirs = stored(shop.draft, "f1")
    assert frame_labels(theirs) == [["night"]]

    select_car(second)
    set_field(second, "#roi-confidence", "0.3")
    blur(second)
    second.keyboard.press("Control+s")
    dialog = second.locator("#frame-conflict")
    expect(dialog).to_be_visible()
    expect(dialog.locator("h2")).to_have_text("Someone else saved this frame")
    expect(dialog.locator(".fv-conflict-list").nth(0)).to_have_text("added 1 frame label: night")  # what they changed
    expect(dialog.locator(".fv-conflict-list").nth(1)).to_have_text("changed car: confidence")  # and mine
    expect(status(second)).to_have_text("Not saved")
    assert stored(shop.draft, "f1") == theirs  # no silent overwrite
    if choice == "reload":
        shot(second, "conflict")
    asked = []
    second.on("dialog", lambda d: (asked.append(d.type), d.dismiss()))

    if choice == "reload":
        with second.expect_navigation():
            second.locator("[data-conflict=reload]").click()
        expect(second.locator(READY)).to_have_count(1)
        expect(second.locator("#frame-labels")).to_contain_text("night")
        expect(status(second)).to_have_text("All changes saved")
        select_car(second)
        expect(second.locator("#roi-confidence")).to_have_value("0.9")
        assert asked == [] and stored(shop.draft, "f1") == theirs
    else:
        second.locator("[data-conflict=overwrite]").click()
        expect(status(second)).to_have_text("All changes saved")
        mine = stored(shop.draft, "f1")
        assert frame_labels(mine) == [] and mine["rois"][0]["confidence"] == 0.3 and mine["saved"] != theirs["saved"]
        assert asked == []
