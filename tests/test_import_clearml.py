"""ClearML frame JSON in and out: a lossless round trip (export a version as a JSON array and as JSON lines,
import each into another dataset, compare field by field), imports that write nothing when any frame is bad
(with file, line and field), the dry run, the CLI, the API upload run by a real worker, and the planner
statistics brought up to date after a large import."""
from __future__ import annotations

import gc
import io
import json
import sys
import threading
import time

import pytest
from django.core.management import CommandError, call_command
from django.core.cache import cache
from django.db import connection

from frames import selectors, services
from frames.services.import_jobs import import_job_run
from frames.services.jobs import cancel_requested_key
from frames.services.meta_schema import meta_schema_set
from frames.exceptions import ServiceError
from frames.importers.base import ImportSource
from frames.models import FrameRevision, Job, MediaPreview

from .clients import api_client
from .worker_jobs import wait_for_job

pytestmark = pytest.mark.django_db(transaction=True)
SERVER_FIELDS = ("saved", "saved_in_version", "dataset")


def rich_frames(count: int = 6) -> list[dict]:
    """Frames using every part of the format: several sources with masks and previews, multi-part polygons,
    boxes, key points, frame labels, ROI masks, nested and unicode metadata, contexts and timestamps."""
    frames = []
    for i in range(count):
        frames.append({
            "id": f"cam/{i:03d}.jpg",
            "context_id": f"drive-{i // 3}",
            "timestamp": i * 40,
            "meta": {"weather": ["fog", "rain"][i % 2], "speed": 12.5 * i, "nested": {"k": [1, {"ü": "é"}]}, "split": "train"},
            "sources": [
                {"id": "front", "uri": f"s3://bucket/front/{i}.jpg", "width": 640, "height": 480, "timestamp": i * 40,
                 "content_type": "image/jpeg", "meta": {"angle": 45}, "masks": [{"id": "seg", "uri": f"s3://bucket/masks/{i}.png"}],
                 "preview": {"uri": f"s3://bucket/previews/{i}.jpg"}},
                {"id": "rear", "uri": f"s3://bucket/rear/{i}.jpg", "width": 320, "height": 240},
            ],
            "rois": [
                {"id": f"r{i}a", "labels": ["car", "red"], "poly": [10, 10, 50, 10, 50, 40, -999999999, 60, 60, 90, 60, 90, 90], "confidence": 0.75, "sources": ["front"], "meta": {"track": i}},
                {"id": f"r{i}b", "labels": ["person"], "poly": [1.5, 2.5, 30.25, 2.5, 30.25, 40.125, 1.5, 40.125], "sources": ["rear"]},
                {"id": f"r{i}c", "labels": ["road"], "mask": {"id": "seg", "value": [128, 64, 128]}, "sources": ["front"]},
                {"id": f"r{i}d", "labels": ["day"]},
            ],
        })
    return frames


def comparable(frame: dict) -> dict:
    return {k: v for k, v in frame.items() if k not in SERVER_FIELDS}


def all_frames(user, version) -> dict[str, dict]:
    api = api_client(user)
    found, url = {}, f"/api/versions/{version.pk}/frames/?limit=500&sort=id"
    while url:
        page = api.get(url).json()
        found.update({f["id"]: comparable(f) for f in page["results"]})
        url = page.get("next")
    return found


@pytest.fixture
def owner(django_user_model, settings):
    settings.HYPERDATA_PREVIEWS_AUTO = False
    return django_user_model.objects.create_superuser("owner", password="pw-owner-123456")


def draft_of(user, name: str):
    return services.dataset_create(user=user, name=name).versions.get()


@pytest.mark.parametrize("export_format", ["clearml", "jsonl"])
def test_a_version_exported_and_imported_again_is_the_same_field_by_field(owner, tmp_path, export_format):
    original = draft_of(owner, "original")
    services.frames_add(user=owner, version=original, frames=rich_frames())
    out = tmp_path / f"export.{export_format}"
    call_command("export_frames", "--version-id", original.pk, "--format", export_format, "-o", str(out), verbosity=0, stderr=io.StringIO())

    copy = draft_of(owner, "copy")
    result = services.import_frames(user=owner, version=copy, format="clearml", source=ImportSource(path=out))
    assert (result.frames, result.added, result.replaced, result.problem_count) == (6, 6, 0, 0)
    assert result.labels == {"car": 6, "red": 6, "person": 6, "road": 6, "day": 6}
    before, after = all_frames(owner, original), all_frames(owner, copy)
    assert list(after) == list(before) and after == before


def test_the_documented_clearml_example_imports(owner, testdata):
    example = testdata / "imports" / "clearml-docs" / "frame_sources_masks_rois.example.json"
    draft = draft_of(owner, "docs")
    result = services.import_frames(user=owner, version=draft, format="clearml", source=ImportSource(path=example))
    assert result.added == 1
    (frame,) = all_frames(owner, draft).values()
    written = json.loads(example.read_text())
    assert frame["context_id"] == written["context_id"] and frame["meta"] == written["meta"]
    assert [s["id"] for s in frame["sources"]] == [s["id"] for s in written["sources"]]
    assert [r["labels"] for r in frame["rois"]] == [r.get("labels") or r.get("label") for r in written["rois"]]


def test_an_import_with_a_bad_frame_writes_nothing_and_says_where(owner, tmp_path):
    draft = draft_of(owner, "refused")
    services.frames_add(user=owner, version=draft, frames=rich_frames(2))
    lines = [json.dumps(f) for f in rich_frames(8)]
    lines[3] = lines[3].replace('"confidence": 0.75', '"confidence": 7.5')  # line 4: out of 0..1
    lines[5] = '{"id": "broken", "sources": [}'  # line 6: not JSON
    path = tmp_path / "frames.jsonl"
    path.write_text("\n".join(lines) + "\n")

    with pytest.raises(services.ImportRefused) as refused:
        services.import_frames(user=owner, version=draft, format="clearml", source=ImportSource(path=path))
    problems = refused.value.result.problems
    assert [(p["file"], p["line"]) for p in problems] == [("frames.jsonl", 4), ("frames.jsonl", 6)]
    assert problems[0]["field"] == "frame 'cam/003.jpg'.rois[0].confidence"
    assert "invalid JSON" in problems[1]["message"] and problems[1]["column"] == 30
    assert refused.value.result.frames == 6  # the valid ones were read and checked
    assert sorted(all_frames(owner, draft)) == ["cam/000.jpg", "cam/001.jpg"]  # nothing written, nothing replaced
    assert selectors.version_get(user=owner, version_id=draft.pk).frame_count == 2


def test_a_broken_json_array_is_reported_with_its_line_and_column(owner, tmp_path):
    path = tmp_path / "frames.json"
    path.write_text('[\n  {"id": "a", "sources": [{"uri": "s3://b/a.jpg"}]},\n  {"id": "b",, "sources": []}\n]\n')
    with pytest.raises(services.ImportRefused) as refused:
        services.import_frames(user=owner, version=draft_of(owner, "broken"), format="clearml", source=ImportSource(path=path))
    (problem,) = refused.value.result.problems
    assert (problem["line"], problem["column"]) == (3, 14) and "invalid JSON" in problem["message"]


def test_a_dry_run_reports_and_writes_nothing(owner, tmp_path):
    draft = draft_of(owner, "dry")
    path = tmp_path / "frames.json"
    path.write_text(json.dumps(rich_frames(4)))
    result = services.import_frames(user=owner, version=draft, format="clearml", source=ImportSource(path=path), dry_run=True)
    assert (result.dry_run, result.frames, result.added) == (True, 4, 0)
    assert all_frames(owner, draft) == {}


def test_imports_go_to_drafts_only_and_need_an_annotator(owner, tmp_path, django_user_model):
    draft = draft_of(owner, "rules")
    path = tmp_path / "frames.json"
    path.write_text(json.dumps(rich_frames(1)))
    services.version_publish(user=owner, version=draft)
    with pytest.raises(ServiceError) as published:
        services.import_frames(user=owner, version=selectors.version_get(user=owner, version_id=draft.pk), format="clearml", source=ImportSource(path=path))
    assert "published" in str(published.value)
    stranger = django_user_model.objects.create_user("stranger", password="pw-stranger-123")
    other = draft_of(owner, "other")
    with pytest.raises(ServiceError) as hidden:
        services.import_frames(user=stranger, version=other, format="clearml", source=ImportSource(path=path))
    assert "no version" in str(hidden.value)
    with pytest.raises(ServiceError) as unknown:
        services.import_frames(user=owner, version=other, format="nope", source=ImportSource(path=path))
    assert unknown.value.errors[0]["field"] == "format"


def test_the_command_line_imports_with_a_summary_and_fails_with_the_problems(owner, tmp_path):
    good = tmp_path / "good.jsonl"
    good.write_text("".join(json.dumps(f) + "\n" for f in rich_frames(3)))
    out, err = io.StringIO(), io.StringIO()
    call_command("import_frames", str(good), "--format", "clearml", "--dataset", "cli", "--create", stdout=out, stderr=err)
    assert "imported 3 frame(s) (3 added, 0 replaced)" in out.getvalue() and "labels: car 3" in out.getvalue()
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x", "sources": [{"uri": "s3://b/x.jpg"}], "rois": [{"labels": ["a"], "poly": [1, 2]}]}\n')
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 problem"):
        call_command("import_frames", str(bad), "--format", "clearml", "--dataset", "cli", stdout=io.StringIO(), stderr=err)
    assert "bad.jsonl:1: frame 'x'.rois[0].poly" in err.getvalue()
    with pytest.raises(CommandError, match="--dataset: no dataset 'missing'"):
        call_command("import_frames", str(good), "--format", "clearml", "--dataset", "missing")


def test_an_upload_through_the_api_is_imported_by_the_worker(owner, tmp_path, celery_worker_process):
    draft = draft_of(owner, "upload")
    api = api_client(owner)
    body = "".join(json.dumps(f) + "\n" for f in rich_frames(5)).encode()
    dry = api.post(f"/api/versions/{draft.pk}/imports/", {"format": "clearml", "dry_run": "true", "file": io.BytesIO(body)}, format="multipart")
    assert dry.status_code == 202, dry.content
    report = wait_for_job(dry.json()["id"], celery_worker_process)
    assert report.state == Job.DONE and report.result["frames"] == 5 and report.result["added"] == 0
    assert all_frames(owner, draft) == {}

    upload = io.BytesIO(body)
    upload.name = "frames.jsonl"
    run = api.post(f"/api/versions/{draft.pk}/imports/", {"format": "clearml", "file": upload, "total": 5}, format="multipart")
    done = wait_for_job(run.json()["id"], celery_worker_process)
    assert done.state == Job.DONE and (done.done, done.total, done.result["added"]) == (5, 5, 5)
    assert len(all_frames(owner, draft)) == 5

    bad = io.BytesIO(b'{"id": "x", "sources": "nope"}\n')
    bad.name = "bad.jsonl"
    failed = wait_for_job(api.post(f"/api/versions/{draft.pk}/imports/", {"format": "clearml", "file": bad}, format="multipart").json()["id"], celery_worker_process)
    assert failed.state == Job.FAILED and "nothing was imported" in failed.error
    assert failed.result["problems"][0]["line"] == 1 and len(all_frames(owner, draft)) == 5


def test_bad_import_requests_are_refused_naming_the_field(owner):
    draft = draft_of(owner, "bad-requests")
    api = api_client(owner)
    url = f"/api/versions/{draft.pk}/imports/"
    for body, field in [
        ({"format": "nope", "path": "/tmp"}, "format"),
        ({"format": "clearml"}, "file"),
        ({"format": "clearml", "path": "/etc/passwd"}, "path"),
        ({"format": "clearml", "path": "/tmp", "options": [1]}, "options"),
    ]:
        answer = api.post(url, body, format="json")
        assert answer.status_code == 400 and answer.json()["errors"][0]["field"] == field, (body, answer.content)
    assert not Job.objects.filter(kind="import").exists()


def test_a_large_import_brings_the_planner_statistics_up_to_date(owner, tmp_path):
    path = tmp_path / "many.jsonl"
    with path.open("w") as out:
        for i in range(3000):
            out.write(json.dumps({"id": f"f{i}", "sources": [{"uri": f"s3://b/{i}.jpg"}], "rois": [{"labels": ["car"], "poly": [0, 0, 1, 0, 1, 1]}]}) + "\n")
    services.import_frames(user=owner, version=draft_of(owner, "many"), format="clearml", source=ImportSource(path=path))
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for table in (FrameRevision._meta.db_table, MediaPreview._meta.db_table):  # frames, and their renditions
                cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [table])
                assert cursor.fetchone()[0] >= 3000, table  # ANALYZE ran after the commit and counted the rows
    else:
        assert services.planner_stats_refresh(written=3000) == []  # SQLite: nothing to do, nothing done


def test_json_lines_keep_numbers_beyond_64_bits_and_nulls_as_written(owner, tmp_path):
    # JSON lines are read by orjson where it reads them as json does; a 30-digit integer is not such a case.
    meta = {"huge": 123456789012345678901234567890, "low": -9999999999999999999, "nothing": None, "digits": "12345678901234567890123", "pi": 3.141592653589793}
    path = tmp_path / "numbers.jsonl"
    path.write_text(json.dumps({"id": "n", "meta": meta, "sources": [{"uri": "s3://b/n.jpg", "meta": {"none": None}}]}) + "\n")
    draft = draft_of(owner, "numbers")
    services.import_frames(user=owner, version=draft, format="clearml", source=ImportSource(path=path))
    (frame,) = all_frames(owner, draft).values()
    assert frame["meta"] == meta and frame["sources"][0]["meta"] == {"none": None}
    assert type(frame["meta"]["huge"]) is int and type(frame["meta"]["low"]) is int  # 19 digits, below -2**63


def test_an_import_asks_for_each_rendition_once(owner, tmp_path):
    path = tmp_path / "shared.jsonl"
    frames = [{"id": f"f{i}", "sources": [{"uri": f"s3://b/{i % 3}.jpg"}]} for i in range(6)]  # 3 images, twice each
    path.write_text("".join(json.dumps(f) + "\n" for f in frames))
    first = draft_of(owner, "first")
    services.import_frames(user=owner, version=first, format="clearml", source=ImportSource(path=path))
    rows = MediaPreview.objects.order_by("uri")
    assert [(r.uri, r.status, r.requested_by_id) for r in rows] == [(f"s3://b/{i}.jpg", "pending", owner.pk) for i in range(3)]
    created = {r.key: r.created for r in rows}
    services.import_frames(user=owner, version=draft_of(owner, "second"), format="clearml", source=ImportSource(path=path))
    assert {r.key: r.created for r in MediaPreview.objects.all()} == created  # the same rows, none added
    assert {s.get("preview_status") for f in all_frames(owner, first).values() for s in f["sources"]} == {"pending"}


def test_a_file_that_breaks_off_midway_writes_nothing_and_stops_its_reader(owner, tmp_path, monkeypatch):
    # Chunks are read ahead by a thread while earlier ones are written: what it meets is raised to the import.
    monkeypatch.setattr("frames.services.imports.IMPORT_CHUNK", 10)
    path = tmp_path / "broken-off.jsonl"
    path.write_bytes(b"".join(json.dumps({"id": f"f{i}", "sources": [{"uri": f"s3://b/{i}.jpg"}]}).encode() + b"\n" for i in range(400)) + b'{"id": "\xff"}\n')
    draft = draft_of(owner, "broken off")
    with pytest.raises(UnicodeDecodeError):
        services.import_frames(user=owner, version=draft, format="clearml", source=ImportSource(path=path))
    assert FrameRevision.objects.filter(version=draft).count() == 0
    assert not [t for t in threading.enumerate() if t.name == "import-read-ahead"]


def test_the_cycle_collector_and_the_thread_switch_interval_are_as_before_after_any_import(owner, tmp_path):
    interval = sys.getswitchinterval()
    path = tmp_path / "two.jsonl"
    path.write_text(json.dumps({"id": "a", "sources": [{"uri": "s3://b/a.jpg"}]}) + "\n" + '{"id": "b", "sources": 7}\n')
    with pytest.raises(services.ImportRefused):
        services.import_frames(user=owner, version=draft_of(owner, "refused gc"), format="clearml", source=ImportSource(path=path))
    assert gc.isenabled() and sys.getswitchinterval() == interval
    path.write_text(json.dumps({"id": "a", "sources": [{"uri": "s3://b/a.jpg"}]}) + "\n")
    services.import_frames(user=owner, version=draft_of(owner, "gc"), format="clearml", source=ImportSource(path=path), dry_run=True)
    assert gc.isenabled() and sys.getswitchinterval() == interval


def test_a_frame_id_repeated_later_in_an_import_replaces_the_earlier_one(owner, tmp_path, monkeypatch):
    monkeypatch.setattr("frames.services.imports.IMPORT_CHUNK", 10)  # the repeats fall in later chunks
    frames = [{"id": f"f{i % 25}", "meta": {"pass": i // 25}, "sources": [{"uri": f"s3://b/{i}.jpg"}], "rois": [{"labels": [f"l{i // 25}"]}]} for i in range(40)]
    path = tmp_path / "repeats.json"
    path.write_text(json.dumps(frames))
    draft = draft_of(owner, "repeats")
    result = services.import_frames(user=owner, version=draft, format="clearml", source=ImportSource(path=path))
    assert (result.frames, result.added, result.replaced) == (40, 25, 15)
    stored = all_frames(owner, draft)
    assert len(stored) == 25 and stored["f3"]["meta"] == {"pass": 1} and stored["f20"]["meta"] == {"pass": 0}
    stats = api_client(owner).get(f"/api/versions/{draft.pk}/stats/").json()
    assert {e["label"]: e["frame_count"] for e in stats["labels"]} == {"l0": 10, "l1": 15}


def test_typed_metadata_is_checked_on_import_and_on_every_write(owner, tmp_path):
    draft = draft_of(owner, "typed")
    meta_schema_set(user=owner, version=draft, fields=[
        {"name": "Speed", "path": "speed", "type": "float"},
        {"name": "Weather", "path": "weather", "type": "categorical_string", "default": "sun", "values": ["sun", "fog"]},
    ])
    path = tmp_path / "typed.jsonl"
    path.write_text(json.dumps({"id": "a", "meta": {"speed": 3.5}, "sources": [{"uri": "s3://b/a.jpg"}]}) + "\n"
                    + json.dumps({"id": "b", "meta": {"speed": "fast"}, "sources": [{"uri": "s3://b/b.jpg"}]}) + "\n")
    with pytest.raises(services.ImportRefused) as refused:
        services.import_frames(user=owner, version=draft, format="clearml", source=ImportSource(path=path))
    (problem,) = refused.value.result.problems
    assert (problem["line"], problem["field"]) == (2, "frame 'b'.meta.speed")
    api = api_client(owner)
    bad = api.post(f"/api/versions/{draft.pk}/frames/", [{"id": "c", "meta": {"speed": "fast"}, "sources": [{"uri": "s3://b/c.jpg"}]}], format="json")
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "frames[0].meta.speed"
    good = api.post(f"/api/versions/{draft.pk}/frames/", [{"id": "c", "meta": {"speed": 1}, "sources": [{"uri": "s3://b/c.jpg"}]}], format="json")
    assert good.status_code == 201 and api.get(f"/api/versions/{draft.pk}/frames/c/").json()["meta"] == {"speed": 1, "weather": "sun"}


def _other_thread(work):
    """work() in a thread of its own (its own database connection): what another request sees meanwhile."""
    seen = {}

    def run():
        try:
            seen["value"] = work()
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return seen.get("value")


def started_import_job(owner, path, name: str) -> Job:
    """An import job claimed by the test itself: no task is queued, so the session's worker leaves it alone."""
    draft = draft_of(owner, name)
    params = {"format": "clearml", "path": str(path), "media_root": "", "options": {}, "dry_run": False,
              "output_dir": str(services.import_output_dir(name))}
    job = services.job_start(user=owner, kind="import", key=f"import:{name}", version=draft, params=params, task=None)
    return services.job_claim(job_id=job.pk)


def test_an_imports_progress_is_seen_before_it_commits_and_cancelling_stops_it(owner, tmp_path, monkeypatch, settings):
    settings.HYPERDATA_MEDIA_ROOTS = [*settings.HYPERDATA_MEDIA_ROOTS, str(tmp_path)]
    monkeypatch.setattr("frames.services.imports.PROGRESS_EVERY", 1000)
    path = tmp_path / "progress.jsonl"
    path.write_text("".join(json.dumps({"id": f"f{i}", "sources": [{"uri": f"s3://b/{i}.jpg"}]}) + "\n" for i in range(3500)))
    job = started_import_job(owner, path, "watched")
    seen = []
    reporting = services.job_progress_outside

    def report_and_look(*, job, done, message=""):
        reporting(job=job, done=done, message=message)
        seen.append(_other_thread(lambda: (selectors.job_get(user=owner, job_id=job.pk).done, FrameRevision.objects.count())))

    monkeypatch.setattr("frames.services.import_jobs.job_progress_outside", report_and_look)
    services.job_finish(job=job, result=import_job_run(user=owner, job=job))
    assert seen == [(1000, 0), (2000, 0), (3000, 0)]  # progress shown while nothing is committed yet
    assert Job.objects.get(pk=job.pk).result["added"] == 3500

    cancelled = started_import_job(owner, path, "cancelled")
    cancelling = []

    def cancel(job_id):
        try:
            services.job_cancel(user=owner, job_id=job_id)  # on SQLite it waits for the import's lock
        finally:
            connection.close()

    def cancel_at_first_report(*, job, done, message=""):
        if not cancelling:
            cancelling.append(threading.Thread(target=cancel, args=(job.pk,)))
            cancelling[0].start()
            deadline = time.monotonic() + 10
            while not cache.get(cancel_requested_key(job.pk)) and time.monotonic() < deadline:
                time.sleep(0.02)
        reporting(job=job, done=done, message=message)

    monkeypatch.setattr("frames.services.import_jobs.job_progress_outside", cancel_at_first_report)
    with pytest.raises(services.JobCancelled):
        import_job_run(user=owner, job=cancelled)
    cancelling[0].join(30)
    assert Job.objects.get(pk=cancelled.pk).state == Job.CANCELLED
    assert FrameRevision.objects.filter(version_id=cancelled.version_id).count() == 0  # rolled back


ODD_TEXT = "tab\there, new\nline, cr\rback\\slash \\N \b\f\v ü"


def odd_frame(i: int) -> dict:
    """A frame whose text holds every character COPY's text format escapes, in each column and index row."""
    return {
        "id": f"{ODD_TEXT} {i}", "context_id": f"ctx {ODD_TEXT}", "timestamp": i, "num_frames": 1,
        "meta": {ODD_TEXT: ODD_TEXT, "n": i},
        "sources": [{"id": f"src {ODD_TEXT}", "uri": f"s3://b/{ODD_TEXT}/{i}.jpg", "content_type": f"image/{ODD_TEXT}", "meta": {"k": ODD_TEXT}}],
        "rois": [
            {"id": "a", "labels": [f"label {ODD_TEXT}"], "poly": [0, 0, 5, 0, 5, 5], "confidence": 1},
            {"id": "b", "labels": ["plain"], "confidence": None},
            {"id": "c", "labels": ["plain", f"label {ODD_TEXT}"], "confidence": 0.125},
        ],
    }


def stored_columns(version) -> list[tuple]:
    """What the index rows say about each revision: its labels with their confidence, its sources."""
    rows = []
    for revision in FrameRevision.objects.filter(version=version).prefetch_related("roi_labels", "source_rows").order_by("frame_id"):
        labels = sorted((r.roi_index, r.label, r.confidence, r.is_frame_label) for r in revision.roi_labels.all())
        sources = [(s.source_id, s.uri, s.content_type, s.meta) for s in revision.source_rows.all()]
        rows.append((revision.frame_id, revision.context_id, labels, sources))
    return rows


def test_text_with_copy_escapes_is_stored_as_written_by_imports_and_the_api(owner, tmp_path):
    # Imports write COPY text themselves (frames.services.bulk); the API's writes and a second import into a
    # version that has frames (replacing some, adding others) go through the other paths of the same code.
    path = tmp_path / "odd.jsonl"
    path.write_text("".join(json.dumps(odd_frame(i)) + "\n" for i in range(3)))
    imported = draft_of(owner, "imported")
    services.import_frames(user=owner, version=imported, format="clearml", source=ImportSource(path=path))
    path.write_text("".join(json.dumps(odd_frame(i)) + "\n" for i in range(1, 5)))
    services.import_frames(user=owner, version=imported, format="clearml", source=ImportSource(path=path))
    written = draft_of(owner, "written")
    services.frames_add(user=owner, version=written, frames=[odd_frame(i) for i in range(5)])

    for version in (imported, written):
        stored = all_frames(owner, version)
        assert sorted(stored) == sorted(f"{ODD_TEXT} {i}" for i in range(5))
        for i in range(5):
            frame, expected = stored[f"{ODD_TEXT} {i}"], odd_frame(i)
            assert {k: frame[k] for k in ("context_id", "meta", "rois")} == {k: expected[k] for k in ("context_id", "meta", "rois")}
            assert [{k: s[k] for k in ("id", "uri", "content_type", "meta")} for s in frame["sources"]] == expected["sources"]
    assert stored_columns(imported) == stored_columns(written)
    label = f"label {ODD_TEXT}"
    assert stored_columns(imported)[0][2] == [(0, label, 1.0, False), (1, "plain", None, True), (2, label, 0.125, True), (2, "plain", 0.125, True)]
    found = api_client(owner).get(f"/api/versions/{imported.pk}/frames/", {"label": label}).json()
    assert len(found["results"]) == 5


def test_renditions_outlive_the_user_who_asked_for_them(owner, tmp_path, django_user_model):
    # `requested_by` has no database constraint (an import writes one per source): deleting the user nulls it
    # through the ORM, and the rows and frames stay.
    importer = django_user_model.objects.create_user("importer", password="pw-importer-123456")
    draft = draft_of(owner, "asked")
    services.member_set(user=owner, dataset=draft.dataset, username="importer", role="annotator")
    path = tmp_path / "asked.jsonl"
    path.write_text("".join(json.dumps({"id": f"f{i}", "sources": [{"uri": f"s3://b/{i}.jpg"}]}) + "\n" for i in range(3)))
    services.import_frames(user=importer, version=draft, format="clearml", source=ImportSource(path=path))
    assert sorted(MediaPreview.objects.values_list("requested_by_id", flat=True)) == [importer.pk] * 3
    importer.delete()
    assert list(MediaPreview.objects.values_list("requested_by_id", flat=True)) == [None] * 3
    assert len(all_frames(owner, draft)) == 3
