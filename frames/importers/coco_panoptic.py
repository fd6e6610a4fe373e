"""COCO panoptic: an annotation per image names a PNG (`file_name`) whose pixel colours are segment ids
(id = R + 256 G + 256² B) and lists the segments (`segments_info`: id, category_id, area, bbox, iscrowd).

The PNG is already a mask in ClearML's sense: it becomes the source's `panoptic` mask as it is (nothing is
drawn), and each segment an ROI labelled with its category that points at its colour (`mask: {id: "panoptic",
value: [R, G, B]}`). PNGs resolve against the option `panoptic_root` (a folder or cloud prefix), by default
the folder named like the JSON beside it (panopticapi's layout: panoptic_val2017.json, panoptic_val2017/).
"""
from __future__ import annotations

import posixpath
from urllib.parse import quote
from dataclasses import dataclass, field

from .coco_annotations import SOURCE_ID, is_number

MASK_ID = "panoptic"


@dataclass
class PanopticRois:
    rois: list[dict] = field(default_factory=list)
    masks: list[dict] = field(default_factory=list)


def is_panoptic(annotation: dict) -> bool:
    return isinstance(annotation, dict) and "segments_info" in annotation


def segment_colour(segment_id: int) -> list[int]:
    return [segment_id % 256, segment_id // 256 % 256, segment_id // 65536 % 256]


def panoptic_rois(annotation: dict, *, index: int, at: tuple, categories: dict, context):
    """The ROIs of one panoptic annotation (the `index`th, starting at line and column `at`) and its mask entry;
    yields a Problem for each segment it cannot read."""
    result = PanopticRois()
    where = f"annotations[{index}]"
    if not isinstance(annotation.get("file_name"), str) or not annotation["file_name"]:
        yield context.problem(f"{where}.file_name", "a panoptic annotation names its PNG in file_name", at)
        return result
    if not isinstance(annotation["segments_info"], list):
        yield context.problem(f"{where}.segments_info", "expected a list of segments", at)
        return result
    for number, segment in enumerate(annotation["segments_info"]):
        problem = _segment_problem(segment, categories)
        if problem:
            yield context.problem(f"{where}.segments_info[{number}].{problem[0]}", problem[1], at)
            continue
        result.rois.append(_segment_roi(segment, categories[segment["category_id"]]))
    result.masks.append({"id": MASK_ID, "content_type": "image/png", "uri": _png_uri(annotation["file_name"], context), "timestamp": 0})
    return result


def _segment_problem(segment, categories: dict) -> tuple[str, str] | None:
    if not isinstance(segment, dict) or type(segment.get("id")) is not int or not 0 < segment["id"] < 256**3:
        return "id", "a segment id is a whole number from 1 to 16777215 (its colour in the PNG)"
    category_id = segment.get("category_id")
    if not isinstance(category_id, (int, str)) or isinstance(category_id, bool) or category_id not in categories:
        return "category_id", f"category {segment.get('category_id')!r} is not in categories"
    bbox = segment.get("bbox")
    if bbox is not None and not (isinstance(bbox, list) and len(bbox) == 4 and all(is_number(v) for v in bbox)):
        return "bbox", "expected [x, y, width, height], four numbers"
    return None


def _segment_roi(segment: dict, category) -> dict:
    meta = {key: value for key, value in segment.items() if key not in ("id", "category_id")}
    if category.supercategory is not None:
        meta["supercategory"] = category.supercategory
    return {
        "id": str(segment["id"]),
        "labels": [category.name],
        "sources": [SOURCE_ID],
        "mask": {"id": MASK_ID, "value": segment_colour(segment["id"])},
        "meta": meta,
    }


def _png_uri(file_name: str, context) -> str:
    root = context.source.option("panoptic_root")
    if root:
        if "://" in root:
            return root.rstrip("/") + "/" + quote(file_name.lstrip("/"), safe="/")
        return posixpath.normpath(posixpath.join(root, file_name))
    beside = context.json_path.parent / context.json_path.stem
    return str((beside if beside.is_dir() else context.json_path.parent) / file_name)
