"""COCO out: a version, or the frames a filter matches, as one COCO JSON (instances and key points), streamed.

COCO keeps images and annotations in two lists, so the frames are walked three times (`walk()` starts a new
walk each time, in the same order) and only ids and labels are held between walks: a first walk finds the
labels in use and the largest numeric ids, the second writes `images`, the third `annotations`; the
`categories` come last (JSON objects have no order). Memory is bounded by the number of labels and of
annotation ids, never by the frames.

- Each source of a frame is an image. A one-source frame whose id is a number keeps it as the image id (the
  COCO import names frames so); others get new ids above the largest. The frame's `meta` (COCO's
  `file_name`, `license`, `coco_url`, ... after an import) becomes the image's fields; without a `file_name`
  it is the source's URI, relative to `media_root` when it lies under it.
- Each ROI with geometry and a label is an annotation of its sources' images (coco_annotations.py), in the
  category of its first label. Numeric ROI ids are kept as annotation ids unless already used. Frame labels
  (ROIs without geometry) have no place in COCO and are left out.
- `categories`, `info`, `licenses` and any other top-level key come from the version metadata's `coco`
  (what the COCO import kept); labels not in it become new categories, ids above the largest.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator

from ..schema import is_frame_label
from .coco_annotations import MaskImages, roi_annotation

DEFAULT_INFO = {"description": "Exported from HyperData"}


def _same(row):
    return row


def coco_export_chunks(
    walk: Callable[[], Iterable[list]], to_dict: Callable[[object], dict] = _same, *, metadata: dict | None = None,
    load_mask: Callable[[str], bytes] | None = None, media_root: str = "",
) -> Iterator[str]:
    """COCO JSON text in chunks (one per page of frames). `walk()` yields pages of rows (`to_dict(row)` is a
    frame dict) and is called three times; `metadata` is the version's; `load_mask(uri)` returns a mask
    image's bytes (RLE segmentations need it; without it mask ROIs get an empty segmentation)."""
    coco = dict((metadata or {}).get("coco") or {})
    plan = _Plan(coco.get("categories"))
    for frame in _frames(walk(), to_dict):
        plan.scan(frame)
    head = {key: value for key, value in coco.items() if key not in ("images", "annotations", "categories")}
    head.setdefault("info", DEFAULT_INFO)
    head.setdefault("licenses", [])
    yield "{" + "".join(f"{json.dumps(key)}: {_json(value)},\n" for key, value in head.items()) + '"images": ['
    yield from _list_body((_images(page, plan.image_ids(), media_root) for page in _pages(walk(), to_dict)))
    yield '],\n"annotations": ['
    yield from _list_body((_annotations(page, plan, plan.image_ids(), load_mask) for page in _pages(walk(), to_dict)))
    yield '],\n"categories": ' + _json(plan.categories) + "}\n"


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _pages(pages: Iterable[list], to_dict) -> Iterator[list[dict]]:
    for page in pages:
        if page:
            yield [to_dict(row) for row in page]


def _frames(pages: Iterable[list], to_dict) -> Iterator[dict]:
    for page in _pages(pages, to_dict):
        yield from page


def _list_body(pages: Iterator[list[dict]]) -> Iterator[str]:
    """The elements of a JSON list, one chunk per page, commas between."""
    written = False
    for entries in pages:
        if entries:
            yield ("," if written else "") + "\n" + ",\n".join(_json(entry) for entry in entries)
            written = True


def _numeric_id(text) -> int | None:
    """An id written as a plain whole number ("785", not "0785" or "7.5"), as an int."""
    text = str(text)
    return int(text) if text.isdigit() and str(int(text)) == text else None


class _Plan:
    """What the first walk learns: the categories (the metadata's, then new labels) and where new ids start."""

    def __init__(self, categories):
        self.categories = [dict(c) for c in categories or [] if isinstance(c, dict) and "name" in c and "id" in c]
        self.by_name = {c["name"]: c for c in self.categories}
        self.max_image_id = 0
        self.max_annotation_id = 0
        self.used_annotation_ids: set[int] = set()
        self.next_annotation_id = 0

    def scan(self, frame: dict) -> None:
        if len(frame["sources"]) == 1 and (number := _numeric_id(frame["id"])) is not None:
            self.max_image_id = max(self.max_image_id, number)
        for roi in frame.get("rois") or []:
            if (number := _numeric_id(roi.get("id"))) is not None:
                self.max_annotation_id = max(self.max_annotation_id, number)
            if roi.get("labels") and not is_frame_label(roi) and roi["labels"][0] not in self.by_name:
                self._add_category(roi["labels"][0], (roi.get("meta") or {}).get("supercategory"))
        self.next_annotation_id = self.max_annotation_id + 1

    def _add_category(self, name: str, supercategory) -> None:
        numbers = [c["id"] for c in self.categories if isinstance(c["id"], int)]
        category = {"id": max(numbers, default=0) + 1, "name": name}
        if supercategory is not None:
            category["supercategory"] = supercategory
        self.categories.append(category)
        self.by_name[name] = category

    def image_ids(self) -> _ImageIds:
        return _ImageIds(self.max_image_id + 1)

    def annotation_id(self, roi: dict) -> int:
        number = _numeric_id(roi.get("id"))
        if number is None or number in self.used_annotation_ids:
            number = self.next_annotation_id
            self.next_annotation_id += 1
        self.used_annotation_ids.add(number)
        return number


class _ImageIds:
    """Image ids of each frame's sources, the same on every walk: the frame's own, or the next new one."""

    def __init__(self, start: int):
        self.next = start

    def of(self, frame: dict) -> list[tuple[dict, int]]:
        sources = frame["sources"]
        if len(sources) == 1 and (number := _numeric_id(frame["id"])) is not None:
            return [(sources[0], number)]
        ids = []
        for source in sources:
            ids.append((source, self.next))
            self.next += 1
        return ids


def _images(frames: list[dict], ids: _ImageIds, media_root: str) -> list[dict]:
    images = []
    for frame in frames:
        pairs = ids.of(frame)
        for source, image_id in pairs:
            meta = (frame.get("meta") or {}) if len(pairs) == 1 else {}
            image = {"id": image_id, "file_name": meta.get("file_name") or _file_name(source["uri"], media_root)}
            image.update({key: source[key] for key in ("width", "height") if source.get(key) is not None})
            image.update({key: value for key, value in meta.items() if key not in ("id", "width", "height", "file_name")})
            if len(pairs) > 1:
                image.update({"frame_id": frame["id"], "source_id": source.get("id", "default")})
            images.append(image)
    return images


def _file_name(uri: str, media_root: str) -> str:
    root = media_root.rstrip("/") + "/" if media_root else ""
    return uri[len(root):] if root and uri.startswith(root) else uri


def _annotations(frames: list[dict], plan: _Plan, ids: _ImageIds, load_mask) -> list[dict]:
    annotations = []
    for frame in frames:
        masks = MaskImages(load_mask)
        pairs = ids.of(frame)
        first_source = pairs[0][0].get("id", "default")
        for source, image_id in pairs:
            for roi in frame.get("rois") or []:
                if not roi.get("labels") or source.get("id", "default") not in (roi.get("sources") or [first_source]):
                    continue
                category = plan.by_name.get(roi["labels"][0])
                fields = roi_annotation(roi, source, category=category, masks=masks) if category else None
                if fields is not None:
                    annotations.append({"id": plan.annotation_id(roi), "image_id": image_id, "category_id": category["id"], **fields})
    return annotations
