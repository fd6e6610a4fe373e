"""What changed in a version: the `changed` browse filter (added, edited, deleted frames against the parent) in
the one query parser, the REST API and the Frames tab (control, tile badges, a deleted frame's tile opening the
parent's frame page); the frame contract's `parent`; static/js/viewer/diff.js `diffRois` in Chromium.

The versions are built through the services, as a user builds them: a root of 12 frames, published; a child
that edits two frames (one of them deleted and added again), adds one, deletes one, and adds and deletes
another (which must show nowhere); a grandchild that deletes the child's added frame and edits a root frame.
Screenshots go to test-artifacts/screenshots/changed-*.png.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.http import QueryDict
from django.templatetags.static import static
from django.urls import reverse
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from frames import selectors, services
from frames.selectors import SYSTEM, FrameQuery

from .clients import api_client
from .pages import html as page_html

SCREENSHOTS = Path(os.environ.get("HYPERDATA_SCREENSHOTS") or Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots")
CAR = [40, 120, 150, 120, 150, 190, 40, 190]
MOVED_CAR = [60, 110, 170, 110, 170, 180, 60, 180]


def frame(i: int, media: Path | None = None, **changes) -> dict:
    source = {"id": "default", "uri": f"https://example.com/{i}.jpg", "content_type": "image/jpeg", "width": 320, "height": 240}
    if media is not None:
        source["preview"] = {"uri": (media / f"fr-{i:02d}.jpg").as_uri()}
    rois = [{"id": f"car-{i}", "labels": ["car"], "poly": CAR, "confidence": 0.9}] if i % 2 else []
    rois.append({"labels": ["person"], "poly": [200, 60, 230, 60, 230, 150, 200, 150], "confidence": 0.7})
    return {"id": f"fr-{i:02d}", "context_id": f"ctx-{i % 2}", "timestamp": i * 100, "meta": {"n": i}, "sources": [source],
            "rois": rois, **changes}


def build(media: Path | None = None) -> dict:
    dataset = services.dataset_create(user=SYSTEM, name="changed")
    root = dataset.versions.get()
    services.frames_add(user=SYSTEM, version=root, frames=[frame(i, media) for i in range(12)])
    root, child = services.version_snapshot(user=SYSTEM, version=root, name="v1", child_name="v2")
    edited = frame(1, media)
    edited["rois"][0] = {**edited["rois"][0], "poly": MOVED_CAR, "confidence": 0.6}
    services.frames_update(user=SYSTEM, version=child, frames=[{"id": "fr-01", "rois": edited["rois"]}])
    services.frames_add(user=SYSTEM, version=child, frames=[frame(20, media, id="fr-20"), frame(21, media, id="fr-21")])
    services.frames_delete(user=SYSTEM, version=child, frame_ids=["fr-02", "fr-03", "fr-21"])
    services.frames_add(user=SYSTEM, version=child, frames=[frame(3, media, meta={"n": 3, "again": True})])
    child.refresh_from_db()
    return {"root": root, "child": child}


@pytest.fixture
def versions(db):
    return build()


def listed(version, **params) -> list[tuple[str, str]]:
    query = selectors.parse_frame_query(_query(params))
    rows = selectors.frames_browse(user=SYSTEM, version=version, query=query.page(limit=1000)).frames
    marks = selectors.frame_changes(user=SYSTEM, version=version, rows=rows)
    return [(row.frame_id, marks[row.frame_id]) for row in rows]


def _query(params) -> QueryDict:
    return QueryDict(urlencode(params, doseq=True))


# ------------------------------------------------------------------------------------------ selectors


def test_the_filter_lists_added_edited_and_deleted_frames(versions):
    child = versions["child"]
    # default order: context, timestamp, id -> ctx-0 (even ids) then ctx-1 (odd ids)
    assert listed(child, changed="any") == [("fr-02", "deleted"), ("fr-20", "added"), ("fr-01", "edited"), ("fr-03", "edited")]
    assert listed(child, changed="added") == [("fr-20", "added")]
    assert listed(child, changed="edited") == [("fr-01", "edited"), ("fr-03", "edited")]
    assert listed(child, changed="deleted") == [("fr-02", "deleted")]
    # filters and sorts apply as to any other page
    assert listed(child, changed="any", label="car", sort="id", order="desc") == [("fr-03", "edited"), ("fr-01", "edited")]
    assert listed(child, changed="any", frame_query="meta.n:[2 TO 20]", sort="timestamp") == [
        ("fr-02", "deleted"), ("fr-03", "edited"), ("fr-20", "added")]
    # the deleted frame is listed as the parent showed it
    deleted = selectors.frames_browse(user=SYSTEM, version=child, query=FrameQuery(changed="deleted")).frames[0]
    assert (deleted.version_id, deleted.deleted, deleted.meta) == (versions["root"].pk, False, {"n": 2})
    assert selectors.frames_count(user=SYSTEM, version=child, changed="any") == 4
    assert services.frames_count(user=SYSTEM, version=child, changed="edited") == 2
    assert services.frames_count(user=SYSTEM, version=child, filters=selectors.parse_frame_query(_query({"label": "car"})).filters,
                                 changed="any") == 2


def test_a_root_version_added_every_frame(versions):
    root = versions["root"]
    assert [mark for _, mark in listed(root, changed="any")] == ["added"] * 12
    assert len(listed(root, changed="added")) == 12
    assert listed(root, changed="edited") == [] == listed(root, changed="deleted")


def test_a_grandchild_compares_with_its_own_parent(versions):
    child = services.version_publish(user=SYSTEM, version=versions["child"], name="v2")
    grandchild = services.version_create(user=SYSTEM, parent=child, name="v3")
    services.frames_delete(user=SYSTEM, version=grandchild, frame_ids=["fr-20", "fr-04"])
    services.frames_update(user=SYSTEM, version=grandchild, frames=[{"id": "fr-05", "meta": {"n": 55}}])
    services.frames_add(user=SYSTEM, version=grandchild, frames=[frame(2)])  # deleted in v2, back in v3
    assert sorted(listed(grandchild, changed="any")) == [
        ("fr-02", "added"), ("fr-04", "deleted"), ("fr-05", "edited"), ("fr-20", "deleted")]
    deleted = dict((r.frame_id, r.version_id) for r in selectors.frames_browse(
        user=SYSTEM, version=grandchild, query=FrameQuery(changed="deleted")).frames)
    assert deleted == {"fr-20": child.pk, "fr-04": versions["root"].pk}


# ------------------------------------------------------------------------------------------ the API


def api_ids(api, version, **params):
    response = api.get(f"/api/versions/{version.pk}/frames/?{urlencode(params, doseq=True)}")
    assert response.status_code == 200, response.content[:300]
    return response.json()


def test_the_api_lists_and_marks_the_changes(admin_user, versions):
    api, child, root = api_client(admin_user), versions["child"], versions["root"]
    body = api_ids(api, child, changed="any", count="true")
    assert body["count"] == 4
    assert [(f["id"], f["change"]) for f in body["results"]] == [
        ("fr-02", "deleted"), ("fr-20", "added"), ("fr-01", "edited"), ("fr-03", "edited")]
    deleted = body["results"][0]
    parent_frame = api.get(f"/api/versions/{root.pk}/frames/fr-02/").json()
    assert {k: v for k, v in deleted.items() if k not in ("change", "dataset")} == {k: v for k, v in parent_frame.items() if k != "dataset"}
    assert deleted["saved_in_version"] == root.pk
    assert "change" not in api_ids(api, child)["results"][0]  # only under the filter
    assert [f["id"] for f in api_ids(api, root, changed="edited")["results"]] == []
    assert len(api_ids(api, root, changed="added")["results"]) == 12
    contexts = api.get(f"/api/versions/{child.pk}/contexts/?changed=edited").json()["results"]
    assert [(c["context_id"], c["frame_count"]) for c in contexts] == [("ctx-1", 2)]
    bad = api.get(f"/api/versions/{child.pk}/frames/?changed=new")
    assert bad.status_code == 400 and [e["field"] for e in bad.json()["errors"]] == ["changed"]


def test_the_openapi_schema_documents_the_parameter(admin_client, db):
    schema = json.loads(admin_client.get("/api/schema/?format=json").content)
    operation = schema["paths"]["/api/versions/{version_id}/frames/"]["get"]
    changed = next(p for p in operation["parameters"] if p["name"] == "changed")
    assert sorted(changed["schema"]["enum"]) == ["added", "any", "deleted", "edited"]
    assert "parent" in changed["description"]


# ------------------------------------------------------------------------------------------ the Frames tab


def tiles_of(html: str) -> list[tuple[str, str, str]]:
    """(frame id, change badge, link) of each grid tile."""
    result = []
    for block in re.findall(r'<li class="tile[^"]*" data-frame-id="[^"]+".*?</li>', html, re.S):
        frame_id = re.search(r'data-frame-id="([^"]+)"', block).group(1)
        badge = re.search(r'data-change="([^"]+)"', block)
        href = re.search(r'<a class="tile-link" href="([^"]+)"', block).group(1).replace("&amp;", "&")
        result.append((frame_id, badge.group(1) if badge else "", href))
    return result


def test_the_frames_tab_filters_marks_and_links(admin_client, versions):
    child, root = versions["child"], versions["root"]
    html = page_html(admin_client.get(f"/versions/{child.pk}/?changed=any&sort=id"))
    assert '<select id="fb-changed"' in html and '<option value="any" selected>' in html
    tiles = tiles_of(html)
    assert [(t[0], t[1]) for t in tiles] == [("fr-01", "edited"), ("fr-02", "deleted"), ("fr-03", "edited"), ("fr-20", "added")]
    links = {t[0]: t[2] for t in tiles}
    # a frame of this version keeps the whole view in its link (so Esc and a shared link keep the filter)
    assert links["fr-01"] == reverse("viewer:frame", args=[child.pk, "fr-01"]) + "?changed=any&sort=id"
    # a deleted frame opens the parent's frame page, under the same filter minus `changed`
    assert links["fr-02"] == reverse("viewer:frame", args=[root.pk, "fr-02"]) + "?sort=id"
    assert admin_client.get(links["fr-02"]).status_code == 200
    assert re.search(r"<strong data-count-value=\"4\">4</strong> of 12 frames match", html)
    # without the filter: no badges; a root version has no control
    assert all(badge == "" for _, badge, _ in tiles_of(page_html(admin_client.get(f"/versions/{child.pk}/"))))
    assert 'id="fb-changed"' not in page_html(admin_client.get(f"/versions/{root.pk}/"))
    count = admin_client.get(reverse("viewer:version-count", args=[child.pk]) + "?changed=edited&label=car").json()
    assert count["count"] == 2
    table = page_html(admin_client.get(f"/versions/{child.pk}/?changed=deleted&view=table"))
    assert re.search(r'<tr data-frame-id="fr-02">.*?data-change="deleted"', table, re.S)


# ------------------------------------------------------------------------------------------ the contract


def contract_of(html: str) -> dict:
    return json.loads(re.search(r'<script id="frame-contract" type="application/json">(.*?)</script>', html, re.S).group(1))


def test_the_frame_contract_carries_the_parents_frame(admin_client, admin_user, versions):
    child, root = versions["child"], versions["root"]
    api = api_client(admin_user)

    def parent_of(version, frame_id):
        return contract_of(page_html(admin_client.get(reverse("viewer:frame", args=[version.pk, frame_id]))))["parent"]

    in_root = api.get(f"/api/versions/{root.pk}/frames/fr-01/").json()
    assert parent_of(child, "fr-01") == {"version": {"id": root.pk, "name": "v1"}, "frame": in_root, "status": "edited"}
    assert parent_of(child, "fr-03")["status"] == "edited"  # deleted and added again: the parent had it
    assert parent_of(child, "fr-20") == {"version": {"id": root.pk, "name": "v1"}, "frame": None, "status": "added"}
    unchanged = parent_of(child, "fr-05")
    assert unchanged["status"] == "unchanged"
    assert unchanged["frame"] == api.get(f"/api/versions/{root.pk}/frames/fr-05/").json()
    assert parent_of(root, "fr-05") is None


# ------------------------------------------------------------------------------------------ diffRois in Chromium


@pytest.fixture
def module_page(page, live_server):
    page.goto(static("js/viewer/diff.js"))
    return page


def diff(page, rois, parent_rois):
    url = static("js/viewer/diff.js")
    return page.evaluate(f"async ([a, b]) => (await import({json.dumps(url)})).diffRois(a, b)", [rois, parent_rois])


CAR_ROI = {"labels": ["car"], "poly": CAR, "confidence": 0.9, "sources": ["default"]}
PERSON_ROI = {"labels": ["person"], "poly": [1, 1, 5, 1, 5, 9], "confidence": 0.7}
SUNNY = {"labels": ["sunny"]}


def test_diff_rois_matches_by_id_then_identity_then_labels_and_sources(module_page):
    page = module_page
    nothing = {"added": [], "removed": [], "changed": [], "unchanged": []}
    assert diff(page, [], []) == nothing
    # identical ROIs, in another order: unchanged, keys in any order, `label` as `labels`, empty == missing
    same = [{"poly": CAR, "label": "car", "sources": ["default"], "confidence": 0.9, "meta": {}}, dict(PERSON_ROI)]
    assert diff(page, same, [PERSON_ROI, CAR_ROI]) == {**nothing, "unchanged": [0, 1]}
    # a moved polygon and a new confidence: changed, fields in the documented order
    moved = {**CAR_ROI, "poly": MOVED_CAR, "confidence": 0.6}
    assert diff(page, [SUNNY, moved], [CAR_ROI, SUNNY]) == {
        **nothing, "changed": [{"index": 1, "parentIndex": 0, "fields": ["poly", "confidence"]}], "unchanged": [0]}
    # added and removed
    assert diff(page, [PERSON_ROI, CAR_ROI], [CAR_ROI, SUNNY]) == {**nothing, "added": [0], "removed": [1], "unchanged": [1]}
    # ids decide first: the same id is the same ROI even relabelled and moved
    a, b = {**CAR_ROI, "id": "a"}, {**CAR_ROI, "id": "b"}
    relabelled = {**a, "labels": ["truck"], "poly": MOVED_CAR, "meta": {"checked": True}}
    assert diff(page, [relabelled], [a]) == {**nothing, "changed": [{"index": 0, "parentIndex": 0, "fields": ["poly", "labels", "meta"]}]}
    assert diff(page, [relabelled, b], [b, a])["changed"] == [{"index": 0, "parentIndex": 1, "fields": ["poly", "labels", "meta"]}]
    # ... an id beats an identical twin: the ROI with id "a" pairs with "a", its copy without an id is added
    assert diff(page, [dict(CAR_ROI), a], [a]) == {**nothing, "added": [0], "unchanged": [1]}
    # ... and an ROI written again under a new id (the server's, for an ROI saved without one) is still found
    assert diff(page, [b, {**moved, "id": "c"}], [a, {**CAR_ROI, "id": "d"}]) == {
        **nothing, "changed": [{"index": 1, "parentIndex": 1, "fields": ["poly", "confidence"]}], "unchanged": [0]}
    # without ids, a relabelled ROI is removed and added; the same labels and sources pair in order
    assert diff(page, [{**CAR_ROI, "labels": ["truck"]}], [CAR_ROI]) == {**nothing, "added": [0], "removed": [0]}
    two = [{**CAR_ROI, "poly": [0, 0, 1, 0, 1, 1]}, {**CAR_ROI, "poly": [5, 5, 6, 5, 6, 6]}]
    edited = [{**two[0], "confidence": 0.1}, two[1], {**CAR_ROI, "sources": ["rear"]}]
    assert diff(page, edited, two) == {
        **nothing, "added": [2], "changed": [{"index": 0, "parentIndex": 0, "fields": ["confidence"]}], "unchanged": [1]}
    # sources and labels are sets
    assert diff(page, [{**CAR_ROI, "labels": ["car", "red"], "sources": ["b", "a"]}],
                [{**CAR_ROI, "labels": ["red", "car"], "sources": ["a", "b"]}])["unchanged"] == [0]
    # an unknown key counts too, after the known ones
    assert diff(page, [{**CAR_ROI, "zeta": 1, "meta": {"x": 1}}], [CAR_ROI])["changed"][0]["fields"] == ["meta", "zeta"]


# ------------------------------------------------------------------------------------------ in the browser


@pytest.fixture
def media(tmp_path, settings):
    """Tile images the media proxy serves (a file:// media root): one colour and number per frame."""
    settings.HYPERDATA_MEDIA_ROOTS = [str(tmp_path)]
    settings.HYPERDATA_PREVIEWS_AUTO = False
    for i in list(range(12)) + [20, 21, 3]:
        image = Image.new("RGB", (320, 240), (40 + 17 * i % 200, 90, 150 - 5 * i % 100))
        draw = ImageDraw.Draw(image)
        draw.rectangle([40, 120, 150, 190], fill=(220, 60, 60))
        draw.text((10, 10), f"fr-{i:02d}", fill=(255, 255, 255))
        image.save(tmp_path / f"fr-{i:02d}.jpg", quality=85)
    return tmp_path


def shot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"changed-{name}.png"), full_page=False)


@pytest.mark.django_db(transaction=True)
def test_browser_grid_control_filters_and_shows_badges(logged_in_page, live_server, media):
    page = logged_in_page
    built = build(media)
    child, root = built["child"], built["root"]
    page.goto(f"/versions/{child.pk}/")
    expect(page.locator("#fb-grid .tile")).to_have_count(12)
    expect(page.locator("#fb-grid [data-change]")).to_have_count(0)

    page.select_option("#fb-changed", "any")
    page.wait_for_url(re.compile(r"changed=any"))
    expect(page.locator("#fb-grid .tile")).to_have_count(4)
    badges = page.locator("#fb-grid .tile-change")
    assert badges.all_inner_texts() == ["deleted", "added", "edited", "edited"]
    assert page.locator("#fb-grid .tile").evaluate_all("(tiles) => tiles.map((t) => t.dataset.frameId)") == ["fr-02", "fr-20", "fr-01", "fr-03"]
    expect(page.locator("#fb-count strong")).to_have_text("4")
    # the badge sits on the image, readable: white on its colour, inside the tile's top edge
    edited = page.locator('.tile[data-frame-id="fr-01"] .tile-change')
    assert edited.evaluate("(b) => getComputedStyle(b).color") == "rgb(255, 255, 255)"
    tile_box, badge_box = page.locator('.tile[data-frame-id="fr-01"]').bounding_box(), edited.bounding_box()
    assert tile_box["y"] <= badge_box["y"] < tile_box["y"] + 30 and badge_box["x"] + badge_box["width"] <= tile_box["x"] + tile_box["width"]
    expect(page.locator('.tile[data-frame-id="fr-01"] img')).to_have_js_property("naturalWidth", 320)
    shot(page, "01-any")

    page.select_option("#fb-changed", "deleted")
    page.wait_for_url(re.compile(r"changed=deleted"))
    expect(page.locator("#fb-grid .tile")).to_have_count(1)
    shot(page, "02-deleted")
    page.locator('.tile[data-frame-id="fr-02"] a').click()
    page.wait_for_url(re.compile(re.escape(f"/versions/{root.pk}/frame/fr-02")))
    assert "changed=" not in page.url

    # the ROIs of the edited frame against the parent's, from the page's own contract
    page.goto(reverse("viewer:frame", args=[child.pk, "fr-01"]) + "?changed=any")
    result = page.evaluate("""async (url) => {
        const contract = JSON.parse(document.getElementById("frame-contract").textContent);
        const { diffRois } = await import(url);
        return [contract.parent.status, diffRois(contract.frame.rois, contract.parent.frame.rois)];
    }""", static("js/viewer/diff.js"))
    assert result == ["edited", {"added": [], "removed": [], "unchanged": [1],
                                 "changed": [{"index": 0, "parentIndex": 0, "fields": ["poly", "confidence"]}]}]
