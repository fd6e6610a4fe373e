"""One COCO annotation as one ROI of its image's frame (so ROIs per label equal annotations per category).

- `segmentation` polygons (a list of [x, y, ...] lists) become `poly`, several polygons joined by ClearML's
  -999999999; an RLE (compressed or not) becomes a 1-bit PNG mask of the source, which the ROI points at
  with `mask: {id, value: [255, 255, 255]}`.
- `bbox` alone (no segmentation) becomes a `box` shape, with its four corners as `poly` for ClearML's tools;
  beside a segmentation it is kept as `meta.bbox` (COCO's boxes are not always the polygon's bounds).
- `keypoints` become a `points` shape: the labelled points (v > 0) in `xy`, their names (from the
  category's `keypoints`) in `names` and their flags in `visibility`; the polygon, if any, stays in `poly`.
- The annotation id is the ROI id; `score` is the confidence; `iscrowd`, `area`, the category's
  `supercategory` and any other key of the annotation go into `meta`.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from ..schema import POLY_SEPARATOR
from .base import GeneratedFile
from .coco_rle import BadRle, rle_counts, rle_png

SOURCE_ID = "default"
MASK_VALUE = [255, 255, 255]
# Keys read into the ROI's own fields; every other key of an annotation is kept in the ROI's meta.
READ_KEYS = {"id", "image_id", "category_id", "segmentation", "bbox", "keypoints", "score"}
_PLAIN_NUMBERS = {int, float}


@dataclass(frozen=True)
class Category:
    name: str
    supercategory: str | None = None
    keypoints: tuple[str, ...] = ()


@dataclass
class Converted:
    """An annotation's ROI, and the mask it draws when it is an RLE (a `masks` entry and the PNG)."""

    roi: dict
    mask: dict | None = None
    files: list[GeneratedFile] = field(default_factory=list)


class BadAnnotation(ValueError):
    """`field` (a key of the annotation) cannot be read: `message` says why."""

    def __init__(self, field_name: str, message: str):
        self.field = field_name
        super().__init__(message)


def is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def are_numbers(values: list) -> bool:
    """Whether every value is_number: at C speed for a list of plain ints and floats (a polygon's coordinates
    cost a Python call each otherwise), value by value for anything else."""
    if {*map(type, values)} <= _PLAIN_NUMBERS:
        try:
            if math.isfinite(math.fsum(values)):  # a NaN or an infinity makes the sum one (or raises)
                return True
        except (OverflowError, ValueError):
            pass
    return all(is_number(v) for v in values)


def annotation_roi(annotation: dict, *, category: Category, image_size: tuple, mask_name: str, mask_uri) -> Converted:
    """The ROI of `annotation`; BadAnnotation when a field cannot be read. `image_size` is (width, height),
    None when unknown; `mask_uri(name)` is where a generated mask named `mask_name` will be."""
    roi: dict = {"labels": [category.name], "sources": [SOURCE_ID]}
    if annotation.get("id") is not None:
        roi["id"] = str(annotation["id"])
    if "score" in annotation:
        roi["confidence"] = _score(annotation["score"])
    polygons, rle = _segmentation(annotation.get("segmentation"), image_size)
    bbox = _bbox(annotation["bbox"]) if annotation.get("bbox") is not None else None
    points = _keypoints(annotation["keypoints"], category) if annotation.get("keypoints") else None
    if polygons:
        roi["poly"] = join_polygons(polygons)
    elif rle is None and bbox is not None and points is None:
        roi["poly"] = box_corners(bbox)
        roi["shape"] = {"type": "box", "xywh": bbox}
    if points is not None:
        roi["shape"] = points
    if not (polygons or rle or bbox or points):
        raise BadAnnotation("segmentation", "no segmentation, bbox or keypoints: nothing to draw")
    roi["meta"] = _meta(annotation, category, bbox if roi.get("shape", {}).get("type") != "box" else None)
    converted = Converted(roi=roi)
    if rle is not None:
        mask_id = f"rle-{roi.get('id', mask_name)}"
        roi["mask"] = {"id": mask_id, "value": MASK_VALUE}
        converted.mask = {"id": mask_id, "content_type": "image/png", "uri": mask_uri(mask_name), "timestamp": 0}
        converted.files.append(GeneratedFile(name=mask_name, render=lambda: rle_png(*rle)))
    return converted


def _score(value) -> float:
    if not is_number(value) or not 0 <= value <= 1:
        raise BadAnnotation("score", f"a score must be a number between 0 and 1, got {value!r}")
    return value


def _segmentation(value, image_size: tuple) -> tuple[list[list[float]], tuple | None]:
    """(polygons, RLE as (run lengths, height, width)): one of them, or neither for an empty segmentation."""
    if value is None or value == []:
        return [], None
    if isinstance(value, dict):
        return [], _rle(value, image_size)
    if isinstance(value, list) and all(is_number(v) for v in value):
        value = [value]  # one flat polygon: some tools write it without the outer list
    if not isinstance(value, list) or not all(isinstance(part, list) for part in value):
        raise BadAnnotation("segmentation", "expected a list of polygons ([[x, y, ...], ...]) or an RLE ({counts, size})")
    for number, part in enumerate(value):
        if not are_numbers(part):
            raise BadAnnotation(f"segmentation[{number}]", "a polygon holds numbers only")
        if len(part) % 2 or len(part) < 4:
            raise BadAnnotation(f"segmentation[{number}]", f"a polygon needs x,y pairs, at least two points; got {len(part)} numbers")
    return [part for part in value if part], None


def _rle(value: dict, image_size: tuple) -> tuple:
    try:
        counts, height, width = rle_counts(value)
    except BadRle as exc:
        raise BadAnnotation("segmentation", f"not a valid RLE: {exc}") from None
    if None not in image_size and (width, height) != tuple(image_size):
        raise BadAnnotation("segmentation.size", f"the RLE is {height}x{width} (height x width) but the image is {image_size[1]}x{image_size[0]}")
    return counts, height, width


def _bbox(value) -> list[float]:
    if not (isinstance(value, list) and len(value) == 4 and are_numbers(value)):
        raise BadAnnotation("bbox", "expected [x, y, width, height], four numbers")
    if value[2] < 0 or value[3] < 0:
        raise BadAnnotation("bbox", "the width and height of a bbox cannot be negative")
    return value


def _keypoints(value, category: Category) -> dict | None:
    """The labelled key points as a `points` shape; None when none is labelled (all v = 0)."""
    if not (isinstance(value, list) and len(value) % 3 == 0 and are_numbers(value)):
        raise BadAnnotation("keypoints", "expected [x1, y1, v1, x2, y2, v2, ...], numbers in threes")
    count = len(value) // 3
    if category.keypoints and count != len(category.keypoints):
        raise BadAnnotation("keypoints", f"{count} key points, but category {category.name!r} names {len(category.keypoints)}")
    names = category.keypoints or tuple(str(n) for n in range(count))
    xy, labelled, flags = [], [], []
    for n in range(count):
        x, y, visibility = value[3 * n : 3 * n + 3]
        if visibility not in (0, 1, 2):
            raise BadAnnotation("keypoints", f"key point {n + 1} has visibility {visibility!r}; expected 0, 1 or 2")
        if visibility:
            xy += [x, y]
            labelled.append(names[n])
            flags.append(int(visibility))
    return {"type": "points", "xy": xy, "names": labelled, "visibility": flags} if xy else None


def _meta(annotation: dict, category: Category, bbox: list | None) -> dict:
    meta = {key: value for key, value in annotation.items() if key not in READ_KEYS}
    if bbox is not None:
        meta["bbox"] = bbox
    if category.supercategory is not None:
        meta["supercategory"] = category.supercategory
    return meta


def join_polygons(polygons: list[list[float]]) -> list[float]:
    joined: list[float] = []
    for part in polygons:
        if joined:
            joined.append(POLY_SEPARATOR)
        joined.extend(part)
    return joined


def box_corners(xywh: list[float]) -> list[float]:
    x, y, w, h = xywh
    return [x, y, x + w, y, x + w, y + h, x, y + h]


def safe_name(text: str) -> str:
    """`text` as a file name part (ids may hold anything)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "x"
