"""Group by URL at any page (issue 13, item 7 for contexts): the Frames tab's grouped view has the flat grid's
"Go to page" box and position slider, over pages of contexts; `offset` and `page` on GET /api/versions/<v>/contexts/.
A jump lands on the page the cursors walk to (checkpoints of the contexts: frames.selectors.context_positions),
the page label is never a guess, and a page past the end says which is the last. Screenshots in
/tmp/shots-13/contexts-jump/."""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlencode

import pytest
from playwright.sync_api import expect

from frames import services
from frames.models import DatasetVersion
from frames.selectors import SYSTEM as ACTOR

from .clients import api_client

SHOTS = Path("/tmp/shots-13/contexts-jump")
CONTEXTS = 130


def make_version(*, publish: bool) -> DatasetVersion:
    """CONTEXTS video contexts of 1-3 frames each (context ids sort in their number's order); every third
    context's frames carry a car."""
    frames = []
    for c in range(CONTEXTS):
        uri = f"s3://bench/videos/{c:04d}.mp4"
        for t in range(1 + c % 3):
            labels = ["car"] if c % 3 == 0 else ["person"]
            frames.append({"id": f"c{c:04d}-{t}", "context_id": uri, "timestamp": t * 100,
                           "sources": [{"id": "default", "uri": uri, "content_type": "video/mp4", "timestamp": t * 100}],
                           "rois": [{"labels": labels, "poly": [1, 1, 20, 1, 20, 20]}]})
    version = services.dataset_create(user=ACTOR, name=f"contexts-jump-{publish}").versions.get()
    services.frames_add(user=ACTOR, version=version, frames=frames)
    if publish:
        version = services.version_publish(user=ACTOR, version=version, name="v1")
    return DatasetVersion.objects.select_related("dataset").get(pk=version.pk)


def api_contexts(api, version, **params) -> dict:
    response = api.get(f"/api/versions/{version.pk}/contexts/?{urlencode(params)}")
    assert response.status_code == 200, response.content[:300]
    return response.json()


def walked(api, version, pages: int, **params) -> list[list[str]]:
    """The context ids of the first `pages` pages, walked with the API's cursors."""
    out, cursor = [], None
    for _ in range(pages):
        body = api_contexts(api, version, **params, **({"cursor": cursor} if cursor else {}))
        out.append([c["context_id"] for c in body["results"]])
        cursor = body["cursor"]
    return out


@pytest.fixture
def no_previews(settings):
    settings.HYPERDATA_PREVIEWS_AUTO = False


@pytest.mark.django_db
@pytest.mark.parametrize("publish", [True, False])
def test_api_offset_lands_where_the_cursors_walk(admin_user, no_previews, publish):
    version = make_version(publish=publish)
    api = api_client(admin_user)
    pages = walked(api, version, 3, limit=50)
    assert [len(p) for p in pages] == [50, 50, 30]
    for n, ids in enumerate(pages):
        body = api_contexts(api, version, limit=50, offset=n * 50)
        assert [c["context_id"] for c in body["results"]] == ids and body["count"] == CONTEXTS and body["offset"] == n * 50
        assert [c["context_id"] for c in api_contexts(api, version, limit=50, page=n + 1)["results"]] == ids
    # Any offset, not only a page's start (fewer than a checkpoint step from one, or past it).
    every = [c for p in pages for c in p]
    for offset in (1, 37, 99, 100, 101, 129):
        assert [c["context_id"] for c in api_contexts(api, version, limit=7, offset=offset)["results"]] == every[offset:offset + 7]
    past = api_contexts(api, version, limit=50, offset=500)
    assert past["results"] == [] and past["count"] == CONTEXTS and past["next"] is None
    # Under a filter: the contexts holding a car.
    cars = walked(api, version, 1, limit=100, label="car")[0]
    assert len(cars) == 44
    body = api_contexts(api, version, limit=10, offset=40, label="car")
    assert [c["context_id"] for c in body["results"]] == cars[40:] and body["count"] == 44


@pytest.mark.django_db
@pytest.mark.parametrize("query, field", [("offset=-1", "offset"), ("page=0", "page"), ("offset=1&page=2", "page"),
                                          ("offset=x", "offset")])
def test_api_bad_offset_is_refused_naming_the_field(admin_user, no_previews, query, field):
    version = make_version(publish=False)
    response = api_client(admin_user).get(f"/api/versions/{version.pk}/contexts/?{query}")
    assert response.status_code == 400
    assert field in str(response.json())


@pytest.mark.django_db
def test_position_answers_count_contexts(admin_client, admin_user, no_previews):
    version = make_version(publish=True)
    api = api_client(admin_user)
    body = admin_client.get(f"/versions/{version.pk}/frames/position/?group=context&limit=50").json()
    assert body == {"offset": 0, "total": CONTEXTS, "page": 1, "limit": 50, "unit": "contexts"}
    cursor = None
    for n in range(1, 5):  # pages of 30: offsets 30, 60, 90 and 120 (past the first checkpoint, context 100)
        cursor = api_contexts(api, version, limit=30, **({"cursor": cursor} if cursor else {}))["cursor"]
        params = {"group": "context", "limit": 30, "cursor": cursor}
        body = admin_client.get(f"/versions/{version.pk}/frames/position/?{urlencode(params)}").json()
        assert (body["offset"], body["page"], body["total"]) == (30 * n, n + 1, CONTEXTS)


def tile_ids(page) -> list[str]:
    return page.locator("#fb-contexts .tile").evaluate_all("tiles => tiles.map(t => t.dataset.contextId)")


@pytest.mark.django_db(transaction=True)
def test_browser_go_to_a_page_of_contexts(logged_in_page, live_server, admin_user, no_previews):
    page, api = logged_in_page, api_client(admin_user)
    page.set_default_timeout(30_000)
    page.set_viewport_size({"width": 1440, "height": 900})
    version = make_version(publish=False)
    expected = walked(api, version, 3, limit=50)

    page.goto(f"/versions/{version.pk}/?group=context&limit=50")
    expect(page.locator("#fb-contexts .tile")).to_have_count(50)
    # How many contexts there are arrives after the page: the slider's end and "of 3".
    expect(page.locator("#fb-position")).to_be_enabled()
    expect(page.locator("#fb-position")).to_have_attribute("max", "3")
    expect(page.locator(".fb-pager").first).to_contain_text("page 1")
    expect(page.locator(".fb-pager [data-page-of]").first).to_have_text("of 3")
    expect(page.locator("#fb-context-count")).to_contain_text("contexts 1–50 of 130")
    assert tile_ids(page) == expected[0]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "01-group-page-1.png"))

    page.fill("#fb-page-input", "3")
    page.click("#fb-page-go")
    page.wait_for_url(re.compile(r"page=3"))
    assert "group=context" in page.url and "cursor=" not in page.url
    expect(page.locator("#fb-contexts .tile")).to_have_count(30)
    listed = [c["context_id"] for c in api_contexts(api, version, limit=50, offset=100)["results"]]
    assert tile_ids(page) == listed == expected[2]
    expect(page.locator("#fb-context-count")).to_contain_text("contexts 101–130 of 130")
    expect(page.locator(".fb-pager").first).to_contain_text("page 3")
    expect(page.locator("#fb-position")).to_have_value("3")
    page.screenshot(path=str(SHOTS / "02-group-page-3.png"))

    # Previous from the jump, then Next (a cursor page): its number is checked after it is shown.
    page.locator('.fb-pager [data-pager="previous"]').first.click()
    expect(page.locator("#fb-contexts .tile")).to_have_count(50)
    assert tile_ids(page) == expected[1]
    page.locator('.fb-pager [data-pager="next"]').first.click()
    page.wait_for_url(re.compile(r"cursor="))
    assert tile_ids(page) == expected[2]
    expect(page.locator(".fb-pager [data-page-label]").first).to_have_text("page 3")
    expect(page.locator("#fb-context-count")).to_contain_text("contexts 101–130 of 130")

    # The slider: page 2.
    slider = page.locator("#fb-position")
    slider.evaluate("s => { s.value = '2'; s.dispatchEvent(new Event('input')); s.dispatchEvent(new Event('change')); }")
    page.wait_for_url(re.compile(r"page=2"))
    expect(page.locator("#fb-contexts .tile")).to_have_count(50)
    assert tile_ids(page) == expected[1]

    # Past the end: the last page is named; under a filter the pages are its contexts'.
    page.goto(f"/versions/{version.pk}/?group=context&limit=50&page=9")
    expect(page.locator("#fb-past-end")).to_contain_text("the last page is 3")
    expect(page.locator(".fb-empty")).to_contain_text("Page 9 is past the end")
    expect(page.locator("#fb-count")).to_contain_text("259 frames")
    page.screenshot(path=str(SHOTS / "03-group-past-end.png"))
    page.goto(f"/versions/{version.pk}/?group=context&limit=10&label=car")
    page.fill("#fb-page-input", "5")
    page.click("#fb-page-go")
    page.wait_for_url(re.compile(r"page=5"))
    cars = [c["context_id"] for c in api_contexts(api, version, limit=10, offset=40, label="car")["results"]]
    assert tile_ids(page) == cars and len(cars) == 4
    expect(page.locator("#fb-context-count")).to_contain_text("contexts 41–44 of 44")
    page.set_viewport_size({"width": 390, "height": 800})
    page.reload()
    expect(page.locator("#fb-page-input")).to_be_visible()
    page.locator("#fb-jump").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "04-group-filtered-390.png"))
