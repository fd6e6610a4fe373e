"""Counts, label statistics and panels of a published version read from its columns (frames.columnar, built by
services.columns), when it has them and they answer exactly; None otherwise (the caller counts).

A web process keeps the columns of the last COLUMNS_KEPT versions it was asked about open: the first question
maps them from this host's copy on disk (columns_local_path, kept by services.columns_local: 15-20 ms to a first
answer at a million frames), or, without one, loads them from the database (about 0.8 s); later ones take
milliseconds. A published version never changes, so what is loaded never goes stale."""
from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

from django.conf import settings
from django.db import connection

from .. import columnar
from ..columnar_filters import frames_mask
from ..columnar_stored import FORMAT, from_bytes, from_directory
from ..models import DatasetVersion, FrameRevision, VersionColumns
from .access import VIEWER, require
from .roi_stats import confidence_answer, confidence_axis, roi_meta_answer
from .stats import categorical_answer, histogram_edges, numeric_answer

COLUMNS_KEPT = 2
_loaded: OrderedDict[str, columnar.Columns] = OrderedDict()
_loading = threading.Lock()


def columnar_count(*, user, version: DatasetVersion, filters=()) -> int | None:
    require(user, version, VIEWER)
    return _answered(version, filters, lambda columns, mask: int(mask.sum()))


def columnar_label_stats(*, user, version: DatasetVersion, filters=()) -> dict | None:
    require(user, version, VIEWER)
    return _answered(version, filters, columnar.label_stats)


def columnar_distribution(*, user, version: DatasetVersion, parts: list[str], filters=(), bins: int, top: int) -> dict | None:
    """stats.meta_distribution of a key: its numbers' histogram, or its commonest `top` values as text (see
    columnar.value_counts)."""
    require(user, version, VIEWER)

    def answer(columns, mask) -> dict:
        figures = columnar.meta_figures(columns, mask, parts)
        if not figures["with_key"] or figures["numbers"] * 2 < figures["with_key"]:
            values = columnar.value_counts(columns, mask, parts, top, DATABASE_TEXTS) if figures["with_key"] else {}
            return categorical_answer(figures, values, top, key=".".join(parts))
        edges = histogram_edges(figures["lo"], figures["hi"], bins)
        return numeric_answer(figures, edges, columnar.bucket_counts(columns, mask, parts, edges), key=".".join(parts))
    return _answered(version, filters, answer)


def columnar_roi_meta_distribution(*, user, version: DatasetVersion, parts: list[str], filters=(), bins: int) -> dict | None:
    """roi_stats' histogram of ROI metadata key `parts` over every ROI of the frames under the filters."""
    require(user, version, VIEWER)

    def answer(columns, mask) -> dict:
        figures = columnar.roi_meta_figures(columns, mask, parts)
        if not figures["numbers"]:
            return roi_meta_answer(figures, parts, None, {})
        edges = histogram_edges(figures["lo"], figures["hi"], bins)
        return roi_meta_answer(figures, parts, edges, columnar.roi_bucket_counts(columns, mask, parts, edges))
    return _answered(version, filters, answer)


def columnar_confidence(*, user, version: DatasetVersion, filters=(), bins: int) -> dict | None:
    """roi_stats' confidence histogram (by label) of the frames under the filters."""
    require(user, version, VIEWER)

    def answer(columns, mask) -> dict:
        figures = columnar.confidence_figures(columns, mask)
        if not figures["numbers"]:
            return confidence_answer(figures, None, {})
        axis = confidence_axis(figures, bins)
        return confidence_answer(figures, axis, columnar.confidence_buckets(columns, mask, axis))
    return _answered(version, filters, answer)


def columnar_among(*, user, version: DatasetVersion, filters, pks) -> tuple[columnar.Columns, object] | None:
    """The version's columns and which of its frames among these revisions the filters match (a draft child's
    replaced frames: selectors.stats_delta), or None."""
    require(user, version, VIEWER)

    def among(columns, mask):
        listed = columnar.frames_of(columns, pks)
        return None if listed is None else (columns, mask & listed)
    return _answered(version, filters, among)


def _answered(version: DatasetVersion, filters, answer):
    """answer(columns, mask of the frames the filters match), or None: no columns, or they cannot answer exactly."""
    columns = _columns(version)
    if columns is None:
        return None
    try:
        return answer(columns, frames_mask(columns, filters, _DatabaseTexts(version)))
    except columnar.Unsupported:
        return None


def has_columns(version: DatasetVersion) -> bool:
    """Whether the version is one services.columns copies into columns (large, published, on PostgreSQL)."""
    return version.is_published and version.frame_count >= settings.HYPERDATA_COLUMNS_FRAMES and connection.vendor == "postgresql"


def columns_local_path(version_id: str) -> Path:
    """Where this host keeps its copy of a version's columns (columnar_stored.to_directory)."""
    return settings.HYPERDATA_COLUMNS_DIR / f"{version_id}-{FORMAT}"


def columns_stored(*, user, version: DatasetVersion) -> bytes | None:
    """The columns' bytes as the database keeps them (None: none in the current stored form)."""
    require(user, version, VIEWER)
    return _stored(version)


def _columns(version: DatasetVersion) -> columnar.Columns | None:
    if not has_columns(version):
        return None
    with _loading:  # one load per process, not one per thread asking at once
        columns = _loaded.get(version.pk)
        if columns is None:
            columns = _read(version)
            if columns is None:
                return None
            _loaded[version.pk] = columns.prepared()
            while len(_loaded) > COLUMNS_KEPT:
                _loaded.popitem(last=False)
        _loaded.move_to_end(version.pk)
        return columns


def _read(version: DatasetVersion) -> columnar.Columns | None:
    """The columns from this host's copy, else from the database."""
    try:
        return from_directory(columns_local_path(version.pk))
    except OSError:  # none on this host (or removed as it was read)
        pass
    data = _stored(version)
    return from_bytes(data) if data is not None else None


def _stored(version: DatasetVersion) -> bytes | None:
    """The columns' bytes, fetched in psycopg's binary format: as they are, not as hex text to decode (250 ms
    against 800 ms for 64 MB). A copy in another stored form is not fetched (a few hundred MB, on every question)."""
    with connection.cursor() as cursor:
        cursor.cursor.execute(f"SELECT data FROM {VersionColumns._meta.db_table} WHERE version_id = %s AND stored_format = %s",
                              [version.pk, FORMAT], binary=True)
        row = cursor.cursor.fetchone()
    return None if row is None else bytes(row[0])


class _DatabaseTexts:
    """columnar.DatabaseTexts: PostgreSQL's regular expressions and collation, asked about a column's distinct
    strings (at most columnar.MAX_STRINGS, mostly a handful), so that the columns answer exactly as the query over
    every frame does, in a millisecond or a few."""

    COMPARISONS = ("<", "<=", ">=", ">")
    SEPARATORS = ("\n", "\x1f", "\x1e", "\x01")
    LOOKUPS = {"=": "exact", "<": "lt", "<=": "lte", ">=": "gte", ">": "gt"}
    MAX_FRAME_KEYS = 100_000  # more frames named by their ids are counted in the database

    def __init__(self, version: DatasetVersion | None = None):
        self.version = version  # whose frames frame_keys looks up

    def matching(self, strings: list[str], conditions: list[tuple[str, str]], *, json: bool = False) -> list[int]:
        """As lucene's lookups ask them: `~` on the text, a comparison of text (`col >= 'a'`) or of jsonb
        (`meta -> 'k' >= '"a"'`)."""
        where = []
        for operator, _ in conditions:
            if operator == "~":
                where.append("s ~ %s")
            elif operator in self.COMPARISONS:
                where.append(f"to_jsonb(s) {operator} to_jsonb(%s::text)" if json else f"s {operator} %s")
            else:
                raise ValueError(f"operator {operator!r}")
        return self._numbers(strings, f"WHERE {' AND '.join(where)}", [operand for _, operand in conditions])

    def ordered(self, strings: list[str]) -> list[int]:
        return self._numbers(strings, "ORDER BY s", [])

    def frame_keys(self, conditions: list[tuple[str, str]]) -> list[int]:
        """As lucene's lookups on `frame_id` ask them, through the frame table's index on (dataset, frame id)."""
        if self.version is None:
            raise columnar.Unsupported("frame ids without a version")
        lookups = {f"frame_id__{self.LOOKUPS[operator]}": operand for operator, operand in conditions}
        keys = list(FrameRevision.objects.visible_in(self.version).filter(**lookups).values_list("pk", flat=True)[: self.MAX_FRAME_KEYS + 1])
        if len(keys) > self.MAX_FRAME_KEYS:
            raise columnar.Unsupported("more frames than are worth listing by id")
        return sorted(keys)

    def _numbers(self, strings: list[str], clause: str, params: list) -> list[int]:
        """`SELECT i - 1 ... {clause}` over the strings numbered from 1 (as t(s, i))."""
        if not strings:
            return []
        listed, listed_params = self._listed(strings)
        with connection.cursor() as cursor:  # (a regular expression was checked when the filter was read: lucene)
            cursor.execute(f"SELECT i - 1 FROM {listed} WITH ORDINALITY AS t(s, i) {clause}", [*listed_params, *params])
            return [number for (number,) in cursor.fetchall()]

    def _listed(self, strings: list[str]) -> tuple[str, list]:
        """The strings as a set-returning SQL expression: one text split by a separator none of them holds (20,000
        strings in 4 ms; as a text[] parameter, 30 ms, spent quoting each), else a text[]."""
        for separator in self.SEPARATORS:
            joined = separator.join(strings)
            if joined and joined.count(separator) == len(strings) - 1:
                return "unnest(string_to_array(%s, %s))", [joined, separator]
        return "unnest(%s::text[])", [list(strings)]


DATABASE_TEXTS = _DatabaseTexts()
