"""The limits on what a client may send (frames/limits.py, settings HYPERDATA_MAX_*): each one is answered with a
4xx whose error names the field and the limit, and nothing is written. The limits are lowered here so that the
requests stay small; the defaults are the README's."""
import io
import json
from pathlib import Path

import pytest
from django.test import override_settings

from frames import services
from frames.importers.base import ImportSource
from frames.models import Dataset, DatasetVersion, FrameRevision, Job, Project

from .clients import api_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return api_client("limited")


@pytest.fixture
def draft(api):
    dataset = services.dataset_create(user=api.user, name="limits", metadata={"kept": 1})
    version = dataset.versions.get()
    services.frames_add(user=api.user, version=version, frames=[frame("kept")])
    return version


def frame(frame_id, **changes):
    return {"id": frame_id, "sources": [{"uri": f"s3://bucket/{frame_id}.jpg"}],
            "rois": [{"labels": ["car"], "poly": [0, 0, 4, 0, 4, 4]}]} | changes


def refused(response, status, field, words):
    """The answer is `status` with an error on `field` whose message has `words`."""
    assert response.status_code == status, response.content[:500]
    errors = response.json()["errors"]
    assert any(e["field"] == field and words in e["message"] for e in errors), errors
    return errors


def stored_frames(version):
    return sorted(FrameRevision.objects.filter(version=version).values_list("frame_id", flat=True))


@override_settings(HYPERDATA_MAX_BODY_BYTES=2000)
def test_a_json_body_over_the_limit_is_a_413_and_nothing_is_read(api, draft):
    frames = [frame(f"f{i}") for i in range(30)]  # about 3,000 bytes
    assert len(json.dumps(frames)) > 2000
    response = api.post(f"/api/versions/{draft.pk}/frames/", frames, format="json")
    refused(response, 413, "body", "at most 2000")
    assert "bytes" in response.json()["detail"]
    assert stored_frames(draft) == ["kept"]

    response = api.post("/api/datasets/", {"name": "big", "description": "d" * 3000}, format="json")
    refused(response, 413, "body", "at most 2000")
    assert not Dataset.objects.filter(name="big").exists()
    assert api.post(f"/api/versions/{draft.pk}/frames/", [frame("small")], format="json").status_code == 201


def test_uploads_keep_their_own_larger_limit(api, draft, tmp_path, settings):
    settings.HYPERDATA_MAX_BODY_BYTES = 2000
    settings.HYPERDATA_MAX_UPLOAD_BYTES = 50_000
    settings.HYPERDATA_IMPORTS_DIR = tmp_path / "imports"
    settings.HYPERDATA_MEDIA_ROOTS = [*settings.HYPERDATA_MEDIA_ROOTS, str(tmp_path / "imports")]
    url = f"/api/versions/{draft.pk}/uploads/"
    fits = api.post(url, {"file": named(b"a" * 20_000, "fits.bin")}, format="multipart")  # over the JSON limit
    assert fits.status_code == 201, fits.content[:300]

    response = api.post(url, {"file": named(b"b" * 60_000, "big.bin")}, format="multipart")
    refused(response, 413, "body", "at most 50000")
    assert [p.name for p in Path(tmp_path / "imports").rglob("*") if p.is_file()] == ["fits.bin"]

    response = api.post(f"/api/versions/{draft.pk}/imports/", {"format": "clearml", "file": named(b"[" + b" " * 60_000 + b"]", "f.json")},
                        format="multipart")
    refused(response, 413, "body", "at most 50000")
    assert not Job.objects.filter(kind="import").exists()


def named(content: bytes, name: str) -> io.BytesIO:
    upload = io.BytesIO(content)
    upload.name = name
    return upload


@override_settings(HYPERDATA_MAX_FRAMES_PER_REQUEST=3)
def test_frames_per_request(api, draft):
    url = f"/api/versions/{draft.pk}/frames/"
    refused(api.post(url, [frame(f"n{i}") for i in range(4)], format="json"), 400, "frames", "4 frames; at most 3")
    refused(api.post(f"{url}?partial=true", {"frames": [frame(f"n{i}") for i in range(4)]}, format="json"), 400, "frames", "at most 3")
    refused(api.patch(url, [{"id": "kept", "meta": {"i": i}} for i in range(4)], format="json"), 400, "frames", "at most 3")
    refused(api.post(f"/api/versions/{draft.pk}/delete-frames/", {"ids": ["kept", "a", "b", "c"]}, format="json"), 400, "ids", "at most 3")
    assert stored_frames(draft) == ["kept"]
    assert api.get(f"{url}kept/").json()["meta"] == {}
    assert api.post(url, [frame(f"n{i}") for i in range(3)], format="json").status_code == 201


@override_settings(HYPERDATA_MAX_POLY_VERTICES=4, HYPERDATA_MAX_LABELS_PER_ROI=2, HYPERDATA_MAX_META_DEPTH=3, HYPERDATA_MAX_META_BYTES=200)
@pytest.mark.parametrize("changes, field, words", [
    ({"rois": [{"labels": ["car"], "poly": [0, 0, 1, 0, 1, 1, 0, 1, 0.5, 2]}]}, "rois[0].poly", "5 vertices; at most 4 per ROI"),
    ({"rois": [{"labels": ["car"], "poly": [0, 0, 1, 0, 1, 1, -999999999, 5, 5, 6, 5, 6, 6]}]}, "rois[0].poly", "6 vertices; at most 4"),
    ({"rois": [{"labels": ["pose"], "shape": {"type": "points", "xy": list(range(10))}}]}, "rois[0].shape.points.xy", "5 points; at most 4"),
    ({"rois": [{"labels": ["a", "b", "c"]}]}, "rois[0].labels", "3 labels; at most 2 per ROI"),
    ({"rois": [{"labels": ["x" * 256]}]}, "rois[0].labels[0]", "at most 255 characters"),
    ({"meta": {"a": {"b": {"c": {"d": 1}}}}}, "meta", "nested more than 3 levels deep"),
    ({"meta": {"a": [[[1]]]}}, "meta", "nested more than 3 levels deep"),
    ({"meta": {"note": "n" * 300}}, "meta", "bytes as JSON; at most 200"),
    ({"rois": [{"labels": ["car"], "meta": {"note": "n" * 300}}]}, "rois[0].meta", "at most 200"),
    ({"sources": [{"uri": "s3://b/a.jpg", "meta": {"a": {"b": {"c": {}}}}}]}, "sources[0].meta", "nested more than 3"),
], ids=lambda value: value if isinstance(value, str) else None)
def test_a_frame_over_a_limit_names_the_field(api, draft, changes, field, words):
    url = f"/api/versions/{draft.pk}/frames/"
    refused(api.post(url, [frame("ok"), frame("bad", **changes)], format="json"), 400, f"frames[1].{field}", words)
    refused(api.put(f"{url}kept/", frame("kept", **changes), format="json"), 400, f"frames[0].{field}", words)
    assert stored_frames(draft) == ["kept"]
    assert api.get(f"{url}kept/").json()["rois"][0]["poly"] == [0, 0, 4, 0, 4, 4]


@pytest.mark.parametrize("text, words", [("sun\u0000ny", "NUL character"), ("\ud83d", "surrogate pair")])
def test_text_the_database_cannot_store_is_a_400(api, draft, text, words):
    """A NUL (PostgreSQL's jsonb refuses it) or half a surrogate pair (no UTF-8 for it) used to be a 500."""
    body = json.dumps([frame("ok"), frame("bad", meta={"weather": text})])  # ASCII: the text travels as escapes
    response = api.generic("POST", f"/api/versions/{draft.pk}/frames/", body, content_type="application/json")
    refused(response, 400, "body[1].meta.weather", words)
    response = api.generic("POST", "/api/datasets/", json.dumps({"name": "x", "tags": [text]}), content_type="application/json")
    refused(response, 400, "body.tags[0]", words)
    assert stored_frames(draft) == ["kept"] and not Dataset.objects.filter(name="x").exists()


@override_settings(HYPERDATA_MAX_META_DEPTH=3)
def test_an_import_gets_the_same_answer(api, draft, tmp_path):
    path = tmp_path / "frames.jsonl"
    lines = [frame("ok"), frame("deep", meta={"a": {"b": {"c": {"d": 1}}}}), frame("nul", meta={"w": "a\u0000"})]
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    with pytest.raises(services.ImportRefused) as refusal:
        services.import_frames(user=api.user, version=draft, format="clearml", source=ImportSource(path=path))
    problems = [(p["line"], p["field"], p["message"]) for p in refusal.value.result.problems]
    assert problems == [(2, "frame 'deep'.meta", "nested more than 3 levels deep"), (3, "frame 'nul'.meta.w", "contains a NUL character (\\u0000)")]
    assert stored_frames(draft) == ["kept"]


@override_settings(HYPERDATA_MAX_META_DEPTH=3, HYPERDATA_MAX_META_BYTES=200)
def test_dataset_and_version_metadata_limits(api, draft):
    dataset = f"/api/datasets/{draft.dataset_id}/"
    refused(api.patch(dataset, {"metadata": {"a": {"b": {"c": {"d": 1}}}}}, format="json"), 400, "metadata", "nested more than 3")
    refused(api.patch(f"/api/versions/{draft.pk}/", {"metadata": {"note": "n" * 300}}, format="json"), 400, "metadata", "at most 200")
    refused(api.post("/api/datasets/", {"name": "deep", "metadata": {"a": [[[1]]]}}, format="json"), 400, "metadata", "nested")
    assert Dataset.objects.get(pk=draft.dataset_id).metadata == {"kept": 1}
    assert DatasetVersion.objects.get(pk=draft.pk).metadata == {}
    assert not Dataset.objects.filter(name="deep").exists()


def test_name_lengths(api, draft):
    long = "n" * 256
    refused(api.post("/api/datasets/", {"name": long}, format="json"), 400, "name", "255 characters")
    refused(api.post("/api/projects/", {"name": long}, format="json"), 400, "name", "255 characters")
    refused(api.patch(f"/api/versions/{draft.pk}/", {"name": long}, format="json"), 400, "name", "255 characters")
    refused(api.patch(f"/api/datasets/{draft.dataset_id}/", {"tags": ["t" * 256]}, format="json"), 400, "tags", "at most 255")
    assert not Dataset.objects.filter(name=long).exists() and not Project.objects.filter(name=long).exists()
    assert DatasetVersion.objects.get(pk=draft.pk).name == "Current"


def test_a_nul_in_the_address_or_a_form_is_a_400(api, draft):
    """Filters and ids reach the database: a NUL in them used to be a 500 on PostgreSQL."""
    response = api.get(f"/api/versions/{draft.pk}/contexts/", {"label": "car\x00"})
    refused(response, 400, "label", "NUL character")
    refused(api.get("/api/datasets/", {"name": "\x00"}), 400, "name", "NUL character")
    refused(api.get(f"/api/versions/{draft.pk}%00/"), 400, "path", "NUL character")
    refused(api.post("/api/datasets/", {"name": "a\x00b"}, format="multipart"), 400, "name", "NUL character")
    assert not Dataset.objects.filter(name__startswith="a").exists()
    assert api.get(f"/api/versions/{draft.pk}/contexts/", {"label": "car"}).status_code == 200
