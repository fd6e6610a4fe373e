"""Encord label rows as HyperData ROIs.

A label row (what Encord's SDK exports per data item) holds `data_units`, one per image of the item (one for a
video or a DICOM series), each with its `width`, `height` and `labels`: `{objects, classifications}` for an
image, `{"<frame number>": {objects, classifications}}` for a video, an image sequence or a DICOM series.
Coordinates are normalised (0..1), so they become pixels through the data unit's width and height.

- `bounding_box` -> an ROI with a `box` shape and the same rectangle as `poly` (as HyperData's own boxes);
  `rotatable_bounding_box` -> a box turned by its `theta` (degrees clockwise);
- `polygon` -> `poly` (several polygons, `polygons`, joined with the -999999999 separator);
- `point`, `polyline`, `skeleton` -> a `points` shape (HyperData has no open line nor skeleton edges;
  `meta.encord.shape` keeps which);
- classifications -> frame labels (an ROI with labels only): `"<question>: <answer>"` for each answer of a
  radio or checklist question, the question for a text answer (the text in `meta.answers`);
- an object's own classifications (`object_answers`, and `object_actions` whose range covers the frame) ->
  `meta.answers` of its ROI ({question: answer}); Encord's hashes and authorship -> `meta.encord`.

Object names come from the ontology (`featureNodeHash` -> name) when one is given, else from the object.
Any other shape (bitmask, skeleton, ...) is a Problem naming the object: nothing is imported half-way.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from .base import Problem

ENCORD_KEYS = ("objectHash", "classificationHash", "featureHash", "color", "createdBy", "createdAt",
               "lastEditedBy", "lastEditedAt", "manualAnnotation")
BOX_KEYS = {"bounding_box": ("boundingBox", "bounding_box"),
            "rotatable_bounding_box": ("rotatableBoundingBox", "rotatable_bounding_box")}


@dataclass
class LabelUnit:
    """One data unit of a label row: where it is, its size, and its ROIs by frame number (0 for an image)."""

    title: str
    link: str
    sequence: int
    width: int | None
    height: int | None
    data_type: str
    fps: float | None
    rois: dict[int, list[dict]] = field(default_factory=dict)


@dataclass
class LabelRow:
    title: str
    data_type: str  # img_group, image, video, img_sequence, dicom
    units: list[LabelUnit]
    file: str
    line: int | None = None


def ontology_names(ontology: dict) -> dict[str, str]:
    """featureNodeHash -> name of the ontology's objects and classification questions and options."""
    names = {o["featureNodeHash"]: o["name"] for o in ontology.get("objects") or [] if "featureNodeHash" in o and "name" in o}
    for classification in ontology.get("classifications") or []:
        for attribute in classification.get("attributes") or []:
            if "featureNodeHash" in attribute and "name" in attribute:
                names[attribute["featureNodeHash"]] = attribute["name"]
            for option in attribute.get("options") or []:
                if "featureNodeHash" in option and "label" in option:
                    names[option["featureNodeHash"]] = option["label"]
    return names


LineOf = Callable[[str], int | None]


def label_row(row: dict, *, file: str, line_of: LineOf, names: dict[str, str], at: str = "") -> LabelRow | list[Problem]:
    """The label row read into units with their ROIs, or the problems that stop it (`line_of(field)`: the line
    where that field is in the file)."""
    problems: list[Problem] = []
    line = line_of(at.rstrip(".")) if at else line_of("data_units")
    reader = _RowReader(row, file=file, line_of=line_of, names=names, problems=problems)
    units = []
    for key, unit in (row.get("data_units") or {}).items():
        where = f"{at}data_units.{key}"
        if not isinstance(unit, dict):
            problems.append(Problem(file, where, "expected an object", line_of(where)))
            continue
        units.append(reader.unit(unit, where))
    if not isinstance(row.get("data_units"), dict) or not units:
        problems.append(Problem(file, f"{at}data_units", "a label row needs data_units (an object of data units)", line))
    if problems:
        return problems
    units.sort(key=lambda u: u.sequence)
    return LabelRow(title=str(row.get("data_title") or ""), data_type=str(row.get("data_type") or ""),
                    units=units, file=file, line=line_of(f"{at}data_title"))


class _RowReader:
    def __init__(self, row: dict, *, file: str, line_of: LineOf, names: dict[str, str], problems: list[Problem]):
        self.row, self.file, self.line_of, self.names, self.problems = row, file, line_of, names, problems
        self.object_answers = row.get("object_answers") or {}
        self.object_actions = row.get("object_actions") or {}
        self.classification_answers = row.get("classification_answers") or {}
        self.sizeless: set[str] = set()

    def problem(self, where: str, message: str) -> None:
        self.problems.append(Problem(self.file, where, message, self.line_of(where)))

    def unit(self, unit: dict, where: str) -> LabelUnit:
        sequence = unit.get("data_sequence", 0)
        read = LabelUnit(
            title=str(unit.get("data_title") or ""), link=str(unit.get("data_link") or ""),
            sequence=int(sequence) if str(sequence).isdigit() else 0,
            width=unit.get("width") if isinstance(unit.get("width"), int) else None,
            height=unit.get("height") if isinstance(unit.get("height"), int) else None,
            data_type=str(unit.get("data_type") or ""),
            fps=unit.get("data_fps") if isinstance(unit.get("data_fps"), (int, float)) and unit.get("data_fps") > 0 else None,
        )
        labels = unit.get("labels") or {}
        if not isinstance(labels, dict):
            self.problem(f"{where}.labels", "expected an object")
            return read
        if "objects" in labels or "classifications" in labels:
            per_frame = {0: labels}
        else:
            per_frame = {}
            for key, value in labels.items():
                if not str(key).isdigit() or not isinstance(value, dict):
                    self.problem(f"{where}.labels.{key}", "expected frame numbers with {objects, classifications}")
                    continue
                per_frame[int(key)] = value
        for frame, content in sorted(per_frame.items()):
            path = f"{where}.labels" if "objects" in labels or "classifications" in labels else f"{where}.labels.{frame}"
            rois = self.rois(content, path, read, frame)
            if rois:
                read.rois[frame] = rois
        return read

    def rois(self, content: dict, where: str, unit: LabelUnit, frame: int) -> list[dict]:
        rois = []
        for index, item in enumerate(content.get("objects") or []):
            if isinstance(item, dict) and not item.get("isDeleted"):
                roi = self.object_roi(item, f"{where}.objects[{index}]", unit, frame)
                if roi:
                    rois.append(roi)
        for index, item in enumerate(content.get("classifications") or []):
            if isinstance(item, dict):
                rois.append(self.classification_roi(item))
        return rois

    def object_roi(self, item: dict, where: str, unit: LabelUnit, frame: int) -> dict | None:
        shape = item.get("shape")
        if unit.width is None or unit.height is None:
            unit_path = where.split(".labels")[0]
            if unit_path not in self.sizeless:  # once per data unit, not once per object
                self.sizeless.add(unit_path)
                self.problem(f"{unit_path}.width", "the data unit needs width and height to turn its objects' "
                                                   "normalised coordinates into pixels")
            return None
        geometry = _geometry(item, shape, unit.width, unit.height)
        if isinstance(geometry, str):
            self.problem(where, geometry)
            return None
        roi = {"labels": [self.names.get(item.get("featureHash"), item.get("name") or item.get("value") or "object")], **geometry}
        if item.get("objectHash"):
            roi["id"] = str(item["objectHash"])
        confidence = item.get("confidence")
        if isinstance(confidence, (int, float)) and not isinstance(confidence, bool) and 0 <= confidence <= 1:
            roi["confidence"] = confidence
        meta = roi.setdefault("meta", {})
        meta["encord"] = {"shape": shape, **{k: item[k] for k in ENCORD_KEYS if k in item}}
        answers = self.object_answers_at(item.get("objectHash"), frame)
        if answers:
            meta["answers"] = answers
        return roi

    def object_answers_at(self, object_hash, frame: int) -> dict:
        answers = {}
        static = self.object_answers.get(object_hash) or {}
        for entry in static.get("classifications") or []:
            answers.update(_answer(entry))
        for action in (self.object_actions.get(object_hash) or {}).get("actions") or []:
            ranges = action.get("range") or []
            if any(isinstance(r, list) and len(r) == 2 and r[0] <= frame <= r[1] for r in ranges):
                answers.update(_answer(action))
        return answers

    def classification_roi(self, item: dict) -> dict:
        answered = (self.classification_answers.get(item.get("classificationHash")) or {}).get("classifications") or []
        labels, answers = [], {}
        for entry in answered:
            question = str(entry.get("name") or "")
            value = _answer(entry).get(question)
            answers[question] = value
            if isinstance(value, list):
                labels += [f"{question}: {v}" for v in value]
            elif isinstance(value, str) and isinstance(entry.get("answers"), list):
                labels.append(f"{question}: {value}")
            else:
                labels.append(question)  # a free-text answer: the text stays in meta
        roi = {"labels": labels or [self.names.get(item.get("featureHash"), item.get("name") or "classification")],
               "meta": {"encord": {k: item[k] for k in ENCORD_KEYS if k in item}}}
        if item.get("classificationHash"):
            roi["id"] = str(item["classificationHash"])
        if answers:
            roi["meta"]["answers"] = answers
        confidence = item.get("confidence")
        if isinstance(confidence, (int, float)) and not isinstance(confidence, bool) and 0 <= confidence <= 1:
            roi["confidence"] = confidence
        return roi


def _answer(entry: dict) -> dict:
    """{question: answer}: the option name of a radio, the option names of a checklist, the text of a text."""
    answers = entry.get("answers")
    if isinstance(answers, list):
        chosen = [str(a.get("name") or a.get("value")) for a in answers if isinstance(a, dict)]
        return {str(entry.get("name")): chosen[0] if len(chosen) == 1 else chosen}
    return {str(entry.get("name")): answers}


def _geometry(item: dict, shape, width: int, height: int) -> dict | str:
    """The ROI's poly and/or shape in pixels, or why it cannot be read."""
    if shape in BOX_KEYS:
        box = next((item[k] for k in BOX_KEYS[shape] if isinstance(item.get(k), dict)), None)
        if box is None or not all(isinstance(box.get(k), (int, float)) for k in "xywh"):
            return f"a {shape} needs {BOX_KEYS[shape][0]} with x, y, w and h"
        xywh = [_px(box["x"], width), _px(box["y"], height), _px(box["w"], width), _px(box["h"], height)]
        angle = box.get("theta") if isinstance(box.get("theta"), (int, float)) else 0
        return {"poly": _rectangle(xywh, angle), "shape": {"type": "box", "xywh": xywh, **({"angle": angle} if angle else {})}}
    if shape == "polygon":
        parts = _polygons(item)
        if not parts or any(len(part) < 3 for part in parts):
            return "a polygon needs at least three points in `polygon` (or `polygons`)"
        poly = []
        for part in parts:
            poly += ([-999999999] if poly else []) + [c for x, y in part for c in (_px(x, width), _px(y, height))]
        return {"poly": poly}
    if shape in ("point", "polyline", "skeleton"):
        points = _points(item.get(shape))
        if not points:
            return f"a {shape} needs its points in `{shape}`"
        return {"shape": {"type": "points", "xy": [c for x, y in points for c in (_px(x, width), _px(y, height))]}}
    return f"shape {shape!r} is not imported (bounding_box, rotatable_bounding_box, polygon, point, polyline and skeleton are)"


def _polygons(item: dict) -> list[list[tuple[float, float]]]:
    if item.get("polygon") is not None:
        return [_points(item["polygon"])]
    parts = []
    for polygon in item.get("polygons") or []:  # [[outer ring, holes...], ...], each ring [x, y, x, y, ...]
        for ring in polygon if isinstance(polygon, list) else []:
            if isinstance(ring, list) and all(isinstance(v, (int, float)) for v in ring):
                parts.append(list(zip(ring[0::2], ring[1::2])))
    return parts


def _points(value) -> list[tuple[float, float]]:
    """Encord's points: {"0": {x, y}, "1": ...} or [{x, y}, ...], in order."""
    if isinstance(value, dict):
        value = [value[k] for k in sorted(value, key=lambda k: int(k) if str(k).isdigit() else math.inf)]
    if not isinstance(value, list):
        return []
    return [(p["x"], p["y"]) for p in value if isinstance(p, dict) and isinstance(p.get("x"), (int, float)) and isinstance(p.get("y"), (int, float))]


def _px(value: float, size: int) -> float:
    return round(value * size, 2)


def _rectangle(xywh: list[float], angle: float) -> list[float]:
    """The box's corners, turned `angle` degrees clockwise about its centre (image y points down)."""
    x, y, w, h = xywh
    cx, cy = x + w / 2, y + h / 2
    cos, sin = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    corners = [(x, y), (x + w, y), (x + w, y + h), (x, y + h)]
    return [round(c, 2) for px, py in corners
            for c in (cx + (px - cx) * cos - (py - cy) * sin, cy + (px - cx) * sin + (py - cy) * cos)]


def rows_in(value, *, file: str, names: dict[str, str], line_of: LineOf | None = None) -> Iterator[LabelRow | Problem]:
    """The label rows of a file holding one row or a list of rows."""
    line_of = line_of or (lambda path: None)
    rows = value if isinstance(value, list) else [value]
    for index, row in enumerate(rows):
        at = f"[{index}]." if isinstance(value, list) else ""
        if not isinstance(row, dict):
            yield Problem(file, at.rstrip(".") or "", "expected a label row object")
            continue
        read = label_row(row, file=file, line_of=line_of, names=names, at=at)
        yield from (read if isinstance(read, list) else [read])
