"""A draft's statistics from its published parent's: the parent's answer plus what the draft changed.

A draft child shows its parent's frames except those it replaced or deleted, plus its own revisions
(copy-on-write). Counts, label statistics and histogram buckets add up over frames, so the draft's answer under
any filter is the parent's answer (counted once and kept for good: a published version never changes), minus
what the replaced or deleted parent frames contribute, plus what the draft's own revisions contribute: a few
queries over the draft's own rows instead of a pass over every frame. What the replaced frames contribute is
kept per question from one state of the draft to the next (Removed): a write replaces a few more, and only those
are read. When the parent has columns (frames.columnar) that answer the filter, a count's and the label
statistics' share of the replaced frames is read from them instead of from their rows.

Distributions are combined only where the result is exactly what counting would give: the same bucket edges
(the draft's values within the parent's min and max, and the parent's extremes not among the frames it
replaced), the same kind (numbers or categories), and for top values a parent answer that lists every value.
Otherwise the functions answer None and the caller counts.
"""
from __future__ import annotations

import hashlib
from array import array
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import QuerySet

from .. import columnar
from ..changes import own_rows, published_parent, replaced_in_parent
from ..filters import filters_q, frames_matching
from ..models import DatasetVersion, FrameRevision
from .access import VIEWER, require
from .columns import columnar_among, has_columns
from .roi_stats import (
    TOP_LABELS, confidence_answer, confidence_held, confidence_tallies, is_roi_key, roi_key_parts, roi_meta_answer, roi_meta_tallies,
    roi_number_held,
)
from .stats import (
    categorical_answer, frames_with_number, histogram_edges, key_parts, key_tallies, label_stats_of, numeric_answer, planner_settings,
)
from .stats_kept import label_stats_shape

DELTA_MAX_OWN_ROWS = 25_000  # beyond this the draft's own rows cost what counting its frames does
# ... unless the parent has columns, which give the replaced revisions' share in one pass for any number of them:
# 100,000 own rows answer in 0.3-0.4 s, against 0.9-3.5 s counting a million frames
DELTA_MAX_OWN_ROWS_COLUMNS = 100_000
KNOWN_LOOKUPS_MAX = 1_000  # frame ids looked up in the parent by a list; more go through a join
COLUMNS_FROM_ROWS = 1_000  # replaced revisions from which their share is read from the parent's columns


@dataclass(frozen=True)
class DraftChanges:
    """What a draft child changed against its published parent (at most DELTA_MAX_OWN_ROWS frame ids, or
    DELTA_MAX_OWN_ROWS_COLUMNS): read once per state of the draft and shared by every question about it."""

    parent_id: str
    # The parent's revisions the draft replaced or deleted, in the order the draft first wrote their frame ids. A
    # draft's own row never goes once it hides a parent's (a deletion leaves a tombstone), so a later state's list
    # starts with an earlier one's, and what was read of those revisions still holds (see Removed).
    replaced: tuple[int, ...]
    # For each frame id the draft saved or deleted, the parent's revision of it (None: the parent has none). The
    # parent never changes, so a later state of the draft looks up only the frame ids this does not list.
    parent_of: dict[str, int | None] = field(default_factory=dict)


@dataclass(frozen=True)
class Removed:
    """What the first `covers` revisions of DraftChanges.replaced (`digest`: of their keys) contribute to one
    answer, as a summary (`_summed`, `_label_summary`). The services keep it per question: after a write, only the
    revisions that write replaced are read (a hundred rows) instead of every one the draft ever replaced (11,000
    scattered rows, 80 ms at a million frames)."""

    covers: int
    digest: str
    summary: dict


@dataclass(frozen=True)
class Derived:
    answer: object  # None: the answer has to be counted
    removed: Removed | None  # to keep for the draft's next state (None: nothing was read)


@dataclass(frozen=True)
class Delta:
    parent: DatasetVersion
    added: QuerySet  # the draft's own revisions under the filters (its version's index; tombstones left out)
    replaced: tuple[int, ...]  # DraftChanges.replaced
    known: Removed | None  # what the replaced revisions read for an earlier state contribute (still true)
    removed: QuerySet | None  # the replaced revisions `known` does not cover, under the filters; None: none
    filters: tuple
    pending: tuple[int, ...] = ()  # the keys of those revisions
    user: object = None  # who asks (the parent's columns are read on their behalf)

    def kept(self) -> QuerySet:
        """The parent's revisions under the filters that the draft still shows (only built when an extreme has to
        be checked: binding 11,000 keys costs milliseconds of Python)."""
        return frames_matching(self.parent, self.filters).exclude(pk__any=array("q", self.replaced or (0,)))


def draft_changes(*, user, version: DatasetVersion, known: DraftChanges | None = None) -> DraftChanges | None:
    """What the version changed against its parent, when its answers can be derived from the parent's: a
    draft child of a published version, of HYPERDATA_STATS_DERIVE_FRAMES frames or more, with at most
    DELTA_MAX_OWN_ROWS revisions of its own (DELTA_MAX_OWN_ROWS_COLUMNS when the parent has columns); else None.
    Each own row names the parent's revision it hides (FrameRevision.hides, noted by the write); rows written
    before that was noted are looked up in the parent.
    `known`: the changes of an earlier state of this draft, which still hold and keep their order."""
    require(user, version, VIEWER)
    parent = published_parent(version) if version.frame_count >= settings.HYPERDATA_STATS_DERIVE_FRAMES else None
    if parent is None:
        return None
    most = DELTA_MAX_OWN_ROWS_COLUMNS if has_columns(parent) else DELTA_MAX_OWN_ROWS
    rows = list(own_rows(version).values_list("frame_id", "hides")[: most + 1])
    if len(rows) > most:
        return None
    looked_up = getattr(known, "parent_of", {}) if known is not None and known.parent_id == parent.pk else {}
    noted = dict(rows)
    parent_of = {frame_id: pk for frame_id, pk in looked_up.items() if frame_id in noted}  # in the order first written
    # What the writes noted (FrameRevision.hides), then what they did not (rows from before it was noted) looked up.
    parent_of.update((frame_id, hides or None) for frame_id, hides in rows if hides is not None and frame_id not in parent_of)
    unknown = [frame_id for frame_id, _ in rows if frame_id not in parent_of]
    if len(unknown) > KNOWN_LOOKUPS_MAX:  # many: one join over the own rows (a list of ids would be bound one by one)
        found = dict(replaced_in_parent(version, parent).values_list("frame_id", "pk"))
    else:
        found = dict(FrameRevision.objects.visible_in(parent).filter(frame_id__in=unknown).values_list("frame_id", "pk")) if unknown else {}
    parent_of.update((frame_id, found.get(frame_id)) for frame_id in unknown)
    return DraftChanges(parent.pk, replaced=tuple(pk for pk in parent_of.values() if pk is not None), parent_of=parent_of)


def delta_of(*, user, version: DatasetVersion, changes: DraftChanges, filters=(), known: Removed | None = None) -> Delta:
    """The draft's own revisions and the parent's it replaced that `known` (kept from an earlier state, for the
    same question) does not cover, under the filters: the filters are checked on those rows only."""
    require(user, version, VIEWER)
    parent = DatasetVersion.objects.select_related("dataset").get(pk=changes.parent_id)
    q = filters_q(filters or ())
    if known is not None and (known.covers > len(changes.replaced) or _digest(changes.replaced[:known.covers]) != known.digest):
        known = None  # the list no longer starts with those it summed (its changes were read again from scratch)
    pending = changes.replaced[known.covers:] if known is not None else changes.replaced
    # One array parameter (frames.lookups), never an empty list: the ROI statistics compile the queryset into raw
    # SQL, where Django refuses an empty IN (EmptyResultSet). No revision has primary key 0.
    removed = FrameRevision.objects.filter(pk__any=array("q", pending or (0,))).filter(q) if pending or known is None else None
    added = own_rows(version).filter(deleted=False).filter(q)
    return Delta(parent, added=added, replaced=changes.replaced, known=known, removed=removed, filters=tuple(filters or ()),
                 pending=pending if removed is not None else (), user=user)


def _digest(pks: tuple[int, ...]) -> str:
    return hashlib.sha1(array("q", pks).tobytes()).hexdigest()


def _removed(delta: Delta, summary, from_columns=None) -> Removed:
    """What every replaced revision contributes: the known summary plus `summary(rows)` of those it does not cover
    (or `from_columns(columns, mask)` of them, read from the parent's columns when it has them: selectors.columns)."""
    known = delta.known.summary if delta.known is not None else None
    if delta.removed is not None:
        fresh = _from_columns(delta, from_columns) or summary(delta.removed)
        known = fresh if known is None else _merged(known, fresh)
    return Removed(len(delta.replaced), _digest(delta.replaced), known)


def _from_columns(delta: Delta, from_columns) -> dict | None:
    """A pass over the parent's columns costs the same for any number of revisions (15 ms at a million frames):
    worth it for the thousands a draft's first answer reads (100-150 ms as rows), not for a write's hundred."""
    if from_columns is None or len(delta.pending) < COLUMNS_FROM_ROWS:
        return None
    among = columnar_among(user=delta.user, version=delta.parent, filters=delta.filters, pks=delta.pending)
    try:
        return from_columns(*among) if among else None
    except columnar.Unsupported:
        return None


def _merged(a: dict, b: dict) -> dict:
    """Two summaries of different revisions added up: numbers summed (per slot; lists item by item), the lower lo
    and the higher hi."""
    merged = dict(a)
    for key, value in b.items():
        mine = merged.get(key)
        if mine is None or value is None:
            merged[key] = value if mine is None else mine
        elif key in ("lo", "hi"):
            merged[key] = min(mine, value) if key == "lo" else max(mine, value)
        elif isinstance(value, dict):
            merged[key] = _merged(mine, value)
        elif isinstance(value, list):
            merged[key] = [x + y for x, y in zip(mine, value)]
        else:
            merged[key] = mine + value
    return merged


def count_from_parent(*, user, version: DatasetVersion, delta: Delta, parent_count: int) -> Derived:
    require(user, version, VIEWER)
    with _index_probes():
        removed, added = _sides(delta, lambda frames: {"total": frames.count()}, lambda columns, mask: {"total": int(mask.sum())})
    return Derived(parent_count - removed.summary["total"] + added["total"], removed)


def label_stats_from_parent(*, user, version: DatasetVersion, delta: Delta, parent_answer: dict) -> Derived:
    require(user, version, VIEWER)
    with _index_probes():
        removed, added = _sides(delta, _label_summary, lambda columns, mask: _as_label_summary(columnar.label_stats(columns, mask)))
    counts = {e["label"]: [e["roi_count"], e["frame_label_count"], e["frame_count"]] for e in parent_answer["labels"]}
    for side, sign in ((removed.summary, -1), (added, 1)):
        for label, figures in side["slots"].items():
            entry = counts.setdefault(label, [0, 0, 0])
            for index, n in enumerate(figures):
                entry[index] += sign * n
    total = parent_answer["frame_count"] - removed.summary["total"] + added["total"]
    annotated = parent_answer["annotated_frame_count"] - removed.summary["annotated"] + added["annotated"]
    return Derived(label_stats_shape(counts, frame_count=total, annotated=annotated), removed)


def _label_summary(frames) -> dict:
    return _as_label_summary(label_stats_of(frames))


def _as_label_summary(stats: dict) -> dict:
    """Label statistics as a summary: per label [ROIs, frame labels, frames]."""
    return {"total": stats["frame_count"], "annotated": stats["annotated_frame_count"],
            "slots": {e["label"]: [e["roi_count"], e["frame_label_count"], e["frame_count"]] for e in stats["labels"]}}


def distribution_from_parent(*, user, version: DatasetVersion, delta: Delta, parent_answer: dict, key: str, bins: int,
                             top: int, categorical: bool = False) -> Derived:
    """meta_distribution's (or roi_distribution's) answer for the draft (None when it has to be counted)."""
    require(user, version, VIEWER)
    with _index_probes():
        if not is_roi_key(key):
            return _meta(delta, parent_answer, key_parts(key), bins, top, categorical)
        parts = roi_key_parts(key)
        return _roi_meta(delta, parent_answer, parts, bins) if parts else _confidence(delta, parent_answer, bins)


def _index_probes():
    """The delta's rows are a few thousand scattered ones: PostgreSQL's default cost of a random page read (4,
    for spinning disks) makes it scan every label row to join them (225 ms at a million frames) where probing
    the index row by row takes 27 ms. Costed as on an SSD (1.1) for these queries only."""
    return planner_settings("random_page_cost = 1.1")


def _sides(delta: Delta, summary, from_columns=None) -> tuple[Removed, dict]:
    """`summary(rows)` of the replaced revisions (as _removed) and of the draft's own."""
    return _removed(delta, summary, from_columns), summary(delta.added)


def _meta(delta: Delta, parent: dict, parts: list[str], bins: int, top: int, categorical: bool) -> Derived:
    if parent["kind"] == "numeric":
        if categorical:
            return Derived(None, None)
        edges = histogram_edges(parent["min"], parent["max"], bins)
        removed, added = _sides(delta, lambda frames: _summed(key_tallies(frames, parts, edges)), _meta_from_columns(parts, edges))
        agg = _combined(parent, parent["with_key"] - parent["other_types"], removed.summary, added)
        held = lambda value: frames_with_number(delta.kept(), parts, value).exists()  # noqa: E731
        if agg["numbers"] * 2 < agg["with_key"] or not _within(parent, removed.summary, added, held):
            return Derived(None, removed)
        return Derived(numeric_answer(agg, edges, _bucket_counts(parent, removed.summary, added), key=parent["key"]), removed)
    if parent["kind"] == "categorical" and (parent["other"] or "numbers" not in parent):
        return Derived(None, None)  # only its top values are known (or an answer kept from before it said how many were numbers)
    removed, added = _sides(delta, lambda frames: _summed(key_tallies(frames, parts, None)), _meta_from_columns(parts, None))
    agg = _combined(parent, parent.get("numbers", 0), removed.summary, added)
    if not categorical and agg["with_key"] and agg["numbers"] * 2 >= agg["with_key"]:
        return Derived(None, removed)  # it has become numeric
    values = {v["value"]: v["count"] for v in parent.get("values", [])}
    _add(values, removed.summary["slots"], -1)
    _add(values, added["slots"], 1)
    return Derived(categorical_answer(agg, {v: n for v, n in values.items() if n}, top, key=parent["key"]), removed)


def _roi_meta(delta: Delta, parent: dict, parts: list[str], bins: int) -> Derived:
    edges = histogram_edges(parent["min"], parent["max"], bins) if parent["kind"] == "numeric" else None
    removed, added = _sides(delta, lambda frames: _summed(roi_meta_tallies(frames, parts, edges)), _roi_meta_from_columns(parts, edges))
    agg = _combined(parent, parent["with_key"] - parent["other_types"], removed.summary, added)
    if edges is None:
        return Derived(roi_meta_answer(agg, parts, None, {}) if not added["numbers"] else None, removed)
    if not agg["numbers"] or not _within(parent, removed.summary, added, lambda value: roi_number_held(delta.kept(), parts, value)):
        return Derived(None, removed)
    return Derived(roi_meta_answer(agg, parts, edges, _bucket_counts(parent, removed.summary, added)), removed)


def _confidence(delta: Delta, parent: dict, bins: int) -> Derived:
    axis = (min(0.0, parent["min"]), max(1.0, parent["max"]), bins) if parent["kind"] == "numeric" else None
    removed, added = _sides(delta, lambda frames: _summed(confidence_tallies(frames, axis), slot=lambda row: (row["label"], row["slot"])),
                            lambda columns, mask: _confidence_from_columns(columns, mask, axis))
    agg = _combined(parent, parent["with_key"], removed.summary, added)
    if axis is None:
        return Derived(confidence_answer(agg, None, {}) if not added["numbers"] else None, removed)
    held = lambda value: confidence_held(delta.kept(), value)  # noqa: E731
    if len(parent["series"]) > TOP_LABELS or not agg["numbers"] or not _within(parent, removed.summary, added, held):
        return Derived(None, removed)  # past TOP_LABELS the parent's rarer labels are summed as "other": each one's counts are unknown
    by_label = {series["label"]: list(series["counts"]) for series in parent["series"]}
    for side, sign in ((removed.summary, -1), (added, 1)):
        for (label, index), n in side["slots"].items():
            by_label.setdefault(label, [0] * bins)[index] += sign * n
    return Derived(confidence_answer(agg, axis, by_label), removed)


def _meta_from_columns(parts: list[str], edges):
    """_summed(key_tallies(...)) of a metadata key, read from the parent's columns: buckets, or values."""
    def summary(columns, mask) -> dict:
        slots = columnar.bucket_counts(columns, mask, parts, edges) if edges else columnar.value_counts(columns, mask, parts, None)
        return {**columnar.meta_figures(columns, mask, parts), "slots": slots}
    return summary


def _roi_meta_from_columns(parts: list[str], edges):
    """_summed(roi_meta_tallies(...)), read from the parent's columns."""
    def summary(columns, mask) -> dict:
        slots = columnar.roi_bucket_counts(columns, mask, parts, edges) if edges else {}
        return {**columnar.roi_meta_figures(columns, mask, parts), "slots": slots}
    return summary


def _confidence_from_columns(columns, mask, axis) -> dict:
    """_summed(confidence_tallies(...)), read from the parent's columns."""
    figures = columnar.confidence_figures(columns, mask)
    by_label = columnar.confidence_buckets(columns, mask, axis) if axis and figures["numbers"] else {}
    slots = {(label, index): n for label, counts in by_label.items() for index, n in enumerate(counts) if n}
    return {**figures, "with_key": figures["numbers"], "slots": slots}


def _summed(rows: list[dict], slot=lambda row: row["slot"]) -> dict:
    """Tallies' rows (stats.key_tallies, roi_stats' *_tallies) as a summary: the aggregate's total, with_key,
    numbers, lo and hi over every row, and `slots`: the frames (ROIs) per `slot(row)` (a bucket or a value)."""
    summary = {"total": 0, "with_key": 0, "numbers": 0, "lo": None, "hi": None, "slots": {}}
    for row in rows:
        figures = {name: row.get(name, row["numbers"]) for name in ("total", "with_key", "numbers")}  # a confidence: with_key is numbers
        slots = {slot(row): row["total"]} if row["slot"] is not None else {}
        summary = _merged(summary, {**figures, "lo": row["lo"], "hi": row["hi"], "slots": slots})
    return summary


def _combined(parent: dict, parent_numbers: int, removed: dict, added: dict) -> dict:
    """The draft's aggregate: the parent's (from its answer) - the removed frames' + the added ones'; its
    min and max stay the parent's (the callers make sure they do)."""
    agg = {"total": parent["frames"], "with_key": parent["with_key"], "numbers": parent_numbers,
           "lo": parent.get("min"), "hi": parent.get("max")}
    for side, sign in ((removed, -1), (added, 1)):
        for name in ("total", "with_key", "numbers"):
            agg[name] += sign * side[name]
    return agg


def _within(parent: dict, removed: dict, added: dict, held) -> bool:
    """Whether the draft's numbers keep the parent's min and max, and with them every bucket's edges: the added
    ones within them, and an extreme that a removed frame held still held (by an added frame, or by one of the
    parent's frames the draft still shows: `held(value)`, a search that stops at the first)."""
    lo, hi = parent["min"], parent["max"]
    if added["numbers"] and (added["lo"] < lo or added["hi"] > hi):
        return False
    touched = removed["numbers"] and removed["lo"] <= lo, removed["numbers"] and removed["hi"] >= hi
    restored = added["numbers"] and added["lo"] == lo, added["numbers"] and added["hi"] == hi
    return all(not t or r or held(extreme) for extreme, t, r in zip((lo, hi), touched, restored))


def _bucket_counts(parent: dict, removed: dict, added: dict) -> dict[int, int]:
    """The draft's buckets: the parent's - the removed side's slots + the added side's."""
    counts = {index: bucket["count"] for index, bucket in enumerate(parent["buckets"])}
    _add(counts, removed["slots"], -1)
    _add(counts, added["slots"], 1)
    return counts


def _add(counts: dict, more: dict, sign: int) -> None:
    for key, n in more.items():
        counts[key] = counts.get(key, 0) + sign * n
