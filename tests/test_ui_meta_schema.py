"""Typed custom metadata in the browser (issue 14 item 5): the Metadata tab lists the version's typed fields
(name, path, type, default; inherited ones say from where), and the Frames tab's filter editor has a Fields
section whose ranges and value pickers build the Lucene frame rule, which matches what the API's count says for
the same query. Screenshots go to /tmp/shots-14/meta-schema/ (or $HYPERDATA_SCREENSHOTS)."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from frames import services
from frames.selectors import SYSTEM as ACTOR
from frames.services.meta_schema import meta_schema_set

from .clients import api_client
from .pages import html

SHOTS = Path(os.environ.get("HYPERDATA_SCREENSHOTS") or "/tmp/shots-14/meta-schema")
WEATHERS = ["sunny", "rain", "fog", "rain"]
FIELDS = [
    {"name": "Speed", "path": "speed", "type": "NUMERIC_INT", "default": 0},
    {"name": "Weather", "path": "weather", "type": "CATEGORICAL_STRING", "default": "unknown"},
    {"name": "Captured", "path": "captured_at", "type": "datetime", "default": None},
    {"name": "Night", "path": "night", "type": "boolean", "default": False},
    {"name": "Lane", "path": "lane", "type": "CATEGORICAL_INT", "default": 1},
    {"name": "Note", "path": "note", "type": "varchar", "default": None},
]
LANES = [1, 2, 2, 40, 40, 40]  # far apart: a histogram would hide them in two buckets


def make_frames(n=40):
    return [{"id": f"f{i:03d}", "sources": [{"uri": f"s3://b/{i}.jpg"}],
             "meta": {"speed": (i * 7) % 50, "weather": WEATHERS[i % 4], "night": i % 5 == 0,
                      "captured_at": f"2024-05-{1 + i % 28:02d}T{i % 24:02d}:00:00Z", "lane": LANES[i % 6]}} for i in range(n)]


def make_version(name="typed-ui"):
    version = services.dataset_create(user=ACTOR, name=name).versions.get()
    meta_schema_set(user=ACTOR, version=version, fields=FIELDS)
    services.frames_add(user=ACTOR, version=version, frames=make_frames())
    return version


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture
def ui_page(logged_in_page, settings):
    settings.HYPERDATA_PREVIEWS_AUTO = False  # no worker here: the s3:// sources' previews stay pending
    logged_in_page.set_default_timeout(30_000)
    logged_in_page.set_viewport_size({"width": 1440, "height": 1000})
    return logged_in_page


def api_count(user, version, frame_query: str) -> int:
    response = api_client(user).get(f"/api/versions/{version.pk}/frames/", {"frame_query": frame_query, "count": "true", "limit": 1})
    assert response.status_code == 200, response.content
    return response.json()["count"]


# ------------------------------------------------------------------------------------------------ Metadata tab


@pytest.mark.django_db
def test_the_metadata_tab_lists_the_typed_fields_and_where_they_come_from(admin_client, settings):
    settings.HYPERDATA_PREVIEWS_AUTO = False
    version = make_version()
    body = html(admin_client.get(reverse("viewer:version-metadata", args=[version.pk])))
    table = body[body.index('id="meta-schema-table"'):]
    rows = re.findall(r'<tr data-path="([^"]+)">(.*?)</tr>', table, re.S)
    cells = [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)] for _, row in rows]
    assert cells == [
        ["Speed", "meta.speed", "integer", "0", ""],
        ["Weather", "meta.weather", "categorical_string", "&quot;unknown&quot;", ""],
        ["Captured", "meta.captured_at", "datetime", "none", ""],
        ["Night", "meta.night", "boolean", "false", ""],
        ["Lane", "meta.lane", "categorical_int", "1", ""],
        ["Note", "meta.note", "string", "none", ""],
    ]
    published, child = services.version_snapshot(user=ACTOR, version=version)
    body = html(admin_client.get(reverse("viewer:version-metadata", args=[child.pk])))
    assert "inherited from" in body and reverse("viewer:version-metadata", args=[published.pk]) in body
    assert 'data-path="captured_at"' in body


@pytest.mark.django_db
def test_a_version_without_typed_fields_says_how_to_add_them(admin_client):
    version = services.dataset_create(user=ACTOR, name="untyped").versions.get()
    body = html(admin_client.get(reverse("viewer:version-metadata", args=[version.pk])))
    assert "No typed fields" in body and f"/api/versions/{version.pk}/meta-schema/" in body


# ------------------------------------------------------------------------------------------------ Statistics tab


@pytest.mark.django_db
def test_statistics_offer_typed_keys_and_count_a_categorical_int_per_value(admin_client, settings):
    settings.HYPERDATA_PREVIEWS_AUTO = False
    version = make_version()
    page = html(admin_client.get(reverse("viewer:version-stats", args=[version.pk])))
    datalist = page[page.index('<datalist id="meta-keys">'):].split("</datalist>")[0]
    assert '<option value="note">' in datalist  # a typed field no frame holds yet is still offered
    assert '<option value="lane">' in datalist and '<option value="speed">' in datalist
    panel = html(admin_client.get(reverse("viewer:version-stats-meta", args=[version.pk]), {"key": "lane"}))
    assert 'data-kind="categorical"' in panel
    counts = {value: int(count) for value, count in re.findall(r'<tr data-value="([^"]+)">.*?<td class="num">([\d,]+)</td>', panel, re.S)}
    expected = {str(lane): sum(1 for f in make_frames() if f["meta"]["lane"] == lane) for lane in set(LANES)}
    assert counts == expected
    speed = html(admin_client.get(reverse("viewer:version-stats-meta", args=[version.pk]), {"key": "speed"}))
    assert 'data-kind="numeric"' in speed  # an integer field stays a histogram


# ------------------------------------------------------------------------------------------------ Frames tab


def count_value(page) -> int:
    node = page.locator("#fb-count strong")
    expect(node).not_to_have_text("counting…")
    return int(node.get_attribute("data-count-value"))


def open_fields(page, version):
    asked = []
    page.on("request", lambda request: asked.append(request.url) if "/meta-schema/" in request.url else None)
    page.goto(reverse("viewer:version", args=[version.pk]))
    page.wait_for_load_state("networkidle")
    assert asked == []  # the values seen are counted only for someone who opens the filter editor
    page.locator("#fb-filters-toggle").click()
    expect(page.locator("#fb-fields")).to_be_visible()
    assert len(asked) == 1 and asked[0].endswith("/meta-schema/?seen=true")


@pytest.mark.django_db(transaction=True)
def test_a_range_and_a_category_picked_in_fields_filter_the_grid_as_the_api_counts(ui_page, live_server, admin_user):
    version = make_version()
    page = ui_page
    open_fields(page, version)
    fields = page.locator("#fb-fields")
    # The picker offers the values the frames hold, with their counts.
    expect(fields.locator('[data-path="weather"] label')).to_have_count(3)
    expect(fields.locator('[data-path="weather"]')).to_contain_text("rain 20")
    page.locator("#fb-field-0-low").fill("10")
    page.locator("#fb-field-0-high").fill("30")
    page.get_by_label("Weather rain").check()
    page.locator("#fb-fields-add").click()
    query = 'meta.speed:[10 TO 30] AND meta.weather:"rain"'
    expect(page.locator("#fb-frame_query-0")).to_have_value(query)
    shot(page, "fields-picked")
    page.locator("#fb-apply-filters").click()
    page.wait_for_url(re.compile(r"filters="))
    expected = [f for f in make_frames() if 10 <= f["meta"]["speed"] <= 30 and f["meta"]["weather"] == "rain"]
    assert len(expected) > 0
    assert count_value(page) == api_count(admin_user, version, query) == len(expected)
    tiles = page.locator("[data-frame-id]")
    expect(tiles.first).to_be_visible()
    shown = set(tiles.evaluate_all("nodes => nodes.map(n => n.dataset.frameId)"))
    assert shown == {f["id"] for f in expected}
    shot(page, "fields-applied")


@pytest.mark.django_db(transaction=True)
def test_a_date_range_and_a_boolean_build_a_quoted_range_and_a_bare_term(ui_page, live_server, admin_user):
    version = make_version("typed-dates")
    page = ui_page
    open_fields(page, version)
    page.locator("#fb-field-2-low").fill("2024-05-05T00:00")
    page.locator("#fb-field-2-high").fill("2024-05-20T00:00")
    page.get_by_label("Night true").check()
    page.locator("#fb-fields-add").click()
    query = 'meta.captured_at:["2024-05-05T00:00" TO "2024-05-20T00:00"] AND meta.night:true'
    expect(page.locator("#fb-frame_query-0")).to_have_value(query)
    page.locator("#fb-apply-filters").click()
    page.wait_for_url(re.compile(r"filters="))
    expected = [f for f in make_frames() if "2024-05-05T00:00" <= f["meta"]["captured_at"] <= "2024-05-20T00:00" and f["meta"]["night"]]
    assert len(expected) > 0
    assert count_value(page) == api_count(admin_user, version, query) == len(expected)
    shot(page, "fields-dates")


@pytest.mark.django_db(transaction=True)
def test_the_metadata_tab_shows_the_typed_fields_in_the_browser(ui_page, live_server):
    version = make_version("typed-metadata-tab")
    page = ui_page
    page.goto(reverse("viewer:version-metadata", args=[version.pk]))
    table = page.locator("#meta-schema-table")
    expect(table.locator("tbody tr")).to_have_count(len(FIELDS))
    expect(table.locator('tr[data-path="lane"]')).to_contain_text("categorical_int")
    expect(table.locator('tr[data-path="weather"]')).to_contain_text('"unknown"')
    shot(page, "metadata-tab")
