"""In Chromium: an ROI rule in Lucene mode (hint while typing, the server's error beside the field, the rule kept
in the URL, frames and count equal to the API's), Sample by Property on the Frames tab (the API's sample, kept
in the URL, another seed another sample, the export the frames shown) and Split Preview (counts equal to the
API's, links into the Frames tab). Screenshots in /tmp/shots-13/filters/."""
import json
import re
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
from playwright.sync_api import expect

from .clients import api_client
from .test_ui_frames import count_text, make_version, media_dirs, media_settings, ui_page  # noqa: F401 (fixtures)

SHOTS = Path("/tmp/shots-13/filters")


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)


def tile_ids(page, selector="#fb-grid .tile"):
    return page.locator(selector).evaluate_all("tiles => tiles.map(t => t.dataset.frameId)")


def api_ids(api, version, params):
    body = api.get(f"/api/versions/{version.pk}/frames/?{urlencode({**params, 'limit': 1000, 'count': 'true'})}").json()
    return [f["id"] for f in body["results"]], body["count"]


@pytest.mark.django_db(transaction=True)
def test_browser_lucene_roi_rule(ui_page, live_server, media_settings, admin_user):
    page, api = ui_page, api_client(admin_user)
    version, data = make_version(media_settings["originals"])
    page.goto(f"/versions/{version.pk}/?frame_query=NOT+meta.video:true")
    page.click("#fb-filters-toggle")
    block = page.locator('[data-block="0"]')
    block.locator("text=+ ROI rule").click()
    block.locator('.fb-rule-mode [data-mode="lucene"]').click()
    query = block.locator(".fb-roi-query")
    query.fill("labels:(car")
    expect(block.locator('.fb-field-error[data-hint-for="filters[0].rois[0].roi_query"]')).to_contain_text("'(' is not closed")
    query.fill("colour:red")
    expect(block.locator('[data-hint-for="filters[0].rois[0].roi_query"]')).to_contain_text("unknown field colour")
    shot(page, "01-lucene-hint")

    query.fill("labels:car AND confidence:[0.6 TO 1]")
    expect(block.locator('.fb-hint[data-hint-for="filters[0].rois[0].roi_query"]')).to_be_visible()
    query.press("Enter")
    page.wait_for_url(re.compile(r"roi_query"))
    filters = json.loads(parse_qs(urlparse(page.url).query)["filters"][0])
    assert filters == [{"rois": [{"roi_query": "labels:car AND confidence:[0.6 TO 1]", "logic": "include"}], "frame_query": "NOT meta.video:true"}] or \
        filters == [{"rois": [{"roi_query": "labels:car AND confidence:[0.6 TO 1]", "logic": "include"}]}]
    params = dict(parse_qs(urlparse(page.url).query, keep_blank_values=False))
    params = {k: v[0] for k, v in params.items()}
    expected, count = api_ids(api, version, params)
    streets = [f["id"] for f in data if f["id"].startswith("street") and any("car" in r["labels"] and r.get("confidence", 0) >= 0.6 for r in f["rois"])]
    assert sorted(expected) == sorted(streets) and 0 < len(streets) < 15
    assert count_text(page) == str(count)
    assert tile_ids(page) == expected
    expect(page.locator(".fb-roi-query")).to_have_value("labels:car AND confidence:[0.6 TO 1]")  # kept after the reload
    shot(page, "02-lucene-applied")

    # The server's word when the client cannot tell: a number field given a word.
    page.locator(".fb-roi-query").fill("confidence:high")
    page.locator(".fb-roi-query").press("Enter")
    error = page.locator('.fb-field-error[data-field="filters[0].rois[0].roi_query"]')
    expect(error).to_contain_text("confidence is a number")
    expect(page.locator(".fb-roi-query")).to_have_class(re.compile("invalid"))
    shot(page, "03-lucene-server-error")

    # Back to labels mode: the chips editor again.
    page.locator('.fb-rule-mode [data-mode="labels"]').click()
    expect(page.locator('[data-rule="0-0"][data-mode="labels"] .fb-label-input')).to_be_visible()


@pytest.mark.django_db(transaction=True)
def test_browser_sample_by_property_and_split_preview(ui_page, live_server, media_settings, admin_user):
    page, api = ui_page, api_client(admin_user)
    version, data = make_version(media_settings["originals"])
    page.goto(f"/versions/{version.pk}/?frame_query=NOT+meta.video:true")
    page.click("#fb-sample-toggle")
    page.fill("#fb-sample-by", "meta.city")
    page.fill("#fb-sample-n", "3")
    page.fill("#fb-sample-seed", "7")
    page.click("#fb-sample-apply")
    page.wait_for_url(re.compile(r"sample_by=meta.city"))
    query = {k: v[0] for k, v in parse_qs(urlparse(page.url).query).items()}
    assert query == {"frame_query": "NOT meta.video:true", "sample_by": "meta.city", "sample_n": "3", "sample_seed": "7"}
    expected, count = api_ids(api, version, query)
    assert count == 9 == len(expected)  # 3 cities x 3
    assert count_text(page) == "9"
    assert sorted(tile_ids(page)) == sorted(expected)
    expect(page.locator("#fb-sample-chip")).to_contain_text("3 per meta.city · seed 7")
    cities = [next(f for f in data if f["id"] == i)["meta"]["city"] for i in expected]
    assert sorted(cities) == ["Berlin"] * 3 + ["Paris"] * 3 + ["Rome"] * 3
    shot(page, "04-sample")

    # The export is what is shown.
    with page.expect_download() as download:
        page.click("#fb-export")
    exported = json.loads(Path(download.value.path()).read_text())
    assert sorted(f["id"] for f in exported) == sorted(expected)

    # Sorting keeps the sample; another seed gives another one.
    page.select_option("#fb-sort", "id")
    page.wait_for_url(re.compile(r"sort=id"))
    assert tile_ids(page) == sorted(expected)
    page.click("#fb-sample-toggle")
    page.fill("#fb-sample-seed", "8")
    page.click("#fb-sample-apply")
    page.wait_for_url(re.compile(r"sample_seed=8"))
    other, _ = api_ids(api, version, {**query, "sample_seed": "8"})
    assert sorted(tile_ids(page)) == sorted(other) and sorted(other) != sorted(expected)

    # A bad N is named beside the field.
    page.goto(f"/versions/{version.pk}/?sample_by=meta.city&sample_n=0")
    expect(page.locator('#fb-sample-panel .fb-field-error[data-field="sample_n"]')).to_be_visible()
    shot(page, "05-sample-error")

    # Split Preview from the tab: side A is the tab's filter.
    page.goto(f"/versions/{version.pk}/?frame_query=meta.weather:sunny")
    page.click("#fb-sample-toggle")
    page.click("#fb-split-link")
    page.wait_for_url(re.compile(r"/split/"))
    expect(page.locator("#a_frame_query")).to_have_value("meta.weather:sunny")
    page.fill("#a_frame_query", "meta.city:Berlin OR meta.city:Paris")
    page.fill("#b_frame_query", "meta.city:Rome")
    page.fill("#b_roi_query", "car")
    page.fill("[name=a_name]", "train")
    page.fill("[name=b_name]", "val")
    page.click("#split-apply")
    page.wait_for_url(re.compile(r"b_roi_query=car"))
    for prefix, params in (("a", {"frame_query": "meta.city:Berlin OR meta.city:Paris"}), ("b", {"frame_query": "meta.city:Rome", "roi_query": "car"})):
        ids, count = api_ids(api, version, params)
        assert page.locator(f"#split-{prefix}-count strong").get_attribute("data-count") == str(count)
        assert tile_ids(page, f"#split-{prefix} .tile") == ids[:12]
    expect(page.locator("#split-a .tile img").first).to_have_js_property("complete", True)
    # Every val frame holds a car: its ROIs are drawn over each picture, as on the Frames tab (tiles.js); a tile
    # whose preview failed shows a placeholder and nothing over it.
    pictures = page.locator("#split-b .tile .tile-src:has(img)").count()
    assert pictures >= 3
    expect(page.locator("#split-b .tile svg.tile-rois")).to_have_count(pictures)
    shot(page, "06-split-preview")
    page.click("#split-b-open")
    page.wait_for_url(re.compile(r"/versions/[^/]+/\?"))
    assert count_text(page) == str(api_ids(api, version, {"frame_query": "meta.city:Rome", "roi_query": "car"})[1])
    page.go_back()
    page.fill("#a_roi_query", "labels:(car")
    page.click("#split-apply")
    expect(page.locator('#split-a .fb-field-error[data-error-for="a_filters[0].roi_query"]')).to_be_visible()
    shot(page, "07-split-error")


@pytest.mark.django_db(transaction=True)
def test_browser_split_preview_overlap(ui_page, live_server, media_settings, admin_user):
    """Between the sides: how many frames both show (a train/val leak), and the Frames tab filtered to them (the
    two filters AND-ed: each of A's OR-ed blocks with each of B's), whose count is that number; with a sample on a
    side the overlap is the intersection of what the API lists for each side, without a link."""
    page, api = ui_page, api_client(admin_user)
    version, data = make_version(media_settings["originals"])
    train = [{"frame_query": "meta.city:Berlin"}, {"frame_query": "meta.city:Paris"}]
    val = [{"rois": [{"labels": ["car"]}], "frame_query": "NOT meta.video:true"}]
    both = [f["id"] for f in data if f["meta"].get("city") in ("Berlin", "Paris") and any("car" in r["labels"] for r in f["rois"])]
    assert len(both) == 10
    page.goto(f"/versions/{version.pk}/split/?" + urlencode({"a_filters": json.dumps(train), "b_filters": json.dumps(val)}))
    overlap = page.locator("#split-overlap")
    expect(overlap.locator("#split-overlap-count")).to_have_text("10")
    expect(overlap).to_have_class(re.compile("leak"))
    expect(overlap).to_contain_text("frames in both")
    counts = {p: int(page.locator(f"#split-{p}-count strong").get_attribute("data-count")) for p in "ab"}
    cars = [f for f in data if not f["meta"].get("video") and any("car" in r["labels"] for r in f["rois"])]
    assert counts == {"a": 20, "b": len(cars)}
    expect(overlap).to_contain_text("50% of train")
    expect(overlap).to_contain_text(f"{round(10 * 100 / len(cars))}% of val")
    shot(page, "08-split-overlap")
    page.set_viewport_size({"width": 390, "height": 800})
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone
    page.evaluate("window.scrollTo(0, document.getElementById('split-overlap').getBoundingClientRect().top + window.scrollY - 300)")
    shot(page, "09-split-overlap-390")
    page.set_viewport_size({"width": 1440, "height": 900})

    page.click("#split-overlap-open")
    page.wait_for_url(re.compile(r"/versions/[^/]+/\?filters="))
    assert count_text(page) == "10"
    expect(page.locator("#fb-grid .tile")).to_have_count(10)
    assert sorted(tile_ids(page)) == sorted(both)
    params = {k: v[0] for k, v in parse_qs(urlparse(page.url).query).items()}
    assert sorted(api_ids(api, version, params)[0]) == sorted(both)

    # No overlap: no warning. A sampled side: counted by intersecting, no link.
    page.goto(f"/versions/{version.pk}/split/?" + urlencode({"a_frame_query": "meta.city:Rome", "b_frame_query": "meta.city:Paris"}))
    expect(page.locator("#split-overlap-count")).to_have_text("0")
    expect(page.locator("#split-overlap")).not_to_have_class(re.compile("leak"))
    sampled = {"frame_query": "NOT meta.video:true", "sample_by": "meta.weather", "sample_n": "4", "sample_seed": "3"}
    cars = {"roi_query": "car"}
    page.goto(f"/versions/{version.pk}/split/?" + urlencode({**{f"a_{k}": v for k, v in sampled.items()}, "b_roi_query": "car"}))
    expected = set(api_ids(api, version, sampled)[0]) & set(api_ids(api, version, cars)[0])
    assert 0 < len(expected) < 12
    expect(page.locator("#split-overlap-count")).to_have_text(str(len(expected)))
    expect(page.locator("#split-overlap-open")).to_have_count(0)
    expect(page.locator("#split-overlap-nolink")).to_be_visible()
    shot(page, "10-split-overlap-sampled")
