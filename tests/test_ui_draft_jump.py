"""Frames tab of an edited draft child of a published version (issue 13, item 7): the page box, `?page=N` links and
Next from a jumped page show the API's pages with true labels, read through the parent's stored position index
(selectors.draft_positions) — and an edit shows in the next jump."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from frames import selectors, services
from frames.selectors import SYSTEM as ACTOR
from frames.selectors import FrameQuery
from frames.services import positions as position_services

from .test_ui_frames_jump import LIMIT, api_ids, frames, shot, shown_ids, ui_page  # noqa: F401 (ui_page: the fixture)


def edited_child():
    dataset = services.dataset_create(user=ACTOR, name="jump-draft-child")
    services.frames_add(user=ACTOR, version=dataset.versions.get(), frames=frames())
    _, child = services.version_snapshot(user=ACTOR, version=dataset.versions.get())
    services.frames_update(user=ACTOR, version=child, frames=[{"id": f"f{i:05d}", "timestamp": 7} for i in range(5, 1234, 97)])
    services.frames_delete(user=ACTOR, version=child, frame_ids=[f"f{i:05d}" for i in range(11, 1234, 89)])
    services.frames_add(user=ACTOR, version=child, frames=[{**f, "id": f"f00600-{f['id']}"} for f in frames(30)])
    return selectors.version_get(user=ACTOR, version_id=child.id)


@pytest.mark.django_db(transaction=True)
def test_an_edited_draft_child_jumps_with_true_labels(ui_page, live_server, admin_user):  # noqa: F811
    page, child = ui_page, edited_child()
    assert position_services.draft_frame_positions(user=ACTOR, version=child, query=FrameQuery(sort="id", limit=LIMIT))

    page.goto(f"/versions/{child.pk}/?sort=id&limit={LIMIT}&page=13")
    assert shown_ids(page) == api_ids(admin_user, child, sort="id", offset=12 * LIMIT)
    expect(page.locator("[data-page-label]").first).to_have_text("page 13")
    shot(page, "06-draft-child-page-13")

    page.locator('[data-pager="next"]').first.click()  # a cursor page: its number checked through the parent's index
    page.wait_for_url(re.compile(r"cursor="))
    expect(page.locator("[data-page-label]").first).to_have_text("page 14")
    assert shown_ids(page) == api_ids(admin_user, child, sort="id", page=14)

    services.frames_delete(user=ACTOR, version=child, frame_ids=["f00001", "f00002", "f00003"])  # before every page
    page.fill("#fb-page-input", "12")
    page.press("#fb-page-input", "Enter")
    page.wait_for_url(re.compile(r"page=12"))
    assert shown_ids(page) == api_ids(admin_user, child, sort="id", page=12)
    expect(page.locator("[data-page-label]").first).to_have_text("page 12")
