"""A large published version's frames copied into columns (frames.columnar) by a job, once: a published version
never changes. Queued when a version of HYPERDATA_COLUMNS_FRAMES frames or more is published (PostgreSQL, where
the web and the workers share the database that keeps them); selectors.columns reads them.

The copy holds every frame's, source's and ROI's metadata paths (up to columnar.MAX_DEPTH keys deep,
columnar.MAX_PATHS of them), the frame and source columns rules name, and every label index row: at a million frames
(two metadata keys, an ROI key, a source each), 189 MB, built in 51 s.
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
from ..columnar_stored import FORMAT, to_bytes
from ..exceptions import Conflict
from ..models import DatasetVersion, FrameRevision, FrameSource, RoiLabel, VersionColumns
from ..selectors.access import OWNER, require
from .columns_local import keep_local
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


def columns_refresh(*, user) -> int:
    """Queue the columns of every large published version without a copy in the current stored form (one made
    before columnar_stored.FORMAT changed, or none): `serve` calls it as it starts. How many were queued."""
    if connection.vendor != "postgresql":
        return 0
    current = VersionColumns.objects.filter(stored_format=FORMAT).values("version_id")
    versions = (DatasetVersion.objects.filter(status=DatasetVersion.PUBLISHED, frame_count__gte=settings.HYPERDATA_COLUMNS_FRAMES)
                .exclude(pk__in=current).select_related("dataset"))
    for version in versions:
        require(user, version, OWNER)
        columns_queue(user=user, version=version)
    return len(versions)


def columns_build(*, user, version: DatasetVersion) -> dict:
    """Copy the published version's frames into columns and keep them (again, if they were)."""
    require(user, version, OWNER)
    if not version.is_published:
        raise Conflict(f"version {version.name!r} is a draft: only a published version never changes", field="version")
    frames = FrameRevision.objects.visible_in(version).order_by("pk")
    pks, meta, fields = _frames_meta(frames)
    roi_meta, roi_meta_frame = _rois_meta(frames)
    sources, source_frame = _sources(frames, pks)
    columns = _with_label_rows(frames, pks=pks, meta=meta, fields=fields, roi_meta=roi_meta, roi_meta_frame=roi_meta_frame,
                               sources=sources, source_frame=source_frame)
    data = to_bytes(columns)
    VersionColumns.objects.update_or_create(version=version, defaults={"data": data, "stored_format": FORMAT})
    keep_local(version, columns)  # (this host's copy: the web processes beside this worker need not fetch them)
    return {"frames": columns.frames, "label_rows": len(columns.row_label), "rois": roi_meta.size, "paths": len(meta.paths),
            "roi_paths": len(roi_meta.paths), "bytes": len(data)}


class _Fraction(float):
    """A number the database wrote with a fraction or an exponent: its value, its text (as `->>` reads it: "1.50"
    is 1.5 written otherwise), and whether a float holds it exactly."""

    text: str
    exact: bool


def _number(text: str) -> float:
    value = _Fraction(text)
    value.text, value.exact = text, Decimal(repr(float(value))) == Decimal(text)
    return value


class _Paths:
    """Collects the metadata paths of rows (frames or ROIs) into a columnar.MetaTable."""

    def __init__(self):
        self.paths: dict[str, dict] = {}
        self.rows = 0

    def add(self, meta) -> None:
        for path, value in _flattened(meta, ""):
            column = self.paths.get(path)
            if column is None:
                column = self.paths[path] = {"at": [], "kinds": [], "values": [], "strings": {}, "exact": True, "number_texts": {}}
            _note(column, self.rows, value)
        self.rows += 1

    def table(self) -> columnar.MetaTable:
        """At most MAX_PATHS paths, each of at most MAX_STRINGS distinct strings (the others are `dropped`)."""
        kept = list(self.paths.items())[: columnar.MAX_PATHS]
        columns = {path: _column(column, self.rows) for path, column in kept if len(column["strings"]) <= columnar.MAX_STRINGS}
        return columnar.MetaTable(self.rows, columns, len(self.paths) <= columnar.MAX_PATHS, [path for path, _ in kept if path not in columns])


FIELDS = ("context_id", "timestamp", "saved", "num_frames")  # the frame columns a frame rule may name (not its id)


def _frames_meta(frames) -> tuple[np.ndarray, columnar.MetaTable, columnar.MetaTable]:
    """The frames' keys in order, their metadata, and their FIELDS."""
    pks, paths, fields = [], _Paths(), _Paths()
    rows = frames.annotate(_meta_text=Cast("meta", TextField())).values_list("pk", "_meta_text", *FIELDS).iterator(chunk_size=READ_CHUNK)
    for pk, text, *values in rows:
        pks.append(pk)
        paths.add(json.loads(text, parse_float=_number))
        fields.add(dict(zip(FIELDS, values)))
    return np.array(pks, dtype=np.int64), paths.table(), fields.table()


SOURCE_FIELDS = ("source_id", "uri", "content_type", "width", "height", "timestamp")


def _sources(frames, pks: np.ndarray) -> tuple[columnar.MetaTable, np.ndarray]:
    """Every source row of the frames (in frame order): its SOURCE_FIELDS and its metadata (under `meta.`), and
    each row's frame."""
    rows = (FrameSource.objects.filter(revision__in=frames.values("pk")).order_by("revision_id", "pk")
            .annotate(_meta_text=Cast("meta", TextField())).values_list("revision_id", "_meta_text", *SOURCE_FIELDS)
            .iterator(chunk_size=READ_CHUNK))
    paths, revisions = _Paths(), []
    for revision, text, *values in rows:
        revisions.append(revision)
        paths.add({**dict(zip(SOURCE_FIELDS, values)), "meta": json.loads(text, parse_float=_number)})
    return paths.table(), _frames_of(pks, revisions)


def _rois_meta(frames) -> tuple[columnar.MetaTable, np.ndarray]:
    """Every ROI's metadata, in frame order then `rois` order, and each ROI's frame."""
    paths, frame_of = _Paths(), []
    for index, metas in enumerate(_roi_metas(frames)):
        for meta in metas:
            paths.add(meta)
            frame_of.append(index)
    return paths.table(), np.array(frame_of, dtype=np.int32)


def _roi_metas(frames):
    """Per frame, its ROIs' `meta`. On PostgreSQL only those are read (an ROI's polygon is most of its JSON)."""
    if connection.vendor != "postgresql":  # (SQLite keeps columns nobody reads: selectors.columns)
        for rois in frames.values_list("rois", flat=True).iterator(chunk_size=READ_CHUNK):
            yield [roi.get("meta") if isinstance(roi, dict) else None for roi in rois] if isinstance(rois, list) else []
        return
    frame_sql, params = frames.values("pk").query.sql_with_params()
    sql = (f"SELECT (SELECT jsonb_agg(r.value -> 'meta' ORDER BY r.n) FROM jsonb_array_elements(CASE WHEN jsonb_typeof(f.rois) = 'array' "
           f"THEN f.rois ELSE '[]' END) WITH ORDINALITY r(value, n))::text FROM {FrameRevision._meta.db_table} f "
           f"WHERE f.id IN ({frame_sql}) ORDER BY f.id")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(READ_CHUNK):
            for (text,) in rows:
                yield json.loads(text, parse_float=_number) if text else []


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
    kind = KINDS.get(type(value), columnar.NUMBER)  # a _Fraction
    if kind == columnar.STRING:
        number = column["strings"].setdefault(value, len(column["strings"]))
    elif kind == columnar.BOOLEAN:
        number = float(value)
    elif kind == columnar.NUMBER:
        number = float(value)
        if not getattr(value, "exact", abs(value) <= 2**53):
            column["exact"] = False
        _note_text(column, number, getattr(value, "text", None) or str(value))
    else:  # an array's length (an empty one sorts apart), an object's 0
        number = float(len(value)) if kind == columnar.ARRAY else 0.0
    column["at"].append(index)
    column["kinds"].append(kind)
    column["values"].append(number)


def _note_text(column: dict, number: float, text: str) -> None:
    """Keep each number's text while one text stands for one float, and they are no more than MAX_STRINGS."""
    texts = column["number_texts"]
    if texts is not None and (texts.setdefault(number, text) != text or len(texts) > columnar.MAX_STRINGS):
        column["number_texts"] = None


def _column(column: dict, count: int) -> columnar.MetaColumn:
    kinds, values = np.zeros(count, dtype=np.int8), np.zeros(count)
    kinds[column["at"]] = column["kinds"]
    values[column["at"]] = column["values"]
    return columnar.MetaColumn(kinds, values, list(column["strings"]), column["exact"], column["number_texts"])


def _frames_of(pks: np.ndarray, revisions: list[int]) -> np.ndarray:
    """The frame number of each revision key (all of them among `pks`, ascending)."""
    return np.searchsorted(pks, np.array(revisions, dtype=np.int64)).astype(np.int32)


def _with_label_rows(frames, *, pks: np.ndarray, **tables) -> columnar.Columns:
    """The columns: `tables` (meta, fields, sources, source_frame, roi_meta, roi_meta_frame) with the frames' label
    index rows (in frame and ROI order)."""
    rows = (RoiLabel.objects.filter(revision__in=frames.values("pk")).order_by("revision_id", "roi_index", "pk")
            .values_list("revision_id", "roi_index", "label", "confidence", "is_frame_label").iterator(chunk_size=READ_CHUNK * 5))
    revision, roi_index, confidence, frame_label, label, codes = [], [], [], [], [], {}
    for row in rows:
        revision.append(row[0])
        roi_index.append(row[1])
        label.append(codes.setdefault(row[2], len(codes)))
        confidence.append(np.nan if row[3] is None else row[3])
        frame_label.append(row[4])
    frame = _frames_of(pks, revision)
    roi_index, label = np.array(roi_index, dtype=np.int32), np.array(label, dtype=np.int32)
    new_roi = np.ones(len(frame), dtype=bool)
    new_roi[1:] = (frame[1:] != frame[:-1]) | (roi_index[1:] != roi_index[:-1])
    first = np.zeros(len(frame), dtype=bool)
    first[np.unique(frame.astype(np.int64) * max(len(codes), 1) + label, return_index=True)[1]] = True
    annotated = np.zeros(len(pks), dtype=bool)
    annotated[frame] = True
    return columnar.Columns(
        frames=len(pks), pks=pks, annotated=annotated, labels=list(codes), **tables,
        row_frame=frame, row_roi=(np.cumsum(new_roi) - 1).astype(np.int32), row_label=label,
        row_confidence=np.array(confidence, dtype=np.float64), row_frame_label=np.array(frame_label, dtype=bool),
        row_first=first, roi_frame=frame[new_roi], roi_position=roi_index[new_roi],
    )


def _columns_job(*, user, job):
    return columns_build(user=user, version=DatasetVersion.objects.select_related("dataset").get(pk=job.version_id))


register_job_kind("columns", _columns_job)
