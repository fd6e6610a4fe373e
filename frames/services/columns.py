"""A large published version's frames copied into columns (frames.columnar) by a job, once: a published version
never changes. Queued when a version of HYPERDATA_COLUMNS_FRAMES frames or more is published (PostgreSQL, where
the web and the workers share the database that keeps them); selectors.columns reads them.

The copy holds every frame's metadata paths (up to columnar.MAX_DEPTH keys deep, columnar.MAX_PATHS of them) and
every label index row: at a million frames and two metadata keys, about 60 MB, built in about 20 s.
"""
from __future__ import annotations

import json
from decimal import Decimal

import numpy as np
from django.conf import settings
from django.db import connection
from django.db.models import TextField
from django.db.models.functions import Cast

from .. import columnar
from ..exceptions import Conflict
from ..models import DatasetVersion, FrameRevision, RoiLabel, VersionColumns
from ..selectors.access import OWNER, require
from .job_kinds import register_job_kind
from .jobs import job_start

READ_CHUNK = 20_000
KINDS = {type(None): columnar.NULL, str: columnar.STRING, bool: columnar.BOOLEAN, int: columnar.NUMBER, float: columnar.NUMBER,
         list: columnar.ARRAY, dict: columnar.OBJECT}


def columns_queue(*, user, version: DatasetVersion) -> None:
    """Called while publishing: a job copies a large version into columns."""
    if connection.vendor == "postgresql" and version.frame_count >= settings.HYPERDATA_COLUMNS_FRAMES:
        job_start(user=user, kind="columns", key=f"columns:{version.pk}", version=version,
                  subject=f"columns of {version.dataset.name} / {version.name}")


def columns_build(*, user, version: DatasetVersion) -> dict:
    """Copy the published version's frames into columns and keep them (again, if they were)."""
    require(user, version, OWNER)
    if not version.is_published:
        raise Conflict(f"version {version.name!r} is a draft: only a published version never changes", field="version")
    frames = FrameRevision.objects.visible_in(version).order_by("pk")
    columns = _with_label_rows(*_frames_meta(frames), frames)
    data = columnar.to_bytes(columns)
    VersionColumns.objects.update_or_create(version=version, defaults={"data": data})
    return {"frames": columns.frames, "label_rows": len(columns.row_label), "paths": len(columns.meta), "bytes": len(data)}


class _Inexact(float):
    """A number a float cannot hold exactly (its text is not the shortest form of the float)."""


def _number(text: str) -> float:
    value = float(text)
    return value if Decimal(repr(value)) == Decimal(text) else _Inexact(value)


def _frames_meta(frames) -> tuple[np.ndarray, dict[str, columnar.MetaColumn], bool, list[str]]:
    """The frames' keys in order, a column per metadata path, whether every path is there (at most MAX_PATHS), and
    the paths left out for their many strings."""
    pks, paths = [], {}
    rows = frames.annotate(_meta_text=Cast("meta", TextField())).values_list("pk", "_meta_text").iterator(chunk_size=READ_CHUNK)
    for index, (pk, text) in enumerate(rows):
        pks.append(pk)
        for path, value in _flattened(json.loads(text, parse_float=_number), ""):
            column = paths.get(path)
            if column is None:
                column = paths[path] = {"at": [], "kinds": [], "values": [], "strings": {}, "exact": True}
            _note(column, index, value)
    kept = list(paths.items())[: columnar.MAX_PATHS]
    meta = {path: _column(column, len(pks)) for path, column in kept if len(column["strings"]) <= columnar.MAX_STRINGS}
    dropped = [path for path, _ in kept if path not in meta]
    return np.array(pks, dtype=np.int64), meta, len(paths) <= columnar.MAX_PATHS, dropped


def _flattened(meta, prefix: str, depth: int = 1):
    """(path, value) of every key up to MAX_DEPTH deep; keys with a dot cannot be named by a query path."""
    if not isinstance(meta, dict):
        return
    for key, value in meta.items():
        if "." in key:
            continue
        yield prefix + key, value
        if isinstance(value, dict) and depth < columnar.MAX_DEPTH:
            yield from _flattened(value, f"{prefix}{key}.", depth + 1)


def _note(column: dict, index: int, value) -> None:
    kind = KINDS.get(type(value), columnar.NUMBER)  # an _Inexact float
    if kind == columnar.STRING:
        number = column["strings"].setdefault(value, len(column["strings"]))
    elif kind in (columnar.NUMBER, columnar.BOOLEAN):
        number = float(value)
        if isinstance(value, _Inexact) or (type(value) is int and abs(value) > 2**53):
            column["exact"] = False
    else:
        number = 0.0
    column["at"].append(index)
    column["kinds"].append(kind)
    column["values"].append(number)


def _column(column: dict, count: int) -> columnar.MetaColumn:
    kinds, values = np.zeros(count, dtype=np.int8), np.zeros(count)
    kinds[column["at"]] = column["kinds"]
    values[column["at"]] = column["values"]
    return columnar.MetaColumn(kinds, values, list(column["strings"]), column["exact"])


def _with_label_rows(pks: np.ndarray, meta: dict, complete: bool, dropped: list[str], frames) -> columnar.Columns:
    """The columns, with the frames' label index rows (in frame and ROI order)."""
    rows = (RoiLabel.objects.filter(revision__in=frames.values("pk")).order_by("revision_id", "roi_index", "pk")
            .values_list("revision_id", "roi_index", "label", "confidence", "is_frame_label").iterator(chunk_size=READ_CHUNK * 5))
    revision, roi_index, confidence, frame_label, label, codes = [], [], [], [], [], {}
    for row in rows:
        revision.append(row[0])
        roi_index.append(row[1])
        label.append(codes.setdefault(row[2], len(codes)))
        confidence.append(np.nan if row[3] is None else row[3])
        frame_label.append(row[4])
    frame = np.searchsorted(pks, np.array(revision, dtype=np.int64)).astype(np.int32)
    roi_index, label = np.array(roi_index, dtype=np.int32), np.array(label, dtype=np.int32)
    new_roi = np.ones(len(frame), dtype=bool)
    new_roi[1:] = (frame[1:] != frame[:-1]) | (roi_index[1:] != roi_index[:-1])
    first = np.zeros(len(frame), dtype=bool)
    first[np.unique(frame.astype(np.int64) * max(len(codes), 1) + label, return_index=True)[1]] = True
    annotated = np.zeros(len(pks), dtype=bool)
    annotated[frame] = True
    return columnar.Columns(
        frames=len(pks), pks=pks, annotated=annotated, meta=meta, complete=complete, dropped=dropped, labels=list(codes),
        row_frame=frame, row_roi=(np.cumsum(new_roi) - 1).astype(np.int32), row_label=label,
        row_confidence=np.array(confidence, dtype=np.float64), row_frame_label=np.array(frame_label, dtype=bool),
        row_first=first, roi_frame=frame[new_roi],
    )


def _columns_job(*, user, job):
    return columns_build(user=user, version=DatasetVersion.objects.select_related("dataset").get(pk=job.version_id))


register_job_kind("columns", _columns_job)
