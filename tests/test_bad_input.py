"""Bad input that used to reach the database or the parser (a 500): each is a 400 naming the field, and nothing
is written. Also: an environment variable that is set but empty counts as unset."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from frames import services
from frames.models import FrameRevision

from .clients import api_client

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def api_and_draft(django_user_model):
    client = api_client("writer")
    return client, services.dataset_create(user=client.user, name="bad-input").versions.get()


def frame(**changes):
    base = {"id": "f", "sources": [{"id": "default", "uri": "s3://b/f.jpg"}], "rois": [{"labels": ["car"], "poly": [0, 0, 1, 0, 1, 1]}]}
    return json.loads(json.dumps(base)) | changes


BAD_FRAMES = [
    (frame(rois=[{"labels": ["x" * 1_000_000], "poly": [0, 0, 1, 0, 1, 1]}]), "rois[0].labels[0]", "at most 255"),
    (frame(rois=[{"label": "y" * 300}]), "rois[0].label[0]", "at most 255"),
    (frame(rois=[{"labels": [7, 8]}]), "rois[0].labels[0]", "valid string"),
    (frame(rois=[{"labels": [""]}]), "rois[0].labels[0]", "at least 1"),
    (frame(rois=[{"labels": ["car", None]}]), "rois[0].labels[1]", "valid string"),
    (frame(sources=[{"uri": 12345}]), "sources[0].uri", "valid string"),
    (frame(sources=[{"uri": "s3://b/" + "k" * 5000}]), "sources[0].uri", "at most 4096"),
    (frame(sources=[{"id": "s" * 300, "uri": "s3://b/a.jpg"}]), "sources[0].id", "at most 255"),
    (frame(sources=[{"uri": "s3://b/a.jpg", "content_type": "image/" + "j" * 300}]), "sources[0].content_type", "at most 255"),
    (frame(sources=[{"uri": "s3://b/a.jpg", "width": 2**40}]), "sources[0].width", "less than or equal"),
    (frame(timestamp=2**70), "timestamp", "less than or equal"),
    (frame(sources=[{"uri": "s3://b/a.jpg", "masks": [{"id": "m", "uri": 3}]}]), "sources[0].masks[0].uri", "valid string"),
    (frame(rois=[{"labels": ["car"], "shape": {"type": "box", "xywh": [0, 0, -5, 10]}}]), "rois[0].shape.box.xywh", "cannot be negative"),
    (frame(rois=[{"labels": ["car"], "shape": {"type": "box", "xywh": [0, 0, 5]}}]), "rois[0].shape.box.xywh", "at least 4"),
    (frame(rois=[{"labels": ["sign"], "shape": {"type": "ellipse", "xyrrt": [5, 5, 2, -1, 0]}}]), "rois[0].shape.ellipse.xyrrt", "radii cannot be negative"),
    (frame(rois=[{"labels": ["pose"], "shape": {"type": "points", "xy": [1, 2, 3]}}]), "rois[0].shape.points.xy", "odd number"),
    (frame(rois=[{"labels": ["car"], "shape": {"type": "star", "xy": [1, 2]}}]), "rois[0].shape", "does not match"),
]


@pytest.mark.parametrize("sent, field, words", BAD_FRAMES, ids=[b[1] + ":" + b[2] for b in BAD_FRAMES])
def test_bad_frames_are_a_400_naming_the_field(api_and_draft, sent, field, words):
    api, draft = api_and_draft
    response = api.post(f"/api/versions/{draft.pk}/frames/", [frame(id="good"), sent], format="json")
    assert response.status_code == 400, response.content[:300]
    errors = response.json()["errors"]
    assert any(e["field"] == f"frames[1].{field}" and words in e["message"] for e in errors), errors
    assert FrameRevision.objects.filter(version=draft).count() == 0  # the good frame was not written either
    single = api.put(f"/api/versions/{draft.pk}/frames/f/", sent, format="json")
    assert single.status_code == 400 and any(e["field"].endswith(field) for e in single.json()["errors"])


def test_a_body_nested_too_deeply_is_a_400(api_and_draft):
    api, draft = api_and_draft
    body = '[{"id": "deep", "sources": [{"uri": "s3://b/a.jpg"}], "meta": {"a": ' + "[" * 3000 + "]" * 3000 + "}}]"
    response = api.post(f"/api/versions/{draft.pk}/frames/", body, content_type="application/json")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "body"
    assert FrameRevision.objects.filter(version=draft).count() == 0


def test_bad_tags_and_mask_labels_name_their_field(api_and_draft):
    api, draft = api_and_draft
    response = api.patch(f"/api/datasets/{draft.dataset_id}/", {"tags": ["t" * 300]}, format="json")
    assert response.status_code == 400 and response.json()["errors"][0]["field"].startswith("tags")
    response = api.patch(f"/api/versions/{draft.pk}/", {"metadata": {"mask_labels": {"_all_": [{"value": [1, 2, 3], "labels": [""]}]}}}, format="json")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "metadata.mask_labels._all_[0].labels"


README_VARIABLES = [
    "DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS", "HYPERDATA_MEDIA_ROOTS",
    "HYPERDATA_STATS_SYNC_FRAMES", "HYPERDATA_PROGRESS_SYNC_FRAMES", "HYPERDATA_TILE_SIZE", "HYPERDATA_VIEW_SIZE",
    "HYPERDATA_JOB_LEASE_SECONDS", "HYPERDATA_ADMIN_PASSWORD", "LOG_LEVEL",
]
SETTINGS_PROBE = """
import django, json
from django.conf import settings
django.setup()
print(json.dumps({
    "engine": settings.DATABASES["default"]["ENGINE"], "cache": settings.CACHES["default"]["BACKEND"],
    "hosts": settings.ALLOWED_HOSTS, "debug": settings.DEBUG, "tile": settings.HYPERDATA_TILE_SIZE,
    "sync": settings.HYPERDATA_STATS_SYNC_FRAMES, "lease": settings.HYPERDATA_JOB_LEASE_SECONDS, "secret": bool(settings.SECRET_KEY),
}))
"""


def probe_settings(tmp_path, **overrides) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in README_VARIABLES}
    env.update(DJANGO_SETTINGS_MODULE="hyperdata.settings", HYPERDATA_VAR_DIR=str(tmp_path), **overrides)
    result = subprocess.run([sys.executable, "-c", SETTINGS_PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout)


def test_an_empty_variable_means_unset(tmp_path):
    unset = probe_settings(tmp_path)
    assert unset["engine"].endswith("sqlite3") and unset["hosts"] == ["localhost", "127.0.0.1", "[::1]"]
    assert probe_settings(tmp_path, **{name: "" for name in README_VARIABLES}) == unset
    assert probe_settings(tmp_path, **{name: "  " for name in README_VARIABLES}) == unset


def test_nulls_mean_absent_and_server_markers_are_not_taken_from_clients(api_and_draft):
    """`"id": null` and `"num_frames": null` used to reach the database (a 409), `"poly": null` the parser (a
    500); a client's `generated` on a preview would have claimed the server made it."""
    api, draft = api_and_draft
    sent = {"id": None, "num_frames": None, "sources": [{"uri": "s3://b/a.jpg", "preview": {"uri": "s3://b/p.jpg", "generated": 0}}],
            "rois": [{"labels": ["night"], "poly": None}]}
    response = api.post(f"/api/versions/{draft.pk}/frames/", [sent], format="json")
    assert response.status_code == 201, response.content[:300]
    stored = api.get(f"/api/versions/{draft.pk}/frames/{response.json()['ids'][0]}/").json()
    assert stored["num_frames"] == 1 and stored["sources"][0]["preview"] == {"uri": "s3://b/p.jpg"}
    assert api.get(f"/api/versions/{draft.pk}/stats/").json()["labels"][0]["frame_label_count"] == 1
    bad = api.post(f"/api/versions/{draft.pk}/frames/", [frame(sources=[{"uri": "s3://b/a.jpg", "masks": [{"id": "m", "uri": "s3://b/m.png", "preview": "p"}]}])], format="json")
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "frames[0].sources[0].masks[0].preview"


def test_text_and_sizes_are_judged_as_json_writes_them(api_and_draft, settings):
    """Strings and metadata sizes are checked through orjson first (a frame's validation, twice as fast): what
    only looks like a NUL is kept, a number beyond 64 bits is kept, and a size is counted as json writes it."""
    api, draft = api_and_draft
    kept = frame(id="kept", meta={"path": "C:\\u0000dir", "huge": 2**70})
    response = api.post(f"/api/versions/{draft.pk}/frames/", [kept], format="json")
    assert response.status_code in (200, 201), response.content[:300]
    assert api.get(f"/api/versions/{draft.pk}/frames/kept/").json()["meta"] == {"path": "C:\\u0000dir", "huge": 2**70}
    settings.HYPERDATA_MAX_META_BYTES = 100
    tiny = [1e-07] * 16  # 103 bytes as json writes them ("1e-07"), 87 as orjson does ("1e-7")
    response = api.post(f"/api/versions/{draft.pk}/frames/", [frame(id="over", meta={"v": tiny})], format="json")
    assert response.status_code == 400 and response.json()["errors"][0]["message"].startswith("103 bytes as JSON"), response.content
