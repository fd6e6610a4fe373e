"""Frames tab, jump anywhere (issue 13, item 7): the "Go to page" box, the position slider, `?page=N` links without
a cursor, and page labels that are never wrong (checked against the API's `offset`)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from frames import selectors, services
from frames.selectors import SYSTEM as ACTOR

from .clients import api_client

SHOTS = Path("/tmp/shots-13/jump")
TOTAL = 1234
LIMIT = 50
LAST_PAGE = 25  # ceil(1234 / 50)


def frames(n=TOTAL):
    return [
        {
            "id": f"f{i:05d}",
            "context_id": f"s3://cams/{(i * 31) % 17:02d}.mp4",
            "timestamp": (i * 7919) % 400,
            "meta": {"speed": i % 90},
            "sources": [{"id": "default", "uri": f"s3://cams/{i}.jpg", "width": 640, "height": 480}],
            "rois": [{"labels": ["car" if i % 3 else "person"], "poly": [1, 1, 40, 1, 40, 30]}],
        }
        for i in range(n)
    ]


def make_version(*, publish: bool):
    dataset = services.dataset_create(user=ACTOR, name=f"jump-{'published' if publish else 'draft'}")
    version = dataset.versions.get()
    services.frames_add(user=ACTOR, version=version, frames=frames())
    if publish:
        version = services.version_publish(user=ACTOR, version=version, name="v1")
    return selectors.version_get(user=ACTOR, version_id=version.id)


def api_ids(user, version, **params) -> list[str]:
    body = api_client(user).get(f"/api/versions/{version.id}/frames/", {"limit": LIMIT, **params}).json()
    return [f["id"] for f in body["results"]]


def shown_ids(page) -> list[str]:
    return page.locator("#fb-grid .tile, #fb-table tbody tr[data-frame-id]").evaluate_all("nodes => nodes.map(n => n.dataset.frameId)")


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)


def query_of(url: str) -> dict:
    return dict(re.findall(r"[?&]([^=&]+)=([^&]*)", url))


@pytest.fixture
def ui_page(logged_in_page, settings):
    settings.HYPERDATA_PREVIEWS_AUTO = False  # 1,234 frames' previews would keep the session's worker busy for later tests
    logged_in_page.set_default_timeout(30_000)
    logged_in_page.set_default_navigation_timeout(30_000)
    return logged_in_page


@pytest.mark.django_db(transaction=True)
def test_page_link_box_and_slider_jump_with_true_labels(ui_page, live_server, admin_user):
    page = ui_page
    version = make_version(publish=True)

    # A link to page 20 without a cursor opens page 20 (was: frames 1-100 labelled page 20).
    page.goto(f"/versions/{version.pk}/?sort=id&limit={LIMIT}&page=20")
    assert shown_ids(page) == api_ids(admin_user, version, sort="id", offset=19 * LIMIT)
    expect(page.locator("[data-page-label]").first).to_have_text("page 20")
    expect(page.locator("#fb-range")).to_have_text("showing 951–1,000")
    expect(page.locator("#fb-page-input")).to_have_value("20")
    expect(page.locator("#fb-position")).to_have_attribute("max", str(LAST_PAGE))
    shot(page, "01-page-20-link")

    # The box: type a page, Enter.
    page.fill("#fb-page-input", "7")
    page.press("#fb-page-input", "Enter")
    page.wait_for_url(re.compile(r"page=7"))
    assert "cursor" not in query_of(page.url)
    assert shown_ids(page) == api_ids(admin_user, version, sort="id", page=7)
    expect(page.locator("[data-page-label]").first).to_have_text("page 7")
    expect(page.locator("#fb-range")).to_have_text("showing 301–350")

    # Next from a jumped page keeps a true number (the cursor is checked against the position index).
    page.locator('[data-pager="next"]').first.click()
    page.wait_for_url(re.compile(r"cursor="))
    expect(page.locator("[data-page-label]").first).to_have_text("page 8")
    assert shown_ids(page) == api_ids(admin_user, version, sort="id", page=8)
    page.locator('[data-pager="previous"]').first.click()
    page.wait_for_url(re.compile(r"page=7"))
    expect(page.locator("[data-page-label]").first).to_have_text("page 7")
    assert shown_ids(page) == api_ids(admin_user, version, sort="id", page=7)

    # The slider with the keyboard: End goes to the last page once the keys settle.
    slider = page.locator("#fb-position")
    slider.focus()
    page.keyboard.press("End")
    expect(page.locator("#fb-position-preview")).to_have_text("page 25 · 1,201–1,234")
    shot(page, "02-slider-preview")
    page.wait_for_url(re.compile(r"page=25"))
    assert shown_ids(page) == api_ids(admin_user, version, sort="id", page=LAST_PAGE)
    expect(page.locator("[data-page-label]").first).to_have_text("page 25")
    expect(page.locator("#fb-range")).to_have_text("showing 1,201–1,234")
    expect(page.locator('[data-pager="next"]')).to_have_count(0)

    # The slider with the pointer: released on page 13.
    slider = page.locator("#fb-position")
    box = slider.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 12 / 24, box["y"] + box["height"] / 2)
    page.wait_for_url(lambda url: "page=25" not in url)
    number = int(query_of(page.url)["page"])
    assert 11 <= number <= 15
    assert shown_ids(page) == api_ids(admin_user, version, sort="id", page=number)
    expect(page.locator("[data-page-label]").first).to_have_text(f"page {number}")
    shot(page, "03-slider-jumped")

    # Past the end: said so, with a link to the last page.
    page.goto(f"/versions/{version.pk}/?sort=id&limit={LIMIT}&page=99")
    expect(page.locator("#fb-past-end")).to_contain_text("page 99 is past the end: the last page is 25")
    assert shown_ids(page) == []
    page.click("#fb-last-page")
    page.wait_for_url(re.compile(r"page=25"))
    assert shown_ids(page) == api_ids(admin_user, version, sort="id", page=LAST_PAGE)


@pytest.mark.django_db(transaction=True)
def test_draft_filtered_table_and_a_wrong_page_claim(ui_page, live_server, admin_user):
    page = ui_page
    version = make_version(publish=False)
    cars = api_client(admin_user).get(f"/api/versions/{version.id}/frames/", {"label": "car", "count": "1"}).json()["count"]
    last = -(-cars // LIMIT)

    # A filtered draft in the table: page 9 by link, the slider's end set when the count arrives.
    page.goto(f"/versions/{version.pk}/?view=table&label=car&sort=timestamp&order=desc&limit={LIMIT}&page=9")
    assert shown_ids(page) == api_ids(admin_user, version, label="car", sort="timestamp", order="desc", page=9)
    expect(page.locator("[data-page-label]").first).to_have_text("page 9")
    expect(page.locator("#fb-position")).to_have_attribute("max", str(last))
    shot(page, "04-draft-table-filtered-page-9")

    page.fill("#fb-page-input", str(last))
    page.click("#fb-page-go")
    page.wait_for_url(re.compile(rf"page={last}\b"))
    assert shown_ids(page) == api_ids(admin_user, version, label="car", sort="timestamp", order="desc", page=last)
    assert "label=car" in page.url and "view=table" in page.url

    # A cursor URL that claims the wrong page: the tab does not repeat the claim, it finds the true page.
    body = api_client(admin_user).get(f"/api/versions/{version.id}/frames/", {"sort": "id", "limit": LIMIT, "offset": LIMIT}).json()
    cursor = body["cursor"]  # starts page 3
    page.goto(f"/versions/{version.pk}/?sort=id&limit={LIMIT}&cursor={cursor}&page=5")
    expect(page.locator("[data-page-label]").first).to_have_text("page 3")
    expect(page.locator("#fb-range")).to_have_text("showing 101–150")
    assert shown_ids(page) == api_ids(admin_user, version, sort="id", page=3)
    shot(page, "05-wrong-claim-corrected")
