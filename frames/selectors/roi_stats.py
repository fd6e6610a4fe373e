"""Statistics of the ROIs of a version's frames: their confidence (one value per ROI label, split by label) and a
numeric ROI metadata key (`rois.meta.<key>`), and the ROI metadata keys used. Same shapes as the frame metadata
distributions of frames.selectors.stats, counting ROIs: "frames" is then the ROIs considered. Pure reads.
"""
from __future__ import annotations

from django.db import connection
from django.db.models import Case, Count, F, IntegerField, Max, Min, Value, When
from django.db.models.fields.json import compile_json_path
from django.db.models.functions import Cast, Floor, Least

from ..exceptions import ServiceError
from ..filters import frames_matching
from ..models import DatasetVersion, FrameRevision, RoiLabel
from .access import VIEWER, require
from .sampling import Sample
from .stats import DEFAULT_BINS, KEY_SAMPLE, check_bins, histogram_edges, key_parts, numeric_answer, parallel_scans, view_rows

ROI_KEY_PREFIX = "rois."
CONFIDENCE_KEY = "rois.confidence"
TOP_LABELS = 10


def is_roi_key(key: str) -> bool:
    return (key or "").strip().startswith(ROI_KEY_PREFIX)


def roi_key_parts(key: str) -> list[str]:
    """`rois.meta.area` -> ["area"]; `rois.confidence` -> [] (ServiceError names `key` otherwise)."""
    key = key.strip()
    if key == CONFIDENCE_KEY:
        return []
    if not key.startswith("rois.meta."):
        raise ServiceError("ROI keys are rois.confidence or rois.meta.<key>", field="key")
    return key_parts(key[len("rois.meta."):])


def roi_args(key: str, bins: int) -> tuple[str, int]:
    """An ROI key and bins, checked (ServiceError names the bad one)."""
    roi_key_parts(key)
    check_bins(bins)
    return key.strip(), bins


def roi_distribution(*, user, version: DatasetVersion, key: str, filters=(), bins: int = DEFAULT_BINS,
                     sample: Sample | None = None) -> dict:
    """A histogram over the ROIs of the frames under the filter: of their confidence (split by label: the
    TOP_LABELS commonest, then "other"), or of a numeric ROI metadata key."""
    require(user, version, VIEWER)
    parts = roi_key_parts(key)
    check_bins(bins)
    frames = view_rows(version, filters, sample)
    with parallel_scans():
        return roi_meta_histogram(frames, parts, bins) if parts else confidence_histogram(frames, bins)


# -- confidence, by label -----------------------------------------------------------------------------------------


def confidence_histogram(frames, bins: int) -> dict:
    agg = confidence_aggregate(frames)
    if not agg["numbers"]:
        return confidence_answer(agg, None, {})
    axis = confidence_axis(agg, bins)
    return confidence_answer(agg, axis, confidence_counts(frames, axis))


def confidence_aggregate(frames) -> dict:
    """total (ROI label rows), numbers (those with a confidence) and their lo/hi."""
    rows = RoiLabel.objects.filter(revision__in=frames.values("pk"))
    return rows.aggregate(total=Count("pk"), numbers=Count("confidence"), lo=Min("confidence"), hi=Max("confidence"))


def confidence_axis(agg: dict, bins: int) -> tuple[float, float, int]:
    """(lo, hi, bins): confidences are 0..1, so the axis is kept whole."""
    return min(0.0, agg["lo"]), max(1.0, agg["hi"]), bins


def confidence_counts(frames, axis) -> dict[str, list[int]]:
    """{label: [ROI labels per bucket]} over the axis."""
    rows = RoiLabel.objects.filter(revision__in=frames.values("pk"), confidence__isnull=False)
    by_label: dict[str, list[int]] = {}
    for row in rows.annotate(b=_confidence_bucket(axis)).values("label", "b").annotate(n=Count("pk")).order_by():
        by_label.setdefault(row["label"], [0] * axis[2])[row["b"]] += row["n"]
    return by_label


def _confidence_bucket(axis):
    lo, hi, bins = axis
    # Multiplied, with a hair added, so 0.3 lands in [0.3, 0.35), not below it (0.3 / 0.05 is 5.999...).
    position = (F("confidence") - Value(lo)) * Value(bins / (hi - lo)) + Value(1e-9)
    return Least(Cast(Floor(position), IntegerField()), Value(bins - 1))


def confidence_tallies(frames, axis) -> list[dict]:
    """confidence_aggregate's figures and confidence_counts' buckets in one pass, per label and bucket of `axis`
    (None: no confidence, or no axis)."""
    if axis:
        slot = Case(When(confidence__isnull=False, then=_confidence_bucket(axis)), output_field=IntegerField())
    else:
        slot = Value(None, output_field=IntegerField())
    rows = RoiLabel.objects.filter(revision__in=frames.values("pk")).annotate(slot=slot).values("label", "slot")
    figures = {"total": Count("pk"), "numbers": Count("confidence"), "lo": Min("confidence"), "hi": Max("confidence")}
    return list(rows.annotate(**figures).order_by())


def confidence_held(frames, value: float) -> bool:
    """Whether an ROI label of the frames has exactly this confidence (a search that stops at the first)."""
    return RoiLabel.objects.filter(revision__in=frames.values("pk"), confidence=value).exists()


def confidence_answer(agg: dict, axis, by_label: dict[str, list[int]]) -> dict:
    base = {"key": CONFIDENCE_KEY, "frames": agg["total"], "with_key": agg["numbers"], "missing": agg["total"] - agg["numbers"],
            "other_types": 0, "unit": "ROI labels"}
    if axis is None:
        return {**base, "kind": "empty", "values": [], "other": 0}
    lo, hi, bins = axis
    width = (hi - lo) / bins
    ranked = sorted((label for label in by_label if any(by_label[label])), key=lambda label: (-sum(by_label[label]), label))
    series = [{"label": label, "counts": by_label[label]} for label in ranked[:TOP_LABELS]]
    if len(ranked) > TOP_LABELS:
        series.append({"label": "other", "counts": [sum(by_label[label][i] for label in ranked[TOP_LABELS:]) for i in range(bins)]})
    buckets = [{"lo": lo + i * width, "hi": hi if i == bins - 1 else lo + (i + 1) * width,
                "count": sum(by_label[label][i] for label in by_label)} for i in range(bins)]
    return {**base, "kind": "numeric", "min": agg["lo"], "max": agg["hi"], "integral": False, "buckets": buckets, "series": series}


# -- numeric ROI metadata -----------------------------------------------------------------------------------------


def roi_meta_histogram(frames, parts: list[str], bins: int) -> dict:
    agg = roi_meta_aggregate(frames, parts)
    if not agg["numbers"]:
        return roi_meta_answer(agg, parts, None, {})
    edges = histogram_edges(agg["lo"], agg["hi"], bins)
    return roi_meta_answer(agg, parts, edges, roi_meta_counts(frames, parts, edges))


def roi_meta_answer(agg: dict, parts: list[str], edges, counts: dict[int, int]) -> dict:
    key = "rois.meta." + ".".join(parts)
    if not agg["numbers"]:
        return {"key": key, "frames": agg["total"], "with_key": agg["with_key"], "missing": agg["total"] - agg["with_key"],
                "other_types": agg["with_key"] - agg["numbers"], "unit": "ROIs", "kind": "empty", "values": [], "other": 0}
    return numeric_answer(agg, edges, counts, key=key, unit="ROIs")


def roi_meta_aggregate(frames, parts: list[str]) -> dict:
    """total (ROIs), numbers, with_key and lo/hi of the numbers of ROI metadata key `parts`."""
    sql, params = _roi_values_sql(frames, parts)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*), count(v), coalesce(sum(present), 0), min(v), max(v) FROM ({sql}) x", params)
        total, numbers, with_key, lo, hi = cursor.fetchone()
    return {"total": total, "numbers": numbers, "with_key": int(with_key), "lo": lo, "hi": hi}


def roi_meta_counts(frames, parts: list[str], edges) -> dict[int, int]:
    """{bucket: ROIs} of the numbers of ROI metadata key `parts` over `edges`."""
    sql, params = _roi_values_sql(frames, parts)
    counts: dict[int, int] = {}
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {_roi_bucket_sql()} AS b, count(*) FROM ({sql}) x WHERE v IS NOT NULL GROUP BY 1", [*edges[:2], *params])
        for index, n in cursor.fetchall():
            counts[_last_bucket_kept(index, edges)] = counts.get(_last_bucket_kept(index, edges), 0) + n
    return counts


def _roi_bucket_sql() -> str:
    """The bucket of an ROI's number v; parameters lo, width. SQLite's CAST truncates: v >= lo, so it floors."""
    return f"CAST({'floor' if connection.vendor == 'postgresql' else ''}((v - %s) / %s) AS INTEGER)"


def _last_bucket_kept(index: int, edges) -> int:
    return min(index, edges[2] - 1)  # the maximum lands one past the last bucket: it belongs in it


def roi_meta_tallies(frames, parts: list[str], edges) -> list[dict]:
    """roi_meta_aggregate's figures and roi_meta_counts' buckets in one pass, per bucket of `edges` (None: not a
    number, or no edges)."""
    sql, params = _roi_values_sql(frames, parts)
    bucket, bucket_params = (f"CASE WHEN v IS NOT NULL THEN {_roi_bucket_sql()} END", list(edges[:2])) if edges else ("NULL", [])
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {bucket}, count(*), count(v), coalesce(sum(present), 0), min(v), max(v) FROM ({sql}) x GROUP BY 1",
                       [*bucket_params, *params])
        return [{"slot": None if slot is None else _last_bucket_kept(slot, edges), "total": total, "numbers": numbers,
                 "with_key": int(with_key), "lo": lo, "hi": hi} for slot, total, numbers, with_key, lo, hi in cursor.fetchall()]


def roi_number_held(frames, parts: list[str], value: float) -> bool:
    """Whether an ROI of the frames holds the number `value` under key `parts` (stops at the first)."""
    sql, params = _roi_values_sql(frames, parts)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT 1 FROM ({sql}) x WHERE v = %s LIMIT 1", [*params, value])
        return cursor.fetchone() is not None


def _roi_values_sql(frames, parts: list[str]) -> tuple[str, list]:
    """SQL rows (v: the number or NULL, present: 0/1) of every ROI of the frames, and its parameters."""
    frame_sql, frame_params = frames.values("pk").query.sql_with_params()
    table = FrameRevision._meta.db_table
    if connection.vendor == "postgresql":
        kind, value = "jsonb_typeof(r.value #> %s)", "(r.value #>> %s)::float8"
        path = ["meta", *parts]
        source = f"{table} f CROSS JOIN LATERAL jsonb_array_elements(f.rois) r"
        number, present = "= 'number'", "NOT IN ('null')"
    else:
        kind, value = "json_type(r.value, %s)", "json_extract(r.value, %s)"
        path = compile_json_path(["meta", *parts])
        source = f"{table} f, json_each(f.rois) r"
        number, present = "IN ('integer', 'real')", "NOT IN ('null')"
    sql = (f"SELECT CASE WHEN {kind} {number} THEN {value} END AS v, "
           f"CASE WHEN {kind} {present} THEN 1 ELSE 0 END AS present FROM {source} WHERE f.id IN ({frame_sql})")
    return sql, [path, path, path, *frame_params]


def roi_meta_keys(*, user, version: DatasetVersion, sample: int = KEY_SAMPLE) -> list[str]:
    """`rois.meta.<key>` for the metadata keys of the ROIs of (a sample of) the version's frames, sorted."""
    require(user, version, VIEWER)
    keys = set()
    for rois in frames_matching(version).values_list("rois", flat=True)[:sample]:
        for roi in rois if isinstance(rois, list) else ():
            meta = roi.get("meta") if isinstance(roi, dict) else None
            if isinstance(meta, dict):
                keys.update(f"rois.meta.{name}" for name, value in meta.items() if "__" not in name and not isinstance(value, (dict, list)))
    return sorted(keys)
