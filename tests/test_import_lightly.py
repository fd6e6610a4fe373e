"""Lightly's metadata folder (seed 004) read into frames, and the lenient JSON that accepts Lightly's published
examples: the reader on its own (a pure function of the folder), then through the import service, the CLI and an
upload run by the worker."""
import io
import json
import shutil
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from frames import selectors, services
from frames.importers.base import ImportSource, Problem, Record, VersionExtras
from frames.importers.formats import FORMATS
from frames.importers.lenient_json import JSONSyntaxError, parse
from frames.models import Job

from .clients import api_client
from .worker_jobs import wait_for_job

PUBLISHED = Path("imports/lightly-custom-metadata/lightly-metadata")
SEED_NAMES = {  # the file as published -> the name seed 004 gives it in .lightly/metadata/
    "schema.as-published.json": "schema.json",
    "my_video.as-published.json": "my_video.json",
    "my_video-099-mp4.as-published.json": "my_video-099-mp4.json",
    "my_image.as-published.json": "my_image.json",
}
SCHEMA = [
    {"name": "Scene", "path": "scene", "defaultValue": "undefined", "valueDataType": "CATEGORICAL_STRING"},
    {"name": "Weather description", "path": "weather.description", "defaultValue": "nothing", "valueDataType": "CATEGORICAL_STRING"},
    {"name": "Temperature", "path": "weather.temperature", "defaultValue": 0.0, "valueDataType": "NUMERIC_FLOAT"},
    {"name": "Air pressure", "path": "weather.air_pressure", "defaultValue": 0, "valueDataType": "NUMERIC_INT"},
    {"name": "Vehicle ID", "path": "vehicle_id", "defaultValue": 0, "valueDataType": "CATEGORICAL_INT"},
]
META_SCHEMA = [
    {"name": "Scene", "path": "scene", "type": "categorical_string", "default": "undefined"},
    {"name": "Weather description", "path": "weather.description", "type": "categorical_string", "default": "nothing"},
    {"name": "Temperature", "path": "weather.temperature", "type": "float", "default": 0.0},
    {"name": "Air pressure", "path": "weather.air_pressure", "type": "integer", "default": 0},
    {"name": "Vehicle ID", "path": "vehicle_id", "type": "categorical_int", "default": 0},
]


@pytest.fixture
def published(testdata, tmp_path) -> Path:
    """A datasource whose .lightly/metadata/ holds the four examples exactly as Lightly published them."""
    metadata = tmp_path / "datasource" / ".lightly" / "metadata"
    metadata.mkdir(parents=True)
    for published_name, seed_name in SEED_NAMES.items():
        shutil.copyfile(testdata / PUBLISHED / published_name, metadata / seed_name)
    return tmp_path / "datasource"


def read(path: Path, **options) -> tuple[list[Record], list[Problem], VersionExtras]:
    items = list(FORMATS["lightly"](ImportSource(path=path, options=options)))
    extras = [i for i in items if isinstance(i, VersionExtras)]
    assert len(extras) == 1, items
    return [i for i in items if isinstance(i, Record)], [i for i in items if isinstance(i, Problem)], extras[0]


def write(folder: Path, name: str, value) -> None:
    path = folder / ".lightly" / "metadata" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, indent=4))


def metadata_file(file_name: str, kind: str, meta: dict) -> dict:
    return {"file_name": file_name, "type": kind, "metadata": meta}


# ------------------------------------------------------------------------------------- the published files
@pytest.mark.parametrize("published_name, line, column, message", [
    ("schema.as-published.json", 8, 5, "Expecting ',' delimiter"),
    ("my_video.as-published.json", 12, 5, "Expecting property name enclosed in double quotes"),
    ("my_video-099-mp4.as-published.json", 12, 5, "Expecting property name enclosed in double quotes"),
    ("my_image.as-published.json", 12, 5, "Expecting property name enclosed in double quotes"),
])
def test_strict_mode_names_file_line_and_column_of_each_published_example(published, published_name, line, column, message):
    records, problems, _ = read(published)
    seed_name = SEED_NAMES[published_name]
    problem = next(p for p in problems if p.file == seed_name)
    assert (problem.line, problem.column) == (line, column)
    assert problem.message.startswith(f"invalid JSON: {message}")
    assert "lenient" in problem.message  # says how to accept it
    assert records == []


def test_lenient_mode_imports_the_published_examples_and_says_what_it_fixed(published):
    records, problems, extras = read(published, lenient=True, fps=25)
    assert problems == []
    assert extras.notes == [
        "schema.json line 7: inserted a missing ','",
        "my_image.json line 11: removed a trailing ','",
        "my_video-099-mp4.json line 11: removed a trailing ','",
        "my_video.json line 11: removed a trailing ','",
    ]
    assert extras.meta_schema == META_SCHEMA
    frames = {r.frame["id"]: r.frame for r in records}
    assert frames["my_image.png"] == {
        "id": "my_image.png",
        "meta": {"scene": "highway", "weather": {"description": "rainy", "temperature": 10.5, "air_pressure": 1}, "vehicle_id": 321},
        "sources": [{"id": "default", "uri": str(published / "my_image.png"), "content_type": "image/png"}],
    }
    frame = frames["my_video-099-mp4"]
    assert frame["context_id"] == "my_video.mp4"
    assert frame["timestamp"] == 3960  # frame 99 (0-based) at 25 fps
    assert frame["sources"] == [{"id": "default", "uri": str(published / "my_video.mp4"), "content_type": "video/mp4", "timestamp": 3960}]
    assert frame["meta"]["weather"] == {"description": "sunny", "temperature": 23.2, "air_pressure": 1}
    assert set(frames) == {"my_image.png", "my_video-099-mp4"}


def test_lenient_fixes_are_the_published_files_parsed_as_the_docs_meant(testdata):
    for published_name, seed_name in SEED_NAMES.items():
        text = (testdata / PUBLISHED / published_name).read_text()
        mended = parse(text, file=seed_name, lenient=True)
        meant = text.replace("}\n    {", "},\n    {").replace("321,\n", "321\n")  # the two mistakes, fixed by hand
        assert mended.value == json.loads(meant)
        assert len(mended.notes) == 1


# ------------------------------------------------------------------------------------- the lenient fixer
@pytest.mark.parametrize("text, value, notes", [
    ('{"a": "x, y]", "b": [1 2 3,],}', {"a": "x, y]", "b": [1, 2, 3]},
     ["t line 1: inserted a missing ','", "t line 1: inserted a missing ','", "t line 1: removed a trailing ','", "t line 1: removed a trailing ','"]),
    ('{"k": "v\\", ]", "l": "}{,"\n"m": "[,]"\n,}', {"k": 'v", ]', "l": "}{,", "m": "[,]"},
     ["t line 1: inserted a missing ','", "t line 3: removed a trailing ','"]),
    ('[{"a": 1}\n{"b": [true false null]}\n]', [{"a": 1}, {"b": [True, False, None]}],
     ["t line 1: inserted a missing ','", "t line 2: inserted a missing ','", "t line 2: inserted a missing ','"]),
    ('"a string, with ] and , inside"', "a string, with ] and , inside", []),
    ('{"nested": {"deep": [[1,], {"x": "y",}],},}', {"nested": {"deep": [[1], {"x": "y"}]}}, [
        "t line 1: removed a trailing ','", "t line 1: removed a trailing ','",
        "t line 1: removed a trailing ','", "t line 1: removed a trailing ','"]),
])
def test_lenient_mends_only_commas_between_and_after_values_never_inside_strings(text, value, notes):
    parsed = parse(text, file="t", lenient=True)
    assert parsed.value == value
    assert parsed.notes == notes
    if notes:  # strict mode mends nothing
        with pytest.raises(JSONSyntaxError):
            parse(text, file="t")


@pytest.mark.parametrize("text, line, column", [
    ('{"a": x y}', 1, 7),  # an unquoted value is not a comma mistake
    ("[,]", 1, 2),  # nothing before the comma: not a trailing one
    ('{"a": 1,,}', 1, 9),  # a doubled comma
    ('{"a": 1\n "b" 2}', 2, 6),  # a missing colon is not mended
    ('{"a": "unterminated}', 1, 7),
    ('{"a": 1} {"b": 2}', 1, 10),  # two documents
])
def test_lenient_still_refuses_other_mistakes_with_line_and_column(text, line, column):
    with pytest.raises(JSONSyntaxError) as caught:
        parse(text, file="t", lenient=True)
    assert (caught.value.line, caught.value.column) == (line, column)


@pytest.mark.parametrize("text", ['{"a": [1, 2, {"b": "c,]"}], "d": null}', "[]", "{}", '[[], {}, ""]', "  12.5e3  ", '{"é": "\\u00e9"}'])
def test_valid_json_passes_through_unchanged(text):
    assert parse(text, file="t", lenient=True).value == json.loads(text)
    assert parse(text, file="t", lenient=True).notes == []


def test_every_value_has_the_line_it_starts_on():
    parsed = parse('{\n "a": [\n  1,\n  {"b":\n   true}\n ]\n}', file="t")
    assert parsed.lines[("a",)] == 2
    assert parsed.lines[("a", 0)] == 3
    assert parsed.lines[("a", 1, "b")] == 5
    assert parsed.line(("a", 7, "missing")) == 2  # the nearest parent in the text


# ------------------------------------------------------------------------------------- the reader
def test_defaults_fill_what_a_file_leaves_out_and_media_without_metadata(tmp_path):
    write(tmp_path, "schema.json", SCHEMA)
    write(tmp_path, "a.json", metadata_file("a.jpg", "image", {"weather": {"temperature": 3}, "extra": [1]}))
    (tmp_path / "a.jpg").write_bytes(b"")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.png").write_bytes(b"")  # no metadata file: all defaults
    (tmp_path / "notes.txt").write_text("not media")
    records, problems, extras = read(tmp_path)
    assert problems == []
    frames = {r.frame["id"]: r.frame for r in records}
    assert set(frames) == {"a.jpg", "sub/b.png"}
    assert frames["a.jpg"]["meta"] == {
        "weather": {"temperature": 3, "description": "nothing", "air_pressure": 0}, "extra": [1], "scene": "undefined", "vehicle_id": 0,
    }
    assert frames["sub/b.png"]["meta"] == {"scene": "undefined", "weather": {"description": "nothing", "temperature": 0.0, "air_pressure": 0}, "vehicle_id": 0}
    assert frames["sub/b.png"]["sources"][0]["uri"] == str(tmp_path / "sub" / "b.png")
    assert extras.meta_schema == META_SCHEMA


def test_video_metadata_applies_to_every_frame_and_a_frame_file_overrides_it_key_by_key(tmp_path):
    write(tmp_path, "schema.json", SCHEMA)
    write(tmp_path, "clips/drive.json", metadata_file("drive.mp4", "video", {"scene": "city street", "weather": {"description": "sunny", "temperature": 23.2}}))
    write(tmp_path, "clips/drive-000-mp4.json", metadata_file("drive-000-mp4.png", "frame", {}))
    write(tmp_path, "clips/drive-099-mp4.json", metadata_file("drive-099-mp4.png", "frame", {"weather": {"temperature": 19.5}, "vehicle_id": 7}))
    write(tmp_path, "clips/drive-150-mp4.json", metadata_file("drive-150-mp4.png", "frame", {"scene": "tunnel"}))
    records, problems, extras = read(tmp_path, fps=50)
    assert problems == []
    frames = {r.frame["id"]: r.frame for r in records}
    assert list(frames) == ["clips/drive-000-mp4", "clips/drive-099-mp4", "clips/drive-150-mp4"]
    assert [f["timestamp"] for f in frames.values()] == [0, 1980, 3000]
    assert {f["context_id"] for f in frames.values()} == {"clips/drive.mp4"}
    assert frames["clips/drive-000-mp4"]["meta"] == {"scene": "city street", "weather": {"description": "sunny", "temperature": 23.2, "air_pressure": 0}, "vehicle_id": 0}
    assert frames["clips/drive-099-mp4"]["meta"] == {"scene": "city street", "weather": {"description": "sunny", "temperature": 19.5, "air_pressure": 0}, "vehicle_id": 7}
    assert frames["clips/drive-150-mp4"]["meta"]["scene"] == "tunnel"
    assert frames["clips/drive-150-mp4"]["sources"][0] == {"id": "default", "uri": str(tmp_path / "clips" / "drive.mp4"), "content_type": "video/mp4", "timestamp": 3000}


def test_frame_rate_read_from_the_local_video_when_no_fps_is_given(testdata, tmp_path):
    shutil.copyfile(testdata / "video/nwb-video-widgets/stub_mjpeg.avi", tmp_path / "rig.avi")  # 10 fps
    write(tmp_path, "rig-1-avi.json", metadata_file("rig-1-avi.png", "frame", {"lamp": "on"}))
    write(tmp_path, "rig-2-avi.json", metadata_file("rig-2-avi.png", "frame", {"lamp": "off"}))
    records, problems, extras = read(tmp_path)
    assert problems == []
    assert [(r.frame["id"], r.frame["timestamp"], r.frame["meta"]) for r in records] == [("rig-1-avi", 100, {"lamp": "on"}), ("rig-2-avi", 200, {"lamp": "off"})]
    assert extras.notes == ["no schema.json: metadata imported as it is, untyped and without defaults"]
    assert extras.meta_schema == []


def test_a_video_without_frame_files_is_one_frame_and_without_a_frame_rate_a_problem(tmp_path):
    write(tmp_path, "schema.json", SCHEMA)
    write(tmp_path, "whole.json", metadata_file("whole.mp4", "video", {"scene": "harbour"}))
    write(tmp_path, "framed-01-mp4.json", metadata_file("framed-01-mp4.png", "frame", {}))
    records, problems, extras = read(tmp_path)
    assert [(r.frame["id"], r.frame["timestamp"], r.frame["meta"]["scene"]) for r in records] == [("whole.mp4", 0, "harbour")]
    assert "whole.mp4: no per-frame metadata files; imported as one frame at 0 ms" in extras.notes
    assert [(p.file, p.field) for p in problems] == [("framed.json", "fps")]
    assert "pass option fps" in problems[0].message


def test_the_metadata_folder_itself_can_be_the_input(published):
    records, problems, _ = read(published / ".lightly" / "metadata", lenient=True, fps=25)
    assert problems == []
    assert {r.frame["sources"][0]["uri"] for r in records} == {str(published / "my_image.png"), str(published / "my_video.mp4")}


def test_wrong_values_are_named_with_file_line_and_field(tmp_path):
    write(tmp_path, "schema.json", SCHEMA + [{"name": "Night", "path": "night", "defaultValue": False, "valueDataType": "CATEGORICAL_BOOLEAN"}])
    write(tmp_path, "bad.json", metadata_file("bad.png", "image", {
        "scene": 3, "weather": {"temperature": "warm", "air_pressure": 1.5}, "vehicle_id": True, "night": "no",
    }))
    write(tmp_path, "flat.json", metadata_file("flat.png", "image", {"weather": "sunny"}))
    write(tmp_path, "renamed.json", metadata_file("other.png", "image", {}))
    write(tmp_path, "kind.json", {"file_name": "kind.png", "type": "photo"})
    _, problems, _ = read(tmp_path)
    found = {(p.file, p.field, p.line): p.message for p in problems}
    assert found == {
        ("bad.json", "metadata.scene", 5): "expected a string (CATEGORICAL_STRING), got 3",
        ("bad.json", "metadata.weather.temperature", 7): "expected a number (NUMERIC_FLOAT), got 'warm'",
        ("bad.json", "metadata.weather.air_pressure", 8): "expected an integer (NUMERIC_INT), got 1.5",
        ("bad.json", "metadata.vehicle_id", 10): "expected an integer (CATEGORICAL_INT), got True",
        ("bad.json", "metadata.night", 11): "expected true or false (CATEGORICAL_BOOLEAN), got 'no'",
        ("flat.json", "metadata.weather", 5): "expected an object holding description (schema field 'Weather description'), got 'sunny'",
        ("kind.json", "type", 3): "expected 'image', 'video' or 'frame', got 'photo'",
        ("kind.json", "metadata", 1): "missing",
        ("renamed.json", "file_name", 2): "'other.png' does not match this file's name: the metadata of NAME.EXT is in NAME.json",
    }


def test_schema_mistakes_are_named_with_line_and_the_good_fields_still_apply(tmp_path):
    write(tmp_path, "schema.json", [
        SCHEMA[0],
        {"name": "Speed", "path": "speed", "defaultValue": 0, "valueDataType": "NUMERIC"},
        {"name": "Lane", "path": "lane", "defaultValue": "left", "valueDataType": "CATEGORICAL_INT"},
        {"name": "Again", "path": "scene", "defaultValue": "x", "valueDataType": "CATEGORICAL_STRING"},
        {"name": "No default", "path": "road", "valueDataType": "CATEGORICAL_STRING"},
        "scene",
    ])
    write(tmp_path, "a.json", metadata_file("a.png", "image", {}))
    records, problems, extras = read(tmp_path)
    assert [(p.file, p.field, p.line, p.message) for p in problems] == [
        ("schema.json", "[1].valueDataType", 12, "'NUMERIC' is not one of NUMERIC_INT, NUMERIC_FLOAT, CATEGORICAL_INT, CATEGORICAL_STRING, CATEGORICAL_BOOLEAN"),
        ("schema.json", "[2].defaultValue", 17, "expected an integer (CATEGORICAL_INT), got 'left'"),
        ("schema.json", "[3].path", 22, "'scene' is already in the schema"),
        ("schema.json", "[4].defaultValue", 26, "missing"),
        ("schema.json", "[5]", 31, "expected an object with name, path, defaultValue and valueDataType"),
    ]
    assert extras.meta_schema == [META_SCHEMA[0]]
    assert records[0].frame["meta"] == {"scene": "undefined"}


def test_frame_numbers_padded_unlike_the_others_of_their_video_are_refused(tmp_path):
    for number in ("007", "008", "0009"):
        write(tmp_path, f"v-{number}-mov.json", metadata_file(f"v-{number}-mov.png", "frame", {}))
    write(tmp_path, "v-x-mov.json", metadata_file("v-x-mov.png", "frame", {}))
    records, problems, _ = read(tmp_path, fps="30")
    assert [r.frame["id"] for r in records] == ["v-007-mov", "v-008-mov"]
    assert [(p.file, p.field) for p in problems] == [("v-x-mov.json", "type"), ("v-0009-mov.json", "")]
    assert "padded to 3 digits" in problems[1].message


@pytest.mark.parametrize("fps", [0, "fast", -5, True, "inf"])
def test_a_bad_fps_option_is_a_problem(tmp_path, fps):
    write(tmp_path, "v-1-mp4.json", metadata_file("v-1-mp4.png", "frame", {}))
    records, problems, _ = read(tmp_path, fps=fps)
    assert records == []
    assert [(p.file, p.field) for p in problems] == [("v.json", "fps")]


def test_a_folder_that_is_not_lightly_is_refused(tmp_path):
    (tmp_path / "a.png").write_bytes(b"")
    items = list(FORMATS["lightly"](ImportSource(path=tmp_path)))
    assert len(items) == 1 and isinstance(items[0], Problem)
    assert ".lightly/metadata" in items[0].message


def make_datasource(root: Path, *, images: int, videos: int, frames_per_video: int) -> None:
    """A datasource in Lightly's layout: images in three sub-folders (every third without metadata), videos
    with video metadata and a frame file for every other frame (padded to the frame count's digits)."""
    write(root, "schema.json", SCHEMA)
    for i in range(images):
        sub = f"cam{i % 3}"
        (root / sub).mkdir(exist_ok=True)
        (root / sub / f"img{i:05d}.jpg").write_bytes(b"")
        if i % 3:
            write(root, f"{sub}/img{i:05d}.json", metadata_file(f"img{i:05d}.jpg", "image", {"vehicle_id": i, "weather": {"temperature": i / 10}}))
    digits = len(str(frames_per_video))
    for v in range(videos):
        write(root, f"videos/run{v}.json", metadata_file(f"run{v}.mp4", "video", {"scene": f"run {v}", "vehicle_id": 1000 + v}))
        for n in range(0, frames_per_video, 2):
            write(root, f"videos/run{v}-{n:0{digits}d}-mp4.json", metadata_file(f"run{v}-{n:0{digits}d}-mp4.png", "frame", {"weather": {"air_pressure": n}}))


def test_a_bigger_generated_datasource(tmp_path):
    make_datasource(tmp_path, images=600, videos=3, frames_per_video=1200)
    records, problems, extras = read(tmp_path, fps=30)
    assert problems == []
    assert len(records) == 600 + 3 * 600
    frames = {r.frame["id"]: r.frame for r in records}
    assert len(frames) == len(records)
    assert frames["cam1/img00004.jpg"]["meta"] == {"vehicle_id": 4, "weather": {"temperature": 0.4, "description": "nothing", "air_pressure": 0}, "scene": "undefined"}
    assert frames["cam0/img00003.jpg"]["meta"]["vehicle_id"] == 0  # no metadata file: the default
    run = frames["videos/run2-1198-mp4"]
    assert (run["context_id"], run["timestamp"]) == ("videos/run2.mp4", 39933)
    assert run["meta"] == {"scene": "run 2", "vehicle_id": 1002, "weather": {"air_pressure": 1198, "description": "nothing", "temperature": 0.0}}
    timestamps = [f["timestamp"] for f in frames.values() if f.get("context_id") == "videos/run0.mp4"]
    assert timestamps == sorted(timestamps) and len(timestamps) == 600
    assert extras.notes == []


# ------------------------------------------------------------------------------------- through the import service and the CLI
@pytest.fixture
def owner(django_user_model, settings):
    settings.HYPERDATA_PREVIEWS_AUTO = False
    return django_user_model.objects.create_superuser("owner", password="pw-owner-123456")


@pytest.fixture
def published_in_media_root(testdata, media_roots, request) -> Path:
    """The published examples in a datasource inside the media roots, with a real video for the frame rate."""
    datasource = media_roots / f"lightly-{request.node.name}"
    metadata = datasource / ".lightly" / "metadata"
    metadata.mkdir(parents=True)
    for published_name, seed_name in SEED_NAMES.items():
        shutil.copyfile(testdata / PUBLISHED / published_name, metadata / seed_name)
    shutil.copyfile(testdata / "video/webgl/npot-video.mp4", datasource / "my_video.mp4")  # 30 s
    return datasource


@pytest.mark.django_db(transaction=True)
def test_the_published_examples_import_leniently_and_refuse_strictly(owner, published_in_media_root):
    version = services.dataset_create(user=owner, name="lightly").versions.get()
    source = ImportSource(path=published_in_media_root)
    with pytest.raises(services.ImportRefused) as refused:
        services.import_frames(user=owner, version=version, format="lightly", source=source)
    assert [(p["file"], p["line"], p["column"]) for p in refused.value.result.problems] == [
        ("schema.json", 8, 5), ("my_image.json", 12, 5), ("my_video-099-mp4.json", 12, 5), ("my_video.json", 12, 5)]
    assert selectors.frames_count(user=owner, version=version) == 0

    source = ImportSource(path=published_in_media_root, options={"lenient": True})
    result = services.import_frames(user=owner, version=version, format="lightly", source=source)
    assert (result.frames, result.added, result.problem_count) == (2, 2, 0)
    assert "schema.json line 7: inserted a missing ','" in result.notes
    api = api_client(owner)
    frame = api.get(f"/api/versions/{version.pk}/frames/my_video-099-mp4/").json()
    assert (frame["context_id"], frame["timestamp"]) == ("my_video.mp4", 3300)  # frame 99 at the video's 30 fps
    assert frame["meta"] == {"scene": "city street", "weather": {"description": "sunny", "temperature": 23.2, "air_pressure": 1}, "vehicle_id": 321}
    assert frame["sources"][0]["uri"] == str(published_in_media_root / "my_video.mp4")
    schema = api.get(f"/api/versions/{version.pk}/meta-schema/").json()
    assert [{k: f[k] for k in ("name", "path", "type", "default")} for f in schema["fields"]] == META_SCHEMA


@pytest.mark.django_db(transaction=True)
def test_the_cli_imports_a_lightly_datasource_with_lenient_and_fps(owner, published_in_media_root):
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError, match="4 problem"):
        call_command("import_frames", str(published_in_media_root), "--format", "lightly", "--dataset", "cli", "--create", stdout=out, stderr=err)
    assert "schema.json:8:5: : invalid JSON: Expecting ',' delimiter" in err.getvalue()
    out, err = io.StringIO(), io.StringIO()
    call_command("import_frames", str(published_in_media_root), "--format", "lightly", "--dataset", "cli", "--lenient", "--option", "fps=25", stdout=out, stderr=err)
    assert "imported 2 frame(s) (2 added, 0 replaced)" in out.getvalue()
    assert "note: my_video.json line 11: removed a trailing ','" in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_a_generated_datasource_imports_every_frame_and_a_dry_run_writes_none(owner, media_roots, request):
    datasource = media_roots / f"lightly-{request.node.name}"
    make_datasource(datasource, images=300, videos=2, frames_per_video=400)
    version = services.dataset_create(user=owner, name="generated").versions.get()
    source = ImportSource(path=datasource, options={"fps": 20})
    dry = services.import_frames(user=owner, version=version, format="lightly", source=source, dry_run=True)
    assert (dry.frames, dry.added, dry.problem_count) == (700, 0, 0)
    assert selectors.frames_count(user=owner, version=version) == 0
    result = services.import_frames(user=owner, version=version, format="lightly", source=source)
    assert (result.frames, result.added) == (700, 700)
    frames, url = {}, f"/api/versions/{version.pk}/frames/?limit=500&sort=id"
    while url:
        page = api_client(owner).get(url).json()
        frames.update({f["id"]: f for f in page["results"]})
        url = page.get("next")
    assert len(frames) == 700
    assert frames["cam2/img00005.jpg"]["meta"]["weather"] == {"temperature": 0.5, "description": "nothing", "air_pressure": 0}
    assert frames["cam0/img00000.jpg"]["meta"]["vehicle_id"] == 0  # no metadata file: the schema's default
    in_videos = Counter(f["context_id"] for f in frames.values() if f["context_id"].startswith("videos/"))
    assert in_videos == {"videos/run0.mp4": 200, "videos/run1.mp4": 200}
    assert frames["videos/run1-398-mp4"]["timestamp"] == 19900  # frame 398 at 20 fps


def zipped_metadata(testdata) -> io.BytesIO:
    """A zip of .lightly/metadata/ alone (the media live in a bucket) holding the published examples."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for published_name, seed_name in SEED_NAMES.items():
            archive.write(testdata / PUBLISHED / published_name, f".lightly/metadata/{seed_name}")
    buffer.seek(0)
    buffer.name = "lightly-metadata.zip"
    return buffer


@pytest.mark.django_db(transaction=True)
def test_a_zipped_metadata_folder_uploaded_through_the_api_is_imported_by_the_worker(owner, testdata, celery_worker_process):
    version = services.dataset_create(user=owner, name="uploaded").versions.get()
    api = api_client(owner)
    url = f"/api/versions/{version.pk}/imports/"
    form = {"format": "lightly", "media_root": "s3://bucket/datasource/", "options": '{"fps": 25}'}
    strict = wait_for_job(api.post(url, {**form, "file": zipped_metadata(testdata)}, format="multipart").json()["id"], celery_worker_process)
    assert strict.state == Job.FAILED and "nothing was imported" in strict.error
    assert (strict.result["problems"][0]["file"], strict.result["problems"][0]["line"], strict.result["problems"][0]["column"]) == ("schema.json", 8, 5)

    lenient = {**form, "options": '{"fps": 25, "lenient": true}', "file": zipped_metadata(testdata)}
    done = wait_for_job(api.post(url, lenient, format="multipart").json()["id"], celery_worker_process)
    assert done.state == Job.DONE, done.error
    assert (done.result["added"], len(done.result["notes"])) == (2, 4)
    frame = api.get(f"/api/versions/{version.pk}/frames/my_image.png/").json()
    assert frame["sources"][0]["uri"] == "s3://bucket/datasource/my_image.png"
    assert frame["meta"]["weather"]["description"] == "rainy"
