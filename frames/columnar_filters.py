"""Frame filters (frames.filters) over a version's columns (frames.columnar): which frames they match, as a bool
array, exactly as the database's query would, or Unsupported.

A Lucene rule is walked as lucene._Translator walks it; its leaves are columnar_fields'. NOT is the complement, as
the translator's NOT EXISTS is. ROI rules are evaluated per ROI carrying a label (every label row of an ROI answers
the same), then per frame.
"""
from __future__ import annotations

import threading

import numpy as np
from luqum import tree

from .columnar import Columns, DatabaseTexts, Unsupported, marked
from .columnar_fields import LabelsField, frame_field, roi_field, rois_labelled, source_field
from .filters import FrameFilter, RoiRule, filtering
from .lucene import parse, unquoted

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
        mask &= _Query(lambda name: frame_field(columns, name, texts)).visit(parse(block.frame_query), None)
    if block.sources_query:  # frames with a source row matching it
        rows = _Query(lambda name: source_field(columns, name, texts)).visit(parse(block.sources_query), None)
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
    rois = rois_labelled(columns, rows)
    for label in labels[1:]:
        rois &= rois_labelled(columns, columns.row_label == columns.label_code(label))
    if rule.query:
        rois &= _Query(lambda name: roi_field(columns, name, texts)).visit(parse(rule.query), LabelsField(columns, texts))
    frames = marked(columns.frames, columns.roi_frame[rois])
    return ~frames if rule.exclude else frames


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
