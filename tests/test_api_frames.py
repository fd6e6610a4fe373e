"""The REST API end to end: the seeds' frames round-trip, versions follow ClearML's rules, bad input is refused."""
import json

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from frames.models import DatasetVersion, FrameRevision, RoiLabel

from .seed_frames import seed_frames
from .clients import api_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return api_client("alice")


@pytest.fixture
def dataset(api):
    response = api.post("/api/datasets/", {"name": "cars", "tags": ["demo"]}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


@pytest.fixture
def draft(api, dataset):
    versions = api.get(f"/api/datasets/{dataset['id']}/versions/").json()
    assert versions["count"] == 1 and versions["next"] is None  # a page with its total
    assert [v["name"] for v in versions["results"]] == ["Current"] and versions["results"][0]["status"] == "draft"
    return versions["results"][0]


def canonical(frame: dict) -> dict:
    """What we expect back: the frame as sent, with `label` spelled `labels` (the one canonical form)."""
    frame = json.loads(json.dumps(frame))
    for roi in frame.get("rois", []):
        if "label" in roi:
            roi["labels"] = roi.pop("label")
    return frame


def assert_subset(sent, received, path="frame"):
    if isinstance(sent, dict):
        assert isinstance(received, dict), path
        for key, value in sent.items():
            assert key in received, f"{path}.{key} missing"
            assert_subset(value, received[key], f"{path}.{key}")
    elif isinstance(sent, list):
        assert isinstance(received, list) and len(sent) == len(received), path
        for i, (a, b) in enumerate(zip(sent, received)):
            assert_subset(a, b, f"{path}[{i}]")
    else:
        assert sent == received, f"{path}: sent {sent!r}, got {received!r}"


@pytest.mark.parametrize("name", sorted(seed_frames()))
def test_seed_frames_round_trip(api, draft, name):
    sent = seed_frames()[name]
    response = api.post(f"/api/versions/{draft['id']}/frames/", [sent], format="json")
    assert response.status_code == 201, response.json()
    frame_id = response.json()["ids"][0]
    got = api.get(f"/api/versions/{draft['id']}/frames/{frame_id}/").json()
    assert_subset(canonical(sent), got)
    assert got["saved_in_version"] == draft["id"]
    assert got["dataset"] == {"id": draft["dataset"], "version": draft["id"]}
    assert got["context_id"] == sent.get("context_id", sent["sources"][0]["uri"])
    assert isinstance(got["saved"], int) and got["saved"] > 1_600_000_000_000
    assert all(roi["id"] for roi in got["rois"])


def test_coco_polygon_separator_is_kept(api, draft):
    coco = seed_frames()["seed001_coco"]
    api.post(f"/api/versions/{draft['id']}/frames/", [coco], format="json")
    got = api.get(f"/api/versions/{draft['id']}/frames/287024/").json()
    assert -999999999 in got["rois"][0]["poly"]
    assert got["rois"][0]["poly"] == coco["rois"][0]["poly"]


def test_roi_shapes_round_trip_and_count_as_objects(api, draft):
    """Boxes, ellipses and key points come back as sent; an ROI with only a shape labels an object, not the frame."""
    shapes = [
        {"labels": ["car"], "shape": {"type": "box", "xywh": [10, 20, 30.5, 40], "angle": 15}},
        {"labels": ["sign"], "shape": {"type": "ellipse", "xyrrt": [50, 50, 8, 5, -20]}},
        {"labels": ["pose"], "shape": {"type": "points", "xy": [1, 2, 3, 4, 5, 6]}},
        {"labels": ["night"]},
    ]
    frame = {"id": "shapes", "sources": [{"uri": "s3://bucket/shapes.jpg"}], "rois": shapes}
    assert add(api, draft["id"], [frame]).status_code == 201
    got = api.get(f"/api/versions/{draft['id']}/frames/shapes/").json()
    assert [roi.get("shape") for roi in got["rois"]] == [roi.get("shape") for roi in shapes]
    stats = {row["label"]: row for row in api.get(f"/api/versions/{draft['id']}/stats/").json()["labels"]}
    counts = {label: (stats[label]["roi_count"], stats[label]["frame_label_count"]) for label in ("car", "sign", "pose", "night")}
    assert counts == {"car": (1, 0), "sign": (1, 0), "pose": (1, 0), "night": (0, 1)}


def add(api, version_id, frames, **params):
    query = "?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else ""
    return api.post(f"/api/versions/{version_id}/frames/{query}", frames, format="json")


def image_frame(frame_id, labels=("car",), **meta):
    return {
        "id": frame_id,
        "meta": meta,
        "sources": [{"id": "default", "uri": f"s3://bucket/{frame_id}.jpg", "content_type": "image/jpeg"}],
        "rois": [{"labels": list(labels), "poly": [0, 0, 10, 0, 10, 10, 0, 10], "confidence": 0.9}],
    }


def test_add_replaces_existing_id_and_update_merges(api, draft):
    assert add(api, draft["id"], [image_frame("a", weather="sunny"), image_frame("b")]).json()["added"] == 2
    result = add(api, draft["id"], [image_frame("a", labels=("bus",), weather="rain")]).json()
    assert (result["added"], result["replaced"]) == (0, 1)
    response = api.patch(f"/api/versions/{draft['id']}/frames/", [{"id": "a", "meta": {"speed": 30}}], format="json")
    assert response.status_code == 200, response.json()
    frame = api.get(f"/api/versions/{draft['id']}/frames/a/").json()
    assert frame["meta"] == {"weather": "rain", "speed": 30}
    assert frame["rois"][0]["labels"] == ["bus"]
    assert api.get(f"/api/versions/{draft['id']}/").json()["frame_count"] == 2


def snapshot(api, version_id):
    response = api.post(f"/api/versions/{version_id}/snapshot/", {}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def test_child_versions_are_copy_on_write(api, draft):
    add(api, draft["id"], [image_frame(f"f{i}", weather="sunny") for i in range(5)])
    published, child = snapshot(api, draft["id"])
    assert published["status"] == "published" and child["status"] == "draft" and child["parent"] == published["id"]
    assert FrameRevision.objects.filter(version_id=child["id"]).count() == 0  # nothing copied
    assert api.get(f"/api/versions/{child['id']}/frames/").json()["count"] == 5

    add(api, child["id"], [image_frame("f1", labels=("truck",))])
    api.post(f"/api/versions/{child['id']}/delete-frames/", {"ids": ["f2"]}, format="json")
    child_frames = {f["id"]: f for f in api.get(f"/api/versions/{child['id']}/frames/").json()["results"]}
    parent_frames = {f["id"]: f for f in api.get(f"/api/versions/{published['id']}/frames/").json()["results"]}
    assert sorted(child_frames) == ["f0", "f1", "f3", "f4"]
    assert sorted(parent_frames) == ["f0", "f1", "f2", "f3", "f4"]
    assert child_frames["f1"]["rois"][0]["labels"] == ["truck"]
    assert parent_frames["f1"]["rois"][0]["labels"] == ["car"]
    assert child_frames["f1"]["saved_in_version"] == child["id"]
    assert child_frames["f0"]["saved_in_version"] == published["id"]
    assert api.get(f"/api/versions/{child['id']}/").json()["frame_count"] == 4

    # Grandchild sees the child's edits and deletes; re-adding a deleted frame brings it back.
    _, grandchild = snapshot(api, child["id"])
    add(api, grandchild["id"], [image_frame("f2", labels=("bike",))])
    ids = [f["id"] for f in api.get(f"/api/versions/{grandchild['id']}/frames/").json()["results"]]
    assert sorted(ids) == ["f0", "f1", "f2", "f3", "f4"]
    assert api.get(f"/api/versions/{grandchild['id']}/frames/f2/").json()["rois"][0]["labels"] == ["bike"]


def test_version_rules(api, dataset, draft):
    response = api.post(f"/api/datasets/{dataset['id']}/versions/", {"parent": draft["id"], "name": "x"}, format="json")
    assert response.status_code == 409 and "publish it" in response.json()["detail"]
    api.post(f"/api/versions/{draft['id']}/publish/", {}, format="json")
    before = FrameRevision.objects.count(), DatasetVersion.objects.get(pk=draft["id"]).metadata
    for method, url, body in [
        ("post", f"/api/versions/{draft['id']}/frames/", [image_frame("z")]),
        ("patch", f"/api/versions/{draft['id']}/frames/", [{"id": "z"}]),
        ("post", f"/api/versions/{draft['id']}/delete-frames/", {"ids": ["z"]}),
        ("patch", f"/api/versions/{draft['id']}/", {"metadata": {"a": 1}}),
        ("delete", f"/api/versions/{draft['id']}/", None),
        ("post", f"/api/versions/{draft['id']}/publish/", {}),
    ]:
        response = getattr(api, method)(url, body, format="json")
        assert response.status_code == 409, (method, url, response.content)
        assert "published" in response.json()["detail"]
    assert (FrameRevision.objects.count(), DatasetVersion.objects.get(pk=draft["id"]).metadata) == before
    child = api.post(f"/api/datasets/{dataset['id']}/versions/", {"parent": draft["id"], "name": "work"}, format="json")
    assert child.status_code == 201
    assert api.delete(f"/api/versions/{child.json()['id']}/").status_code == 204


@pytest.mark.parametrize(
    "frame, field, reason",
    [
        ({"sources": [{"id": "a", "uri": "x"}], "rois": [{"sources": ["b"], "labels": ["car"]}]}, "rois[0].sources", "not one of the frame's sources"),
        ({"sources": [{"uri": "x"}], "rois": [{"labels": ["car"], "confidence": 1.5}]}, "rois[0].confidence", "less than or equal to 1"),
        ({"sources": [{"uri": "x"}], "rois": [{"labels": ["car"], "poly": [1, 2, 3]}]}, "rois[0].poly", "odd number"),
        ({"sources": [{"uri": "x"}], "timestamp": "soon"}, "timestamp", "integer"),
        ({"sources": []}, "sources", "at least 1"),
        ({"sources": [{"uri": "x"}], "colour": "red"}, "colour", "unknown field"),
        ({"sources": [{"uri": "x"}], "rois": [{"labels": "car", "mask": {"id": "m", "value": [300, 0, 0]}}]}, "rois[0].mask.value", "between 0 and 255"),
    ],
)
def test_bad_frames_are_refused_and_change_nothing(api, draft, frame, field, reason):
    add(api, draft["id"], [image_frame("keep")])
    before = list(FrameRevision.objects.values_list("frame_id", "rois")), RoiLabel.objects.count()
    response = add(api, draft["id"], [image_frame("new"), frame])
    assert response.status_code == 400, response.json()
    errors = response.json()["errors"]
    assert any(e["field"] == f"frames[1].{field}" and reason in e["message"] for e in errors), errors
    assert (list(FrameRevision.objects.values_list("frame_id", "rois")), RoiLabel.objects.count()) == before


def test_partial_add_reports_failures_like_upload_retries(api, draft):
    response = add(api, draft["id"], [image_frame("ok"), {"id": "bad", "sources": []}], partial="true")
    body = response.json()
    assert body["added"] == 1 and body["failed"][0]["id"] == "bad" and body["failed"][0]["index"] == 1
    assert body["failed"][0]["errors"][0]["field"] == "sources"


@pytest.mark.parametrize(
    "request_args, status, field",
    [
        (("post", "/api/versions/{v}/frames/", "{not json", "application/json"), 400, "body"),
        (("post", "/api/versions/{v}/frames/", '{"frames": 5}', "application/json"), 400, "frames"),
        (("get", "/api/versions/unknown/frames/", None, None), 404, "version"),
        (("get", "/api/versions/{v}/frames/?frame_query=meta.a:(", None, None), 400, "filters[0].frame_query"),
        (("get", "/api/versions/{v}/frames/?frame_query=meta.a:/b(/", None, None), 400, "filters[0].frame_query"),
        (("get", "/api/versions/{v}/stats/?roi_query=labels:/[z-a]/", None, None), 400, "filters[0].roi_query"),
        (("get", "/api/versions/{v}/frames/?sort=colour", None, None), 400, "sort"),
        (("get", "/api/versions/{v}/frames/?cursor=zzz", None, None), 400, "cursor"),
        (("post", "/api/datasets/", '{"name": ""}', "application/json"), 400, "name"),
        (("patch", "/api/versions/{v}/", '{"metadata": {"mask_labels": {"_all_": [{"value": [1], "labels": "x"}]}}}', "application/json"), 400, "metadata.mask_labels._all_[0].labels"),
    ],
)
def test_bad_requests_name_the_field(api, draft, request_args, status, field):
    method, url, body, content_type = request_args
    kwargs = {"data": body, "content_type": content_type} if body is not None else {}
    response = getattr(api, method)(url.format(v=draft["id"]), **kwargs)
    assert response.status_code == status, response.content
    assert field in [e["field"] for e in response.json().get("errors", [])] or status == 404, response.json()


def test_dataset_names_are_unique_and_searchable(api, dataset):
    assert api.post("/api/datasets/", {"name": "cars"}, format="json").status_code == 409
    api.post("/api/datasets/", {"name": "people", "tags": ["coco"]}, format="json")
    assert [d["name"] for d in api.get("/api/datasets/?search=coco").json()["results"]] == ["people"]
    assert [d["name"] for d in api.get(f"/api/datasets/?search={dataset['id']}").json()["results"]] == ["cars"]


def test_anonymous_api_is_refused():
    assert APIClient().get("/api/datasets/").status_code in (401, 403)


def test_token_auth(db):
    User.objects.create_user("bob", password="pw-bob-12345")
    token = APIClient().post("/api/auth/token/", {"username": "bob", "password": "pw-bob-12345"}).json()["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/datasets/").status_code == 200


def test_openapi_schema_and_docs(api):
    schema = api.get("/api/schema/?format=json")
    assert schema.status_code == 200
    assert "/api/versions/{version_id}/frames/" in json.loads(schema.content)["paths"]
    docs = api.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger-ui-dist/swagger-ui-bundle.js" in docs.content and b"jsdelivr" not in docs.content  # works offline
