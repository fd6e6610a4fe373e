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
unknown category or with geometry that cannot be read are problems, reported as `annotations[12].segmentation`,
with the line and column where the image or annotation starts; a frame has the line of its image.

The file is read as a stream (coco_json.py) into a temporary SQLite file (coco_spool.py), since its keys come
in any order; then images are checked, then annotations, then each image becomes a frame with its annotations
fetched from there: memory stays bounded whatever the file's size.
"""
from __future__ import annotations

import mimetypes
from collections.abc import Iterator
from functools import partial
from pathlib import Path

from .base import ImportSource, Item, Problem, Record, VersionExtras
from .coco_annotations import SOURCE_ID, BadAnnotation, Category, annotation_roi, safe_name
from .coco_json import LISTED, ListStart, walk
from .coco_panoptic import is_panoptic, panoptic_rois
from .coco_spool import Spool, is_id, key

MISSING_SHOWN = 5  # missing image names listed in the summary
SPOOLED = object()  # stands for a listed key's array, which is in the spool


def read(source: ImportSource) -> Iterator[Item]:
    path = _annotations_file(source)
    if isinstance(path, Problem):
        yield path
        return
    with Spool() as spool:
        top = _spool_file(path, spool)
        if isinstance(top, Problem):
            yield top
            return
        context = _Context(source=source, file=path.name, json_path=path)
        categories = yield from _categories(top.get("categories"), context)
        yield from _check_images(top.get("images"), spool, context)
        yield from _check_annotations(top.get("annotations"), spool, categories, context)
        for line, image, annotations in spool.frames():
            yield from _frame(image, line, annotations, categories, context)
    metadata = {name: value for name, value in top.items() if name not in LISTED}
    yield VersionExtras(metadata={"coco": metadata}, notes=context.notes())


class _Context:
    """What every part of the reading needs: the input, the file's name for problems, images found missing."""

    def __init__(self, *, source: ImportSource, file: str, json_path: Path):
        self.source = source
        self.file = file
        self.json_path = json_path
        self.missing: list[str] = []  # the first MISSING_SHOWN + 1 names
        self.missing_count = 0
        self.images = 0

    def problem(self, field: str, message: str, at: tuple = (None, None)) -> Problem:
        """A problem at `field` (`annotations[12].bbox`), with the line and column `at` where its element starts."""
        return Problem(file=self.file, field=field, message=message, line=at[0], column=at[1])

    def mask_uri(self, name: str) -> str:
        if self.source.output_dir is None:
            raise BadAnnotation("segmentation", "an RLE is drawn as a mask image, and this import has no folder for the files it makes")
        return self.source.output_uri(name)

    def note_missing(self, name: str) -> None:
        self.missing_count += 1
        if len(self.missing) <= MISSING_SHOWN:
            self.missing.append(name)

    def notes(self) -> list[str]:
        if not self.missing_count:
            return []
        shown = ", ".join(self.missing[:MISSING_SHOWN]) + (", ..." if self.missing_count > MISSING_SHOWN else "")
        return [
            f"{self.missing_count} of {self.images} images are not in the media folder ({shown}): their frames are "
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


def _spool_file(path: Path, spool: Spool) -> dict | Problem:
    """Read the file into `spool`; {key: value} of the top level, SPOOLED for the arrays the spool holds."""
    top: dict = {}
    try:
        with path.open(encoding="utf-8-sig") as stream:
            for part in walk(stream, path.name, partial(_spool_element, spool)):
                if isinstance(part, Problem):
                    return part
                if part.key in LISTED:
                    spool.reset(part.key)
                top.pop(part.key, None)  # a key given twice: its later value counts, last in the order too
                top[part.key] = SPOOLED if isinstance(part, ListStart) else part.value
    except (OSError, UnicodeDecodeError) as exc:
        return Problem(file=path.name, field="", message=f"cannot read the file: {exc}")
    return top


def _spool_element(spool: Spool, list_key: str, index: int, value, line: int, column: int) -> None:
    if list_key == "annotations":
        spool.add_annotation(index, value, line, column)
    else:
        well_formed = _image_problem(value) is None
        spool.add_image(index, value, line, column, id_key=key(value["id"]) if well_formed else None,
                        size_ok=well_formed and _bad_size(value) is None)


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
        if not isinstance(entry, dict) or not is_id(entry.get("id")):
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


def _check_images(value, spool: Spool, context: _Context):
    """Accept each image with an id and a file name (the first of each id); a problem for each other."""
    if value is not SPOOLED:
        yield context.problem("images", "expected a list of images")
        return
    for index, line, column, image, id_taken in spool.check_images():
        where, at = f"images[{index}]", (line, column)
        problem = _image_problem(image)
        if problem:
            yield context.problem(f"{where}.{problem[0]}", problem[1], at)
        elif id_taken:
            yield context.problem(f"{where}.id", f"image id {image['id']!r} appears twice", at)
        else:
            bad_size = _bad_size(image)
            yield context.problem(f"{where}.{bad_size}", f"expected a whole number of pixels, got {image[bad_size]!r}", at)


def _image_problem(image) -> tuple[str, str] | None:
    """(field, message) when the image has no id or no file name."""
    if not isinstance(image, dict) or not is_id(image.get("id")):
        return "id", "an image needs an id (a number or a text)"
    if not isinstance(image.get("file_name"), str) or not image["file_name"]:
        return "file_name", "an image needs a file_name"
    return None


def _bad_size(image: dict) -> str | None:
    """"width" or "height" when it is given and not a whole number of pixels."""
    return next((k for k in ("width", "height") if image.get(k) is not None and not _is_size(image[k])), None)


def _is_size(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _check_annotations(value, spool: Spool, categories: dict, context: _Context):
    """Accept each annotation of an accepted image and a known category (the first of each id); a problem for
    each other."""
    if value is None:
        return
    if value is not SPOOLED:
        yield context.problem("annotations", "expected a list of annotations")
        return
    refused = spool.check_annotations(key(category_id) for category_id in categories)
    for index, line, column, annotation, is_object, image_known, category_known, id_bad in refused:
        where, at = f"annotations[{index}]", (line, column)
        if not is_object:
            yield context.problem(where, "expected an annotation object", at)
        elif not image_known:
            yield context.problem(f"{where}.image_id", f"image {annotation.get('image_id')!r} is not in images", at)
        elif not category_known:
            yield context.problem(f"{where}.category_id", f"category {annotation.get('category_id')!r} is not in categories", at)
        elif id_bad:
            yield context.problem(f"{where}.id", f"an annotation id is a number or a text, not {annotation['id']!r}", at)
        else:
            yield context.problem(f"{where}.id", f"annotation id {annotation['id']!r} appears twice", at)


def _frame(image: dict, line: int, annotations: list, categories: dict, context: _Context) -> Iterator[Item]:
    frame_id = str(image["id"])
    source = _source(image, context)
    frame = {"id": frame_id, "timestamp": 0, "meta": _image_meta(image), "sources": [source], "rois": []}
    record = Record(frame=frame, file=context.file, line=line)
    masks: list[dict] = []
    problems = 0
    for index, annotation_line, annotation_column, annotation in annotations:
        at = (annotation_line, annotation_column)
        if is_panoptic(annotation):
            converted = yield from panoptic_rois(annotation, index=index, at=at, categories=categories, context=context)
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
            yield context.problem(f"annotations[{index}].{exc.field}", str(exc), at)
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
        context.note_missing(image["file_name"])
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

