"""One read path: the REST API and the Frames tab read the same query parameters with the same parser, so the
same query string shows the same frames in both, and the same bad parameters are named in both."""
import json
import re
from html import unescape
from urllib.parse import urlencode

import pytest

from frames import services
from frames.selectors import SYSTEM

from .pages import html as page_html
from .clients import api_client

pytestmark = pytest.mark.django_db

FRAMES = [
    {"id": f"f{i:02d}", "context_id": f"ctx-{i % 3}", "timestamp": i * 10,
     "meta": {"weather": ["sunny", "rain", "fog"][i % 3], "speed": i * 7 % 50, **({"city": "Paris"} if i % 4 == 0 else {})},
     "sources": [{"id": "default", "uri": f"s3://bucket/{i}.{'mp4' if i % 5 == 0 else 'jpg'}",
                  "content_type": "video/mp4" if i % 5 == 0 else "image/jpeg"}],
     "rois": [{"labels": ["car"] if i % 2 else ["person"], "poly": [0, 0, 5, 0, 5, 5], "confidence": (i % 10) / 10}]
     + ([{"labels": ["night"]}] if i % 3 == 2 else [])}
    for i in range(24)
]
DEEP = "[" * 2000 + "]" * 2000

VALID = [
    {},
    {"label": "car"},
    {"label": ["car", "night"]},
    {"filters": json.dumps([{"rois": [{"labels": ["person"], "conf_range": [0.3, 1]}]}])},
    {"filters": json.dumps([{"frame_query": "meta.weather:rain"}, {"rois": [{"labels": ["night"]}]}]), "label": "car"},
    {"filters": json.dumps([{"frame_query": "meta.weather:sunny"}]), "frame_query": "meta.speed:[10 TO 40]"},
    {"sources_query": "sources.content_type:video*"},
    {"frame_query": "meta.city:Paris OR meta.weather:fog", "sort": "id", "order": "desc"},
    {"sort": "timestamp", "limit": "7"},
    {"sort": "meta.speed", "order": "desc", "limit": "50"},
    {"sort": "meta.city"},
    {"sort": "saved", "label": "person"},
]
INVALID = [
    ({"filters": "[{"}, {"filters"}),
    ({"filters": DEEP}, {"filters"}),
    ({"filters": json.dumps([{"colour": "red"}])}, {"filters[0].colour"}),
    ({"frame_query": "meta.speed:[1 TO"}, {"filters[0].frame_query"}),
    ({"frame_query": "(" * 600 + "meta.a:1" + ")" * 600}, {"filters[0].frame_query"}),
    ({"sort": "colour"}, {"sort"}),
    ({"order": "sideways"}, {"order"}),
    ({"limit": "0"}, {"limit"}),
    ({"limit": "5000"}, {"limit"}),
    ({"limit": "many"}, {"limit"}),
    ({"cursor": "not-a-cursor"}, {"cursor"}),
    ({"sort": "colour", "order": "up", "limit": "-1"}, {"sort", "order", "limit"}),
    ({"cursor": "WyJhIiwiYiIsImMiXQ", "sort": "timestamp"}, {"cursor"}),  # a cursor of another sort order
    ({"changed": "new"}, {"changed"}),
    ({"changed": "Added", "order": "up"}, {"changed", "order"}),
]
CHANGED = [
    {"changed": "any"},
    {"changed": "added"},
    {"changed": "edited", "sort": "id", "order": "desc"},
    {"changed": "deleted"},
    {"changed": "any", "label": "car", "sort": "meta.speed"},
    {"changed": "any", "frame_query": "meta.weather:rain", "sort": "timestamp", "limit": "2"},
]


@pytest.fixture
def version(admin_user):
    dataset = services.dataset_create(user=SYSTEM, name="parity")
    draft = dataset.versions.get()
    services.frames_add(user=SYSTEM, version=draft, frames=FRAMES)
    return draft


@pytest.fixture
def api(admin_user):
    return api_client(admin_user)


def api_answer(api, version, params):
    response = api.get(f"/api/versions/{version.pk}/frames/?{urlencode(params, doseq=True)}")
    if response.status_code == 400:
        return "invalid", {e["field"] for e in response.json()["errors"]}
    assert response.status_code == 200, response.content[:300]
    return "frames", [f["id"] for f in response.json()["results"]]


def page_answer(admin_client, version, params):
    response = admin_client.get(f"/versions/{version.pk}/?{urlencode(params, doseq=True)}")
    assert response.status_code == 200
    html = page_html(response)
    errors = re.search(r'<div class="alert alert-error fb-errors".*?</div>', html, re.S)
    if errors:
        return "invalid", {unescape(field) for field in re.findall(r"<li><code>(.*?)</code>", errors.group(0))}
    return "frames", re.findall(r'<li class="tile[^"]*" data-frame-id="([^"]+)"', html)


@pytest.mark.parametrize("params", VALID, ids=lambda p: urlencode(p, doseq=True)[:60] or "no-params")
def test_api_and_page_show_the_same_frames(api, admin_client, version, params):
    kind, from_api = api_answer(api, version, params)
    assert kind == "frames"
    assert page_answer(admin_client, version, params) == ("frames", from_api)


def test_the_table_is_not_trivial(api, version):
    answers = {tuple(api_answer(api, version, params)[1]) for params in VALID}
    assert len(answers) >= len(VALID) - 2  # the valid queries really show different frames


@pytest.mark.parametrize("params, fields", INVALID, ids=lambda p: urlencode(p, doseq=True)[:40] if isinstance(p, dict) else "")
def test_api_and_page_name_the_same_bad_parameters(api, admin_client, version, params, fields):
    assert api_answer(api, version, params) == ("invalid", fields)
    assert page_answer(admin_client, version, params) == ("invalid", fields)


def test_a_cursor_from_the_api_opens_the_same_page_in_the_browser(api, admin_client, version):
    params = {"label": "car", "sort": "meta.speed", "limit": "4"}
    first = api.get(f"/api/versions/{version.pk}/frames/?{urlencode(params)}").json()
    params["cursor"] = first["cursor"]
    assert page_answer(admin_client, version, params) == api_answer(api, version, params)


@pytest.fixture
def child(version):
    """A child of the (published) version that edits, adds and deletes frames."""
    _, child = services.version_snapshot(user=SYSTEM, version=version)
    services.frames_update(user=SYSTEM, version=child, frames=[{"id": f"f{i:02d}", "meta": {"weather": "rain", "speed": i}} for i in (1, 4, 9, 16)])
    services.frames_add(user=SYSTEM, version=child, frames=[{**FRAMES[i], "id": f"new{i}"} for i in (2, 5, 7)])
    services.frames_delete(user=SYSTEM, version=child, frame_ids=["f03", "f10", "f13"])
    return child


@pytest.mark.parametrize("params", CHANGED, ids=lambda p: urlencode(p, doseq=True)[:60])
def test_api_and_page_show_the_same_changes(api, admin_client, child, params):
    kind, from_api = api_answer(api, child, params)
    assert kind == "frames" and from_api
    assert page_answer(admin_client, child, params) == ("frames", from_api)
