"""The label statistics a version keeps, and what can be read from them without counting any frame.

A version keeps its unfiltered label statistics (`DatasetVersion.stats`): stored when it is published, kept up
to date by the frame services on a draft (frames.services.label_counts.LabelCounts), or its published parent's while a
draft child has no revisions of its own. Beside them it keeps, under PAIRS, the same statistics restricted to
the frames carrying each label: {label A: {label B: [ROIs, frame labels, frames]}} over the frames carrying A.
A filter that is one label (frames carrying it, or not carrying it) is then answered from them at any size, as
its frame count already was: label statistics under "label car" at a million frames cost a dictionary lookup
instead of a pass over the 600,000 matching frames.

Pairs grow with the square of the labels that occur together; a version whose labels outgrow PAIRS_MAX_LABELS
keeps none (its single-label filters are counted like any other filter).
"""
from __future__ import annotations

from django.db import connection
from django.db.models import Count, Q

from ..models import DatasetVersion, FrameRevision, RoiLabel

PAIRS = "pairs"
PAIRS_MAX_LABELS = 100


def public_stats(stats: dict | None) -> dict | None:
    """The statistics as the API and pages show them: without the kept pairs."""
    if stats is None or PAIRS not in stats:
        return stats
    return {key: value for key, value in stats.items() if key != PAIRS}


def stored_stats(version: DatasetVersion) -> dict | None:
    """The label statistics a published version keeps (computed once: it never changes), or None."""
    return public_stats(version.stats) if version.is_published and version.stats is not None else None


def inherited_stats(version: DatasetVersion) -> dict | None:
    """A draft child's label statistics while it has no revisions of its own: its published parent's (it shows
    exactly its parent's frames), pairs included, or None."""
    parent = version.parent if version.parent_id else None
    if version.is_published or parent is None or parent.stats is None or not parent.is_published:
        return None
    if FrameRevision.objects.filter(version_id=version.pk).exists():
        return None
    return {**parent.stats, "frame_count": version.frame_count}


def kept_stats_with_pairs(version: DatasetVersion) -> dict | None:
    """The unfiltered label statistics the version keeps (pairs included when kept), or None when they must be
    counted."""
    if version.stats is not None:
        return version.stats
    return inherited_stats(version)


def kept_stats(version: DatasetVersion) -> dict | None:
    """kept_stats_with_pairs, as shown."""
    return public_stats(kept_stats_with_pairs(version))


def single_label_rule(filters):
    """The ROI rule of a filter that is one label and nothing else (frames with an ROI carrying it, or without:
    excluded), or None."""
    if len(filters or ()) != 1 or filters[0].frame_query or filters[0].sources_query or len(filters[0].roi_rules) != 1:
        return None
    rule = filters[0].roi_rules[0]
    return rule if len(rule.labels) == 1 and not rule.query and not rule.conf_range else None


def kept_label_count(version: DatasetVersion, filters) -> int | None:
    """The frame count of a filter that is one label, read from the label statistics the version keeps; None
    for any other filter or when none are kept."""
    rule = single_label_rule(filters)
    stats = kept_stats(version) if rule is not None else None
    if stats is None:
        return None
    carrying = next((e["frame_count"] for e in stats["labels"] if e["label"] == rule.labels[0]), 0)
    return stats["frame_count"] - carrying if rule.exclude else carrying


def kept_label_filter_stats(version: DatasetVersion, filters) -> dict | None:
    """Label statistics under a filter that is one label, read from the pairs the version keeps; None for any
    other filter or when no pairs are kept."""
    rule = single_label_rule(filters)
    stats = kept_stats_with_pairs(version) if rule is not None else None
    if stats is None or stats.get(PAIRS) is None:
        return None
    label = rule.labels[0]
    with_label = {b: list(counts) for b, counts in stats[PAIRS].get(label, {}).items()}
    carrying = with_label.get(label, [0, 0, 0])[2]
    if not rule.exclude:
        return label_stats_shape(with_label, frame_count=carrying, annotated=carrying)
    everything = {e["label"]: [e["roi_count"], e["frame_label_count"], e["frame_count"]] for e in stats["labels"]}
    without = {b: [n - w for n, w in zip(counts, with_label.get(b, (0, 0, 0)))] for b, counts in everything.items()}
    return label_stats_shape(without, frame_count=stats["frame_count"] - carrying, annotated=stats["annotated_frame_count"] - carrying)


def label_stats_shape(counts: dict[str, list[int]], *, frame_count: int, annotated: int) -> dict:
    """The label statistics' shape from {label: [ROIs, frame labels, frames]}, labels by frames then name."""
    labels = [{"label": label, "roi_count": rois, "frame_count": frames, "frame_label_count": frame_labels}
              for label, (rois, frame_labels, frames) in counts.items() if frames]
    return {"frame_count": frame_count, "annotated_frame_count": annotated,
            "labels": sorted(labels, key=lambda e: (-e["frame_count"], e["label"]))}


def counted_pairs(frames) -> dict | None:
    """PAIRS counted from the frames' label rows (one self-join of each frame's labels), or None when the
    frames carry more than PAIRS_MAX_LABELS labels."""
    labels = RoiLabel.objects.filter(revision__in=frames.values("pk"))
    if labels.values("label").distinct().count() > PAIRS_MAX_LABELS:
        return None
    per_frame = labels.values("revision_id", "label").annotate(
        rois=Count("pk", filter=Q(is_frame_label=False)), frame_labels=Count("pk", filter=Q(is_frame_label=True)),
    ).order_by()
    sql, params = per_frame.query.sql_with_params()
    revision, label = _column("revision_id"), _column("label")
    pairs_sql = (f"WITH per_frame AS ({sql}) SELECT a.{label}, b.{label}, SUM(b.rois), SUM(b.frame_labels), COUNT(*) "
                 f"FROM per_frame a JOIN per_frame b ON a.{revision} = b.{revision} GROUP BY 1, 2")
    pairs: dict[str, dict[str, list[int]]] = {}
    with connection.cursor() as cursor:
        cursor.execute(pairs_sql, params)
        for a, b, rois, frame_labels, frames_ in cursor.fetchall():
            pairs.setdefault(a, {})[b] = [int(rois), int(frame_labels), int(frames_)]
    return pairs


def _column(name: str) -> str:
    return connection.ops.quote_name(name)
