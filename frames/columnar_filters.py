"""Frame filters (frames.filters) over a version's columns (frames.columnar): which frames they match, as a bool
array, exactly as the database's query would, or Unsupported.

A Lucene rule is walked as lucene._Translator walks it. Its leaves are fields of four kinds: a JSON value (a
frame's, a source's or an ROI's `meta.*`), a column of text (a context id, a source's uri), a column of numbers (a
timestamp, a source's width, an ROI's confidence), and an ROI's labels. NULL (a missing key, no
confidence) matches nothing, and NOT is the complement, as the translator's NOT EXISTS is. ROI rules are evaluated
per ROI carrying a label (every label row of an ROI answers the same), then per frame.

A wildcard is matched here (lucene.wildcard_regex, as PostgreSQL reads it). A regular expression, in PostgreSQL's
dialect, and a string bound, in its collation, are put to the database (columnar.DatabaseTexts) about the field's
distinct texts; the rows holding the texts it picks are then marked here.
"""
from __future__ import annotations

import re
import threading
from dataclasses import replace

import numpy as np
from luqum import tree

from .columnar import (ARRAY, BOOLEAN, BOOLEAN_TEXTS, MISSING, NUMBER, STRING, Columns, DatabaseTexts, MetaColumn, Unsupported,
                       checked_path, frames_of, marked)
from .filters import ROI_LABELS, FrameFilter, RoiRule, filtering, resolve_frame_field, resolve_roi_field, resolve_source_field
from .lucene import Column, JsonPath, LuceneError, parse, term_number, unquoted, wildcard_regex

_masks_kept = threading.Lock()
MASKS_KEPT = 8  # the last filters' masks (a draft's answer reads its parent's twice: its answer, its replaced frames)


def frames_mask(columns: Columns, filters, texts: DatabaseTexts | None = None) -> np.ndarray:
    """Which frames the filters (OR-ed blocks) match, as a bool array (read-only: it is kept for the next
    question); Unsupported when not exactly known. Regular expressions and string bounds are the database's:
    without `texts` they are Unsupported."""
    key = repr(tuple(filters or ()))
    with _masks_kept:
        mask = columns._masks.get(key)
    if mask is None:
        mask = _filters_mask(columns, filters, texts)
        mask.flags.writeable = False
    with _masks_kept:  # a web process's threads ask at once
        columns._masks.pop(key, None)
        columns._masks[key] = mask
        while len(columns._masks) > MASKS_KEPT:
            columns._masks.pop(next(iter(columns._masks)))
    return mask


def _filters_mask(columns: Columns, filters, texts) -> np.ndarray:
    if not filtering(filters):
        return np.ones(columns.frames, dtype=bool)
    mask = np.zeros(columns.frames, dtype=bool)
    for block in filters:
        mask |= _block_mask(columns, block, texts)
    return mask


def _block_mask(columns: Columns, block: FrameFilter, texts) -> np.ndarray:
    mask = np.ones(columns.frames, dtype=bool)
    for rule in block.roi_rules:
        mask &= _rule_mask(columns, rule, texts)
    if block.frame_query:
        mask &= _Query(lambda name: _frame_field(columns, name, texts)).visit(parse(block.frame_query), None)
    if block.sources_query:  # frames with a source row matching it
        rows = _Query(lambda name: _source_field(columns, name, texts)).visit(parse(block.sources_query), None)
        mask &= marked(columns.frames, columns.source_frame[rows])
    return mask


def _rule_mask(columns: Columns, rule: RoiRule, texts) -> np.ndarray:
    """filters._roi_rule_q: frames with an ROI carrying every label of the rule, the first within the range, and
    matching its query."""
    labels = list(rule.labels)
    rows = columns.row_label == columns.label_code(labels[0]) if labels else np.ones(len(columns.row_label), dtype=bool)
    if rule.conf_range:
        low, high = rule.conf_range
        rows &= (columns.row_confidence >= low) & (columns.row_confidence <= high)
    rois = _rois_labelled(columns, rows)
    for label in labels[1:]:
        rois &= _rois_labelled(columns, columns.row_label == columns.label_code(label))
    if rule.query:
        rois &= _Query(lambda name: _roi_field(columns, name, texts)).visit(parse(rule.query), _LabelsField(columns, texts))
    frames = marked(columns.frames, columns.roi_frame[rois])
    return ~frames if rule.exclude else frames


def _rois_labelled(columns: Columns, rows: np.ndarray) -> np.ndarray:
    """The ROIs (carrying a label) with one of these label rows."""
    return marked(len(columns.roi_frame), columns.row_roi[rows])


# -- fields -------------------------------------------------------------------------------------------------


def _frame_field(columns: Columns, name: str, texts):
    """A frame rule's field: a `meta.*` path, its id, or another of the frame's columns."""
    field_ = _resolved(resolve_frame_field, name)
    if isinstance(field_, JsonPath):
        return _JsonField(columns.meta.column(checked_path(list(field_.keys))), texts)
    if field_.name == "frame_id":
        return _FrameIdField(columns, texts)
    return _column_field(columns.fields.paths.get(field_.name), field_, name, texts)


def _source_field(columns: Columns, name: str, texts):
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


def _roi_field(columns: Columns, name: str, texts):
    """An ROI rule's field over the ROIs carrying a label: their labels, confidence, or metadata (not `id`)."""
    field_ = _resolved(resolve_roi_field, name)
    if field_ is ROI_LABELS:
        return _LabelsField(columns, texts)
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
        return self._by_text(lambda texts: [code for code, value in enumerate(texts) if pattern.fullmatch(value)])

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
        return _in_strings(self.column, [value for value in self.column.strings if pattern.fullmatch(value)])

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


class _LabelsField:
    """An ROI's labels: `labels:car` holds when one of its label rows says car."""

    def __init__(self, columns: Columns, texts: DatabaseTexts | None):
        self.columns, self.texts = columns, texts

    def exists(self) -> np.ndarray:
        return np.ones(len(self.columns.roi_frame), dtype=bool)

    def exact(self, text: str, *, quoted: bool) -> np.ndarray:
        return _rois_labelled(self.columns, self.columns.row_label == self.columns.label_code(text))

    def wildcard(self, text: str) -> np.ndarray:
        pattern = _pattern(text)
        return self._labelled([code for code, label in enumerate(self.columns.labels) if pattern.fullmatch(label)])

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
        return _rois_labelled(self.columns, picked[self.columns.row_label])


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


def _pattern(text: str) -> re.Pattern:
    """lucene.wildcard_regex as PostgreSQL matches it: `^...$` over the whole text, `.` matching a newline too."""
    return re.compile(wildcard_regex(text)[1:-1], re.DOTALL)


class _Query:
    """lucene._Translator's walk; `field_of(name)` gives a field's evaluator."""

    def __init__(self, field_of):
        self.field_of = field_of

    def visit(self, node: tree.Item, field_) -> np.ndarray:
        if isinstance(node, tree.SearchField):
            return self.visit(node.expr, self.field_of(node.name))
        if isinstance(node, (tree.Group, tree.FieldGroup)):
            return self.visit(node.expr, field_)
        if isinstance(node, tree.Plus):
            return self.visit(node.a, field_)
        if isinstance(node, (tree.AndOperation, tree.OrOperation)):
            combine = np.logical_and if isinstance(node, tree.AndOperation) else np.logical_or
            return combine.reduce([self.visit(child, field_) for child in node.children])
        if isinstance(node, (tree.Not, tree.Prohibit)):
            return ~self.visit(node.a, field_)
        if field_ is None:
            raise Unsupported("a term without a field")
        if isinstance(node, tree.Range):
            return field_.range(node)
        if isinstance(node, tree.Regex):
            return field_.regex(node.value.strip("/"))
        if isinstance(node, tree.Phrase):
            return field_.exact(unquoted(node.value), quoted=True)
        if isinstance(node, tree.Word) and node.value == "*":
            return field_.exists()
        if isinstance(node, tree.Word):
            return field_.wildcard(node.value) if node.has_wildcard() else field_.exact(node.value, quoted=False)
        raise Unsupported(f"{type(node).__name__} queries")
