"""A published version's frames as columns in memory (numpy), and the statistics over them.

A filter nobody asked before costs a pass over every frame in the database (0.7-1.8 s at a million frames). A
published version never changes, so a job copies what filters and statistics read into columns once
(services.columns), and a question is then a few vectorised passes over arrays: milliseconds.

The columns answer counts, label statistics and the panels (a metadata key's numbers or values, ROI confidence, an
ROI metadata key's numbers) exactly as the database does (PostgreSQL's jsonb semantics), or not at all: what they
cannot answer exactly raises Unsupported, and the caller counts in the database as before. columnar_filters says
which frames a filter matches; it answers:
- ROI rules of labels, `logic`, `conf_range` and `roi_query` (labels, confidence and `meta.*` of the ROI, not `id`);
- frame rules (`frame_query`) on `meta.<key>` paths and the frame's columns but its id: terms, phrases, `*`,
  ranges, wildcards and regular expressions (over keys of strings and booleans), AND, OR, NOT (not keys the copy
  did not keep);
- source rules (`sources_query`) on a source's id, uri, content type, width, height, timestamp and `meta.*` (a
  column of text only where the version has no more than MAX_STRINGS distinct ones).

Where only the database knows the answer (its regular expressions, its collation's order of strings), it is asked
about a column's distinct strings (DatabaseTexts), not about every frame.

Frames are numbered 0..n-1 in primary key order; every label index row (RoiLabel) is a row of the `row_*` arrays,
and the ROIs carrying a label are numbered over the version (`row_roi`). A metadata path (`weather`,
`camera.model`) keeps, per row (frame or ROI), the kind of its value and the value: the number, a boolean as 0 or
1, a string's number in `strings`, an array's length.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Protocol

import numpy as np

# Kinds of a metadata value, in PostgreSQL's jsonb order (null < string < number < boolean < array < object, but an
# empty array sorts below null: its documented exception); a missing key is SQL NULL, which no comparison matches.
MISSING, NULL, STRING, NUMBER, BOOLEAN, ARRAY, OBJECT = range(7)
MAX_DEPTH = 3  # metadata paths kept: meta.a.b.c
MAX_PATHS = 64
BOOLEAN_TEXTS = ((1.0, "true"), (0.0, "false"))  # a boolean's value in a column, and its text (`->>`)
MAX_STRINGS = 100_000  # distinct strings a path may have to be kept (file names, ids: compared in the database)


class Unsupported(Exception):
    """The columns cannot answer this filter exactly: count it in the database."""


class DatabaseTexts(Protocol):
    """What only the database can say of strings: selectors.columns asks it about a column's distinct strings."""

    def matching(self, strings: list[str], conditions: list[tuple[str, str]], *, json: bool = False) -> list[int]:
        """The numbers of the strings meeting every (operator, operand): `~` (its regular expression), or a
        comparison (`<`, `<=`, `>=`, `>`) in its collation; with `json`, of the strings as jsonb values."""

    def ordered(self, strings: list[str]) -> list[int]:
        """The numbers of the strings in its collation's order."""

    def frame_keys(self, conditions: list[tuple[str, str]]) -> list[int]:
        """The revision keys of the version's frames whose id meets every (operator, operand): `=` or a comparison,
        found through its index. Unsupported when they are too many to list."""


@dataclass
class MetaColumn:
    kinds: np.ndarray  # int8 per frame
    values: np.ndarray  # float64 per frame: a number, a boolean as 0 or 1, a string's number, an array's length
    strings: list[str]
    exact: bool = True  # every number was read exactly as a float (no integer beyond 2**53, no over-long decimal)
    # each number's text as the database writes it (`->>`), for patterns and category panels; None: unknown (a float
    # written two ways, 1 and 1.0, or more than MAX_STRINGS numbers)
    number_texts: dict[float, str] | None = field(default_factory=dict)

    @cached_property
    def string_codes(self) -> np.ndarray:
        """Per row, its string's number, or -1: strings are picked by a lookup in a table, not by np.isin's sort."""
        return np.where(self.kinds == STRING, self.values, -1).astype(np.int32)

    def texts_known(self, kinds: np.ndarray) -> bool:
        """Whether these values' texts are known here: strings', booleans', numbers' when number_texts says them (an
        array's or an object's is the database's rendering of it)."""
        return not np.isin(kinds, (ARRAY, OBJECT)).any() and (self.number_texts is not None or not (kinds == NUMBER).any())


@dataclass
class MetaTable:
    """The metadata paths of `size` rows (frames, or ROIs), a column each."""

    size: int
    paths: dict[str, MetaColumn]
    complete: bool  # every path up to MAX_DEPTH is kept but `dropped` (a path in neither is missing everywhere)
    dropped: list[str] = field(default_factory=list)  # paths with more than MAX_STRINGS distinct strings

    def column(self, path: str) -> MetaColumn:
        """The path's column; one of no values when it is missing everywhere. A path below a value that is an
        array somewhere is refused: PostgreSQL reads array elements there."""
        keys = path.split(".")
        for depth in range(1, len(keys)):
            above = self.paths.get(".".join(keys[:depth]))
            if above is not None and (above.kinds == ARRAY).any():
                raise Unsupported(f"{path} is below an array")
        column = self.paths.get(path)
        if column is not None:
            return column
        if not self.complete or path in self.dropped:
            raise Unsupported(f"{path} was not copied")
        return MetaColumn(np.zeros(self.size, dtype=np.int8), np.zeros(self.size), [])


@dataclass
class Columns:
    frames: int
    pks: np.ndarray  # int64 per frame: its revision's primary key, ascending
    annotated: np.ndarray  # bool per frame: it has a label row
    meta: MetaTable  # the frames' metadata
    fields: MetaTable  # the frames' columns a frame rule names: context_id, timestamp, saved, num_frames
    sources: MetaTable  # every source row (FrameSource): its columns, and its metadata under `meta.`
    source_frame: np.ndarray  # int32 per source row
    roi_meta: MetaTable  # every ROI's metadata (of the `rois` arrays, labelled or not)
    roi_meta_frame: np.ndarray  # int32 per ROI of roi_meta
    labels: list[str]
    row_frame: np.ndarray  # int32 per label row
    row_roi: np.ndarray  # int32: the ROI, numbered over the version
    row_label: np.ndarray  # int32: the label's number in `labels`
    row_confidence: np.ndarray  # float64, NaN without one
    row_frame_label: np.ndarray  # bool
    row_first: np.ndarray  # bool: the first row of its (frame, label)
    roi_frame: np.ndarray  # int32 per ROI
    roi_position: np.ndarray  # int32 per ROI: its index in its frame's `rois`
    _masks: dict[str, np.ndarray] = field(default_factory=dict, repr=False)  # frames_mask's, newest last

    def label_code(self, label: str) -> int:
        return self._label_codes.get(label, -1)

    @cached_property
    def _label_codes(self) -> dict[str, int]:
        return {name: code for code, name in enumerate(self.labels)}

    def prepared(self) -> "Columns":
        """The columns with what questions derive from them computed now, at load, not in a first question."""
        for derived in (self.roi_confidence, self.labelled_roi_positions, self.row_tally):
            derived.flags.writeable = False
        return self

    @cached_property
    def roi_confidence(self) -> np.ndarray:
        """Per ROI, its confidence (every label row of an ROI carries the ROI's), NaN without one."""
        confidence = np.full(len(self.roi_frame), np.nan)
        confidence[self.row_roi] = self.row_confidence
        return confidence

    @cached_property
    def labelled_roi_positions(self) -> np.ndarray:
        """Per ROI carrying a label, its row in `roi_meta` (which has every ROI, in frame then `rois` order)."""
        return np.searchsorted(self.roi_meta_frame, self.roi_frame) + self.roi_position

    @cached_property
    def row_tally(self) -> np.ndarray:
        """Per label row, where label_stats tallies it: its label's slot of four (first of its frame's rows with
        the label, frame label): one bincount then counts frames, ROIs and frame labels per label at once."""
        return self.row_label.astype(np.int64) * 4 + self.row_first * 2 + self.row_frame_label


def marked(size: int, indexes: np.ndarray) -> np.ndarray:
    """A bool array of `size`, True at `indexes`."""
    mask = np.zeros(size, dtype=bool)
    mask[indexes] = True
    return mask


# -- a metadata key's numbers ---------------------------------------------------------------------------


def meta_figures(columns: Columns, mask: np.ndarray, parts: list[str]) -> dict:
    """selectors.stats.key_aggregate over the frames of `mask`: total, with_key (a value that is not null),
    numbers, and the lowest and highest number (lo, hi)."""
    return _figures(columns.meta.column(checked_path(parts)), mask)


def roi_meta_figures(columns: Columns, mask: np.ndarray, parts: list[str]) -> dict:
    """selectors.roi_stats.roi_meta_aggregate: the same over every ROI of the frames of `mask`."""
    return _figures(columns.roi_meta.column(checked_path(parts)), mask[columns.roi_meta_frame])


def _figures(column: MetaColumn, rows: np.ndarray) -> dict:
    kinds = column.kinds[rows]
    numbers = column.values[rows][kinds == NUMBER]
    if len(numbers) and not column.exact:
        raise Unsupported("a number beyond a float's precision")
    return {"total": int(rows.sum()), "with_key": int((kinds >= STRING).sum()), "numbers": len(numbers),
            "lo": float(numbers.min()) if len(numbers) else None, "hi": float(numbers.max()) if len(numbers) else None}


def bucket_counts(columns: Columns, mask: np.ndarray, parts: list[str], edges) -> dict[int, int]:
    """selectors.stats.meta_bucket_counts: {bucket: frames}, each number's bucket computed as the database does
    (LEAST(FLOOR((value - lo) / width), bins - 1), in double precision)."""
    return _bucket_counts(columns.meta.column(checked_path(parts)), mask, edges)


def roi_bucket_counts(columns: Columns, mask: np.ndarray, parts: list[str], edges) -> dict[int, int]:
    """selectors.roi_stats.roi_meta_counts: {bucket: ROIs} over every ROI of the frames of `mask`."""
    return _bucket_counts(columns.roi_meta.column(checked_path(parts)), mask[columns.roi_meta_frame], edges)


def _bucket_counts(column: MetaColumn, rows: np.ndarray, edges) -> dict[int, int]:
    lo, width, bins, _integral = edges
    numbers = column.values[rows & (column.kinds == NUMBER)]
    buckets, counts = np.unique(np.minimum(np.floor((numbers - lo) / width), bins - 1).astype(np.int64), return_counts=True)
    return {int(bucket): int(count) for bucket, count in zip(buckets, counts)}


def value_counts(columns: Columns, mask: np.ndarray, parts: list[str], top: int | None, texts: DatabaseTexts | None = None) -> dict[str, int]:
    """selectors.stats.value_counts: the frames per value (as text: the string "1", the number 1 and true's "true"
    are counted together, as the database groups them) of a key, the commonest `top` (ties at the cut in the
    database's collation, as its ORDER BY). Values whose text is unknown here: Unsupported (MetaColumn.texts_known)."""
    column = columns.meta.column(checked_path(parts))
    kinds, values = column.kinds[mask], column.values[mask]
    if not column.texts_known(kinds):
        raise Unsupported("values whose text is the database's")
    codes = np.bincount(values[kinds == STRING].astype(np.int64), minlength=len(column.strings))
    counts = {column.strings[code]: int(n) for code, n in enumerate(codes) if n}
    others = [(name, int(((kinds == BOOLEAN) & (values == value)).sum())) for value, name in BOOLEAN_TEXTS]
    numbers, tally = np.unique(values[kinds == NUMBER], return_counts=True)
    others += [(column.number_texts[float(number)], int(n)) for number, n in zip(numbers, tally)]
    for text, n in others:
        if n:
            counts[text] = counts.get(text, 0) + n
    return _commonest(counts, top, texts) if top is not None and len(counts) > top else counts


def _commonest(counts: dict[str, int], top: int, texts: DatabaseTexts | None) -> dict[str, int]:
    """The `top` commonest values; of those tied at the cut, the first in the database's collation."""
    cut = sorted(counts.values(), reverse=True)[top - 1]
    kept = {value: n for value, n in counts.items() if n > cut}
    tied = [value for value, n in counts.items() if n == cut]
    if len(kept) + len(tied) > top:
        if texts is None:
            raise Unsupported("the values tied at the cut are ordered in the database's collation")
        tied = [tied[code] for code in texts.ordered(tied)]
    return {**kept, **{value: cut for value in tied[: top - len(kept)]}}


def confidence_figures(columns: Columns, mask: np.ndarray) -> dict:
    """selectors.roi_stats.confidence_aggregate: the label rows of the frames of `mask` (total), those with a
    confidence (numbers), and its lowest and highest."""
    confidences = columns.row_confidence[mask[columns.row_frame]]
    known = confidences[~np.isnan(confidences)]
    return {"total": len(confidences), "numbers": len(known),
            "lo": float(known.min()) if len(known) else None, "hi": float(known.max()) if len(known) else None}


def confidence_buckets(columns: Columns, mask: np.ndarray, axis) -> dict[str, list[int]]:
    """selectors.roi_stats.confidence_counts: {label: label rows per bucket}, each bucket computed as the database
    does (LEAST(FLOOR((confidence - lo) * (bins / (hi - lo)) + 1e-9), bins - 1))."""
    lo, hi, bins = axis
    rows = mask[columns.row_frame] & ~np.isnan(columns.row_confidence)
    position = (columns.row_confidence[rows] - lo) * (bins / (hi - lo)) + 1e-9
    buckets = np.minimum(np.floor(position), bins - 1).astype(np.int64)
    tally = np.bincount(columns.row_label[rows].astype(np.int64) * bins + buckets, minlength=len(columns.labels) * bins).reshape(-1, bins)
    return {columns.labels[code]: [int(n) for n in counts] for code, counts in enumerate(tally) if counts.any()}


def checked_path(parts: list[str]) -> str:
    if any(part.isdigit() for part in parts) or len(parts) > MAX_DEPTH:
        raise Unsupported("an array index, or a key deeper than the copy")
    return ".".join(parts)


# -- label statistics -----------------------------------------------------------------------------------


def frames_of(columns: Columns, pks) -> np.ndarray | None:
    """The frames with these revision keys, as a mask; None when one is not among them."""
    wanted = np.asarray(pks, dtype=np.int64)
    at = np.minimum(np.searchsorted(columns.pks, wanted), max(columns.frames - 1, 0))
    if columns.frames == 0 or not np.array_equal(columns.pks[at], wanted):
        return None if len(wanted) else np.zeros(columns.frames, dtype=bool)
    return marked(columns.frames, at)


def label_stats(columns: Columns, mask: np.ndarray) -> dict:
    """selectors.stats.label_stats_of over the frames of `mask`."""
    size = len(columns.labels)
    tally = np.bincount(columns.row_tally[mask[columns.row_frame]], minlength=4 * size).reshape(size, 4)
    frames = tally[:, 2] + tally[:, 3]  # first with the label
    rois = tally[:, 0] + tally[:, 2]  # not a frame label
    frame_labels = tally[:, 1] + tally[:, 3]
    entries = [{"label": name, "roi_count": int(rois[code]), "frame_count": int(frames[code]), "frame_label_count": int(frame_labels[code])}
               for code, name in enumerate(columns.labels) if frames[code]]
    return {
        "frame_count": int(mask.sum()),
        "annotated_frame_count": int((mask & columns.annotated).sum()),
        "labels": sorted(entries, key=lambda e: (-e["frame_count"], e["label"])),
    }
