"""SingleFrame and FrameGroup: ClearML's frame classes over HyperData's frame JSON (frames/schema.py).

A SingleFrame is a frame with one source (id "default"); a FrameGroup is a dict of named SingleFrames that
becomes one frame with a source per name (`front`, `rear`, ...), each frame's annotations pointing at its
source and the group's own annotations at the whole frame. `to_dict` gives the JSON the REST API takes and
`from_dict` reads what it returns; keys this client does not know are carried through unchanged.
"""
from __future__ import annotations

import copy
from typing import Any, Iterable

from .annotations import Annotation, build_annotations

DEFAULT_SOURCE = "default"
SOURCE_KEYS = {"id", "uri", "width", "height", "timestamp", "preview", "masks"}
FRAME_KEYS = {"id", "context_id", "timestamp", "meta", "sources", "rois", "saved", "dataset", "saved_in_version"}


class _Annotated:
    """add/get/remove of annotations, shared by SingleFrame and FrameGroup (whose own are the global ones)."""

    annotations: list[Annotation]
    _sources: list[str] | None = None  # the source ids the ROIs made here point at

    def _mask_id(self) -> str | None:
        return None

    def add_annotation(self, poly2d_xy=None, box2d_xywh=None, ellipse2d_xyrrt=None, points2d_xy=None, mask_rgb=None,
                       frame_class=None, id=None, labels=None, confidence=None, metadata=None, **_ignored) -> list[Annotation]:
        """Add ROIs as ClearML does (see hyperdata_client.annotations); returns the ones made."""
        made = build_annotations(poly2d_xy=poly2d_xy, box2d_xywh=box2d_xywh, ellipse2d_xyrrt=ellipse2d_xyrrt,
                                 points2d_xy=points2d_xy, mask_rgb=mask_rgb, frame_class=frame_class, id=id, labels=labels,
                                 confidence=confidence, metadata=metadata, sources=self._sources, mask_id=self._mask_id())
        self.annotations.extend(made)
        return made

    def get_annotations(self, id=None, labels=None) -> list[Annotation]:
        """The annotations, or those with this id, or those carrying any of these labels."""
        wanted = {labels} if isinstance(labels, str) else set(labels or [])
        return [a for a in self.annotations if (id is None or a.id == id) and (not wanted or wanted & set(a.labels))]

    def remove_annotation(self, annotation_id=None, *, id=None, roi_id=None) -> int:
        """Remove every annotation with this id (or this Annotation's id); returns how many went."""
        target = annotation_id if annotation_id is not None else id if id is not None else roi_id
        if isinstance(target, Annotation):
            target = target.id
        before = len(self.annotations)
        self.annotations[:] = [a for a in self.annotations if a.id != target]
        return before - len(self.annotations)

    def remove_annotations(self, annotation_ids: Iterable | None = None) -> int:
        """Remove these annotations (ids or Annotation objects); with none given, remove them all."""
        if annotation_ids is None:
            count = len(self.annotations)
            self.annotations.clear()
            return count
        return sum(self.remove_annotation(target) for target in list(annotation_ids))


def _annotations(values) -> list[Annotation]:
    return [a if isinstance(a, Annotation) else Annotation.from_dict(a) for a in values or []]


def _masks(mask_source, masks_source) -> list[dict]:
    masks = [{"id": "default", "uri": mask_source}] if mask_source else []
    if isinstance(masks_source, dict):
        masks += [{"id": str(key), "uri": uri} for key, uri in masks_source.items()]
    elif masks_source:
        masks += [m if isinstance(m, dict) else {"id": str(index), "uri": m} for index, m in enumerate(masks_source)]
    return masks


class SingleFrame(_Annotated):
    def __init__(self, id=None, source=None, width=None, height=None, timestamp=None, preview_uri=None, metadata=None,
                 annotations=None, mask_source=None, masks_source=None, context_id=None, **extra):
        self.id = id
        self.source = source
        self.width, self.height = width, height
        self.timestamp = timestamp
        self.preview_uri = preview_uri
        self.metadata = dict(metadata) if metadata else {}
        self.annotations = _annotations(annotations)
        self.masks = _masks(mask_source, masks_source)
        self.context_id = context_id
        self.source_id = DEFAULT_SOURCE
        self.source_extra: dict[str, Any] = {}  # content_type, meta, ... as the server sent them
        self.saved: int | None = None
        self.extra = extra  # frame keys this client does not model, kept for the round trip
        self.dataset: dict | None = None
        self.saved_in_version: str | None = None

    @property
    def meta(self) -> dict:
        return self.metadata

    @meta.setter
    def meta(self, value: dict) -> None:
        self.metadata = value

    @property
    def mask_source(self) -> str | None:
        return self.masks[0]["uri"] if self.masks else None

    def _mask_id(self):
        return self.masks[0]["id"] if self.masks else None

    def __repr__(self):
        return f"SingleFrame(id={self.id!r}, source={self.source!r}, annotations={len(self.annotations)})"

    def source_dict(self) -> dict:
        source = {**self.source_extra, "id": self.source_id, "uri": self.source}
        for key, value in (("width", self.width), ("height", self.height), ("timestamp", self.timestamp)):
            if value is not None:
                source[key] = value
        if self.preview_uri:
            source["preview"] = {"uri": self.preview_uri}
        if self.masks:
            source["masks"] = copy.deepcopy(self.masks)
        return source

    def to_dict(self) -> dict:
        """The frame as the REST API takes it."""
        frame = {**self.extra, "meta": self.metadata, "sources": [self.source_dict()], "rois": [a.to_dict() for a in self.annotations]}
        for key, value in (("id", self.id), ("context_id", self.context_id), ("timestamp", self.timestamp), ("saved", self.saved)):
            if value is not None:
                frame[key] = value
        return frame

    @classmethod
    def from_dict(cls, data: dict) -> "SingleFrame | FrameGroup":
        """A frame as the API returns it: a FrameGroup when it has several sources."""
        if len(data.get("sources") or []) > 1:
            return FrameGroup.from_dict(data)
        frame = cls.from_source((data.get("sources") or [{}])[0], annotations=data.get("rois"))
        frame._read_frame_keys(data)
        return frame

    @classmethod
    def from_source(cls, source: dict, annotations=None) -> "SingleFrame":
        preview = source.get("preview") or {}
        frame = cls(source=source.get("uri"), width=source.get("width"), height=source.get("height"),
                    timestamp=source.get("timestamp"), annotations=annotations,
                    preview_uri=None if preview.get("generated") else preview.get("uri"))
        frame.source_id = source.get("id", DEFAULT_SOURCE)
        frame.masks = copy.deepcopy(source.get("masks") or [])
        frame.source_extra = {k: v for k, v in source.items() if k not in SOURCE_KEYS}
        return frame

    def _read_frame_keys(self, data: dict) -> None:
        self.id, self.context_id = data.get("id"), data.get("context_id")
        self.timestamp = data.get("timestamp", self.timestamp)
        self.metadata = dict(data.get("meta") or {})
        self.saved, self.dataset, self.saved_in_version = data.get("saved"), data.get("dataset"), data.get("saved_in_version")
        self.extra = {k: v for k, v in data.items() if k not in FRAME_KEYS}


class FrameGroup(dict, _Annotated):
    """Named SingleFrames that make one frame with several sources, plus annotations of the whole group."""

    def __init__(self, id=None, timestamp=None, metadata=None, context_id=None, annotations=None, **frames):
        super().__init__(**frames)
        self.id, self.timestamp, self.context_id = id, timestamp, context_id
        self.metadata = dict(metadata) if metadata else {}
        self.annotations = _annotations(annotations)
        self.saved: int | None = None
        self.extra: dict = {}
        self.dataset, self.saved_in_version = None, None

    meta = SingleFrame.meta

    def __repr__(self):
        return f"FrameGroup(id={self.id!r}, sources={list(self)}, annotations={len(self.annotations)})"

    def __hash__(self):  # frames are kept in sets and dict keys (failed frames); identity is what counts
        return id(self)

    def __eq__(self, other):
        return self is other

    def to_dict(self) -> dict:
        if not self:
            raise ValueError("a FrameGroup needs at least one SingleFrame (group['front'] = SingleFrame(...))")
        sources, rois = [], []
        for name, frame in self.items():
            source = frame.source_dict()
            source["id"] = name
            if frame.metadata:
                source["meta"] = frame.metadata
            sources.append(source)
            rois += [{**a.to_dict(), "sources": [name]} for a in frame.annotations]
        rois += [a.to_dict() for a in self.annotations]
        timestamp = self.timestamp if self.timestamp is not None else next(iter(self.values())).timestamp
        frame = {**self.extra, "meta": self.metadata, "sources": sources, "rois": rois}
        for key, value in (("id", self.id), ("context_id", self.context_id), ("timestamp", timestamp), ("saved", self.saved)):
            if value is not None:
                frame[key] = value
        return frame

    @classmethod
    def from_dict(cls, data: dict) -> "FrameGroup":
        group = cls()
        names = [source.get("id", DEFAULT_SOURCE) for source in data.get("sources") or []]
        rois = [Annotation.from_dict(r) for r in data.get("rois") or []]
        for name, source in zip(names, data.get("sources") or []):
            frame = SingleFrame.from_source(source, annotations=[r for r in rois if r.sources == [name]])
            frame.metadata = dict(source.get("meta") or {})
            frame.source_extra.pop("meta", None)
            group[name] = frame
        group.annotations = [r for r in rois if not (r.sources and len(r.sources) == 1 and r.sources[0] in names)]
        SingleFrame._read_frame_keys(group, data)
        return group
