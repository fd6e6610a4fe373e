"""A draft's statistics from its published parent's: the parent's answer plus what the draft changed.

A draft child shows its parent's frames except those it replaced or deleted, plus its own revisions
(copy-on-write). Counts, label statistics and histogram buckets add up over frames, so the draft's answer under
any filter is the parent's answer (counted once and kept for good: a published version never changes), minus
what the replaced or deleted parent frames contribute, plus what the draft's own revisions contribute: a few
queries over the draft's own rows instead of a pass over every frame.

Distributions are combined only where the result is exactly what counting would give: the same bucket edges
(the draft's values within the parent's min and max, and the parent's extremes not among the frames it
replaced), the same kind (numbers or categories), and for top values a parent answer that lists every value.
Otherwise the functions answer None and the caller counts.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection
from django.db.models import Case, Count, IntegerField, QuerySet, Value, When

from ..changes import own_rows, published_parent, replaced_in_parent
from ..filters import filters_q, frames_matching
from ..models import DatasetVersion, FrameRevision, RoiLabel
from .access import VIEWER, require
from .roi_stats import (
    TOP_LABELS, confidence_answer, confidence_held, confidence_tallies, is_roi_key, roi_key_parts, roi_meta_answer, roi_meta_tallies,
    roi_number_held,
)
from .stats import categorical_answer, frames_with_number, histogram_edges, key_parts, key_tallies, numeric_answer, planner_settings
from .stats_kept import label_stats_shape

DELTA_MAX_OWN_ROWS = 25_000  # beyond this the draft's own rows cost what counting its frames does
KNOWN_LOOKUPS_MAX = 1_000  # frame ids looked up in the parent by a list; more go through a join


@dataclass(frozen=True)
class DraftChanges:
    """What a draft child changed against its published parent, as primary keys (at most DELTA_MAX_OWN_ROWS
    each): read once per state of the draft and shared by every question about it."""

    parent_id: str
    replaced: tuple[int, ...]  # the parent's revisions the draft replaced or deleted
    own: tuple[int, ...]  # the draft's own revisions (tombstones left out)
    # For each frame id the draft saved or deleted, the parent's revision of it (None: the parent has none). The
    # parent never changes, so a later state of the draft looks up only the frame ids this does not list.
    parent_of: dict[str, int | None] = field(default_factory=dict)


@dataclass(frozen=True)
class Delta:
    parent: DatasetVersion
    draft_id: str
    # Both sides of the change under the filters, each revision with its SIDE: -1 for the parent's revisions the
    # draft replaced or deleted, 1 for the draft's own. Every figure is read for both sides in one statement: each
    # is a few thousand scattered rows, and reading them is what an answer after a write costs.
    changed: QuerySet
    kept: QuerySet  # the parent's revisions under the filters that the draft still shows


SIDE = "side"


def draft_changes(*, user, version: DatasetVersion, known: DraftChanges | None = None) -> DraftChanges | None:
    """What the version changed against its parent, when its answers can be derived from the parent's: a
    draft child of a published version, of HYPERDATA_STATS_DERIVE_FRAMES frames or more, with at most
    DELTA_MAX_OWN_ROWS revisions of its own; else None. `known`: the changes of an earlier state of this draft,
    whose parent lookups still hold (after a write, only the frame ids it wrote for the first time are looked up:
    each is a probe into the parent, 10 us, and a large edit has thousands)."""
    require(user, version, VIEWER)
    parent = published_parent(version) if version.frame_count >= settings.HYPERDATA_STATS_DERIVE_FRAMES else None
    if parent is None:
        return None
    rows = list(own_rows(version).values_list("pk", "deleted", "frame_id")[: DELTA_MAX_OWN_ROWS + 1])
    if len(rows) > DELTA_MAX_OWN_ROWS:
        return None
    looked_up = getattr(known, "parent_of", {}) if known is not None and known.parent_id == parent.pk else {}
    parent_of = {frame_id: looked_up.get(frame_id) for _, _, frame_id in rows}
    unknown = [frame_id for frame_id in parent_of if frame_id not in looked_up]
    if len(unknown) > KNOWN_LOOKUPS_MAX:  # many: one join over the own rows (a list of ids would be bound one by one)
        parent_of.update(replaced_in_parent(version, parent).values_list("frame_id", "pk"))
    elif unknown:
        parent_of.update(FrameRevision.objects.visible_in(parent).filter(frame_id__in=unknown).values_list("frame_id", "pk"))
    replaced = tuple(pk for pk in parent_of.values() if pk is not None)
    return DraftChanges(parent.pk, replaced=replaced, own=tuple(pk for pk, deleted, _ in rows if not deleted), parent_of=parent_of)


def delta_of(*, user, version: DatasetVersion, changes: DraftChanges, filters=()) -> Delta:
    """The parent's revisions the draft replaced and its own, under the filters (querysets over the few
    primary keys `changes` lists: the filters are checked on those rows only)."""
    require(user, version, VIEWER)
    parent = DatasetVersion.objects.select_related("dataset").get(pk=changes.parent_id)
    # One array parameter (frames.lookups), never an empty list: the ROI statistics compile the queryset into raw
    # SQL, where Django refuses an empty IN (EmptyResultSet). No revision has primary key 0.
    changed = FrameRevision.objects.filter(pk__any=changes.replaced + changes.own or (0,)).filter(filters_q(filters or ()))
    kept = frames_matching(parent, filters).exclude(pk__any=changes.replaced or (0,))
    side = Case(When(version_id=version.pk, then=Value(1)), default=Value(-1), output_field=IntegerField())
    return Delta(parent, version.pk, changed=changed.annotate(**{SIDE: side}), kept=kept)


def count_from_parent(*, user, version: DatasetVersion, delta: Delta, parent_count: int) -> int:
    require(user, version, VIEWER)
    with _index_probes():
        return parent_count + sum(row[SIDE] * row["n"] for row in delta.changed.values(SIDE).annotate(n=Count("pk")).order_by())


def label_stats_from_parent(*, user, version: DatasetVersion, delta: Delta, parent_answer: dict) -> dict:
    require(user, version, VIEWER)
    with _index_probes():
        counts, frames, annotated = _label_changes(delta)
    for e in parent_answer["labels"]:
        entry = counts.setdefault(e["label"], [0, 0, 0])
        entry[0] += e["roi_count"]
        entry[1] += e["frame_label_count"]
        entry[2] += e["frame_count"]
    return label_stats_shape(counts, frame_count=parent_answer["frame_count"] + frames,
                             annotated=parent_answer["annotated_frame_count"] + annotated)


def _label_changes(delta: Delta) -> tuple[dict[str, list[int]], int, int]:
    """What the draft's own revisions add to the label statistics and the parent's it replaced take away, under
    the filters: per label [ROIs, frame labels, frames], then frames and annotated frames. One statement reads
    each side's revisions once (label_stats_of on each side read them twice: 4 probes of 11,000 rows each)."""
    changed_sql, params = delta.changed.values("pk", SIDE).query.sql_with_params()
    labels = RoiLabel._meta.db_table
    sql = (f"WITH f(id, sign) AS ({changed_sql}) "
           "SELECT l.label, f.sign, COUNT(DISTINCT l.revision_id), SUM(CASE WHEN l.is_frame_label THEN 0 ELSE 1 END), "
           f"SUM(CASE WHEN l.is_frame_label THEN 1 ELSE 0 END) FROM {labels} l JOIN f ON l.revision_id = f.id GROUP BY l.label, f.sign "
           f"UNION ALL SELECT NULL, f.sign, COUNT(*), SUM(CASE WHEN EXISTS (SELECT 1 FROM {labels} l WHERE l.revision_id = f.id) "
           "THEN 1 ELSE 0 END), 0 FROM f GROUP BY f.sign")
    counts: dict[str, list[int]] = {}
    frames = annotated = 0
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for label, sign, label_frames, rois, frame_labels in cursor.fetchall():
            if label is None:  # the sides' frames: label_frames is their count, rois the annotated ones
                frames += sign * label_frames
                annotated += sign * rois
                continue
            entry = counts.setdefault(label, [0, 0, 0])
            entry[0] += sign * rois
            entry[1] += sign * frame_labels
            entry[2] += sign * label_frames
    return counts, frames, annotated


def distribution_from_parent(*, user, version: DatasetVersion, delta: Delta, parent_answer: dict, key: str, bins: int,
                             top: int, categorical: bool = False) -> dict | None:
    """meta_distribution's (or roi_distribution's) answer for the draft, or None when it has to be counted."""
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


def _meta(delta: Delta, parent: dict, parts: list[str], bins: int, top: int, categorical: bool) -> dict | None:
    if parent["kind"] == "numeric":
        if categorical:
            return None
        edges = histogram_edges(parent["min"], parent["max"], bins)
        removed, added = _sides(key_tallies(delta.changed, parts, edges, by=SIDE))
        agg = _combined(parent, parent["with_key"] - parent["other_types"], removed, added)
        held = lambda value: frames_with_number(delta.kept, parts, value).exists()  # noqa: E731
        if agg["numbers"] * 2 < agg["with_key"] or not _within(parent, removed, added, held):
            return None
        return numeric_answer(agg, edges, _bucket_counts(parent, removed, added), key=parent["key"])
    if parent["kind"] == "categorical" and (parent["other"] or "numbers" not in parent):
        return None  # only its top values are known (or an answer kept from before it said how many were numbers)
    removed, added = _sides(key_tallies(delta.changed, parts, None, by=SIDE))
    agg = _combined(parent, parent.get("numbers", 0), removed, added)
    if not categorical and agg["with_key"] and agg["numbers"] * 2 >= agg["with_key"]:
        return None  # it has become numeric
    values = {v["value"]: v["count"] for v in parent.get("values", [])}
    _add(values, removed["slots"], -1)
    _add(values, added["slots"], 1)
    return categorical_answer(agg, {v: n for v, n in values.items() if n}, top, key=parent["key"])


def _roi_meta(delta: Delta, parent: dict, parts: list[str], bins: int) -> dict | None:
    edges = histogram_edges(parent["min"], parent["max"], bins) if parent["kind"] == "numeric" else None
    removed, added = _sides(roi_meta_tallies(delta.changed, parts, edges, own_version=delta.draft_id))
    agg = _combined(parent, parent["with_key"] - parent["other_types"], removed, added)
    if edges is None:
        return roi_meta_answer(agg, parts, None, {}) if not added["numbers"] else None
    if not agg["numbers"] or not _within(parent, removed, added, lambda value: roi_number_held(delta.kept, parts, value)):
        return None
    return roi_meta_answer(agg, parts, edges, _bucket_counts(parent, removed, added))


def _confidence(delta: Delta, parent: dict, bins: int) -> dict | None:
    axis = (min(0.0, parent["min"]), max(1.0, parent["max"]), bins) if parent["kind"] == "numeric" else None
    removed, added = _sides(confidence_tallies(delta.changed, axis, own_version=delta.draft_id), slot=lambda row: (row["label"], row["slot"]))
    agg = _combined(parent, parent["with_key"], removed, added)
    if axis is None:
        return confidence_answer(agg, None, {}) if not added["numbers"] else None
    held = lambda value: confidence_held(delta.kept, value)  # noqa: E731
    if len(parent["series"]) > TOP_LABELS or not agg["numbers"] or not _within(parent, removed, added, held):
        return None  # past TOP_LABELS the parent's rarer labels are summed as "other": each one's counts are unknown
    by_label = {series["label"]: list(series["counts"]) for series in parent["series"]}
    for side, sign in ((removed, -1), (added, 1)):
        for (label, index), n in side["slots"].items():
            by_label.setdefault(label, [0] * bins)[index] += sign * n
    return confidence_answer(agg, axis, by_label)


def _sides(rows: list[dict], slot=lambda row: row["slot"]) -> tuple[dict, dict]:
    """The tallies' rows (stats.key_tallies, roi_stats' *_tallies) summed per side of the change: (removed, added),
    each with the aggregate's total, with_key, numbers, lo and hi, and `slots`: the frames (ROIs) per `slot(row)`
    (a bucket or a value), for the rows that have one."""
    sides = {sign: {"total": 0, "with_key": 0, "numbers": 0, "lo": None, "hi": None, "slots": {}} for sign in (-1, 1)}
    for row in rows:
        side = sides[row[SIDE]]
        for name in ("total", "with_key", "numbers"):
            side[name] += row.get(name, row["numbers"])  # a confidence is there or missing: with_key is numbers
        if row["lo"] is not None:
            side["lo"] = row["lo"] if side["lo"] is None else min(side["lo"], row["lo"])
            side["hi"] = row["hi"] if side["hi"] is None else max(side["hi"], row["hi"])
        if row["slot"] is not None:
            side["slots"][slot(row)] = side["slots"].get(slot(row), 0) + row["total"]
    return sides[-1], sides[1]


def _combined(parent: dict, parent_numbers: int, removed: dict, added: dict) -> dict:
    """The draft's aggregate: the parent's (from its answer) - the removed frames' + the added ones'; its
    min and max stay the parent's (the callers make sure they do)."""
    agg = {"total": parent["frames"], "with_key": parent["with_key"], "numbers": parent_numbers, "lo": parent.get("min"), "hi": parent.get("max")}
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
