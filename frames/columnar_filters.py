"""Frame filters (frames.filters) over a version's columns (frames.columnar): which frames they match, as a bool
array, exactly as the database's query would, or Unsupported.

A Lucene rule is walked as lucene._Translator walks it. Its leaves are fields of four kinds: a JSON value (a
frame's, a source's or an ROI's `meta.*`), a column of text (a context id, a source's uri), a column of numbers (a
timestamp, a source's width, an ROI's confidence), and an ROI's labels. NULL (a missing key, no
confidence) matches nothing, and NOT is the complement, as the translator's NOT EXISTS is. ROI rules are evaluated
per ROI carrying a label (every label row of an ROI answers the same), then per frame.
"""
from __future__ import annotations

import re
import threading

import numpy as np
from luqum import tree

from .columnar import ARRAY, BOOLEAN, BOOLEAN_TEXTS, MISSING, NUMBER, OBJECT, STRING, Columns, MetaColumn, Unsupported, checked_path, marked
from .filters import ROI_LABELS, FrameFilter, RoiRule, filtering, resolve_frame_field, resolve_roi_field, resolve_source_field
from .lucene import Column, JsonPath, LuceneError, parse, term_number, unquoted, wildcard_regex

_masks_kept = threading.Lock()
MASKS_KEPT = 8  # the last filters' masks (a draft's answer reads its parent's twice: its answer, its replaced frames)


def frames_mask(columns: Columns, filters) -> np.ndarray:
    """Which frames the filters (OR-ed blocks) match, as a bool array (read-only: it is kept for the next
    question); Unsupported when not exactly known."""
    key = repr(tuple(filters or ()))
    with _masks_kept:
        mask = columns._masks.get(key)
    if mask is None:
        mask = _filters_mask(columns, filters)
        mask.flags.writeable = False
    with _masks_kept:  # a web process's threads ask at once
        columns._masks.pop(key, None)
        columns._masks[key] = mask
        while len(columns._masks) > MASKS_KEPT:
            columns._masks.pop(next(iter(columns._masks)))
    return mask


def _filters_mask(columns: Columns, filters) -> np.ndarray:
    if not filtering(filters):
        return np.ones(columns.frames, dtype=bool)
    mask = np.zeros(columns.frames, dtype=bool)
    for block in filters:
        mask |= _block_mask(columns, block)
    return mask


def _block_mask(columns: Columns, block: FrameFilter) -> np.ndarray:
    mask = np.ones(columns.frames, dtype=bool)
    for rule in block.roi_rules:
        mask &= _rule_mask(columns, rule)
    if block.frame_query:
        mask &= _Query(lambda name: _frame_field(columns, name)).visit(parse(block.frame_query), None)
    if block.sources_query:  # frames with a source row matching it
        rows = _Query(lambda name: _source_field(columns, name)).visit(parse(block.sources_query), None)
        mask &= marked(columns.frames, columns.source_frame[rows])
    return mask


def _rule_mask(columns: Columns, rule: RoiRule) -> np.ndarray:
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
        rois &= _Query(lambda name: _roi_field(columns, name)).visit(parse(rule.query), _LabelsField(columns))
    frames = marked(columns.frames, columns.roi_frame[rois])
    return ~frames if rule.exclude else frames


def _rois_labelled(columns: Columns, rows: np.ndarray) -> np.ndarray:
    """The ROIs (carrying a label) with one of these label rows."""
    return marked(len(columns.roi_frame), columns.row_roi[rows])


# -- fields -------------------------------------------------------------------------------------------------


def _frame_field(columns: Columns, name: str):
    """A frame rule's field: a `meta.*` path, or one of the frame's columns (not its id)."""
    field_ = _resolved(resolve_frame_field, name)
    if isinstance(field_, JsonPath):
        return _JsonField(columns.meta.column(checked_path(list(field_.keys))))
    return _column_field(columns.fields.paths.get(field_.name), field_, name)


def _source_field(columns: Columns, name: str):
    """A source rule's field over the source rows: a column of the row, or a `meta.*` path."""
    field_ = _resolved(resolve_source_field, name)
    if isinstance(field_, JsonPath):
        return _JsonField(columns.sources.column(checked_path(["meta", *field_.keys])))
    return _column_field(columns.sources.paths.get(field_.name), field_, name)


def _column_field(column: MetaColumn | None, field_: Column, name: str):
    """A plain column of the database: a number (NULL: none) or a text."""
    if column is None or not column.exact:
        raise Unsupported(f"field {name}")
    if field_.numeric:
        return _NumberField(np.where(column.kinds == NUMBER, column.values, np.nan))
    return _TextField(column)


def _roi_field(columns: Columns, name: str):
    """An ROI rule's field over the ROIs carrying a label: their labels, confidence, or metadata (not `id`)."""
    field_ = _resolved(resolve_roi_field, name)
    if field_ is ROI_LABELS:
        return _LabelsField(columns)
    if isinstance(field_, Column) and field_.name == "confidence":
        return _NumberField(columns.roi_confidence)
    if isinstance(field_, JsonPath) and field_.keys[0] == "meta" and len(field_.keys) > 1:
        column = columns.roi_meta.column(checked_path(list(field_.keys[1:])))
        at = columns.labelled_roi_positions
        return _JsonField(MetaColumn(column.kinds[at], column.values[at], column.strings, column.exact))
    raise Unsupported(f"field {name}")


def _resolved(resolve, name: str):
    try:
        return resolve(name)
    except LuceneError as exc:
        raise Unsupported(str(exc)) from None


class _JsonField:
    """A JSON value per row, compared as jsonb compares it."""

    def __init__(self, column: MetaColumn):
        self.column = column

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
        """The database's regular expression over the value's text (`->>`): here over strings and booleans; a
        number's or an array's text is the database's own."""
        column = self.column
        if np.isin(column.kinds, (NUMBER, ARRAY, OBJECT)).any():
            raise Unsupported("a wildcard over values whose text is the database's")
        pattern = _pattern(text)
        mask = _in_strings(column, [value for value in column.strings if pattern.fullmatch(value)])
        for value, name in BOOLEAN_TEXTS:
            if pattern.fullmatch(name):
                mask |= (column.kinds == BOOLEAN) & (column.values == value)
        return mask

    def checked(self, number) -> float:
        if not self.column.exact:
            raise Unsupported("a number beyond a float's precision")
        return _finite(number)

    def range(self, node: tree.Range) -> np.ndarray:
        """jsonb order against a number bound: every string and null is below it, every boolean, array and
        object above it."""
        kinds, values = self.column.kinds, self.column.values
        mask = kinds != MISSING
        for bound, include, below in _bounds(node):
            value = self.checked(bound)
            if below:
                mask &= ((kinds == NUMBER) & ((values <= value) if include else (values < value))) | (kinds < NUMBER)
            else:
                mask &= ((kinds == NUMBER) & ((values >= value) if include else (values > value))) | (kinds > NUMBER)
        return mask


class _TextField:
    """A text column (a frame's context id, a source's uri): equal, or matching a wildcard."""

    def __init__(self, column: MetaColumn):
        self.column = column

    def exists(self) -> np.ndarray:
        return np.ones(len(self.column.kinds), dtype=bool)  # NOT NULL

    def exact(self, text: str, *, quoted: bool) -> np.ndarray:
        return _in_strings(self.column, [text])

    def wildcard(self, text: str) -> np.ndarray:
        pattern = _pattern(text)
        return _in_strings(self.column, [value for value in self.column.strings if pattern.fullmatch(value)])

    def range(self, node: tree.Range) -> np.ndarray:
        raise Unsupported("a range of text (compared in the database's collation)")


class _LabelsField:
    """An ROI's labels: `labels:car` holds when one of its label rows says car."""

    def __init__(self, columns: Columns):
        self.columns = columns

    def exists(self) -> np.ndarray:
        return np.ones(len(self.columns.roi_frame), dtype=bool)

    def exact(self, text: str, *, quoted: bool) -> np.ndarray:
        return _rois_labelled(self.columns, self.columns.row_label == self.columns.label_code(text))

    def wildcard(self, text: str) -> np.ndarray:
        pattern = _pattern(text)
        codes = [code for code, label in enumerate(self.columns.labels) if pattern.fullmatch(label)]
        return _rois_labelled(self.columns, np.isin(self.columns.row_label, codes))

    def range(self, node: tree.Range) -> np.ndarray:
        raise Unsupported("a range of labels (compared in the database's collation)")


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

    def range(self, node: tree.Range) -> np.ndarray:
        mask = ~np.isnan(self.values)
        for bound, include, below in _bounds(node):
            value = _finite(bound)
            if below:
                mask &= (self.values <= value) if include else (self.values < value)
            else:
                mask &= (self.values >= value) if include else (self.values > value)
        return mask


def _bounds(node: tree.Range):
    """(number, inclusive, upper) of each bound given; a bound that is not a number is compared in the database's
    collation: Unsupported."""
    for bound, include, below in ((node.low, node.include_low, False), (node.high, node.include_high, True)):
        text = unquoted(str(bound.value))
        if text == "*":
            continue
        number = term_number(text)
        if number is None:
            raise Unsupported("a string bound (compared in the database's collation)")
        yield number, include, below


def _finite(number) -> float:
    if not np.isfinite(number) or (isinstance(number, int) and abs(number) > 2**53):
        raise Unsupported("a number beyond a float's precision")
    return float(number)


def _in_strings(column: MetaColumn, texts: list[str]) -> np.ndarray:
    wanted = set(texts)
    codes = [code for code, value in enumerate(column.strings) if value in wanted]
    return (column.kinds == STRING) & np.isin(column.values, codes)


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
        if isinstance(node, tree.Phrase):
            return field_.exact(unquoted(node.value), quoted=True)
        if isinstance(node, tree.Word) and node.value == "*":
            return field_.exists()
        if isinstance(node, tree.Word):
            return field_.wildcard(node.value) if node.has_wildcard() else field_.exact(node.value, quoted=False)
        raise Unsupported(f"{type(node).__name__} queries")
