"""One ROI as one COCO annotation (the reverse of frames/importers/coco_annotations.py).

- `poly` becomes `segmentation` polygons (one list per part); a `box` shape gives `bbox` and an empty
  segmentation; an ellipse becomes a polygon of ELLIPSE_STEPS points; a mask ROI becomes a compressed RLE of
  the pixels of its value in the source's mask image (read through `load_mask(uri)`; without it the
  segmentation is left empty).
- `bbox`: a box shape's, else the ROI's `meta.bbox` (COCO's box as imported) while it still fits the
  geometry within BBOX_SLACK pixels, else the geometry's bounds (the ROI was edited since). `area` likewise.
- A `points` shape becomes `keypoints` in the category's key point order (by `names`), v = `visibility`.
"""
from __future__ import annotations

import io
import math
from collections.abc import Callable

import numpy as np
from PIL import Image
from pycocotools import mask as coco_mask

from ..schema import split_poly

BBOX_SLACK = 2.0  # pixels: a stored bbox this close to the geometry's bounds is COCO's own and kept
ELLIPSE_STEPS = 32
OWN_META = {"bbox", "area", "iscrowd", "supercategory", "num_keypoints"}  # recomputed, or belong elsewhere


class MaskImages:
    """Mask images of one frame, decoded once each (a panoptic PNG serves every segment of the image)."""

    def __init__(self, load: Callable[[str], bytes] | None):
        self.load = load
        self.decoded: dict[str, np.ndarray] = {}

    def pixels(self, uri: str) -> np.ndarray | None:
        if self.load is None:
            return None
        if uri not in self.decoded:
            with Image.open(io.BytesIO(self.load(uri))) as image:
                self.decoded[uri] = np.asarray(image.convert("RGB"))
        return self.decoded[uri]


def roi_annotation(roi: dict, source: dict, *, category: dict, masks: MaskImages) -> dict | None:
    """The annotation's fields but its id, image_id and category_id; None when the ROI has nothing to draw."""
    shape = roi.get("shape") or {}
    polygons = _polygons(roi, shape)
    rle = _mask_rle(roi, source, masks)
    points = _points(shape)
    if not (polygons or rle or points or shape.get("type") == "box" or roi.get("mask")):
        return None
    meta = roi.get("meta") or {}
    bbox, area = _bbox_and_area(shape, polygons, rle, points, meta, source)
    annotation = {key: value for key, value in meta.items() if key not in OWN_META}
    annotation.update({"segmentation": _segmentation(polygons, rle), "area": area, "bbox": bbox, "iscrowd": int(meta.get("iscrowd") or 0)})
    keypoints = _keypoints(shape, category)
    if keypoints is not None:
        annotation["keypoints"] = keypoints
        annotation["num_keypoints"] = sum(1 for v in keypoints[2::3] if v > 0)
    if roi.get("confidence") is not None:
        annotation["score"] = roi["confidence"]
    return annotation


def _polygons(roi: dict, shape: dict) -> list[list[float]]:
    if shape.get("type") == "ellipse":
        return [_ellipse_polygon(shape["xyrrt"])]
    if shape.get("type") == "box":
        return []  # the box is the annotation's bbox; its corners in `poly` are only for ClearML's tools
    return [part for part in split_poly(roi.get("poly")) if len(part) >= 4]


def _ellipse_polygon(xyrrt: list[float]) -> list[float]:
    cx, cy, rx, ry = xyrrt[:4]
    angle = math.radians(xyrrt[4] if len(xyrrt) > 4 else 0)
    polygon = []
    for step in range(ELLIPSE_STEPS):
        t = 2 * math.pi * step / ELLIPSE_STEPS
        x, y = rx * math.cos(t), ry * math.sin(t)
        polygon += [round(cx + x * math.cos(angle) - y * math.sin(angle), 2), round(cy + x * math.sin(angle) + y * math.cos(angle), 2)]
    return polygon


def _mask_rle(roi: dict, source: dict, masks: MaskImages) -> dict | None:
    """The compressed RLE of the ROI's pixels in its mask image, or None (no mask, or no way to read it)."""
    mask = roi.get("mask")
    entry = next((m for m in source.get("masks") or [] if mask and str(m.get("id")) == str(mask.get("id"))), None)
    pixels = masks.pixels(entry["uri"]) if entry else None
    if pixels is None:
        return None
    selected = np.ones(pixels.shape[:2], dtype=bool)
    for channel, value in enumerate(mask["value"][:3]):
        if value != -1:  # -1: any value of this channel (ClearML's convention)
            selected &= pixels[:, :, channel] == value
    return coco_mask.encode(np.asfortranarray(selected.astype(np.uint8)))


def _points(shape: dict) -> list[float]:
    return list(shape.get("xy") or []) if shape.get("type") == "points" else []


def _bbox_and_area(shape, polygons, rle, points, meta, source) -> tuple[list[float], float]:
    if shape.get("type") == "box":
        x, y, w, h = shape["xywh"]
        return [x, y, w, h], meta.get("area", w * h)
    bounds = _bounds(polygons, rle, points)
    stored = meta.get("bbox")
    if _is_box(stored) and (bounds is None or all(abs(a - b) <= BBOX_SLACK for a, b in zip(stored, bounds))):
        return list(stored), meta.get("area", _area(polygons, rle, source, stored))
    bounds = bounds or [0, 0, 0, 0]
    return bounds, _area(polygons, rle, source, bounds)


def _is_box(value) -> bool:
    return isinstance(value, list) and len(value) == 4 and all(isinstance(v, (int, float)) for v in value)


def _bounds(polygons, rle, points) -> list[float] | None:
    if rle is not None:
        return [float(v) for v in coco_mask.toBbox(rle)]
    xs = [v for part in polygons for v in part[0::2]] or points[0::2]
    ys = [v for part in polygons for v in part[1::2]] or points[1::2]
    if not xs:
        return None
    return [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]


def _area(polygons, rle, source, bbox) -> float:
    if rle is not None:
        return float(coco_mask.area(rle))
    if polygons:
        height, width = source.get("height") or 0, source.get("width") or 0
        if height and width:
            return float(coco_mask.area(coco_mask.merge(coco_mask.frPyObjects(polygons, height, width))))
        return sum(_shoelace(part) for part in polygons)
    return float(bbox[2] * bbox[3])


def _shoelace(part: list[float]) -> float:
    xs, ys = part[0::2], part[1::2]
    return abs(sum(xs[i] * ys[i - 1] - xs[i - 1] * ys[i] for i in range(len(xs)))) / 2


def _segmentation(polygons, rle):
    if rle is not None:
        return {"size": [int(v) for v in rle["size"]], "counts": rle["counts"].decode("ascii")}
    return [list(part) for part in polygons]


def _keypoints(shape: dict, category: dict) -> list[int | float] | None:
    """COCO's [x, y, v] * K in the category's key point order; None when neither the category nor the ROI
    has key points."""
    names = list(category.get("keypoints") or [])
    xy = _points(shape)
    if not names and not xy:
        return None
    labelled = list(shape.get("names") or [])
    flags = list(shape.get("visibility") or [])
    count = len(names) or len(xy) // 2
    values: list[int | float] = [0] * (3 * count)
    for n in range(len(xy) // 2):
        slot = _slot(labelled[n] if n < len(labelled) else str(n), names, n)
        if slot is None or slot >= count:
            continue
        values[3 * slot : 3 * slot + 3] = [xy[2 * n], xy[2 * n + 1], flags[n] if n < len(flags) else 2]
    return values


def _slot(name: str, names: list[str], position: int) -> int | None:
    if name in names:
        return names.index(name)
    if str(name).isdigit():
        return int(name)
    return None if names else position
