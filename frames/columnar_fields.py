"""The leaves of a frame filter over a version's columns (columnar_filters walks the rule): fields of four kinds, a
JSON value (a frame's, a source's or an ROI's `meta.*`), a column of text (a context id, a source's uri), a column
of numbers (a timestamp, a source's width, an ROI's confidence), and an ROI's labels; and a frame's id. Each says
which rows a term, a phrase, `*`, a range, a wildcard or a regular expression matches, exactly as the database's
query would, or raises Unsupported.

NULL (a missing key, no confidence) matches nothing. A wildcard is matched here (lucene.wildcard_regex, as
PostgreSQL reads it). A regular expression, in PostgreSQL's dialect, and a string bound, in its collation, are put to
the database (columnar.DatabaseTexts) about the field's distinct texts; the rows holding the texts it picks are then
marked here.
"""
from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
from luqum import tree

from .columnar import (ARRAY, BOOLEAN, BOOLEAN_TEXTS, MISSING, NUMBER, STRING, Columns, DatabaseTexts, MetaColumn, Unsupported,
                       checked_path, frames_of, marked)
from .filters import ROI_LABELS, resolve_frame_field, resolve_roi_field, resolve_source_field
from .lucene import Column, JsonPath, LuceneError, term_number, unquoted, wildcard_regex


def rois_labelled(columns: Columns, rows: np.ndarray) -> np.ndarray:
    """The ROIs (carrying a label) with one of these label rows."""
    return marked(len(columns.roi_frame), columns.row_roi[rows])


def frame_field(columns: Columns, name: str, texts):
    """A frame rule's field: a `meta.*` path, its id, or another of the frame's columns."""
    field_ = _resolved(resolve_frame_field, name)
    if isinstance(field_, JsonPath):
        return _JsonField(columns.meta.column(checked_path(list(field_.keys))), texts)
    if field_.name == "frame_id":
        return _FrameIdField(columns, texts)
    return _column_field(columns.fields.paths.get(field_.name), field_, name, texts)


def source_field(columns: Columns, name: str, texts):
    """A source rule's field over the source rows: a column of the row, or a `meta.*` path."""
    field_ = _resolved(resolve_source_field, name)
    if isinstance(field_, JsonPath):
        return _JsonField(columns.sources.column(checked_path(["meta", *field_.keys])), texts)
    return _column_field(columns.sources.paths.get(field_.name), field_, name, texts)


def _column_field(column: MetaColumn | None, field_: Column, name: str, texts):
    """A plain column of the database: a number (NULL: none) or a text."""
    if column is None or not column.exact:
        raise Unsupported(f"field {name}")
    if field_.numeric:
        return _NumberField(np.where(column.kinds == NUMBER, column.values, np.nan))
    return _TextField(column, texts)


def roi_field(columns: Columns, name: str, texts):
    """An ROI rule's field over the ROIs carrying a label: their labels, confidence, or metadata (not `id`)."""
    field_ = _resolved(resolve_roi_field, name)
    if field_ is ROI_LABELS:
        return LabelsField(columns, texts)
    if isinstance(field_, Column) and field_.name == "confidence":
        return _NumberField(columns.roi_confidence)
    if isinstance(field_, JsonPath) and field_.keys[0] == "meta" and len(field_.keys) > 1:
        column = columns.roi_meta.column(checked_path(list(field_.keys[1:])))
        at = columns.labelled_roi_positions
        return _JsonField(replace(column, kinds=column.kinds[at], values=column.values[at]), texts)
    raise Unsupported(f"field {name}")


def _resolved(resolve, name: str):
    try:
        return resolve(name)
    except LuceneError as exc:
        raise Unsupported(str(exc)) from None


class _JsonField:
    """A JSON value per row, compared as jsonb compares it."""

    def __init__(self, column: MetaColumn, texts: DatabaseTexts | None):
        self.column, self.texts = column, texts

    def exists(self) -> np.ndarray:
        return self.column.kinds != MISSING

    def exact(self, text: str, *, quoted: bool) -> np.ndarray:
        """lucene._Translator.exact on a JSON path: the string, or (unquoted) the number or boolean it spells."""
        column = self.column
        mask = _in_strings(column, [text])
        number = None if quoted else term_number(text)
        if number is not None:
            mask |= (column.kinds == NUMBER) & (column.values == self.checked(number))
        if not quoted and text in ("true", "false"):
            mask |= (column.kinds == BOOLEAN) & (column.values == (text == "true"))
        return mask

    def wildcard(self, text: str) -> np.ndarray:
        pattern = _pattern(text)
        return self._by_text(lambda texts: _wildcard_codes(pattern, texts))

    def regex(self, pattern: str) -> np.ndarray:
        return self._by_text(lambda texts: _database(self.texts).matching(texts, [("~", pattern)]))

    def _by_text(self, matching) -> np.ndarray:
        """The values whose text (`->>`) `matching` picks from a list of texts: the strings, then the booleans', then
        the numbers' (MetaColumn.texts_known)."""
        column = self.column
        if not column.texts_known(column.kinds):
            raise Unsupported("a pattern over values whose text is the database's")
        numbers = list(column.number_texts or ())
        booleans_at, numbers_at = len(column.strings), len(column.strings) + len(BOOLEAN_TEXTS)
        codes = np.asarray(matching([*column.strings, *(name for _, name in BOOLEAN_TEXTS), *(column.number_texts[n] for n in numbers)]),
                           dtype=np.int64)
        mask = _in_codes(column, codes[codes < booleans_at])
        for position, (value, _) in enumerate(BOOLEAN_TEXTS, start=booleans_at):
            if position in codes:
                mask |= (column.kinds == BOOLEAN) & (column.values == value)
        picked = [numbers[code - numbers_at] for code in codes[codes >= numbers_at]]
        return mask | ((column.kinds == NUMBER) & np.isin(column.values, picked))

    def checked(self, number) -> float:
        if not self.column.exact:
            raise Unsupported("a number beyond a float's precision")
        return _finite(number)

    def range(self, node: tree.Range) -> np.ndarray:
        """jsonb order: null < string < number < boolean < array < object, but for PostgreSQL's exception of an
        empty array, below everything. A bound compares with the values of its kind; a string in the database's
        collation."""
        kinds, values = self.column.kinds, self.column.values
        empty = (kinds == ARRAY) & (values == 0)  # an array's value is its length
        mask, strings = np.ones(len(kinds), dtype=bool), []
        for text, include, below in _given(node):
            mask &= kinds != MISSING
            number = term_number(text)
            if number is None:
                strings.append((_operator(include, below), text))
                same = kinds == STRING  # which of them: asked below
            else:
                same = (kinds == NUMBER) & _compared(values, self.checked(number), include, below)
            kind = STRING if number is None else NUMBER
            mask &= same | (((kinds < kind) | empty) if below else ((kinds > kind) & ~empty))
        if strings:
            mask &= (kinds != STRING) | _in_codes(self.column, _database(self.texts).matching(self.column.strings, strings, json=True))
        return mask


class _TextField:
    """A text column (a frame's context id, a source's uri): equal, matching a pattern, or in a range."""

    def __init__(self, column: MetaColumn, texts: DatabaseTexts | None):
        self.column, self.texts = column, texts

    def exists(self) -> np.ndarray:
        return np.ones(len(self.column.kinds), dtype=bool)  # NOT NULL

    def exact(self, text: str, *, quoted: bool) -> np.ndarray:
        return _in_strings(self.column, [text])

    def wildcard(self, text: str) -> np.ndarray:
        pattern = _pattern(text)
        return _in_codes(self.column, _wildcard_codes(pattern, self.column.strings))

    def regex(self, pattern: str) -> np.ndarray:
        return _in_codes(self.column, _database(self.texts).matching(self.column.strings, [("~", pattern)]))

    def range(self, node: tree.Range) -> np.ndarray:
        conditions = _text_conditions(node)
        if not conditions:
            return self.exists()
        return _in_codes(self.column, _database(self.texts).matching(self.column.strings, conditions))


class _FrameIdField:
    """A frame's id: its terms and ranges are found through the database's index (as many ids as frames: the
    columns keep none), a pattern over them is Unsupported (the database reads every id)."""

    def __init__(self, columns: Columns, texts: DatabaseTexts | None):
        self.columns, self.texts = columns, texts

    def exists(self) -> np.ndarray:
        return np.ones(self.columns.frames, dtype=bool)  # NOT NULL

    def exact(self, text: str, *, quoted: bool) -> np.ndarray:
        return self._frames([("=", text)])

    def range(self, node: tree.Range) -> np.ndarray:
        conditions = _text_conditions(node)
        return self._frames(conditions) if conditions else self.exists()

    def wildcard(self, text: str) -> np.ndarray:
        raise Unsupported("a pattern over the frames' ids")

    regex = wildcard

    def _frames(self, conditions: list[tuple[str, str]]) -> np.ndarray:
        frames = frames_of(self.columns, _database(self.texts).frame_keys(conditions))
        if frames is None:
            raise Unsupported("a revision the columns do not have")
        return frames


class LabelsField:
    """An ROI's labels: `labels:car` holds when one of its label rows says car."""

    def __init__(self, columns: Columns, texts: DatabaseTexts | None):
        self.columns, self.texts = columns, texts

    def exists(self) -> np.ndarray:
        return np.ones(len(self.columns.roi_frame), dtype=bool)

    def exact(self, text: str, *, quoted: bool) -> np.ndarray:
        return rois_labelled(self.columns, self.columns.row_label == self.columns.label_code(text))

    def wildcard(self, text: str) -> np.ndarray:
        pattern = _pattern(text)
        return self._labelled(_wildcard_codes(pattern, self.columns.labels))

    def regex(self, pattern: str) -> np.ndarray:
        return self._labelled(_database(self.texts).matching(self.columns.labels, [("~", pattern)]))

    def range(self, node: tree.Range) -> np.ndarray:
        """One label row within both bounds (lucene's Related field asks it of a row)."""
        conditions = _text_conditions(node)
        if not conditions:
            return self.exists()
        return self._labelled(_database(self.texts).matching(self.columns.labels, conditions))

    def _labelled(self, codes) -> np.ndarray:
        picked = np.zeros(len(self.columns.labels), dtype=bool)
        picked[np.asarray(codes, dtype=np.int64)] = True
        return rois_labelled(self.columns, picked[self.columns.row_label])


class _NumberField:
    """A number column (a timestamp, a source's width, an ROI's confidence), NaN where it has none."""

    def __init__(self, values: np.ndarray):
        self.values = values

    def exists(self) -> np.ndarray:
        return ~np.isnan(self.values)

    def exact(self, text: str, *, quoted: bool) -> np.ndarray:
        number = term_number(text)
        if number is None:
            raise Unsupported(f"{text!r} is not a number")
        return self.values == _finite(number)

    def wildcard(self, text: str) -> np.ndarray:
        raise Unsupported("a wildcard on a number")

    regex = wildcard

    def range(self, node: tree.Range) -> np.ndarray:
        mask = np.ones(len(self.values), dtype=bool)
        for text, include, below in _given(node):
            number = term_number(text)
            if number is None:
                raise Unsupported(f"{text!r} is not a number")
            mask &= _compared(self.values, _finite(number), include, below)  # NaN compares False
        return mask


def _given(node: tree.Range):
    """(text, inclusive, upper) of each bound given (not `*`)."""
    for bound, include, below in ((node.low, node.include_low, False), (node.high, node.include_high, True)):
        text = unquoted(str(bound.value))
        if text != "*":
            yield text, include, below


def _compared(values: np.ndarray, bound: float, include: bool, below: bool) -> np.ndarray:
    if below:
        return (values <= bound) if include else (values < bound)
    return (values >= bound) if include else (values > bound)


def _operator(include: bool, below: bool) -> str:
    return ("<=" if include else "<") if below else (">=" if include else ">")


def _text_conditions(node: tree.Range) -> list[tuple[str, str]]:
    """A text column's bounds as the ORM compares them: a number bound as the text of the number it spells
    (CharField.to_python of 1e3 is "1000.0")."""
    conditions = []
    for text, include, below in _given(node):
        number = term_number(text)
        conditions.append((_operator(include, below), text if number is None else str(number)))
    return conditions


def _database(texts: DatabaseTexts | None) -> DatabaseTexts:
    if texts is None:
        raise Unsupported("a regular expression or a string bound, without the database to ask")
    return texts


def _finite(number) -> float:
    if not np.isfinite(number) or (isinstance(number, int) and abs(number) > 2**53):
        raise Unsupported("a number beyond a float's precision")
    return float(number)


def _in_strings(column: MetaColumn, texts: list[str]) -> np.ndarray:
    wanted = set(texts)
    return _in_codes(column, [code for code, value in enumerate(column.strings) if value in wanted])


def _in_codes(column: MetaColumn, codes) -> np.ndarray:
    """The rows holding one of these strings (by number)."""
    picked = np.zeros(len(column.strings) + 1, dtype=bool)  # the last: -1, not a string
    picked[np.asarray(codes, dtype=np.int64)] = True
    return picked[column.string_codes]


def _wildcard_codes(pattern: re.Pattern, texts: list[str]) -> list[int]:
    """The numbers of the texts a wildcard's pattern matches whole."""
    return [code for code, text in enumerate(texts) if pattern.fullmatch(text)]


def _pattern(text: str) -> re.Pattern:
    """lucene.wildcard_regex as PostgreSQL matches it: `^...$` over the whole text, `.` matching a newline too."""
    return re.compile(wildcard_regex(text)[1:-1], re.DOTALL)
