"""The `hyperdata` command line run as a user runs it (a subprocess) against a live server: login writes the
config file, datasets / versions / frames / dataview print what the API lists, an import is followed to its report and its
frames are there, a bad file exits 1 naming file and line, an export writes the frames as JSON lines or COCO, and the exit
codes scripts rely on (1 refused, 2 usage, 3 not logged in or no server)."""
from __future__ import annotations

import contextlib
import gc
import io
import json
import os
import socket
import subprocess
import sys

import pytest
from django.contrib.auth.models import User
from pycocotools.coco import COCO

import hyperdata_client.api
from hyperdata_client import Dataset, DatasetVersion, DataView, SingleFrame

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "pw-cli-user-12345"


def hyperdata(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """`hyperdata ARGS` in a process of its own, with this test's environment (its config file)."""
    return subprocess.run([sys.executable, "-m", "hyperdata_client.cli", *args], capture_output=True, text=True,
                          timeout=120, env={**os.environ, **(env or {})})


@pytest.fixture
def cli_user(live_server, settings, tmp_path, monkeypatch):
    """A user, and the environment of a machine where `hyperdata login` has not run yet (the SDK in this test
    process reads the same config file, so a test can make data through it once the CLI logged in)."""
    settings.HYPERDATA_PREVIEWS_AUTO = False
    config = tmp_path / "config" / "hyperdata.json"
    monkeypatch.setenv("HYPERDATA_CONFIG", str(config))
    monkeypatch.delenv("HYPERDATA_API_URL", raising=False)
    monkeypatch.delenv("HYPERDATA_API_TOKEN", raising=False)
    User.objects.create_user("cli-user", password=PASSWORD)
    yield config
    gc.collect()  # see tests/sdk_live.py: free the live server's database connections
    hyperdata_client.api.close()


@pytest.fixture
def logged_in(cli_user, live_server):
    done = hyperdata("login", live_server.url, "--username", "cli-user", env={"HYPERDATA_PASSWORD": PASSWORD})
    assert done.returncode == 0, done.stderr
    return cli_user


def street_frames(count: int) -> list[SingleFrame]:
    frames = []
    for index in range(count):
        frame = SingleFrame(id=f"cam/{index:03d}.jpg", source=f"s3://bucket/cam/{index:03d}.jpg", timestamp=index,
                            metadata={"weather": "rain" if index % 2 else "sunny"})
        frame.add_annotation(box2d_xywh=[1, 1, 10, 10], labels=["car" if index % 3 else "person"])
        frames.append(frame)
    return frames


def jsonl(path, frames: list[dict]):
    path.write_text("".join(json.dumps(frame) + "\n" for frame in frames))
    return path


def test_login_writes_the_config_and_the_lists_print_what_the_api_lists(logged_in, live_server):
    saved = json.loads(logged_in.read_text())
    assert saved["api_url"] == live_server.url and saved["token"]
    assert oct(logged_in.stat().st_mode & 0o777) == "0o600"

    Dataset.create(dataset_name="street scenes")
    draft = DatasetVersion.get_current(dataset_name="street scenes")
    assert draft.add_frames(street_frames(6)) == []
    child = DatasetVersion.create_snapshot(dataset_name="street scenes", publish_name="v1", child_name="v2")

    datasets = hyperdata("datasets")
    assert datasets.returncode == 0 and "street scenes\t2 versions\t6 frames" in datasets.stdout
    versions = hyperdata("versions", "street scenes")
    assert [line.split("\t")[1:3] for line in versions.stdout.splitlines()] == [["v1", "published"], ["v2", "draft"]]
    assert f"{child.id}\tv2\tdraft\t6 frames\tparent {draft.id}" in versions.stdout

    everything = hyperdata("frames", child.id)
    assert everything.stdout.splitlines() == [f"{f.id}\t{'car' if i % 3 else 'person'}" for i, f in enumerate(street_frames(6))]
    assert hyperdata("frames", child.id, "--limit", "2").stdout.splitlines() == everything.stdout.splitlines()[:2]
    cars = hyperdata("frames", child.id, "--label", "car").stdout.splitlines()
    assert cars == ["cam/001.jpg\tcar", "cam/002.jpg\tcar", "cam/004.jpg\tcar", "cam/005.jpg\tcar"]
    rainy = hyperdata("frames", child.id, "--frame-query", "meta.weather:rain", "--roi-query", "car").stdout.splitlines()
    assert rainy == ["cam/001.jpg\tcar", "cam/005.jpg\tcar"]


def test_dataview_lists_your_dataviews_and_the_frames_one_yields_in_its_order(logged_in):
    Dataset.create(dataset_name="views")
    draft = DatasetVersion.get_current(dataset_name="views")
    assert draft.add_frames(street_frames(6)) == []
    view = DataView(name="cars only")
    view.add_query(dataset_name="views", roi_query="car")
    view.save()

    listed = hyperdata("dataview")
    assert listed.returncode == 0 and f"{view.id}\tcars only\tsequential\t1 queries" in listed.stdout
    frames = hyperdata("dataview", view.id, "--limit", "3")
    assert frames.returncode == 0 and "4 frames match; an iteration yields 4" in frames.stderr
    assert frames.stdout.splitlines() == [f"cam/{i:03d}.jpg\t{draft.id}\tcar" for i in (1, 2, 4)]
    assert hyperdata("dataview", "no-such-view").returncode == 1


def test_an_import_is_followed_to_its_report_and_a_bad_file_exits_1_naming_file_and_line(logged_in, tmp_path, celery_worker_process):
    Dataset.create(dataset_name="imports")
    draft = DatasetVersion.get_current(dataset_name="imports")
    good = [frame.to_dict() for frame in street_frames(5)]

    done = hyperdata("import", draft.id, str(jsonl(tmp_path / "frames.jsonl", good)), "--format", "clearml")
    assert done.returncode == 0, done.stderr
    assert "import: job" in done.stderr and "imported 5 frames (added 5, replaced 0)" in done.stdout
    assert "  car\t3 ROIs" in done.stdout
    assert [f.id for f in draft.get_iterator()] == [frame["id"] for frame in good]

    bad = jsonl(tmp_path / "bad.jsonl", [*good[:2], {"id": "broken", "sources": "not a list"}])
    refused = hyperdata("import", draft.id, str(bad), "--format", "clearml")
    assert refused.returncode == 1
    assert "bad.jsonl:3" in refused.stderr and "frame 'broken'.sources" in refused.stderr
    assert "import failed" in refused.stderr and len(list(draft.get_iterator())) == 5

    dry = hyperdata("import", draft.id, str(bad), "--format", "clearml", "--dry-run")
    assert dry.returncode == 1 and "bad.jsonl:3" in dry.stderr and "dry run: would import 2 frames" in dry.stdout


def test_export_writes_the_frames_as_json_lines_and_as_one_array(logged_in, tmp_path):
    Dataset.create(dataset_name="exports")
    draft = DatasetVersion.get_current(dataset_name="exports")
    assert draft.add_frames(street_frames(4)) == []

    out = tmp_path / "out.jsonl"
    written = hyperdata("export", draft.id, "--format", "jsonl", "-o", str(out), "--label", "person")
    assert written.returncode == 0 and "export: 2 frames written" in written.stderr
    exported = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(f["id"], f["rois"][0]["labels"]) for f in exported] == [("cam/000.jpg", ["person"]), ("cam/003.jpg", ["person"])]

    array = hyperdata("export", draft.id, "--format", "clearml")
    assert [frame["id"] for frame in json.loads(array.stdout)] == [f"cam/{i:03d}.jpg" for i in range(4)]
    unknown = hyperdata("export", draft.id, "--format", "yolo")
    assert unknown.returncode == 2 and "--format yolo" in unknown.stderr and "coco" in unknown.stderr


def test_export_coco_writes_the_servers_coco_with_the_filters(logged_in, tmp_path):
    Dataset.create(dataset_name="coco out")
    draft = DatasetVersion.get_current(dataset_name="coco out")
    assert draft.add_frames(street_frames(6)) == []

    out = tmp_path / "people.json"
    written = hyperdata("export", draft.id, "--format", "coco", "-o", str(out), "--label", "person")
    assert written.returncode == 0 and "export: coco written" in written.stderr and str(out) in written.stderr, written.stderr
    with contextlib.redirect_stdout(io.StringIO()):  # COCO() prints its timings
        coco = COCO(str(out))
    assert sorted(image["file_name"] for image in coco.dataset["images"]) == ["s3://bucket/cam/000.jpg", "s3://bucket/cam/003.jpg"]
    assert [c["name"] for c in coco.dataset["categories"]] == ["person"]
    assert [a["bbox"] for a in coco.dataset["annotations"]] == [[1, 1, 10, 10], [1, 1, 10, 10]]
    assert not list(tmp_path.glob("*.partial"))

    everything = hyperdata("export", draft.id, "--format", "coco")
    assert everything.returncode == 0 and len(json.loads(everything.stdout)["images"]) == 6

    refused = hyperdata("export", draft.id, "--format", "coco", "-o", str(tmp_path / "bad.json"), "--frame-query", "meta.speed:[10 TO")
    assert refused.returncode == 1 and "frame_query" in refused.stderr, refused.stderr
    assert not (tmp_path / "bad.json").exists() and not list(tmp_path.glob("*.partial")), "nothing written when refused"


def test_exit_codes_refused_usage_wrong_token_and_no_server(logged_in, live_server):
    Dataset.create(dataset_name="codes")
    published = DatasetVersion.get_current(dataset_name="codes").publish_version()
    frames_file = logged_in.parent / "one.jsonl"
    jsonl(frames_file, [street_frames(1)[0].to_dict()])

    into_published = hyperdata("import", published.id, str(frames_file), "--format", "clearml")
    assert into_published.returncode == 1 and "HTTP 409" in into_published.stderr
    unknown_format = hyperdata("import", published.id, str(frames_file), "--format", "tiff")
    assert unknown_format.returncode == 1 and "format:" in unknown_format.stderr
    missing = hyperdata("frames", "no-such-version")
    assert missing.returncode == 1 and "HTTP 404" in missing.stderr

    assert hyperdata("dataviews").returncode == 2
    assert hyperdata("frames").returncode == 2
    zero = hyperdata("frames", published.id, "--limit", "0")
    assert zero.returncode == 2 and "--limit: '0' is not a whole number of at least 1" in zero.stderr
    bad_options = hyperdata("import", published.id, str(frames_file), "--format", "clearml", "--options", "[1]")
    assert bad_options.returncode == 2 and "--options must be a JSON object" in bad_options.stderr
    assert "dataview" in hyperdata("--help").stdout

    wrong_token = hyperdata("datasets", env={"HYPERDATA_API_TOKEN": "not-a-token"})
    assert wrong_token.returncode == 3 and "run `hyperdata login` again" in wrong_token.stderr
    wrong_password = hyperdata("login", live_server.url, "--username", "cli-user", "--password", "wrong")
    assert wrong_password.returncode == 1
    assert hyperdata("datasets", env={"HYPERDATA_CONFIG": str(logged_in.parent / "none.json")}).returncode == 3
    with socket.socket() as closed:  # a port nobody listens on: bound, never listening
        closed.bind(("127.0.0.1", 0))
        no_server = hyperdata("datasets", env={"HYPERDATA_API_URL": f"http://127.0.0.1:{closed.getsockname()[1]}"})
    assert no_server.returncode == 3 and "cannot reach the server" in no_server.stderr
