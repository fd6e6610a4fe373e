"""Encord's import JSON (seed 003) and Encord label rows read into frames: the reader on its own (a pure function
of the files), on JSON written here after the seed's sections (Videos, Single images, Image groups, Image
sequences, DICOM, keyframes, custom metadata and embeddings, skip_duplicate_urls), and on the label rows in
../shared/testdata/imports/encord/."""
import io
import json
import shutil
from pathlib import Path

import av
import pytest
from django.core.management import call_command

from frames import selectors, services
from frames.importers.base import ImportSource, Problem, Record, VersionExtras
from frames.importers.formats import FORMATS
from frames.schema import parse_frame
from .clients import api_client
from .test_media_dicom import ct_slice

LABELS = Path("imports/encord")
GROUP_ROW = "image_group.label_row.json"
VIDEO_ROW = "video_with_dynamic_classifications.label_row.json"
BUNNY = "video/moviepy/big_buck_bunny_432_433.webm"  # 1 s, 24 fps, 1280x720


def read(path: Path, **options) -> list:
    return list(FORMATS["encord"](ImportSource(path=path, options=options)))


def write(folder: Path, document, name="import.json") -> Path:
    path = folder / name
    path.write_text(json.dumps(document, indent=2))
    return path


def frames_of(items) -> list[dict]:
    problems = [i for i in items if isinstance(i, Problem)]
    assert not problems, problems
    frames = [i.frame for i in items if isinstance(i, Record)]
    for frame in frames:
        parse_frame(frame)  # what the import service will ask of every frame
    return frames


def notes_of(items) -> list[str]:
    return [note for i in items if isinstance(i, VersionExtras) for note in i.notes]


def problems_of(items) -> list[Problem]:
    return [i for i in items if isinstance(i, Problem)]


# -- Videos (seed 003 "Videos": sampling_rate, keyframes, keyframe_mode; videoMetadata) --------------------------


def test_video_is_sampled_one_frame_per_second_with_its_key_frames_in_one_context(tmp_path):
    items = read(write(tmp_path, {"videos": [{
        "objectUrl": "https://storage.example.com/videos/Cooking.mp4",
        "title": "Cooking.mp4",
        "videoMetadata": {"fps": 25.0, "duration": 3.0, "width": 1280, "height": 720, "file_size": 1000, "mime_type": "video/mp4"},
        "clientMetadata": {"keyframes": [13, 60], "cuisine": "thai"},
    }]}))
    frames = frames_of(items)
    assert [f["timestamp"] for f in frames] == [0, 520, 1000, 2000, 2400]  # 1/s, plus frames 13 and 60 at 25 fps
    assert {f["context_id"] for f in frames} == {"https://storage.example.com/videos/Cooking.mp4"}
    assert all(f["sources"][0]["timestamp"] == f["timestamp"] for f in frames)
    assert frames[0]["sources"][0] | {"timestamp": 0} == {
        "id": "default", "uri": "https://storage.example.com/videos/Cooking.mp4", "content_type": "video/mp4",
        "width": 1280, "height": 720, "timestamp": 0}
    assert all(f["meta"] == {"cuisine": "thai"} for f in frames)  # keyframes is Encord's word, not metadata
    assert len({f["id"] for f in frames}) == 5
    assert frames == frames_of(read(tmp_path / "import.json")), "the same file gives the same frame ids"


def test_sampling_rate_zero_imports_the_first_frame_and_the_key_frames_only(tmp_path):
    frames = frames_of(read(write(tmp_path, {"videos": [{
        "objectUrl": "https://storage.example.com/videos/Cooking.mp4",
        "videoMetadata": {"fps": 30, "duration": 600},
        "clientMetadata": {"keyframes": [13, 17, 19, 23, 127, 149, 153, 160]},
        "config": {"sampling_rate": 0, "keyframe_mode": "frame"},
    }]})))
    assert [f["timestamp"] for f in frames] == [0, 433, 567, 633, 767, 4233, 4967, 5100, 5333]


def test_key_frames_in_seconds_need_no_frame_rate_and_a_remote_video_without_duration_is_noted(tmp_path):
    items = read(write(tmp_path, {"videos": [{
        "objectUrl": "s3://bucket/drive.mp4",
        "keyframes": [1.5, 4],
        "config": {"keyframe_mode": "seconds"},
    }]}))
    assert [f["timestamp"] for f in frames_of(items)] == [0, 1500, 4000]
    (note,) = notes_of(items)
    assert "videos[0]" in note and "duration is not in the JSON" in note and "1 frame(s) per second" in note


def test_frame_numbers_without_a_frame_rate_are_a_problem_naming_the_key_frame_and_its_line(tmp_path):
    path = write(tmp_path, {"videos": [
        {"objectUrl": "https://example.com/a.mp4", "videoMetadata": {"fps": 10, "duration": 1}},
        {"objectUrl": "https://example.com/b.mp4", "clientMetadata": {"keyframes": [5]}},
    ]})
    problems = problems_of(read(path))
    assert [(p.field, p.line) for p in problems] == [("videos[1].clientMetadata.keyframes[0]", 10)]
    assert "frame rate" in problems[0].message and problems[0].file == "import.json"
    lines = path.read_text().splitlines()
    assert lines[9].strip() == "{" and "b.mp4" in lines[10], "line 10 is where videos[1] starts"


def test_a_local_video_is_sampled_through_its_own_duration_and_frame_rate(testdata, tmp_path):
    with av.open(str(testdata / BUNNY)) as container:
        stream = container.streams.video[0]
        fps, seconds = float(stream.average_rate), container.duration / av.time_base
    assert (fps, seconds) == (24.0, 1.0)
    frames = frames_of(read(write(tmp_path, {"videos": [{
        "objectUrl": str(testdata / BUNNY), "keyframes": [3], "config": {"sampling_rate": 4},
    }]})))
    assert [f["timestamp"] for f in frames] == [0, 125, 250, 500, 750]  # frame 3 at 24 fps = 125 ms
    assert (frames[0]["sources"][0]["width"], frames[0]["sources"][0]["height"]) == (1280, 720)
    assert frames[0]["sources"][0]["content_type"] == "video/webm"


def test_frame_metadata_and_custom_embeddings_are_kept_with_their_frames(tmp_path):
    frames = frames_of(read(write(tmp_path, {"videos": [{
        "objectUrl": "https://example.com/walk.mp4",
        "title": "walk",
        "videoMetadata": {"fps": 25, "duration": 2},
        "clientMetadata": {
            "keyframes": [25],
            "location": "Algiers", "reviewed": True, "captured": "2024-05-01T10:00:00Z",
            "$encord": {"frame_metadata": {"25": {"blurry": True, "embedding": [0.25, -1.5, 3.0]},
                                           "40": {"blurry": False}}},
        },
        "config": {"sampling_rate": 0},
    }]})))
    by_time = {f["timestamp"]: f["meta"] for f in frames}
    video_meta = {"location": "Algiers", "reviewed": True, "captured": "2024-05-01T10:00:00Z"}
    assert by_time == {0: video_meta, 1000: {**video_meta, "blurry": True, "embedding": [0.25, -1.5, 3.0]},
                       1600: {**video_meta, "blurry": False}}


# -- Single images, image groups, image sequences, DICOM (seed 003 sections of the same names) --------------------


def test_single_images_with_their_custom_metadata(tmp_path):
    frames = frames_of(read(write(tmp_path, {"images": [
        {"objectUrl": "https://example.com/images/one.jpg"},
        {"objectUrl": "photos/two.png", "title": "two", "clientMetadata": {"site": "north", "score": 0.5},
         "imageMetadata": {"width": 640, "height": 480, "mime_type": "image/png"}},
    ]})))
    assert [f["sources"] for f in frames] == [
        [{"id": "default", "uri": "https://example.com/images/one.jpg", "content_type": "image/jpeg"}],
        [{"id": "default", "uri": str(tmp_path / "photos/two.png"), "content_type": "image/png", "width": 640, "height": 480}],
    ]
    assert [f["meta"] for f in frames] == [{}, {"site": "north", "score": 0.5}]
    assert all("context_id" not in f for f in frames)  # a single image is its own context (its URI)


def test_an_image_group_is_one_frame_group_with_a_source_per_image_in_position_order(tmp_path):
    (frame,) = frames_of(read(write(tmp_path, {"image_groups": [{
        "title": "image-group-1", "createVideo": False,
        "objectUrl_1": "https://example.com/g/rear.jpg",
        "objectUrl_0": "https://example.com/g/front.jpg",
        "objectUrl_2": "https://example.com/g/left.jpg",
        "clientMetadata": {"rig": 7},
    }]})))
    assert [(s["id"], s["uri"].rsplit("/", 1)[1]) for s in frame["sources"]] == [
        ("0", "front.jpg"), ("1", "rear.jpg"), ("2", "left.jpg")]
    assert frame["context_id"] == "image-group-1" and frame["meta"] == {"rig": 7}


def test_an_image_sequence_is_one_context_in_order(tmp_path):
    frames = frames_of(read(write(tmp_path, {"image_groups": [{
        "title": "sequence-1", "createVideo": True,
        "objectUrl_0": "https://example.com/s/000.jpg", "objectUrl_1": "https://example.com/s/001.jpg",
        "objectUrl_2": "https://example.com/s/002.jpg",
    }]})))
    assert [(f["context_id"], f["timestamp"], f["sources"][0]["uri"][-7:]) for f in frames] == [
        ("sequence-1", 0, "000.jpg"), ("sequence-1", 1, "001.jpg"), ("sequence-1", 2, "002.jpg")]


def test_a_dicom_series_is_a_context_of_ordered_slices(tmp_path):
    frames = frames_of(read(write(tmp_path, {"dicom_series": [{
        "title": "ct-chest", "objectUrl_0": "https://example.com/ct/1.dcm", "objectUrl_1": "https://example.com/ct/2.dcm",
        "clientMetadata": {"patient_age": 54},
    }]})))
    assert [(f["context_id"], f["timestamp"], f["sources"][0]["content_type"], f["meta"]) for f in frames] == [
        ("ct-chest", 0, "application/dicom", {"patient_age": 54}), ("ct-chest", 1, "application/dicom", {"patient_age": 54})]


# -- skip_duplicate_urls -----------------------------------------------------------------------------------------------


def test_skip_duplicate_urls_skips_what_came_earlier_in_the_import_and_says_so(tmp_path):
    document = {
        "videos": [{"objectUrl": "https://example.com/v.mp4", "config": {"sampling_rate": 0}},
                   {"objectUrl": "https://example.com/v.mp4", "config": {"sampling_rate": 0}}],
        "images": [{"objectUrl": "https://example.com/i.jpg"}, {"objectUrl": "https://example.com/i.jpg"}],
        "image_groups": [{"title": "a", "objectUrl_0": "https://example.com/1.jpg", "objectUrl_1": "https://example.com/2.jpg"},
                         {"title": "b", "objectUrl_0": "https://example.com/1.jpg", "objectUrl_1": "https://example.com/2.jpg"}],
        "dicom_series": [{"title": "s", "objectUrl_0": "https://example.com/1.dcm"},
                         {"title": "t", "objectUrl_0": "https://example.com/1.dcm", "objectUrl_1": "https://example.com/2.dcm"}],
        "skip_duplicate_urls": True,
    }
    items = read(write(tmp_path, document))
    frames = frames_of(items)
    assert len(frames) == 5  # a video frame, an image, a group, slice 1 of s, slice 2 of t
    assert [f["sources"][0]["uri"][-5:] for f in frames if f.get("context_id") == "t"] == ["2.dcm"]
    notes = notes_of(items)
    assert [n.split(": ")[1] for n in notes] == ["videos[1]", "images[1]", "image_groups[1]", "dicom_series[1].objectUrl_0"]
    assert all("skip_duplicate_urls" in n for n in notes)

    document["skip_duplicate_urls"] = False
    items = read(write(tmp_path, document))
    frames = frames_of(items)
    assert len(frames) == 9 and len({f["id"] for f in frames}) == 9 and not notes_of(items)


# -- problems ----------------------------------------------------------------------------------------------------


def test_broken_json_is_a_problem_with_line_and_column(tmp_path):
    path = tmp_path / "import.json"
    path.write_text('{\n  "videos": [\n    {"objectUrl": "https://example.com/a.mp4",}\n  ]\n}\n')
    (problem,) = read(path)
    third_line = path.read_text().splitlines()[2]
    assert (problem.file, problem.line, problem.column) == ("import.json", 3, third_line.index(",}") + 2)
    assert "invalid JSON" in problem.message


def test_problems_name_the_field_and_the_line_of_the_data_unit(tmp_path):
    path = write(tmp_path, {
        "images": [{"objectUrl": "https://example.com/ok.jpg"}, {"title": "no url"}, "not an object"],
        "image_groups": [{"title": "g", "objectUrl_0": 42}, {"title": "empty"}],
        "videos": [{"objectUrl": "https://example.com/v.mp4", "clientMetadata": ["a", "list"]},
                   {"objectUrl": "https://example.com/w.mp4", "config": {"keyframe_mode": "minutes"}},
                   {"objectUrl": "https://example.com/x.mp4", "config": [0], "videoMetadata": "25 fps"}],
        "skip_duplicate_urls": "yes",
    })
    problems = problems_of(read(path))
    assert [p.field for p in problems] == ["skip_duplicate_urls"]
    document = json.loads(path.read_text())
    document.pop("skip_duplicate_urls")
    path = write(tmp_path, document)
    lines = path.read_text().splitlines()
    problems = problems_of(read(path))
    assert [p.field for p in problems] == [
        "images[1].objectUrl", "images[2]", "image_groups[0].objectUrl_0", "image_groups[1]",
        "videos[0].clientMetadata", "videos[1].config.keyframe_mode", "videos[2].config", "videos[2].videoMetadata"]
    assert lines[problems[0].line - 1].strip() == "{" and '"no url"' in lines[problems[0].line]
    assert lines[problems[1].line - 1].strip() == '"not an object"'
    (problem,) = problems_of(read(write(tmp_path, {"info": {"name": "not encord"}}, name="other.json")))
    assert (problem.file, problem.message) == ("other.json", "not an Encord import JSON: it has none of videos, images, image_groups, dicom_series")


# -- label rows ---------------------------------------------------------------------------------------------------


def test_an_image_group_label_row_is_a_frame_group_with_boxes_polygons_and_frame_labels(testdata):
    row = json.loads((testdata / LABELS / GROUP_ROW).read_text())
    (frame,) = frames_of(read(testdata / LABELS / GROUP_ROW))
    assert frame["context_id"] == "image-group-8375e"
    assert [(s["id"], s["width"], s["height"], s["content_type"]) for s in frame["sources"]] == [(str(i), 952, 678, "image/png") for i in range(5)]
    unit0 = row["data_units"]["f850dfb4-7146-49e0-9afc-2b9434a64a9f"]
    assert frame["sources"][0]["uri"] == unit0["data_link"]
    rois = {(r["sources"][0], r["labels"][0]): r for r in frame["rois"]}
    box = unit0["labels"]["objects"][0]["boundingBox"]
    cars = rois[("0", "Cars")]
    assert cars["shape"] == {"type": "box", "xywh": [round(box["x"] * 952, 2), round(box["y"] * 678, 2),
                                                     round(box["w"] * 952, 2), round(box["h"] * 678, 2)]}
    assert cars["poly"][:2] == cars["shape"]["xywh"][:2] and cars["confidence"] == 1
    assert cars["meta"]["encord"]["objectHash"] == "ApGxvBOz" and cars["id"] == "ApGxvBOz@0"
    polygon = unit0["labels"]["objects"][1]["polygon"]
    segmentation = rois[("0", "Car segmentation")]["poly"]
    assert len(segmentation) == 2 * len(polygon)
    assert segmentation[:2] == [round(polygon["0"]["x"] * 952, 2), round(polygon["0"]["y"] * 678, 2)]
    assert [r["labels"] for r in frame["rois"] if "poly" not in r] == [
        ["Is there a car in the frame? SUSPECTED: True"], ["Is there a car in the frame? SUSPECTED: Maybe"],
        ["This is a test: Test"], ["This is a test: Test"], ["This is a test: Test"]]
    assert sorted(key for key in rois if key[1] == "Cars") == [("0", "Cars"), ("1", "Cars"), ("2", "Cars")]


def test_a_video_label_row_gives_its_labelled_frames_with_dynamic_answers(testdata):
    frames = frames_of(read(testdata / LABELS / VIDEO_ROW))
    assert [f["timestamp"] for f in frames] == [0, 40]  # frames 0 and 1 at data_fps 25
    assert [(s["width"], s["height"], s["content_type"]) for f in frames for s in f["sources"]] == [(1200, 924, "video/mp4")] * 2
    first, second = ({r["labels"][0]: r for r in f["rois"]} for f in frames)
    assert first["box"]["shape"]["xywh"] == [round(0.4287 * 1200, 2), round(0.2615 * 924, 2), round(0.1296 * 1200, 2), round(0.1291 * 924, 2)]
    assert first["box"]["meta"]["answers"] == {"dynamic text": "dynamic text", "dynamic classification": "classification 1", "dynamic radio": "radio 1"}
    assert second["box"]["meta"]["answers"]["dynamic classification"] == ["classification 2", "classification 1"]
    assert second["box"]["meta"]["answers"]["dynamic text"] == "dynamic text next frame"


def test_label_rows_attach_to_the_data_units_of_the_import_json(testdata, tmp_path):
    shutil.copy(testdata / LABELS / GROUP_ROW, tmp_path / GROUP_ROW)
    shutil.copy(testdata / LABELS / "image_group.ontology.json", tmp_path / "image_group.ontology.json")
    urls = {f"objectUrl_{i}": f"https://bucket.example.com/shots/{i}.png" for i in range(5)}
    write(tmp_path, {"image_groups": [{"title": "image-group-8375e", **urls, "clientMetadata": {"shift": "night"}}]})
    (frame,) = frames_of(read(tmp_path))
    assert [s["uri"] for s in frame["sources"]] == list(urls.values())
    assert frame["meta"] == {"shift": "night"} and len(frame["rois"]) == 9
    assert {r["labels"][0] for r in frame["rois"] if "poly" in r} == {"Cars", "Car segmentation"}

    labels = tmp_path / "labels"
    labels.mkdir()
    for name in (GROUP_ROW, "image_group.ontology.json"):
        (tmp_path / name).rename(labels / name)
    (frame,) = frames_of(read(tmp_path / "import.json", labels="labels"))
    assert len(frame["rois"]) == 9, "the labels option names the folder of label rows"
    (problem,) = problems_of(read(tmp_path / "import.json", labels="../elsewhere"))
    assert problem.field == "labels"


def test_a_label_row_no_data_unit_takes_is_a_problem(testdata, tmp_path):
    shutil.copy(testdata / LABELS / VIDEO_ROW, tmp_path / VIDEO_ROW)
    write(tmp_path, {"images": [{"objectUrl": "https://example.com/other.jpg"}]})
    (problem,) = problems_of(read(tmp_path))
    assert problem.file == VIDEO_ROW and "two-frame-video.mp4" in problem.message
    assert (problem.field, problem.line) == ("data_title", 11)  # where the row's data_title is


def test_a_video_label_row_adds_its_frames_to_the_sampled_ones(testdata, tmp_path):
    shutil.copy(testdata / LABELS / VIDEO_ROW, tmp_path / VIDEO_ROW)
    write(tmp_path, {"videos": [{"objectUrl": "https://example.com/two-frame-video.mp4", "config": {"sampling_rate": 0}}]})
    frames = frames_of(read(tmp_path))
    assert [(f["timestamp"], len(f["rois"])) for f in frames] == [(0, 2), (40, 2)]


def test_shapes_the_reader_cannot_import_are_problems_naming_the_object(testdata, tmp_path):
    row = json.loads((testdata / LABELS / VIDEO_ROW).read_text())
    row["data_units"]["cd57cf5c-2541-4a46-a836-444540ee987a"]["labels"]["1"]["objects"][1]["shape"] = "bitmask"
    path = write(tmp_path, row, name="row.label_row.json")
    (problem,) = read(path)
    assert problem.field == "data_units.cd57cf5c-2541-4a46-a836-444540ee987a.labels.1.objects[1]"
    lines = path.read_text().splitlines()
    assert lines[problem.line - 1].strip() == "{" and '"name": "box 2"' in lines[problem.line]
    assert "'bitmask' is not imported" in problem.message


# -- through the import service and the CLI ------------------------------------------------------------------------


@pytest.fixture
def owner(django_user_model, settings):
    settings.HYPERDATA_PREVIEWS_AUTO = False
    return django_user_model.objects.create_superuser("owner", password="pw-owner-123456")


@pytest.fixture
def encord_folder(testdata, media_roots, request) -> Path:
    """Inside the media roots: an import JSON with every kind of data unit (a real local video, real images)
    and the image group's label row with its ontology."""
    folder = media_roots / f"encord-{request.node.name}"
    (folder / "labels").mkdir(parents=True)
    shutil.copyfile(testdata / BUNNY, folder / "bunny.webm")
    for name in (GROUP_ROW, "image_group.ontology.json"):
        shutil.copyfile(testdata / LABELS / name, folder / "labels" / name)
    photos = sorted((testdata / "coco/labelme/JPEGImages").glob("*.jpg"))
    (folder / "ct").mkdir()
    for number in (1, 2):
        ct_slice(folder / "ct" / f"{number}.dcm", number=number)
    write(folder, {
        "videos": [{"objectUrl": "bunny.webm", "title": "bunny", "clientMetadata": {"keyframes": [12], "scene": "meadow"}},
                   {"objectUrl": "bunny.webm", "title": "again"}],
        "images": [{"objectUrl": str(photos[0]), "clientMetadata": {"split": "val"}}],
        "image_groups": [{"title": "image-group-8375e", **{f"objectUrl_{i}": str(photos[i % len(photos)]) for i in range(5)}},
                         {"title": "walk", "createVideo": True, **{f"objectUrl_{i}": str(p) for i, p in enumerate(photos)}}],
        "dicom_series": [{"title": "ct", "objectUrl_0": "ct/1.dcm", "objectUrl_1": "ct/2.dcm"}],
        "audio": [{"objectUrl": "talk.mp3"}],
        "skip_duplicate_urls": True,
    })
    return folder


@pytest.mark.django_db(transaction=True)
def test_an_encord_import_writes_every_data_unit_and_importing_again_replaces_them(owner, encord_folder):
    version = services.dataset_create(user=owner, name="encord").versions.get()
    source = ImportSource(path=encord_folder / "import.json", options={"labels": "labels"})
    dry = services.import_frames(user=owner, version=version, format="encord", source=source, dry_run=True)
    assert (dry.frames, dry.added, dry.problem_count) == (9, 0, 0)  # 2 video frames, 1 image, 1 group, 3 + 2 slices
    assert selectors.frames_count(user=owner, version=version) == 0
    result = services.import_frames(user=owner, version=version, format="encord", source=source)
    assert (result.frames, result.added, result.replaced) == (9, 9, 0)
    assert result.labels["Cars"] == 3 and result.labels["Car segmentation"] == 1
    assert any("videos[1]: skipped" in n for n in result.notes) and any("audio (1) not imported" in n for n in result.notes)

    frames = api_client(owner).get(f"/api/versions/{version.pk}/frames/?limit=100").json()["results"]
    video = sorted((f for f in frames if f["context_id"] == str(encord_folder / "bunny.webm")), key=lambda f: f["timestamp"])
    assert [(f["timestamp"], f["meta"]) for f in video] == [(0, {"scene": "meadow"}), (500, {"scene": "meadow"})]
    (group,) = [f for f in frames if f["context_id"] == "image-group-8375e"]
    assert [s["id"] for s in group["sources"]] == ["0", "1", "2", "3", "4"] and len(group["rois"]) == 9
    assert sorted(f["timestamp"] for f in frames if f["context_id"] == "walk") == [0, 1, 2]

    again = services.import_frames(user=owner, version=version, format="encord", source=source)
    assert (again.added, again.replaced) == (0, 9)
    version.refresh_from_db()
    assert selectors.frames_count(user=owner, version=version) == 9


@pytest.mark.django_db(transaction=True)
def test_an_encord_import_with_a_problem_writes_nothing_and_says_where(owner, encord_folder):
    document = json.loads((encord_folder / "import.json").read_text())
    document["videos"][0]["clientMetadata"]["keyframes"] = [12, "twelve"]
    write(encord_folder, document)
    version = services.dataset_create(user=owner, name="encord").versions.get()
    with pytest.raises(services.ImportRefused) as refused:
        services.import_frames(user=owner, version=version, format="encord",
                               source=ImportSource(path=encord_folder / "import.json"))
    assert [(p["file"], p["field"], p["line"]) for p in refused.value.result.problems] == [
        ("import.json", "videos[0].clientMetadata.keyframes[1]", 3)]
    assert selectors.frames_count(user=owner, version=version) == 0


@pytest.mark.django_db(transaction=True)
def test_the_cli_imports_an_encord_folder(owner, encord_folder):
    for name in (GROUP_ROW, "image_group.ontology.json"):
        (encord_folder / "labels" / name).rename(encord_folder / name)
    out, err = io.StringIO(), io.StringIO()
    call_command("import_frames", str(encord_folder), "--format", "encord", "--dataset", "encord-cli", "--create", stdout=out, stderr=err)
    assert "imported 9 frame(s) (9 added, 0 replaced)" in out.getvalue(), err.getvalue()
    assert "note: import.json: videos[1]: skipped" in out.getvalue()


def test_rotated_boxes_points_lines_multi_polygons_and_answers_of_every_kind(tmp_path):
    objects = [
        {"name": "Truck", "shape": "rotatable_bounding_box", "objectHash": "r1", "featureHash": "f-truck",
         "rotatableBoundingBox": {"x": 0.25, "y": 0.5, "w": 0.5, "h": 0.25, "theta": 90}},
        {"name": "Eye", "shape": "point", "objectHash": "p1", "point": {"0": {"x": 0.1, "y": 0.2}}},
        {"name": "Lane", "shape": "polyline", "objectHash": "l1", "polyline": [{"x": 0, "y": 1}, {"x": 0.5, "y": 0.5}, {"x": 1, "y": 0}]},
        {"name": "Ponds", "shape": "polygon", "objectHash": "m1", "polygons": [[[0, 0, 0.1, 0, 0.1, 0.1]], [[0.5, 0.5, 0.6, 0.5, 0.6, 0.6]]]},
        {"name": "Hand", "shape": "skeleton", "objectHash": "s1", "skeleton": {"0": {"x": 0.5, "y": 0.5, "name": "wrist"}, "1": {"x": 0.6, "y": 0.4, "name": "thumb"}}},
        {"name": "Gone", "shape": "bounding_box", "objectHash": "d1", "isDeleted": True, "boundingBox": {"x": 0, "y": 0, "w": 1, "h": 1}},
    ]
    row = {
        "data_title": "yard.jpg", "data_type": "image",
        "data_units": {"u1": {"data_hash": "u1", "data_title": "yard.jpg", "data_link": "yard.jpg", "data_type": "image/jpeg",
                              "width": 200, "height": 100,
                              "labels": {"objects": objects, "classifications": [
                                  {"name": "Weather", "classificationHash": "c1", "featureHash": "f-weather"},
                                  {"name": "Notes", "classificationHash": "c2", "featureHash": "f-notes"}]}}},
        "object_answers": {"r1": {"objectHash": "r1", "classifications": [{"name": "Colour", "answers": [{"name": "red"}]}]}},
        "classification_answers": {
            "c1": {"classificationHash": "c1", "classifications": [{"name": "Weather", "answers": [{"name": "sunny"}, {"name": "windy"}]}]},
            "c2": {"classificationHash": "c2", "classifications": [{"name": "Notes", "answers": "gate left open"}]}},
    }
    ontology = {"objects": [{"featureNodeHash": "f-truck", "name": "Lorry", "shape": "rotatable_bounding_box"}], "classifications": []}
    write(tmp_path, ontology, name="site.json")
    (frame,) = frames_of(read(write(tmp_path, [row], name="rows.label_rows.json"), ontology="site.json"))
    assert frame["sources"] == [{"id": "default", "uri": str(tmp_path / "yard.jpg"), "content_type": "image/jpeg", "width": 200, "height": 100}]
    rois = {r["id"]: r for r in frame["rois"]}
    assert sorted(rois) == ["c1", "c2", "l1", "m1", "p1", "r1", "s1"]
    assert rois["s1"]["shape"] == {"type": "points", "xy": [100, 50, 120, 40]}
    truck = rois["r1"]
    assert truck["labels"] == ["Lorry"] and truck["meta"]["answers"] == {"Colour": "red"}
    assert truck["shape"] == {"type": "box", "xywh": [50, 50, 100, 25], "angle": 90}
    assert truck["poly"] == [112.5, 12.5, 112.5, 112.5, 87.5, 112.5, 87.5, 12.5]  # turned about its centre (100, 62.5)
    assert rois["p1"]["shape"] == {"type": "points", "xy": [20, 20]}
    assert rois["l1"]["shape"] == {"type": "points", "xy": [0, 100, 100, 50, 200, 0]} and rois["l1"]["meta"]["encord"]["shape"] == "polyline"
    assert rois["m1"]["poly"] == [0, 0, 20, 0, 20, 10, -999999999, 100, 50, 120, 50, 120, 60]
    assert rois["c1"]["labels"] == ["Weather: sunny", "Weather: windy"]
    assert rois["c2"]["labels"] == ["Notes"] and rois["c2"]["meta"]["answers"] == {"Notes": "gate left open"}

    del row["data_units"]["u1"]["width"]
    (problem,) = problems_of(read(write(tmp_path, row, name="row.label_row.json")))
    assert problem.field == "data_units.u1.width" and "needs width and height" in problem.message


def test_encords_metadata_schema_types_the_client_metadata(tmp_path):
    write(tmp_path, {"images": [{"objectUrl": "https://example.com/a.jpg",
                                 "clientMetadata": {"captured": "2024-05-01T10:00:00Z", "reviewed": True, "score": 0.5,
                                                    "weather": "rain", "clip": [0.1, 0.2]}}]})
    write(tmp_path, {"captured": "datetime", "reviewed": "boolean", "score": "number", "id": "uuid", "note": "varchar",
                     "weather": {"enum": ["sunny", "rain"]}, "clip": "embedding", "team.key": "text"},
          name="site.metadata_schema.json")
    items = read(tmp_path)
    frames_of(items)
    (extras,) = [i for i in items if isinstance(i, VersionExtras)]
    assert extras.meta_schema == [
        {"name": "captured", "path": "captured", "type": "datetime"}, {"name": "reviewed", "path": "reviewed", "type": "boolean"},
        {"name": "score", "path": "score", "type": "number"}, {"name": "id", "path": "id", "type": "uuid"},
        {"name": "note", "path": "note", "type": "varchar"}, {"name": "weather", "path": "weather", "type": "enum", "values": ["sunny", "rain"]}]
    assert [n.split(": ")[1] for n in extras.notes] == ["clip (embedding) is kept in the frames' meta without a type",
                                                         "team.key is kept in the frames' meta without a type (a typed path cannot name a key with a dot)"]
    write(tmp_path, {"score": 3}, name="site.metadata_schema.json")
    (problem,) = problems_of(read(tmp_path))
    assert (problem.file, problem.field, problem.line) == ("site.metadata_schema.json", "score", 2)


@pytest.mark.django_db(transaction=True)
def test_the_metadata_schema_becomes_the_versions_typed_fields(owner, media_roots, request):
    folder = media_roots / f"encord-{request.node.name}"
    folder.mkdir()
    write(folder, {"captured": "datetime", "score": "number"}, name="types.json")
    write(folder, {"images": [{"objectUrl": "https://example.com/a.jpg", "clientMetadata": {"captured": "2024-05-01T10:00:00", "score": 1}}]})
    version = services.dataset_create(user=owner, name="typed").versions.get()
    source = ImportSource(path=folder / "import.json", options={"metadata_schema": "types.json"})
    assert services.import_frames(user=owner, version=version, format="encord", source=source).added == 1
    schema = api_client(owner).get(f"/api/versions/{version.pk}/meta-schema/").json()
    assert [(f["path"], f["type"]) for f in schema["fields"]] == [("captured", "datetime"), ("score", "float")]


def test_a_sequence_label_row_alone_is_one_context_in_position_order(tmp_path):
    def unit(number, x):
        return {"data_hash": f"h{number}", "data_title": f"{number}.jpg", "data_link": f"seq/{number}.jpg", "data_type": "image/jpeg",
                "data_sequence": number, "width": 100, "height": 50,
                "labels": {"objects": [{"name": "Dot", "shape": "point", "objectHash": "d", "point": {"0": {"x": x, "y": 0.5}}}]}}
    row = {"data_title": "walk", "data_type": "img_sequence", "data_units": {"h1": unit(1, 0.2), "h0": unit(0, 0.1)}}
    frames = frames_of(read(write(tmp_path, row, name="walk.label_row.json")))
    assert [(f["context_id"], f["timestamp"], f["sources"][0]["uri"][-8:], f["rois"][0]["shape"]["xy"]) for f in frames] == [
        ("walk", 0, "eq/0.jpg", [10, 25]), ("walk", 1, "eq/1.jpg", [20, 25])]
