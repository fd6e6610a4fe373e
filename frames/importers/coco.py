"""COCO (instances, keypoints, panoptic): one annotations JSON, or a folder holding one.

Each image becomes a frame: its id is the image id (as text), its source `default` is the image's
`file_name` resolved against the media root (option `media_root`: a folder or a cloud prefix; by default the
JSON's folder), with the image's width and height; its other fields (`file_name`, `license`, `coco_url`,
`date_captured`, ...) become frame `meta`, so an export writes them back. Annotations become ROIs
(coco_annotations.py; panoptic segments: coco_panoptic.py) labelled with their category's name. Everything at
the top level but the images and annotations (`info`, `licenses`, `categories`, ...) goes into the version's
metadata under `coco`.

An image file that is not where its `file_name` points is not an error (sources are URIs: the images may be
copied there later); the summary says which are missing. Annotations of an image that is not listed, of an
unknown category or with geometry that cannot be read are problems, reported as `annotations[12].segmentation`.
The file is one JSON object, read whole; a problem has the line and column where its image or annotation
starts (coco_json.py), a frame the line of its image.
"""
from __future__ import annotations

import json
import mimetypes
import re
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

from .base import ImportSource, Item, Problem, Record, VersionExtras
from .coco_annotations import SOURCE_ID, BadAnnotation, Category, annotation_roi, safe_name
from .coco_json import load_with_positions
from .coco_panoptic import is_panoptic, panoptic_rois

MISSING_SHOWN = 5  # missing image names listed in the summary
_ELEMENT = re.compile(r"(images|annotations)\[(\d+)\]")


def read(source: ImportSource) -> Iterator[Item]:
    path = _annotations_file(source)
    if isinstance(path, Problem):
        yield path
        return
    loaded = _load(path)
    if isinstance(loaded, Problem):
        yield loaded
        return
    data, positions = loaded
    context = _Context(source=source, file=path.name, json_path=path, positions=positions)
    categories = yield from _categories(data.get("categories"), context)
    images = yield from _images(data.get("images"), context)
    annotations = yield from _annotations_by_image(data.get("annotations"), images, categories, context)
    for image_id, image in images.items():
        yield from _frame(image_id, image, annotations.get(image_id, []), categories, context)
    metadata = {key: value for key, value in data.items() if key not in ("images", "annotations")}
    yield VersionExtras(metadata={"coco": metadata}, notes=context.notes())


class _Context:
    """What every part of the reading needs: the input, the file's name for problems, images found missing."""

    def __init__(self, *, source: ImportSource, file: str, json_path: Path, positions: dict):
        self.source = source
        self.file = file
        self.json_path = json_path
        self.positions = positions  # {"images": [(line, column), ...], "annotations": [...]}
        self.image_index: dict = {}  # image id: its position in `images`
        self.missing: list[str] = []
        self.images = 0

    def problem(self, field: str, message: str) -> Problem:
        """A problem at `field` (`annotations[12].bbox`), with the line and column where that element starts."""
        line, column = self.where(field)
        return Problem(file=self.file, field=field, message=message, line=line, column=column)

    def where(self, field: str) -> tuple[int | None, int | None]:
        match = _ELEMENT.match(field)
        starts = self.positions.get(match[1], []) if match else []
        return starts[int(match[2])] if match and int(match[2]) < len(starts) else (None, None)

    def mask_uri(self, name: str) -> str:
        if self.source.output_dir is None:
            raise BadAnnotation("segmentation", "an RLE is drawn as a mask image, and this import has no folder for the files it makes")
        return self.source.output_uri(name)

    def notes(self) -> list[str]:
        if not self.missing:
            return []
        shown = ", ".join(self.missing[:MISSING_SHOWN]) + (", ..." if len(self.missing) > MISSING_SHOWN else "")
        return [
            f"{len(self.missing)} of {self.images} images are not in the media folder ({shown}): their frames are "
            "imported with sources pointing where the images should be"
        ]


def _annotations_file(source: ImportSource) -> Path | Problem:
    """The JSON itself, or the one JSON in the folder (or in its `annotations/` folder, COCO's own layout)."""
    if not source.path.is_dir():
        return source.path
    for folder in (source.path, source.path / "annotations"):
        found = sorted(p for p in folder.glob("*.json")) if folder.is_dir() else []
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            names = ", ".join(p.name for p in found)
            return Problem(file=source.path.name, field="", message=f"several annotation files ({names}): name the one to import")
    return Problem(file=source.path.name, field="", message="no COCO annotations (.json) in this folder or its annotations/ folder")


def _load(path: Path) -> tuple[dict, dict] | Problem:
    """The COCO object and where its images and annotations start (coco_json.py)."""
    try:
        data, positions = load_with_positions(path.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as exc:
        return Problem(file=path.name, field="", message=f"invalid JSON: {exc.msg}", line=exc.lineno, column=exc.colno)
    except (OSError, UnicodeDecodeError) as exc:
        return Problem(file=path.name, field="", message=f"cannot read the file: {exc}")
    if not isinstance(data, dict):
        return Problem(file=path.name, field="", message=f"expected a COCO object ({{\"images\": ..., \"annotations\": ...}}), got a JSON {type(data).__name__}")
    return data, positions


def _categories(value, context: _Context):
    """{category id: Category}; a problem for each entry that has no id or no name."""
    categories: dict = {}
    if value is None:
        value = []
    if not isinstance(value, list):
        yield context.problem("categories", "expected a list of categories")
        return categories
    for index, entry in enumerate(value):
        where = f"categories[{index}]"
        if not isinstance(entry, dict) or not _is_id(entry.get("id")):
            yield context.problem(f"{where}.id", "a category needs an id (a number or a text)")
        elif not isinstance(entry.get("name"), str) or not entry["name"].strip():
            yield context.problem(f"{where}.name", "a category needs a name (it becomes the label)")
        elif entry["id"] in categories:
            yield context.problem(f"{where}.id", f"category id {entry['id']!r} appears twice")
        else:
            keypoints = entry.get("keypoints") if isinstance(entry.get("keypoints"), list) else []
            supercategory = entry.get("supercategory")
            categories[entry["id"]] = Category(entry["name"], supercategory, tuple(str(k) for k in keypoints))
    return categories


def _is_id(value) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool)) or (isinstance(value, str) and value != "")


def _images(value, context: _Context):
    """{image id: image}, in the file's order; a problem for each image without an id or a file name."""
    images: dict = {}
    if not isinstance(value, list):
        yield context.problem("images", "expected a list of images")
        return images
    for index, image in enumerate(value):
        where = f"images[{index}]"
        if not isinstance(image, dict) or not _is_id(image.get("id")):
            yield context.problem(f"{where}.id", "an image needs an id (a number or a text)")
        elif not isinstance(image.get("file_name"), str) or not image["file_name"]:
            yield context.problem(f"{where}.file_name", "an image needs a file_name")
        elif image["id"] in images:
            yield context.problem(f"{where}.id", f"image id {image['id']!r} appears twice")
        else:
            bad_size = next((k for k in ("width", "height") if image.get(k) is not None and not _is_size(image[k])), None)
            if bad_size:
                yield context.problem(f"{where}.{bad_size}", f"expected a whole number of pixels, got {image[bad_size]!r}")
                continue
            images[image["id"]] = image
            context.image_index[image["id"]] = index
    return images


def _is_size(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _annotations_by_image(value, images: dict, categories: dict, context: _Context):
    """{image id: [(index, annotation), ...]}; a problem for an annotation of an unknown image or category."""
    by_image: dict = defaultdict(list)
    if value is None:
        return by_image
    if not isinstance(value, list):
        yield context.problem("annotations", "expected a list of annotations")
        return by_image
    seen_ids: set = set()
    for index, annotation in enumerate(value):
        where = f"annotations[{index}]"
        if not isinstance(annotation, dict):
            yield context.problem(where, "expected an annotation object")
        elif not _is_id(annotation.get("image_id")) or annotation["image_id"] not in images:
            yield context.problem(f"{where}.image_id", f"image {annotation.get('image_id')!r} is not in images")
        elif not is_panoptic(annotation) and not (_is_id(annotation.get("category_id")) and annotation["category_id"] in categories):
            yield context.problem(f"{where}.category_id", f"category {annotation.get('category_id')!r} is not in categories")
        elif annotation.get("id") is not None and not _is_id(annotation["id"]):
            yield context.problem(f"{where}.id", f"an annotation id is a number or a text, not {annotation['id']!r}")
        elif annotation.get("id") is not None and annotation["id"] in seen_ids:
            yield context.problem(f"{where}.id", f"annotation id {annotation['id']!r} appears twice")
        else:
            if annotation.get("id") is not None:
                seen_ids.add(annotation["id"])
            by_image[annotation["image_id"]].append((index, annotation))
    return by_image


def _frame(image_id, image: dict, annotations: list, categories: dict, context: _Context) -> Iterator[Item]:
    frame_id = str(image_id)
    source = _source(image, context)
    frame = {"id": frame_id, "timestamp": 0, "meta": _image_meta(image), "sources": [source], "rois": []}
    record = Record(frame=frame, file=context.file, line=context.where(f"images[{context.image_index[image_id]}]")[0])
    masks: list[dict] = []
    problems = 0
    for index, annotation in annotations:
        if is_panoptic(annotation):
            converted = yield from panoptic_rois(annotation, index=index, categories=categories, context=context)
            frame["rois"].extend(converted.rois)
            masks.extend(converted.masks)
            continue
        try:
            converted = annotation_roi(
                annotation, category=categories[annotation["category_id"]], image_size=(image.get("width"), image.get("height")),
                mask_name=f"rle/{safe_name(frame_id)}-{index}.png", mask_uri=context.mask_uri,
            )
        except BadAnnotation as exc:
            problems += 1
            yield context.problem(f"annotations[{index}].{exc.field}", str(exc))
            continue
        frame["rois"].append(converted.roi)
        masks.extend([converted.mask] if converted.mask else [])
        record.files.extend(converted.files)
    if masks:
        source["masks"] = masks
    if not problems:
        yield record


def _source(image: dict, context: _Context) -> dict:
    uri = context.source.resolve(image["file_name"])
    context.images += 1
    if "://" not in uri and not Path(uri).is_file():
        context.missing.append(image["file_name"])
    source = {"id": SOURCE_ID, "uri": uri, "timestamp": 0}
    content_type = mimetypes.guess_type(image["file_name"])[0]
    if content_type:
        source["content_type"] = content_type
    for key in ("width", "height"):
        if image.get(key) is not None:
            source[key] = image[key]
    return source


def _image_meta(image: dict) -> dict:
    """The image's own fields but those the frame holds elsewhere (id, width, height)."""
    return {key: value for key, value in image.items() if key not in ("id", "width", "height")}

