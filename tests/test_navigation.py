"""Frame navigation (the frame page's keys): 1 or 10 frames forward or back in the browser's filter and order,
only to frames with an object ROI above a confidence, or within the frame's context in the film strip's order.

The selector (frames.selectors.frame_step) is checked against the same walk done in Python over the frames as
written, for every frame of a version, across a label filter and several sorts (a metadata key some frames
lack included); the JSON view (viewer:frame-neighbour) answers the frame page's URL with the same query, names
bad parameters with a 400 and hides other people's versions with a 404.
"""
from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import User
from django.http import QueryDict
from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect

from frames import selectors, services
from frames.selectors import SYSTEM, Step

pytestmark = pytest.mark.django_db

N = 30


def make_frame(i: int) -> dict:
    """Frames whose id, timestamp and speed orders all differ; contexts c0..c2; every 5th lacks `speed`; object
    ROIs with a confidence of i/10 (mod 10) or none (i % 4 == 3); some with a confident frame label only."""
    label = "car" if i % 2 == 0 else "person"
    obj = {"labels": [label], "poly": [0, 0, 10, 0, 10, 10]}
    if i % 4 != 3:
        obj["confidence"] = (i % 10) / 10
    rois = [obj]
    if i % 8 == 7:  # a frame label only: never an ROI "above the minimum", though it matches label=person
        rois = [{"labels": ["person"], "confidence": 0.95}]
    if i % 6 == 1:
        rois.append({"labels": ["night"], "confidence": 0.99})
    meta = {} if i % 5 == 0 else {"speed": (i * 11) % 17}
    return {
        "id": f"f{i:02d}", "context_id": f"c{i % 3}", "timestamp": (i * 7) % N * 100, "meta": meta,
        "sources": [{"id": "default", "uri": f"https://example.com/{i}.jpg", "width": 10, "height": 10}], "rois": rois,
    }


FRAMES = [make_frame(i) for i in range(N)]


def sort_key(sort: str):
    if sort == "id":
        return lambda f: (f["id"],)
    if sort == "timestamp":
        return lambda f: (f["timestamp"], f["id"])
    if sort == "context":
        return lambda f: (f["context_id"], f["timestamp"], f["id"])
    raise ValueError(sort)


def ordered(frames: list[dict], sort: str, descending: bool) -> list[dict]:
    """The browser's order; a metadata sort puts frames without the key last in either direction, by id."""
    if sort == "meta.speed":
        with_key = sorted((f for f in frames if "speed" in f["meta"]), key=lambda f: (f["meta"]["speed"], f["id"]), reverse=descending)
        without = sorted((f for f in frames if "speed" not in f["meta"]), key=lambda f: f["id"], reverse=descending)
        return with_key + without
    return sorted(frames, key=sort_key(sort), reverse=descending)


def has_label(frame: dict, label: str | None) -> bool:
    return label is None or any(label in roi["labels"] for roi in frame["rois"])


def confident(frame: dict, minimum: float | None) -> bool:
    """An object ROI (one with a poly) at or above the minimum; one without a confidence counts as above."""
    return minimum is None or any(roi.get("poly") and roi.get("confidence", 1.0) >= minimum for roi in frame["rois"])


def expected_step(frame: dict, *, label=None, sort="context", descending=False, direction="next", step=1, minimum=None, scope="filter"):
    """The walk done by hand: the frames after (before) `frame` in the full order that the filter keeps."""
    if scope == "context":
        full = sorted((f for f in FRAMES if f["context_id"] == frame["context_id"]), key=lambda f: (f["timestamp"], f["id"]))
    else:
        full = ordered(FRAMES, sort, descending)
    at = [f["id"] for f in full].index(frame["id"])
    rest = full[at + 1:] if direction == "next" else full[:at][::-1]
    rest = [f for f in rest if has_label(f, label) and confident(f, minimum)]
    return rest[min(step, len(rest)) - 1]["id"] if rest else None


@pytest.fixture
def version(admin_user):
    dataset = services.dataset_create(user=SYSTEM, name="navigation")
    draft = dataset.versions.get()
    services.frames_add(user=SYSTEM, version=draft, frames=FRAMES)
    draft.refresh_from_db()
    return draft


def query_of(**params) -> selectors.FrameQuery:
    return selectors.parse_frame_query(QueryDict(urlencode({k: v for k, v in params.items() if v is not None})))


QUERIES = [
    {},
    {"label": "car"},
    {"label": "person", "sort": "timestamp", "order": "desc"},
    {"sort": "meta.speed"},
    {"label": "person", "sort": "meta.speed", "order": "desc"},
    {"sort": "id", "order": "desc"},
]


@pytest.mark.parametrize("params", QUERIES, ids=lambda p: urlencode(p) or "no-params")
def test_steps_of_1_and_10_follow_the_filter_and_the_order(version, params):
    query = query_of(**params)
    hand = dict(label=params.get("label"), sort=params.get("sort", "context"), descending=params.get("order") == "desc")
    revisions = {r.frame_id: r for r in selectors.frames_browse(user=SYSTEM, version=version, query=selectors.FrameQuery(limit=N)).frames}
    checked = 0
    for frame in FRAMES:
        for direction in ("next", "previous"):
            for step in (1, 10):
                for minimum in (None, 0.5):
                    found = selectors.frame_step(user=SYSTEM, version=version, frame=revisions[frame["id"]], query=query,
                                                 step=Step(direction, step, minimum))
                    wanted = expected_step(frame, **hand, direction=direction, step=step, minimum=minimum)
                    assert (found.frame_id if found else None) == wanted, (frame["id"], direction, step, minimum)
                    checked += wanted is not None
    assert checked > N * 4  # the walks really went somewhere


def test_the_ends_of_the_list(version):
    order = [f["id"] for f in ordered([f for f in FRAMES if has_label(f, "car")], "timestamp", False)]
    query = query_of(label="car", sort="timestamp")

    def step(frame_id, direction, n):
        row = selectors.frame_get(user=SYSTEM, version=version, frame_id=frame_id)
        found = selectors.frame_step(user=SYSTEM, version=version, frame=row, query=query, step=Step(direction, n))
        return found.frame_id if found else None

    assert step(order[-1], "next", 1) is None and step(order[-1], "next", 10) is None
    assert step(order[0], "previous", 1) is None and step(order[0], "previous", 10) is None
    assert step(order[-4], "next", 10) == order[-1]  # fewer than 10 left: the last one
    assert step(order[3], "previous", 10) == order[0]  # ... the first one
    assert step(order[0], "next", 10) == order[10]


def test_min_confidence_skips_frame_labels_and_keeps_rois_without_confidence(version):
    query = query_of(sort="id")
    start = selectors.frame_get(user=SYSTEM, version=version, frame_id="f00")
    seen, frame = [], start
    while (frame := selectors.frame_step(user=SYSTEM, version=version, frame=frame, query=query, step=Step(min_confidence=0.8))):
        seen.append(frame.frame_id)
    # 0.8 and 0.9 confident ROIs, and the ROIs without a confidence (i % 4 == 3) except frame-label-only frames
    wanted = [f["id"] for f in FRAMES[1:] if confident(f, 0.8)]
    assert seen == wanted
    assert "f07" not in seen and "f15" not in seen  # a confident frame label only (0.95) does not count
    assert "f03" in seen and "f08" in seen and "f09" in seen and "f01" not in seen


def test_context_scope_walks_the_frames_context_by_timestamp(version):
    for frame in FRAMES:
        row = selectors.frame_get(user=SYSTEM, version=version, frame_id=frame["id"])
        for direction in ("next", "previous"):
            for step in (1, 10):
                found = selectors.frame_step(user=SYSTEM, version=version, frame=row, query=query_of(sort="id", order="desc"),
                                             step=Step(direction, step, scope="context"))
                wanted = expected_step(frame, direction=direction, step=step, scope="context")
                assert (found.frame_id if found else None) == wanted
                if found:
                    assert found.context_id == frame["context_id"]
    # with a filter and a minimum: the same walk among the context's frames that pass them
    row = selectors.frame_get(user=SYSTEM, version=version, frame_id="f00")
    found = selectors.frame_step(user=SYSTEM, version=version, frame=row, query=query_of(label="car"),
                                 step=Step("next", 1, 0.5, "context"))
    assert found.frame_id == expected_step(FRAMES[0], label="car", minimum=0.5, scope="context")


def test_steps_within_what_a_child_version_changed(version):
    published, child = services.version_snapshot(user=SYSTEM, version=version)
    services.frames_update(user=SYSTEM, version=child, frames=[{"id": i, "meta": {"edited": True}} for i in ("f04", "f12", "f20")])
    row = selectors.frame_get(user=SYSTEM, version=child, frame_id="f04")
    query = query_of(changed="edited", sort="id")
    assert selectors.frame_step(user=SYSTEM, version=child, frame=row, query=query, step=Step()).frame_id == "f12"
    assert selectors.frame_step(user=SYSTEM, version=child, frame=row, query=query, step=Step(step=10)).frame_id == "f20"
    assert selectors.frame_step(user=SYSTEM, version=child, frame=row, query=query, step=Step("previous")) is None


# ------------------------------------------------------------------------------------------ the JSON view


def test_a_deleted_frame_under_the_changed_filter_opens_in_the_parent(admin_client, version):
    published, child = services.version_snapshot(user=SYSTEM, version=version)
    services.frames_update(user=SYSTEM, version=child, frames=[{"id": "f04", "meta": {"edited": True}}])
    services.frames_delete(user=SYSTEM, version=child, frame_ids=["f05"])
    body = neighbour(admin_client, child, "f04", changed="any", sort="id")
    assert body.json() == {"frame_id": "f05", "url": reverse("viewer:frame", args=[published.pk, "f05"]) + "?sort=id"}
    assert admin_client.get(body.json()["url"]).status_code == 200
    back = neighbour(admin_client, child, "f05", changed="any", sort="id", direction="previous")
    assert back.status_code == 404  # f05 is not in the child: its page (and its keys) are the parent's


def neighbour(client, version, frame_id, **params):
    url = reverse("viewer:frame-neighbour", args=[version.pk, frame_id])
    return client.get(f"{url}?{urlencode(params, doseq=True)}")


def test_the_view_answers_the_frame_page_with_the_same_query(admin_client, version):
    browse = {"label": "car", "sort": "meta.speed", "order": "desc", "view": "table"}
    order = [f["id"] for f in ordered([f for f in FRAMES if has_label(f, "car")], "meta.speed", True)]
    assert neighbour(admin_client, version, order[2], **browse, direction="next", step=10).json()["frame_id"] == order[12]
    response = neighbour(admin_client, version, order[-5], **browse, direction="next", step=10)
    assert response.status_code == 200
    body = response.json()
    assert body["frame_id"] == order[-1]  # fewer than 10 left: the last one
    page_url = reverse("viewer:frame", args=[version.pk, order[-1]])
    assert body["url"] == page_url + "?" + urlencode(browse)
    # the URL opens that frame's page, whose own "previous" link is the same walk back
    assert admin_client.get(body["url"]).status_code == 200

    back = neighbour(admin_client, version, order[-1], **browse, direction="previous").json()
    assert back["frame_id"] == order[-2]
    confident_next = neighbour(admin_client, version, order[0], **browse, min_confidence="0.7").json()
    assert confident_next["frame_id"] == expected_step(FRAMES[int(order[0][1:])], label="car", sort="meta.speed", descending=True, minimum=0.7)
    in_context = neighbour(admin_client, version, "f00", scope="context").json()
    assert in_context["frame_id"] == expected_step(FRAMES[0], scope="context")
    assert neighbour(admin_client, version, order[-1], **browse).json() == {"frame_id": None, "url": None}


def test_a_frame_id_with_slashes_and_spaces(admin_client, version):
    services.frames_add(user=SYSTEM, version=version, frames=[{**make_frame(0), "id": "a/b c", "timestamp": 1}])
    assert neighbour(admin_client, version, "a/b c", sort="id").json()["frame_id"] == "f00"
    back = neighbour(admin_client, version, "f00", sort="id", direction="previous").json()
    assert back == {"frame_id": "a/b c", "url": reverse("viewer:frame", args=[version.pk, "a/b c"]) + "?sort=id"}


@pytest.mark.parametrize("params, fields", [
    ({"direction": "up"}, {"direction"}),
    ({"step": "5"}, {"step"}),
    ({"step": "ten"}, {"step"}),
    ({"min_confidence": "2"}, {"min_confidence"}),
    ({"min_confidence": "nan"}, {"min_confidence"}),
    ({"min_confidence": "high"}, {"min_confidence"}),
    ({"scope": "world"}, {"scope"}),
    ({"sort": "colour", "step": "3"}, {"sort", "step"}),
    ({"changed": "new"}, {"changed"}),
    ({"frame_query": "meta.speed:[1 TO"}, {"filters[0].frame_query"}),
])
def test_bad_parameters_are_named(admin_client, version, params, fields):
    response = neighbour(admin_client, version, "f01", **params)
    assert response.status_code == 400
    assert {e["field"] for e in response.json()["errors"]} == fields


def test_other_peoples_versions_and_missing_frames_are_not_found(admin_client, version):
    outsider = Client()
    outsider.force_login(User.objects.create_user("outsider", password="pw-outsider-123456"))
    assert neighbour(outsider, version, "f01").status_code == 404
    assert neighbour(outsider, version, "f01", direction="up").status_code == 404  # nothing told about the parameters
    assert neighbour(admin_client, version, "nope").status_code == 404
    anonymous = neighbour(Client(), version, "f01")
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]


# ------------------------------------------------------------------------------------------ Esc back to the grid


@pytest.mark.django_db(transaction=True)
def test_the_grid_scrolls_back_to_where_the_frame_was_opened(logged_in_page, live_server, settings):
    """The frame page's Esc goes to its back URL (the grid's URL with the same query, viewer/views/context.py
    back_url); the grid remembered its scroll position for that URL when the tile was clicked."""
    settings.HYPERDATA_PREVIEWS_AUTO = False
    page = logged_in_page
    dataset = services.dataset_create(user=SYSTEM, name="scroll")
    version = dataset.versions.get()
    services.frames_add(user=SYSTEM, version=version, frames=[make_frame(i) | {"id": f"s{i:03d}"} for i in range(90)])
    grid = f"/versions/{version.pk}/?label=car&sort=id"
    page.goto(grid)
    tile = page.locator('.tile[data-frame-id="s060"]')
    tile.scroll_into_view_if_needed()
    scrolled = page.evaluate("window.scrollY")
    assert scrolled > 300
    href = tile.locator("a").get_attribute("href")
    assert href.endswith("?label=car&sort=id")  # the link carries the filter, so a shared link keeps it
    tile.locator("a").click()
    page.wait_for_url(re.compile(r"/frame/s060\?label=car&sort=id$"))

    back = reverse("viewer:version", args=[version.pk]) + "?" + page.url.split("?", 1)[1]
    page.evaluate("(url) => location.assign(url)", back)  # what Esc does
    page.wait_for_url(re.compile(re.escape(back) + "$"))
    page.wait_for_function("(y) => Math.abs(window.scrollY - y) <= 1", arg=scrolled)
    expect(page.locator('.tile[data-frame-id="s060"]')).to_be_in_viewport()

    # the same view spelled otherwise (parameter order, a default written out) is the same place ...
    page.goto(f"/versions/{version.pk}/?sort=id&order=asc&label=car")
    page.wait_for_function("(y) => Math.abs(window.scrollY - y) <= 1", arg=scrolled)
    # ... another view starts at the top
    page.goto(f"/versions/{version.pk}/?label=car&sort=timestamp")
    expect(page.locator("#fb-grid .tile").first).to_be_visible()
    assert page.evaluate("window.scrollY") == 0
