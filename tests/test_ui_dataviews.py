"""The DataViews page: a user's saved DataViews (nobody else's), each query a link to the Frames tab that shows
the frames the DataView selects from it. Server side with Django's test client; in Chromium the link is
followed and the tiles compared with the DataView's frames. Screenshots in /tmp/shots-15/dataviews/."""
from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client
from playwright.sync_api import expect

from frames import selectors, services

from .pages import html

SHOTS = Path("/tmp/shots-15/dataviews")


def world(user):
    """A version of 8 frames (cars and people, sunny and rain) and a DataView over it with both rules."""
    version = services.dataset_create(user=user, name="street").versions.get()
    services.frames_add(user=user, version=version, frames=[
        {"id": f"f{i}", "context_id": f"c{i % 2}", "timestamp": i, "meta": {"weather": ("sunny", "rain")[i % 3 == 0]},
         "sources": [{"id": "default", "uri": f"s3://bucket/{i}.jpg"}],
         "rois": [{"labels": [("car", "person")[i % 2]], "confidence": 0.9, "poly": [0, 0, 4, 0, 4, 4]}]} for i in range(8)])
    view = services.dataview_create(user=user, data={"name": "cars in the sun", "queries": [
        {"version": version.pk, "roi_query": "car", "frame_query": "meta.weather:sunny", "weight": 2}]})
    return version, view


@pytest.mark.django_db
def test_the_page_lists_ones_own_dataviews_with_links_to_what_they_select(django_user_model):
    alice = django_user_model.objects.create_user("alice")
    version, view = world(alice)
    client = Client()
    client.force_login(alice)
    page = html(client.get("/dataviews/"))
    assert "cars in the sun" in page and view.pk in page and "street / Current" in page
    assert f"/versions/{version.pk}/?roi_query=car&amp;frame_query=meta.weather%3Asunny" in page
    client.force_login(django_user_model.objects.create_user("bob"))
    page = html(client.get("/dataviews/"))
    assert view.pk not in page and "No DataViews yet" in page


def test_a_query_link_opens_the_frames_tab_on_the_dataviews_frames(logged_in_page, live_server, admin_user, settings):
    settings.HYPERDATA_PREVIEWS_AUTO = False
    version, view = world(admin_user)
    expected = [f["id"] for f in selectors.dataview_frames(user=admin_user, dataview=view).frames]
    page = logged_in_page
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto(f"{live_server.url}/dataviews/")
    expect(page.locator(f"#dataview-{view.pk}")).to_contain_text("cars in the sun")
    expect(page.locator("#nav-dataviews")).to_have_class("nav-item active")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "list.png"))
    page.locator(f"#dataview-{view.pk} a", has_text="street / Current").click()
    page.wait_for_url(f"**/versions/{version.pk}/?roi_query=car*")
    expect(page.locator("#fb-grid .tile").first).to_be_visible()
    tiles = page.locator("#fb-grid .tile").evaluate_all("tiles => tiles.map(t => t.dataset.frameId)")
    assert tiles == expected and 0 < len(expected) < 8
    page.screenshot(path=str(SHOTS / "frames-tab.png"))
