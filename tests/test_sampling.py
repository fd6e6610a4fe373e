"""Sample by Property: N frames per value (exactly min(N, available)), the same frames for the same seed and
others for another, taken after the filters; the API, the Frames tab, the count and the export show the same
frames; bad parameters are named."""
import hashlib
import json
import random
from collections import Counter, defaultdict
from urllib.parse import urlencode

import pytest

from frames import services
from frames.selectors import SYSTEM

from .clients import api_client
from .pages import html as page_html
from .test_query_parity import page_answer

pytestmark = pytest.mark.django_db

WEATHER = {"sunny": 23, "rain": 9, "fog": 3, "snow": 1}  # frames per value; some below N


def make_frames():
    rnd = random.Random(5)
    frames = []
    for weather, count in WEATHER.items():
        for _ in range(count):
            i = len(frames)
            labels = rnd.sample(["car", "person", "bike"], rnd.choice([1, 2]))
            frames.append({
                "id": f"{weather}-{i:03d}", "context_id": f"ctx-{i % 4}", "timestamp": i,
                "meta": {"weather": weather, "speed": i % 7},
                "sources": [{"id": "default", "uri": f"s3://bucket/{i}.jpg"}],
                # a label on two ROIs of one frame must count the frame once
                "rois": [{"labels": [label], "poly": [0, 0, 4, 0, 4, 4]} for label in labels] + [{"labels": [labels[0]], "poly": [1, 1, 2, 1, 2, 2]}],
            })
    frames += [{"id": f"nokey-{i}", "meta": {}, "sources": [{"id": "default", "uri": f"s3://bucket/n{i}.jpg"}]} for i in range(4)]
    return frames


FRAMES = make_frames()
BY_ID = {f["id"]: f for f in FRAMES}


@pytest.fixture
def version(admin_user):
    dataset = services.dataset_create(user=SYSTEM, name="sampling")
    draft = dataset.versions.get()
    services.frames_add(user=SYSTEM, version=draft, frames=FRAMES)
    return draft


@pytest.fixture
def api(admin_user):
    return api_client(admin_user)


def api_ids(api, version, **params):
    response = api.get(f"/api/versions/{version.pk}/frames/?{urlencode({'limit': 1000, 'sort': 'id', **params})}")
    assert response.status_code == 200, response.content[:300]
    return [f["id"] for f in response.json()["results"]]


def reference(by, n, seed, frame_ids=None):
    """The sample computed from the frames in Python: per value, the n smallest md5("<seed>:<id>")."""
    groups = defaultdict(set)
    for frame in FRAMES:
        if frame_ids is not None and frame["id"] not in frame_ids:
            continue
        if by == "label":
            values = {label for roi in frame.get("rois", []) for label in roi["labels"]}
        else:
            values = {frame["meta"][by[5:]]} if by[5:] in frame["meta"] else set()
        for value in values:
            groups[value].add(frame["id"])
    rank = lambda fid: hashlib.md5(f"{seed}:{fid}".encode()).hexdigest()  # noqa: E731
    return sorted({fid for ids in groups.values() for fid in sorted(ids, key=rank)[:n]})


@pytest.mark.parametrize("n", [1, 2, 5, 30])
def test_each_value_gets_min_n_available_frames(api, version, n):
    ids = api_ids(api, version, sample_by="meta.weather", sample_n=n, sample_seed=7)
    per_value = Counter(BY_ID[i]["meta"]["weather"] for i in ids)
    assert per_value == {weather: min(n, count) for weather, count in WEATHER.items()}
    assert not any(i.startswith("nokey") for i in ids)  # frames without the key are left out
    assert ids == reference("meta.weather", n, 7)


def test_the_same_seed_picks_the_same_frames_another_seed_others(api, version):
    first = api_ids(api, version, sample_by="meta.weather", sample_n=4, sample_seed=7)
    assert api_ids(api, version, sample_by="meta.weather", sample_n=4, sample_seed=7) == first
    others = {tuple(api_ids(api, version, sample_by="meta.weather", sample_n=4, sample_seed=seed)) for seed in (8, 9, 10)}
    assert tuple(first) not in others and len(others) == 3
    assert api_ids(api, version, sample_by="meta.weather", sample_n=4) == reference("meta.weather", 4, 0)  # default seed 0


def test_by_label_each_label_group_holds_n_different_frames(api, version):
    ids = api_ids(api, version, sample_by="label", sample_n=3, sample_seed=2)
    assert ids == reference("label", 3, 2)
    for label in ("car", "person", "bike"):
        assert sum(label in {r["labels"][0] for r in BY_ID[i]["rois"]} for i in ids) >= 3


def test_the_sample_is_taken_from_what_the_filters_match(api, version):
    filters = json.dumps([{"rois": [{"labels": ["bike"]}]}])
    filtered = set(api_ids(api, version, filters=filters))
    ids = api_ids(api, version, filters=filters, sample_by="meta.weather", sample_n=2, sample_seed=3)
    assert set(ids) <= filtered
    assert ids == reference("meta.weather", 2, 3, frame_ids=filtered)


def test_tab_count_api_count_and_export_show_the_sample(api, admin_client, version):
    params = {"sample_by": "meta.weather", "sample_n": "5", "sample_seed": "11", "frame_query": "meta.speed:[1 TO 6]"}
    expected = api_ids(api, version, **params)
    assert page_answer(admin_client, version, {**params, "sort": "id", "limit": "1000"}) == ("frames", expected)
    counted = admin_client.get(f"/versions/{version.pk}/frames/count/?{urlencode(params)}").json()["count"]
    api_count = api.get(f"/api/versions/{version.pk}/frames/?{urlencode({**params, 'count': 'true'})}").json()["count"]
    assert counted == api_count == len(expected)
    export = admin_client.get(f"/versions/{version.pk}/frames/export/?{urlencode({**params, 'sort': 'id'})}")
    assert [f["id"] for f in json.loads(b"".join(export.streaming_content))] == expected
    html = page_html(admin_client.get(f"/versions/{version.pk}/?{urlencode(params)}"))
    assert "sample_by=meta.weather" in html.split('id="fb-export"')[1].split(">")[0].replace("&amp;", "&")


def test_keyset_pages_walk_the_whole_sample(api, version):
    expected = api_ids(api, version, sample_by="label", sample_n=6, sample_seed=1)
    seen, cursor = [], None
    while True:
        params = {"sample_by": "label", "sample_n": 6, "sample_seed": 1, "sort": "id", "limit": 4, **({"cursor": cursor} if cursor else {})}
        body = api.get(f"/api/versions/{version.pk}/frames/?{urlencode(params)}").json()
        seen += [f["id"] for f in body["results"]]
        cursor = body["cursor"]
        if not cursor:
            break
    assert seen == expected


@pytest.mark.parametrize("params, fields", [
    ({"sample_by": "weather"}, {"sample_by"}),
    ({"sample_by": "meta.", "sample_n": "0"}, {"sample_by", "sample_n"}),
    ({"sample_by": "label", "sample_n": "many", "sample_seed": "-1"}, {"sample_n", "sample_seed"}),
    ({"sample_n": "5"}, {"sample_n"}),
    ({"sample_by": "meta.a__b"}, {"sample_by"}),
])
def test_bad_sample_parameters_are_named_in_the_api_and_on_the_page(api, admin_client, version, params, fields):
    response = api.get(f"/api/versions/{version.pk}/frames/?{urlencode(params)}")
    assert response.status_code == 400
    assert {e["field"] for e in response.json()["errors"]} == fields
    assert page_answer(admin_client, version, params) == ("invalid", fields)


def test_split_preview_counts_equal_the_api_counts(api, admin_client, version):
    sides = {"a_frame_query": "meta.weather:sunny OR meta.weather:fog", "b_roi_query": "bike", "b_sample_by": "meta.weather", "b_sample_n": "2"}
    html = admin_client.get(f"/versions/{version.pk}/split/?{urlencode(sides)}").content.decode()
    for prefix in ("a", "b"):
        params = {k[2:]: v for k, v in sides.items() if k.startswith(prefix)}
        api_count = api.get(f"/api/versions/{version.pk}/frames/?{urlencode({**params, 'count': 'true'})}").json()["count"]
        shown = html.split(f'id="split-{prefix}-count"')[1].split('data-count="')[1].split('"')[0]
        assert int(shown) == api_count > 0
        tiles = html.split(f'id="split-{prefix}"')[1].split("</section>")[0].count("data-frame-id=")
        assert tiles == min(api_count, 12)
    response = admin_client.get(f"/versions/{version.pk}/split/?a_roi_query=labels:(car&b_sample_by=x")
    assert response.status_code == 400
    body = response.content.decode()
    assert 'data-error-for="a_filters[0].roi_query"' in body and 'data-error-for="b_sample_by"' in body
