"""Exports in every format from the Frames tab's link and from `manage.py export_frames`, following the filter:
COCO read back by pycocotools, JSON lines line by line, and a bad format refused naming the field."""
from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command
from pycocotools.coco import COCO

from frames import services
from frames.importers.base import ImportSource

from .clients import api_client

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def coco_version(admin_user, testdata, settings):
    settings.HYPERDATA_PREVIEWS_AUTO = False
    draft = services.dataset_create(user=admin_user, name="coco-export").versions.get()
    source = ImportSource(path=testdata / "coco" / "mmpose" / "test_coco.json")
    services.import_frames(user=admin_user, version=draft, format="coco", source=source)
    return draft


def test_the_export_link_writes_coco_that_pycocotools_reads_for_the_filtered_view(admin_user, coco_version, testdata, tmp_path):
    client = api_client(admin_user, pages=True)
    answer = client.get(f"/versions/{coco_version.pk}/frames/export/", {"format": "coco"})
    assert answer.status_code == 200 and answer["Content-Disposition"].endswith('_coco.json"')
    written = tmp_path / "all.json"
    written.write_bytes(b"".join(answer.streaming_content))
    original, exported = COCO(str(testdata / "coco" / "mmpose" / "test_coco.json")), COCO(str(written))
    assert sorted(exported.getImgIds()) == sorted(original.getImgIds())
    assert len(exported.getAnnIds()) == len(original.getAnnIds())

    one = client.get(f"/versions/{coco_version.pk}/frames/export/", {"format": "coco", "frame_query": "id:785"})
    filtered = tmp_path / "one.json"
    filtered.write_bytes(b"".join(one.streaming_content))
    assert COCO(str(filtered)).getImgIds() == [785]
    assert len(COCO(str(filtered)).getAnnIds()) == len(original.getAnnIds(imgIds=[785]))


def test_export_frames_writes_json_lines_and_coco_and_refuses_a_bad_query(admin_user, coco_version, tmp_path):
    lines = tmp_path / "frames.jsonl"
    call_command("export_frames", "--version-id", coco_version.pk, "--format", "jsonl", "-o", str(lines), verbosity=0, stderr=io.StringIO())
    frames = [json.loads(line) for line in lines.read_text().splitlines()]
    assert len(frames) == 4 and {f["id"] for f in frames} == {"785", "40083", "196141", "197388"}
    coco = tmp_path / "frames.json"
    call_command("export_frames", "--dataset", "coco-export", "--format", "coco", "-o", str(coco), verbosity=0, stderr=io.StringIO())
    assert len(COCO(str(coco)).getImgIds()) == 4
    with pytest.raises(CommandError, match="frame_query"):
        call_command("export_frames", "--version-id", coco_version.pk, "--frame-query", "meta.a:[1 TO", "-o", str(coco), stderr=io.StringIO())


def test_an_unknown_export_format_is_refused_naming_the_field(admin_user, coco_version):
    answer = api_client(admin_user, pages=True).get(f"/versions/{coco_version.pk}/frames/export/", {"format": "xml"})
    assert answer.status_code == 400 and answer.json()["errors"][0]["field"] == "format"
