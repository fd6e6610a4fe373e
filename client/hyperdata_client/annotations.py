"""Annotations (ClearML ROIs) and how `add_annotation`'s keyword arguments become them.

ClearML's rules, kept: each geometry given makes one ROI and all of them share the call's `id` (so a box and its
polygon are one object); labels with no geometry label the whole frame (a *frame label*), as does
`frame_class`; a list of polygons is one ROI whose `poly` joins them with -999999999. Boxes, ellipses and key
points travel as the server's `shape` (see frames/shapes.py); a box also carries its corners as `poly` and an
ellipse an outline, so tools that only read ClearML's `poly` still see the area.
"""
from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from typing import Any

POLY_SEPARATOR = -999999999
ELLIPSE_OUTLINE_POINTS = 32


def new_id() -> str:
    return uuid.uuid4().hex


@dataclass
class Annotation:
    """One ROI in the frame JSON; unknown keys a server sent are kept in `extra` and sent back."""

    id: str = field(default_factory=new_id)
    labels: list[str] = field(default_factory=list)
    confidence: float | None = None
    metadata: dict[str, Any] | None = None
    poly: list[float] | None = None
    shape: dict[str, Any] | None = None
    mask: dict[str, Any] | None = None
    sources: list[str] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # The DataView's label enumeration of this ROI's label (set_labels), as the server evaluated the view; None
    # when the view has none or enumerates none of the labels. Never sent back: it belongs to the view.
    label_num: int | None = None

    @property
    def is_frame_label(self) -> bool:
        return not self.poly and not self.shape and not self.mask

    @property
    def polygons(self) -> list[list[float]]:
        """The ROI's polygons, split at ClearML's separator."""
        parts, current = [], []
        for value in self.poly or []:
            if value == POLY_SEPARATOR:
                parts.append(current)
                current = []
            else:
                current.append(value)
        return parts + [current] if current or parts else []

    def to_dict(self) -> dict[str, Any]:
        roi = {**self.extra, "id": self.id, "labels": list(self.labels)}
        for key, value in (("confidence", self.confidence), ("meta", self.metadata), ("poly", self.poly),
                           ("shape", self.shape), ("mask", self.mask), ("sources", self.sources)):
            if value is not None:
                roi[key] = value
        return roi

    @classmethod
    def from_dict(cls, roi: dict[str, Any]) -> "Annotation":
        known = {"id", "labels", "label", "confidence", "meta", "poly", "shape", "mask", "sources", "label_num"}
        labels = roi.get("labels", roi.get("label")) or []
        return cls(
            id=roi.get("id") or new_id(), labels=[labels] if isinstance(labels, str) else list(labels),
            confidence=roi.get("confidence"), metadata=roi.get("meta"), poly=roi.get("poly"), shape=roi.get("shape"),
            mask=roi.get("mask"), sources=roi.get("sources"), extra={k: v for k, v in roi.items() if k not in known},
            label_num=roi.get("label_num"),
        )


def _flat(points) -> list[float]:
    """[x0, y0, x1, y1, ...] from a flat list or from (x, y) pairs."""
    points = list(points)
    if points and isinstance(points[0], (list, tuple)):
        return [float(c) if not float(c).is_integer() else int(c) for pair in points for c in pair]
    return list(points)


def poly_from(poly2d_xy) -> list[float]:
    """A flat ClearML poly from one polygon, or from a list of polygons (one multi-part ROI)."""
    points = list(poly2d_xy)
    is_many = points and isinstance(points[0], (list, tuple)) and any(len(p) != 2 for p in points)
    if not is_many and points and isinstance(points[0], (list, tuple)) and isinstance(points[0][0], (list, tuple)):
        is_many = True
    if not is_many:
        return _flat(points)
    joined: list[float] = []
    for index, polygon in enumerate(points):
        if index:
            joined.append(POLY_SEPARATOR)
        joined.extend(_flat(polygon))
    return joined


def box_poly(x: float, y: float, w: float, h: float) -> list[float]:
    return [x, y, x + w, y, x + w, y + h, x, y + h]


def ellipse_poly(cx: float, cy: float, rx: float, ry: float, degrees: float = 0) -> list[float]:
    turn = math.radians(degrees)
    outline = []
    for step in range(ELLIPSE_OUTLINE_POINTS):
        a = 2 * math.pi * step / ELLIPSE_OUTLINE_POINTS
        x, y = rx * math.cos(a), ry * math.sin(a)
        outline += [round(cx + x * math.cos(turn) - y * math.sin(turn), 2), round(cy + x * math.sin(turn) + y * math.cos(turn), 2)]
    return outline


def build_annotations(*, poly2d_xy=None, box2d_xywh=None, ellipse2d_xyrrt=None, points2d_xy=None, mask_rgb=None,
                      frame_class=None, id=None, labels=None, confidence=None, metadata=None, sources=None,
                      mask_id=None) -> list[Annotation]:
    """The ROIs one add_annotation call makes (see the module's docstring for the rules)."""
    roi_id = id or new_id()
    labels = [labels] if isinstance(labels, str) else list(labels or [])

    def roi(**geometry) -> Annotation:
        return Annotation(id=roi_id, labels=list(labels), confidence=confidence,
                          metadata=dict(metadata) if metadata is not None else None, sources=sources, **geometry)

    made = []
    if poly2d_xy is not None:
        made.append(roi(poly=poly_from(poly2d_xy)))
    if box2d_xywh is not None:
        xywh = list(box2d_xywh)
        made.append(roi(poly=box_poly(*xywh[:4]), shape={"type": "box", "xywh": xywh[:4], **({"angle": xywh[4]} if len(xywh) > 4 else {})}))
    if ellipse2d_xyrrt is not None:
        xyrrt = list(ellipse2d_xyrrt)
        made.append(roi(poly=ellipse_poly(*xyrrt), shape={"type": "ellipse", "xyrrt": xyrrt}))
    if points2d_xy is not None:
        made.append(roi(shape={"type": "points", "xy": _flat(points2d_xy)}))
    if mask_rgb is not None:
        made.append(roi(mask={"id": mask_id or "default", "value": list(mask_rgb)}))
    if frame_class:
        classes = [frame_class] if isinstance(frame_class, str) else list(frame_class)
        made.append(Annotation(id=roi_id if not made else new_id(), labels=classes, confidence=confidence, sources=sources))
    if not made:
        if not labels:
            raise ValueError("add_annotation needs a geometry (poly2d_xy, box2d_xywh, ellipse2d_xyrrt, points2d_xy, "
                             "mask_rgb) or labels / frame_class for a frame label")
        made.append(roi())  # labels alone: a frame label
    return made
