"""COCO out: every shared COCO file read in and written out again is the same COCO for pycocotools (the same
images, annotation ids, categories, boxes, polygons, key points; RLE masks as the same pixels); a version
imported through the service and exported from the database (whole or filtered) likewise; frames made
elsewhere (FrameGroups, boxes, ellipses, frame labels, text ids) export as valid COCO."""
from __future__ import annotations

import contextlib
import io
import json
import shutil
import uuid
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pycocotools import mask as coco_mask
from pycocotools.coco import COCO

from frames import selectors, services
from frames.exporters.coco import coco_export_chunks
from frames.importers import coco
from frames.importers.base import ImportSource, Record, VersionExtras
from frames.schema import parse_frame
from frames.selectors.frames import EXPORT_PAGE_SIZE
from frames.selectors.query import parse_frame_query

from .test_import_coco import COCO_FILES

EXACT_KEYS = ("id", "image_id", "category_id", "bbox", "area", "iscrowd", "keypoints", "num_keypoints")


def load_coco(path: Path) -> COCO:
    with contextlib.redirect_stdout(io.StringIO()):  # COCO() prints its timings
        return COCO(str(path))


def export_to(path: Path, walk, **options) -> COCO:
    path.write_text("".join(coco_export_chunks(walk, **options)))
    return load_coco(path)


def per_category(data: COCO) -> dict[str, int]:
    return {data.cats[c]["name"]: len(data.getAnnIds(catIds=[c])) for c in data.getCatIds()}


def mask_of(data: COCO, annotation: dict) -> np.ndarray:
    return data.annToMask(annotation).astype(bool)


def assert_same_coco(before: COCO, after: COCO) -> None:
    """What a COCO user compares: categories, images, and every annotation's fields (RLE as pixels)."""
    assert per_category(after) == per_category(before)
    assert after.dataset["categories"] == before.dataset["categories"]
    assert after.imgs == before.imgs
    assert sorted(after.anns) == sorted(before.anns)
    for annotation_id, original in before.anns.items():
        exported = after.anns[annotation_id]
        for key in EXACT_KEYS:
            assert exported.get(key) == pytest.approx(original.get(key), abs=1e-9), (annotation_id, key)
        if isinstance(original["segmentation"], list):
            assert exported["segmentation"] == original["segmentation"], annotation_id
        else:
            assert np.array_equal(mask_of(after, exported), mask_of(before, original)), annotation_id


@pytest.mark.parametrize("name", COCO_FILES)
def test_every_shared_coco_file_read_and_written_again_is_the_same_coco(testdata, tmp_path, name):
    original = testdata / "coco" / name
    items = list(coco.read(ImportSource(path=original, output_dir=tmp_path / "generated")))
    for record in (i for i in items if isinstance(i, Record)):
        for generated in record.files:
            (tmp_path / "generated" / generated.name).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / "generated" / generated.name).write_bytes(generated.render())
    frames = [parse_frame(i.frame) for i in items if isinstance(i, Record)]
    (extras,) = [i for i in items if isinstance(i, VersionExtras)]
    pages = [frames[:2], frames[2:]]  # two pages, as the selectors stream them
    exported = export_to(tmp_path / "out.json", lambda: pages, metadata=extras.metadata, load_mask=lambda uri: Path(uri).read_bytes())
    before = load_coco(original)
    assert_same_coco(before, exported)
    kept = json.loads((tmp_path / "out.json").read_text())
    assert (kept["info"], kept["licenses"]) == (before.dataset["info"], before.dataset["licenses"])


@pytest.fixture
def owner(django_user_model, settings):
    settings.HYPERDATA_PREVIEWS_AUTO = False
    return django_user_model.objects.create_superuser("owner", password="pw-owner-123456")


def imported(owner, path: Path, request):
    draft = services.dataset_create(user=owner, name=f"coco-{uuid.uuid4().hex[:8]}").versions.get()
    output_dir = services.import_output_dir(uuid.uuid4().hex)
    request.addfinalizer(lambda: shutil.rmtree(output_dir, ignore_errors=True))
    services.import_frames(user=owner, version=draft, format="coco", source=ImportSource(path=path, output_dir=output_dir))
    return selectors.version_get(user=owner, version_id=draft.pk)


def database_walk(owner, version, params: dict | None = None):
    """A new walk over the version's frames (as export_frames does) each time it is called."""
    query = parse_frame_query(params or {}).page(cursor=None, limit=EXPORT_PAGE_SIZE)

    def walk():
        for page in selectors.frame_pages(user=owner, version=version, query=query):
            yield [selectors.frame_to_dict(row, version_id=version.pk) for row in page]

    return walk


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("name", ["mmpose/test_coco.json", "labelformat/instances_with_binary_mask.json"])
def test_a_version_imported_and_exported_from_the_database_is_the_same_coco(owner, testdata, tmp_path, request, name):
    version = imported(owner, testdata / "coco" / name, request)
    exported = export_to(tmp_path / "out.json", database_walk(owner, version), metadata=version.metadata, load_mask=lambda uri: Path(uri).read_bytes())
    assert_same_coco(load_coco(testdata / "coco" / name), exported)


@pytest.mark.django_db(transaction=True)
def test_a_filtered_view_exports_only_its_frames_and_their_annotations(owner, testdata, tmp_path, request):
    version = imported(owner, testdata / "coco" / "mmpose" / "test_coco.json", request)
    walk = database_walk(owner, version, {"frame_query": "meta.license:3"})
    exported = export_to(tmp_path / "out.json", walk, metadata=version.metadata)
    before = load_coco(testdata / "coco" / "mmpose" / "test_coco.json")
    chosen = [i for i, image in before.imgs.items() if image["license"] == 3]
    assert sorted(exported.imgs) == sorted(chosen) and chosen
    assert sorted(exported.anns) == sorted(before.getAnnIds(imgIds=chosen))
    assert exported.dataset["categories"] == before.dataset["categories"]  # the version's, used or not


def made_elsewhere() -> list[dict]:
    """Frames as the API or the annotator makes them: text ids, a FrameGroup, shapes, a frame label."""
    return [
        parse_frame({"id": "street-01", "meta": {"weather": "rain"}, "sources": [{"uri": "s3://b/street-01.jpg", "width": 100, "height": 80}], "rois": [
            {"id": "r1", "labels": ["car", "red"], "shape": {"type": "box", "xywh": [10, 20, 30, 15]}, "poly": [10, 20, 40, 20, 40, 35, 10, 35], "confidence": 0.5},
            {"id": "7", "labels": ["sign"], "shape": {"type": "ellipse", "xyrrt": [50, 40, 10, 5, 0]}},
            {"id": "r3", "labels": ["hand"], "shape": {"type": "points", "xy": [1, 2, 3, 4]}},
            {"labels": ["rain"]},  # a frame label: not a COCO annotation
        ]}),
        parse_frame({"id": "pair", "sources": [{"id": "front", "uri": "/data/front.jpg", "width": 64, "height": 48}, {"id": "rear", "uri": "/data/rear.jpg"}], "rois": [
            {"id": "7", "labels": ["car"], "poly": [1, 1, 9, 1, 9, 9], "sources": ["rear"]},
            {"id": "r5", "labels": ["person"], "poly": [0, 0, 4, 0, 4, 4, 0, 4], "sources": ["front", "rear"]},
        ]}),
    ]


def test_frames_made_elsewhere_export_as_valid_coco(tmp_path):
    frames = made_elsewhere()
    exported = export_to(tmp_path / "out.json", lambda: [frames], media_root="/data")
    images = sorted(exported.imgs.values(), key=lambda image: image["id"])
    assert [(i["file_name"], i.get("frame_id"), i.get("source_id")) for i in images] == [
        ("s3://b/street-01.jpg", None, None), ("front.jpg", "pair", "front"), ("rear.jpg", "pair", "rear")]
    assert images[0]["weather"] == "rain"
    assert per_category(exported) == {"car": 2, "hand": 1, "person": 2, "sign": 1}  # first labels; no frame label
    assert len(set(exported.anns)) == 6 and 7 in exported.anns  # "7" twice: kept once, then a new id
    by_category = {exported.cats[a["category_id"]]["name"]: a for a in exported.anns.values() if a["image_id"] == images[0]["id"]}
    assert (by_category["car"]["bbox"], by_category["car"]["segmentation"], by_category["car"]["score"]) == ([10, 20, 30, 15], [], 0.5)
    assert by_category["sign"]["bbox"] == pytest.approx([40, 35, 20, 10]) and len(by_category["sign"]["segmentation"][0]) == 64
    assert by_category["hand"]["keypoints"] == [1, 2, 2, 3, 4, 2] and by_category["hand"]["num_keypoints"] == 2
    assert exported.annToMask(by_category["sign"]).sum() == pytest.approx(np.pi * 10 * 5, rel=0.1)  # pycocotools reads it


def test_an_edited_polygon_gets_a_new_box_and_area(testdata, tmp_path):
    path = testdata / "coco" / "labelformat" / "instances.json"
    frames = [parse_frame(i.frame) for i in coco.read(ImportSource(path=path)) if isinstance(i, Record)]
    roi = frames[0]["rois"][0]
    roi["poly"] = [0, 0, 10, 0, 10, 20, 0, 20]  # moved in the annotator: meta.bbox is now stale
    exported = export_to(tmp_path / "out.json", lambda: [frames])
    annotation = exported.anns[int(roi["id"])]
    assert annotation["bbox"] == [0, 0, 10, 20] and annotation["area"] == pytest.approx(coco_mask.area(coco_mask.frPyObjects([roi["poly"]], 428, 640))[0])


def test_panoptic_segments_export_as_rles_of_their_colour(tmp_path):
    colours = np.zeros((6, 8, 3), dtype=np.uint8)
    colours[:, :] = [1, 2, 0]  # segment 513 (1 + 256 * 2): the grass everywhere else
    colours[0:3, 0:4] = [3, 0, 0]  # segment 3: the cat
    (tmp_path / "panoptic").mkdir()
    Image.fromarray(colours).save(tmp_path / "panoptic" / "a.png")
    segments = [{"id": 3, "category_id": 1, "area": 12, "bbox": [0, 0, 4, 3], "iscrowd": 0},
                {"id": 513, "category_id": 2, "area": 36, "bbox": [0, 0, 8, 6], "iscrowd": 0}]
    path = tmp_path / "panoptic.json"
    path.write_text(json.dumps({"images": [{"id": 1, "file_name": "a.jpg", "width": 8, "height": 6}],
                                "annotations": [{"image_id": 1, "file_name": "a.png", "segments_info": segments}],
                                "categories": [{"id": 1, "name": "cat"}, {"id": 2, "name": "grass"}]}))
    frames = [parse_frame(i.frame) for i in coco.read(ImportSource(path=path)) if isinstance(i, Record)]
    exported = export_to(tmp_path / "out.json", lambda: [frames], load_mask=lambda uri: Path(uri).read_bytes())
    areas = {exported.cats[a["category_id"]]["name"]: int(exported.annToMask(a).sum()) for a in exported.anns.values()}
    assert areas == {"cat": 12, "grass": 36}
