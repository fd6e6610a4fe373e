"""COCO in: every COCO file of the shared test data imports with as many ROIs per label as pycocotools counts
annotations per category; polygons (multi-part), boxes, key points and RLE masks come out as the API takes
them; what cannot be read is a problem naming the annotation's field; panoptic segments point at their PNG's
colours. End to end through the import service, `manage.py import_frames` and an upload to the API run by the
worker, read back through the API."""
from __future__ import annotations

import contextlib
import io
import json
import shutil
import tempfile
import uuid
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from PIL import Image
from pycocotools import mask as coco_mask
from pycocotools.coco import COCO

from frames import selectors, services
from frames.importers import coco
from frames.importers.base import ImportSource, Problem, Record, VersionExtras
from frames.models import Dataset, Job
from frames.schema import parse_frame, split_poly

from .clients import api_client
from .worker_jobs import wait_for_job

COCO_FILES = ["labelformat/instances.json", "labelformat/instances_with_binary_mask.json", "labelme/annotations.json", "mmpose/test_coco.json"]


def read_all(path: Path, output_dir: Path | None = None, **source) -> tuple[list[Record], list[Problem], VersionExtras | None]:
    items = list(coco.read(ImportSource(path=path, output_dir=output_dir, **source)))
    extras = [i for i in items if isinstance(i, VersionExtras)]
    return [i for i in items if isinstance(i, Record)], [i for i in items if isinstance(i, Problem)], (extras or [None])[0]


def pycocotools_counts(path: Path) -> tuple[COCO, dict[str, int]]:
    with contextlib.redirect_stdout(io.StringIO()):  # COCO() prints its timings
        reference = COCO(str(path))
    counts = {c["name"]: len(reference.getAnnIds(catIds=[c["id"]])) for c in reference.loadCats(reference.getCatIds())}
    return reference, {name: n for name, n in counts.items() if n}


def write_coco(path: Path, **data) -> Path:
    base = {"images": [{"id": 1, "file_name": "a.jpg", "width": 8, "height": 6}], "annotations": [], "categories": [{"id": 1, "name": "cat"}]}
    path.write_text(json.dumps({**base, **data}))
    return path


@pytest.mark.parametrize("name", COCO_FILES)
def test_rois_per_label_equal_pycocotools_annotations_per_category(testdata, tmp_path, name):
    reference, expected = pycocotools_counts(testdata / "coco" / name)
    records, problems, extras = read_all(testdata / "coco" / name, output_dir=tmp_path)
    assert problems == []
    frames = [parse_frame(r.frame) for r in records]  # as the API takes them
    assert sorted(f["id"] for f in frames) == sorted(str(i) for i in reference.getImgIds())
    assert Counter(roi["labels"][0] for f in frames for roi in f["rois"]) == expected
    kept = json.loads((testdata / "coco" / name).read_text())
    assert extras.metadata["coco"]["categories"] == kept["categories"]
    assert (extras.metadata["coco"]["info"], extras.metadata["coco"]["licenses"]) == (kept["info"], kept["licenses"])


def test_images_become_frames_with_sources_beside_the_json_and_their_fields_as_meta(testdata, tmp_path):
    records, _, extras = read_all(testdata / "coco" / "mmpose" / "test_coco.json")
    frame = parse_frame(records[0].frame)
    assert frame["id"] == "785"
    source = frame["sources"][0]
    assert source["uri"] == str(testdata / "coco" / "mmpose" / "000000000785.jpg") and Path(source["uri"]).is_file()
    assert (source["id"], source["width"], source["height"], source["content_type"]) == ("default", 640, 425, "image/jpeg")
    assert frame["meta"]["file_name"] == "000000000785.jpg" and frame["meta"]["license"] == 4
    assert extras.notes == []  # every image is there

    labelme, _, extras = read_all(testdata / "coco" / "labelme")  # the folder holding the one JSON
    uris = [r.frame["sources"][0]["uri"] for r in labelme]
    assert uris[0] == str(testdata / "coco" / "labelme" / "JPEGImages" / "2011_000003.jpg")
    assert all(Path(uri).is_file() for uri in uris)
    assert extras.metadata["coco"]["categories"][0]["name"] == "_background_"


def test_a_media_root_prefix_resolves_file_names(testdata):
    records, _, extras = read_all(testdata / "coco" / "labelme" / "annotations.json", media_root="s3://bucket/voc/")
    assert records[0].frame["sources"][0]["uri"] == "s3://bucket/voc/JPEGImages/2011_000003.jpg"
    assert extras.notes == []  # a cloud prefix is not checked


def test_polygons_key_points_and_coco_fields_as_the_api_takes_them(testdata):
    path = testdata / "coco" / "mmpose" / "test_coco.json"
    annotations = {a["id"]: a for a in json.loads(path.read_text())["annotations"]}
    records, _, _ = read_all(path)
    rois = {roi["id"]: roi for r in records for roi in parse_frame(r.frame)["rois"]}

    multi = rois["467657"]  # a 4-part polygon
    assert split_poly(multi["poly"]) == annotations[467657]["segmentation"] and len(split_poly(multi["poly"])) == 4
    assert multi["meta"]["bbox"] == annotations[467657]["bbox"] and multi["meta"]["area"] == annotations[467657]["area"]
    assert (multi["meta"]["iscrowd"], multi["meta"]["supercategory"], multi["labels"]) == (0, "person", ["person"])

    points = rois["198196"]["shape"]
    keypoints = annotations[198196]["keypoints"]
    labelled = [n for n in range(17) if keypoints[3 * n + 2] > 0]
    assert points["type"] == "points" and len(points["names"]) == annotations[198196]["num_keypoints"] == len(labelled)
    assert points["xy"] == [v for n in labelled for v in keypoints[3 * n : 3 * n + 2]]
    assert points["names"][0] == "nose" and points["visibility"] == [keypoints[3 * n + 2] for n in labelled]
    assert "shape" not in rois["1202706"]  # num_keypoints 0: its polygon only


def test_a_box_without_segmentation_is_a_box_shape_with_its_corners_as_poly(tmp_path):
    path = write_coco(tmp_path / "boxes.json", annotations=[{"id": 7, "image_id": 1, "category_id": 1, "bbox": [1, 2, 3.5, 4], "score": 0.25}])
    (record,), problems, _ = read_all(path)
    roi = parse_frame(record.frame)["rois"][0]
    assert problems == [] and roi["shape"] == {"type": "box", "xywh": [1, 2, 3.5, 4]}
    assert roi["poly"] == [1, 2, 4.5, 2, 4.5, 6, 1, 6] and roi["confidence"] == 0.25 and roi["id"] == "7"


def png_pixels(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"))


def test_an_uncompressed_rle_becomes_a_mask_png_of_the_same_pixels_and_the_missing_image_a_note(testdata, tmp_path):
    path = testdata / "coco" / "labelformat" / "instances_with_binary_mask.json"
    crowd = next(a for a in json.loads(path.read_text())["annotations"] if a["iscrowd"])
    records, problems, extras = read_all(path, output_dir=tmp_path)
    assert problems == []
    record = next(r for r in records if r.frame["id"] == "374545")
    frame = parse_frame(record.frame)
    (roi,) = frame["rois"]
    (mask,) = frame["sources"][0]["masks"]
    assert roi["mask"] == {"id": mask["id"], "value": [255, 255, 255]} and mask["content_type"] == "image/png"
    (generated,) = record.files
    assert mask["uri"] == str(tmp_path / generated.name)
    height, width = crowd["segmentation"]["size"]
    expected = coco_mask.decode(coco_mask.frPyObjects(crowd["segmentation"], height, width)).astype(bool)
    drawn = png_pixels(generated.render())
    assert drawn.shape == (height, width, 3) and np.array_equal(drawn.all(axis=2), expected)
    assert int(expected.sum()) == coco_mask.area(coco_mask.frPyObjects(crowd["segmentation"], height, width)) == 938
    # The file's own `area` (962, not the RLE's) is kept as it was written, as is the bbox.
    assert roi["meta"] == {"area": 962, "iscrowd": 1, "bbox": crowd["bbox"], "supercategory": "person"}
    # The annotations list the image; its JPEG is not shipped. Sources are URIs, so the frame is imported and
    # the summary says which images are not there.
    assert frame["sources"][0]["uri"].endswith("/000000374545.jpg")
    assert extras.notes == [
        "1 of 3 images are not in the media folder (000000374545.jpg): their frames are imported with sources "
        "pointing where the images should be"
    ]


def test_a_compressed_rle_becomes_a_mask_png_of_the_same_pixels(tmp_path):
    pixels = np.zeros((6, 8), dtype=np.uint8)
    pixels[1:4, 2:7] = 1
    rle = coco_mask.encode(np.asfortranarray(pixels))
    segmentation = {"size": [6, 8], "counts": rle["counts"].decode("ascii")}
    path = write_coco(tmp_path / "rle.json", annotations=[{"id": 1, "image_id": 1, "category_id": 1, "iscrowd": 1, "segmentation": segmentation}])
    (record,), problems, _ = read_all(path, output_dir=tmp_path / "out")
    assert problems == []
    assert np.array_equal(png_pixels(record.files[0].render()).all(axis=2), pixels.astype(bool))


BAD = [
    ({"image_id": 99, "category_id": 1, "bbox": [0, 0, 1, 1]}, "annotations[0].image_id", "image 99 is not in images"),
    ({"image_id": 1, "category_id": 5, "bbox": [0, 0, 1, 1]}, "annotations[0].category_id", "category 5 is not in categories"),
    ({"image_id": [1], "category_id": 1, "bbox": [0, 0, 1, 1]}, "annotations[0].image_id", "image [1] is not in images"),
    ({"image_id": 1, "category_id": {"id": 1}, "bbox": [0, 0, 1, 1]}, "annotations[0].category_id", "is not in categories"),
    ({"image_id": 1, "category_id": 1, "segmentation": [[1, 2, 3, 4, 5]]}, "annotations[0].segmentation[0]", "x,y pairs"),
    ({"image_id": 1, "category_id": 1, "segmentation": "polygon"}, "annotations[0].segmentation", "list of polygons"),
    ({"image_id": 1, "category_id": 1, "segmentation": {"size": [6, 8], "counts": [1, 2]}}, "annotations[0].segmentation", "cover 3 pixels, not height x width = 48"),
    ({"image_id": 1, "category_id": 1, "segmentation": {"size": [5, 8], "counts": [40]}}, "annotations[0].segmentation.size", "RLE is 5x8"),
    ({"image_id": 1, "category_id": 1, "segmentation": {"size": [6, 8], "counts": "??~"}}, "annotations[0].segmentation", "not a valid RLE"),
    ({"image_id": 1, "category_id": 1, "bbox": [0, 0, -1, 1]}, "annotations[0].bbox", "cannot be negative"),
    ({"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "keypoints": [1, 2]}, "annotations[0].keypoints", "numbers in threes"),
    ({"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "keypoints": [1, 2, 7]}, "annotations[0].keypoints", "visibility 7"),
    ({"image_id": 1, "category_id": 1}, "annotations[0].segmentation", "nothing to draw"),
]


@pytest.mark.parametrize(("annotation", "field", "message"), BAD, ids=[b[1] + ":" + b[2][:12] for b in BAD])
def test_an_annotation_that_cannot_be_read_is_a_problem_naming_its_field(tmp_path, annotation, field, message):
    path = write_coco(tmp_path / "bad.json", annotations=[{"id": 1, **annotation}])
    records, problems, _ = read_all(path, output_dir=tmp_path / "out")
    assert [(p.file, p.field) for p in problems] == [("bad.json", field)]
    assert message in problems[0].message
    text = path.read_text()  # one line: the column says where the annotation starts
    assert (problems[0].line, problems[0].column) == (1, text.index('{"id": 1, "image_id"') + 1)


def test_problems_and_frames_have_the_line_where_their_annotation_or_image_starts(tmp_path):
    path = tmp_path / "pretty.json"
    path.write_text(json.dumps({
        "categories": [{"id": 1, "name": "cat"}],
        "images": [{"id": 1, "file_name": "a.jpg"}, {"id": 2, "file_name": "b.jpg"}],
        "annotations": [{"id": 1, "image_id": 2, "category_id": 1, "bbox": [0, 0, 1, 1]}, {"id": 2, "image_id": 1, "category_id": 1, "bbox": [0, 0, -1, 1]}],
    }, indent=2))
    lines = path.read_text().splitlines()
    records, (problem,), _ = read_all(path)
    assert problem.field == "annotations[1].bbox" and lines[problem.line - 1][problem.column - 1 :] == "{"
    assert '"id": 2' in lines[problem.line] and '"image_id": 1' in lines[problem.line + 1]
    assert [r.frame["id"] for r in records] == ["2"]  # image 1 has a problem: its frame is not offered
    assert '"id": 2' in lines[records[0].line]


def test_key_points_must_match_their_category(tmp_path):
    path = write_coco(tmp_path / "kp.json", categories=[{"id": 1, "name": "person", "keypoints": ["nose", "eye"]}],
                      annotations=[{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "keypoints": [1, 1, 2]}])
    _, (problem,), _ = read_all(path)
    assert (problem.field, problem.message) == ("annotations[0].keypoints", "1 key points, but category 'person' names 2")


def test_broken_json_and_unusable_folders_are_problems_with_a_line_when_there_is_one(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('{"images": [\n  {"id": 1,}\n]}')
    _, (problem,), _ = read_all(broken)
    assert (problem.file, problem.line, problem.column) == ("broken.json", 2, 12) and "invalid JSON" in problem.message

    write_coco(tmp_path / "second.json")
    _, (problem,), _ = read_all(tmp_path)
    assert problem.message == "several annotation files (broken.json, second.json): name the one to import"

    (tmp_path / "empty").mkdir()
    _, (problem,), _ = read_all(tmp_path / "empty")
    assert "no COCO annotations" in problem.message

    listed = tmp_path / "list.json"
    listed.write_text("[]")
    _, (problem,), _ = read_all(listed)
    assert "expected a COCO object" in problem.message


def test_keys_in_any_order_give_the_same_frames_problems_and_metadata(testdata, tmp_path):
    """COCO files put their keys in any order: annotations before images, categories last."""
    path = testdata / "coco" / "mmpose" / "test_coco.json"
    data = json.loads(path.read_text())
    data["annotations"][1]["bbox"] = [0, 0, -1, 1]  # a problem too
    reordered = tmp_path / "test_coco.json"
    reordered.write_text(json.dumps({key: data[key] for key in ("annotations", "info", "images", "licenses", "categories")}))
    in_order = tmp_path / "in_order" / "test_coco.json"
    in_order.parent.mkdir()
    in_order.write_text(json.dumps({key: data[key] for key in ("info", "licenses", "categories", "images", "annotations")}, indent=1))
    records, problems, extras = read_all(reordered, media_root=str(path.parent))
    expected_records, expected_problems, expected_extras = read_all(in_order, media_root=str(path.parent))
    assert [r.frame for r in records] == [r.frame for r in expected_records] and len(records) == len(data["images"]) - 1
    assert [(p.field, p.message) for p in problems] == [(p.field, p.message) for p in expected_problems] == [
        ("annotations[1].bbox", "the width and height of a bbox cannot be negative")]
    assert (problems[0].line, problems[0].column) == (1, reordered.read_text().index(json.dumps(data["annotations"][1])) + 1)
    assert extras.metadata == expected_extras.metadata and extras.metadata["coco"]["categories"] == data["categories"]


def test_a_file_larger_than_what_is_read_at_once_keeps_every_element_and_its_place(tmp_path):
    """The file is read a piece at a time (a MiB): elements cut between two pieces are read whole, lines go on
    counting, and a syntax error far into the file is reported where it is."""
    images = [{"id": i, "file_name": f"{i:06d}.jpg", "width": 640, "height": 480} for i in range(4000)]
    annotations = [{"id": n, "image_id": n // 5, "category_id": 1 + n % 2, "bbox": [n % 600, 1.5, 30, 20],
                    "segmentation": [[n % 600, 1.5, n % 600 + 30, 1.5, n % 600 + 30, 21.5, n % 600, 21.5]]} for n in range(20000)]
    path = tmp_path / "large.json"
    path.write_text(json.dumps({"annotations": annotations, "images": images, "categories": [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}]}, indent=2))
    assert path.stat().st_size > 3 * 2**20
    records, problems, _ = read_all(path)
    assert problems == [] and len(records) == 4000
    assert sum(len(r.frame["rois"]) for r in records) == 20000 and records[-1].frame["rois"][-1]["id"] == "19999"
    lines = path.read_text().splitlines()
    assert '"id": 3999' in lines[records[-1].line]

    text = path.read_text()
    broken = text.replace('"id": 19000,', '"id": 19000,,', 1)
    path.write_text(broken)
    _, (problem,), _ = read_all(path)
    line_text = broken.splitlines()[problem.line - 1]
    assert "invalid JSON" in problem.message and line_text.strip() == '"id": 19000,,' and line_text[problem.column - 1] == ","


def test_an_image_or_annotation_id_given_twice_is_a_problem_at_the_second(tmp_path):
    path = tmp_path / "twice.json"
    path.write_text(json.dumps({
        "images": [{"id": 1, "file_name": "a.jpg"}, {"id": 1, "file_name": "b.jpg"}, {"id": "1", "file_name": "c.jpg"}],
        "annotations": [{"id": 5, "image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1]}, {"id": 5, "image_id": "1", "category_id": 1, "bbox": [0, 0, 1, 1]}],
        "categories": [{"id": 1, "name": "cat"}],
    }, indent=2))
    records, problems, _ = read_all(path)
    assert [(p.field, p.message) for p in problems] == [("images[1].id", "image id 1 appears twice"), ("annotations[1].id", "annotation id 5 appears twice")]
    lines = path.read_text().splitlines()
    assert '"file_name": "b.jpg"' in lines[problems[0].line + 1] and '"image_id": "1"' in lines[problems[1].line + 1]
    assert [(r.frame["id"], r.frame["meta"]["file_name"], len(r.frame["rois"])) for r in records] == [("1", "a.jpg", 1), ("1", "c.jpg", 0)]


def test_each_image_that_cannot_be_a_frame_is_a_problem_in_the_files_order(tmp_path):
    path = write_coco(tmp_path / "images.json", images=[
        {"id": 1, "file_name": "a.jpg"},
        {"id": 1, "file_name": "b.jpg", "width": -1},  # its id is taken: that is said first
        {"id": 2, "file_name": "c.jpg", "width": "wide"},
        {"id": 2, "file_name": "d.jpg"},  # the image before it with id 2 was refused: this one is not a second
        {"id": 3},
        {"id": True, "file_name": "e.jpg"},
        "f.jpg",
    ], annotations=[{"id": 1, "image_id": 2, "category_id": 1, "bbox": [0, 0, 1, 1]}])
    records, problems, _ = read_all(path)
    assert [(p.field, p.message) for p in problems] == [
        ("images[1].id", "image id 1 appears twice"),
        ("images[2].width", "expected a whole number of pixels, got 'wide'"),
        ("images[4].file_name", "an image needs a file_name"),
        ("images[5].id", "an image needs an id (a number or a text)"),
        ("images[6].id", "an image needs an id (a number or a text)"),
    ]
    assert [(r.frame["meta"]["file_name"], len(r.frame["rois"])) for r in records] == [("a.jpg", 0), ("d.jpg", 1)]


def test_values_come_out_as_json_reads_them_whole_numbers_of_any_size_included(tmp_path):
    path = write_coco(tmp_path / "values.json", images=[{"id": 1, "file_name": "a.jpg", "serial": -9999999999999999999, "big": 2**70}],
                      annotations=[{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "track": -(2**63) - 1, "note": "caf\u00e9 \U0001F600"}])
    (record,), problems, _ = read_all(path)
    assert problems == [] and record.frame["meta"] == {"file_name": "a.jpg", "serial": -9999999999999999999, "big": 2**70}
    assert record.frame["rois"][0]["meta"] == {"track": -(2**63) - 1, "note": "caf\u00e9 \U0001F600"}


def test_a_key_given_twice_counts_with_its_later_value_as_json_reads_it(tmp_path):
    path = tmp_path / "twice.json"
    path.write_text('{"images": [{"id": 1, "file_name": "a.jpg"}], "categories": [], "info": {"year": 1},'
                    ' "images": [{"id": 2, "file_name": "b.jpg"}], "info": {"year": 2}}')
    records, problems, extras = read_all(path)
    assert problems == [] and [r.frame["id"] for r in records] == ["2"]
    assert extras.metadata["coco"] == {"categories": [], "info": {"year": 2}}


def test_the_files_kept_while_reading_are_removed_when_the_reading_ends_or_stops(testdata, tmp_path, monkeypatch):
    spool_dir = tmp_path / "tmp"
    spool_dir.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool_dir))
    path = testdata / "coco" / "labelme" / "annotations.json"
    read_all(path)
    assert list(spool_dir.iterdir()) == []
    reading = coco.read(ImportSource(path=path))
    assert isinstance(next(reading), Record) and len(list(spool_dir.iterdir())) == 1  # held while the frames are read
    reading.close()
    assert list(spool_dir.iterdir()) == []


def test_panoptic_segments_point_at_their_colour_in_the_png(tmp_path):
    segments = [{"id": 3, "category_id": 1, "area": 12, "bbox": [0, 0, 4, 3], "iscrowd": 0},
                {"id": 256 * 2 + 1, "category_id": 2, "area": 36, "bbox": [0, 0, 8, 6], "iscrowd": 0}]
    path = write_coco(tmp_path / "panoptic_val.json", categories=[{"id": 1, "name": "cat", "isthing": 1}, {"id": 2, "name": "grass", "isthing": 0}],
                      annotations=[{"image_id": 1, "file_name": "a.png", "segments_info": segments}])
    (tmp_path / "panoptic_val").mkdir()
    (record,), problems, _ = read_all(path)
    frame = parse_frame(record.frame)
    assert problems == [] and frame["sources"][0]["masks"][0]["uri"] == str(tmp_path / "panoptic_val" / "a.png")
    assert [(r["labels"], r["mask"]) for r in frame["rois"]] == [
        (["cat"], {"id": "panoptic", "value": [3, 0, 0]}), (["grass"], {"id": "panoptic", "value": [1, 2, 0]})]
    assert frame["rois"][1]["meta"] == {"area": 36, "bbox": [0, 0, 8, 6], "iscrowd": 0}
    (record,), _, _ = read_all(path, options={"panoptic_root": "s3://bucket/panoptic/"})
    assert record.frame["sources"][0]["masks"][0]["uri"] == "s3://bucket/panoptic/a.png"


# ---------------------------------------------------------------------------------------- end to end


@pytest.fixture
def owner(django_user_model, settings):
    settings.HYPERDATA_PREVIEWS_AUTO = False
    return django_user_model.objects.create_superuser("owner", password="pw-owner-123456")


def api_frames(user, version) -> dict[str, dict]:
    found, url = {}, f"/api/versions/{version.pk}/frames/?limit=500&sort=id"
    while url:
        page = api_client(user).get(url).json()
        found.update({f["id"]: f for f in page["results"]})
        url = page.get("next")
    return found


@pytest.mark.django_db(transaction=True)
def test_imported_through_the_service_read_back_through_the_api_with_masks_on_disk(owner, testdata, request):
    draft = services.dataset_create(user=owner, name="coco").versions.get()
    path = testdata / "coco" / "labelformat" / "instances_with_binary_mask.json"
    output_dir = services.import_output_dir(uuid.uuid4().hex)
    request.addfinalizer(lambda: shutil.rmtree(output_dir, ignore_errors=True))
    source = ImportSource(path=path, output_dir=output_dir)
    result = services.import_frames(user=owner, version=draft, format="coco", source=source)
    _, expected = pycocotools_counts(path)
    assert (result.added, result.generated_files, result.labels) == (3, 1, expected)
    assert "000000374545.jpg" in result.notes[0]

    frames = api_frames(owner, draft)
    assert sorted(frames) == ["109005", "36086", "374545"]
    (roi,) = frames["374545"]["rois"]
    (mask,) = frames["374545"]["sources"][0]["masks"]
    assert roi["mask"]["id"] == mask["id"]
    crowd = next(a for a in json.loads(path.read_text())["annotations"] if a["iscrowd"])
    area = coco_mask.area(coco_mask.frPyObjects(crowd["segmentation"], *crowd["segmentation"]["size"]))
    assert int(png_pixels(Path(mask["uri"]).read_bytes()).all(axis=2).sum()) == area
    metadata = selectors.version_get(user=owner, version_id=draft.pk).metadata
    assert metadata["coco"]["info"]["description"] == "COCO 2017 Dataset" and len(metadata["coco"]["categories"]) == 4


@pytest.mark.django_db(transaction=True)
def test_the_cli_imports_a_coco_folder_and_refuses_a_bad_file_writing_nothing(owner, testdata, tmp_path):
    out = io.StringIO()
    call_command("import_frames", str(testdata / "coco" / "labelme"), "--format", "coco", "--dataset", "voc", "--create", stdout=out, stderr=io.StringIO())
    assert "imported 3 frame(s) (3 added, 0 replaced)" in out.getvalue()
    draft = Dataset.objects.get(name="voc").versions.get()
    frames = api_frames(owner, draft)
    _, expected = pycocotools_counts(testdata / "coco" / "labelme" / "annotations.json")
    assert Counter(r["labels"][0] for f in frames.values() for r in f["rois"]) == expected

    bad = write_coco(tmp_path / "bad.json", annotations=[{"id": 1, "image_id": 1, "category_id": 9, "bbox": [0, 0, 1, 1]}])
    errors = io.StringIO()
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_frames", str(bad), "--format", "coco", "--dataset", "voc", stdout=io.StringIO(), stderr=errors)
    assert "bad.json:1:88: annotations[0].category_id: category 9 is not in categories" in errors.getvalue()
    assert sorted(api_frames(owner, draft)) == sorted(frames)


@pytest.mark.django_db(transaction=True)
def test_a_coco_json_uploaded_through_the_api_is_imported_by_the_worker_with_its_masks(owner, testdata, celery_worker_process, request):
    version = services.dataset_create(user=owner, name="uploaded coco").versions.get()
    folder = testdata / "coco" / "labelformat"
    with (folder / "instances_with_binary_mask.json").open("rb") as upload:
        form = {"format": "coco", "media_root": str(folder), "file": upload}
        job = wait_for_job(api_client(owner).post(f"/api/versions/{version.pk}/imports/", form, format="multipart").json()["id"], celery_worker_process)
    assert job.state == Job.DONE, job.error
    assert (job.result["added"], job.result["generated_files"], job.result["labels"]) == (3, 1, {"person": 2, "elephant": 1, "sports ball": 1})
    assert "000000374545.jpg" in job.result["notes"][0]
    frames = api_frames(owner, version)
    assert frames["109005"]["sources"][0]["uri"] == str(folder / "000000109005.jpg")
    (mask,) = frames["374545"]["sources"][0]["masks"]
    request.addfinalizer(lambda: shutil.rmtree(Path(mask["uri"]).parent.parent, ignore_errors=True))  # the import's own folder
    crowd = next(a for a in json.loads((folder / "instances_with_binary_mask.json").read_text())["annotations"] if a["iscrowd"])
    area = coco_mask.area(coco_mask.frPyObjects(crowd["segmentation"], *crowd["segmentation"]["size"]))
    assert int(png_pixels(Path(mask["uri"]).read_bytes()).all(axis=2).sum()) == area
