"""The SDK's frame classes and configuration, without a server: ClearML's add_annotation rules, the frame JSON
they make (checked with the server's own validator, frames.schema.parse_frame), and where the SDK finds its
server and token."""
from __future__ import annotations

import json

import pytest

import hyperdata_client
from frames.schema import is_frame_label, parse_frame
from hyperdata_client import ConfigError, FrameGroup, SingleFrame
from hyperdata_client.config import load_config, save_config


def frame_with_everything() -> SingleFrame:
    frame = SingleFrame(id="cam/001.jpg", source="s3://bucket/cam/001.jpg", width=640, height=480, timestamp=33,
                        preview_uri="https://cdn/001.jpg", metadata={"weather": "sunny"}, mask_source="s3://bucket/cam/001.png",
                        context_id="cam")
    frame.add_annotation(id="car-1", box2d_xywh=[10, 20, 100, 50], poly2d_xy=[10, 20, 110, 20, 110, 70], labels=["car"], confidence=0.9)
    frame.add_annotation(poly2d_xy=[[0, 0, 10, 0, 10, 10], [[20, 20], [30, 20], [30, 30]]], labels=["road"])
    frame.add_annotation(ellipse2d_xyrrt=[50, 60, 10, 5, 30], labels=["wheel"], metadata={"side": "left"})
    frame.add_annotation(points2d_xy=[[1, 2], [3, 4]], labels=["keypoints"])
    frame.add_annotation(mask_rgb=[210, 210, 120], labels=["car"])
    frame.add_annotation(labels=["night"])
    frame.add_annotation(frame_class=["urban"])
    return frame


def test_add_annotation_follows_clearmls_rules():
    frame = frame_with_everything()
    car = frame.get_annotations(id="car-1")
    assert [a.shape for a in car] == [None, {"type": "box", "xywh": [10, 20, 100, 50]}], "one ROI per geometry"
    assert car[1].poly == [10, 20, 110, 20, 110, 70, 10, 70], "a box also carries its corners for ClearML's tools"
    assert [(a.labels, a.confidence) for a in car] == [(["car"], 0.9)] * 2
    assert {a.id for a in car} == {"car-1"}, "geometries of one call share its id"
    road = frame.get_annotations(labels="road")[0]
    assert road.poly == [0, 0, 10, 0, 10, 10, -999999999, 20, 20, 30, 20, 30, 30], "a list of polygons is one multi-part polygon"
    assert road.polygons == [[0, 0, 10, 0, 10, 10], [20, 20, 30, 20, 30, 30]]
    assert frame.get_annotations(labels="wheel")[0].shape == {"type": "ellipse", "xyrrt": [50, 60, 10, 5, 30]}
    assert frame.get_annotations(labels="keypoints")[0].shape == {"type": "points", "xy": [1, 2, 3, 4]}
    assert frame.get_annotations(labels="car")[-1].mask == {"id": "default", "value": [210, 210, 120]}
    frame_labels = [a.labels for a in frame.get_annotations() if a.is_frame_label]
    assert frame_labels == [["night"], ["urban"]], "labels alone, and frame_class, label the whole frame"


def test_add_annotation_without_geometry_or_labels_is_refused():
    with pytest.raises(ValueError, match="needs a geometry"):
        SingleFrame(source="s3://b/x.jpg").add_annotation(confidence=0.5)


def test_the_frame_json_is_what_the_server_accepts_and_comes_back_the_same():
    frame = frame_with_everything()
    stored = parse_frame(json.loads(json.dumps(frame.to_dict())))  # the server's validation, as the API runs it
    assert stored["sources"][0]["masks"] == [{"id": "default", "uri": "s3://bucket/cam/001.png"}]
    assert [is_frame_label(r) for r in stored["rois"]] == [a.is_frame_label for a in frame.get_annotations()]
    again = SingleFrame.from_dict({**stored, "saved": 1, "saved_in_version": "v", "dataset": {"id": "d", "version": "v"}})
    assert again.to_dict() == {**frame.to_dict(), "saved": 1, "num_frames": 1}
    assert (again.meta, again.context_id, again.timestamp, again.mask_source) == ({"weather": "sunny"}, "cam", 33, "s3://bucket/cam/001.png")


def test_remove_annotations():
    frame = frame_with_everything()
    assert frame.remove_annotation("car-1") == 2
    assert frame.remove_annotation(frame.get_annotations(labels="road")[0]) == 1
    assert frame.remove_annotations([a.id for a in frame.get_annotations(labels=["wheel", "keypoints"])]) == 2
    assert frame.remove_annotations() == 3 and frame.get_annotations() == []


def test_frame_group_is_one_frame_with_a_source_per_name():
    group = FrameGroup(id="car_1/0001", timestamp=40, metadata={"velocity": 60})
    group["front"] = SingleFrame(source="s3://cars/front.mp4", width=800, height=600, metadata={"fov": 129})
    group["rear"] = SingleFrame(source="s3://cars/rear.mp4")
    group["front"].add_annotation(box2d_xywh=[1, 2, 3, 4], labels=["car"])
    group.add_annotation(labels=["highway"])
    body = parse_frame(group.to_dict())
    assert [(s["id"], s.get("meta")) for s in body["sources"]] == [("front", {"fov": 129}), ("rear", None)]
    assert [(r["labels"], r.get("sources")) for r in body["rois"]] == [(["car"], ["front"]), (["highway"], None)]
    back = SingleFrame.from_dict(body)
    assert isinstance(back, FrameGroup) and list(back) == ["front", "rear"]
    assert back["front"].meta == {"fov": 129} and back.meta == {"velocity": 60}
    assert [a.labels for a in back["front"].get_annotations()] == [["car"]] and [a.labels for a in back.get_annotations()] == [["highway"]]


def test_configuration_from_the_environment_wins_over_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("HYPERDATA_CONFIG", str(tmp_path / "config.json"))
    monkeypatch.delenv("HYPERDATA_API_URL", raising=False)
    monkeypatch.delenv("HYPERDATA_API_TOKEN", raising=False)
    with pytest.raises(ConfigError, match="HYPERDATA_API_URL and HYPERDATA_API_TOKEN"):
        load_config()
    path = save_config(hyperdata_client.Config(api_url="https://saved.example", token="saved-token"))
    assert path.stat().st_mode & 0o077 == 0, "the file holds a token: its owner's only"
    assert load_config() == hyperdata_client.Config("https://saved.example", "saved-token")
    monkeypatch.setenv("HYPERDATA_API_URL", "https://env.example/api/")
    monkeypatch.setenv("HYPERDATA_API_TOKEN", "env-token")
    assert load_config() == hyperdata_client.Config("https://env.example", "env-token")


def test_a_broken_config_file_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("HYPERDATA_CONFIG", str(tmp_path / "config.json"))
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(ConfigError, match="is not valid JSON"):
        load_config()
