"""Statistics of a version's frames, counted in the database: labels (ROIs and frame labels per label, annotated
frames), the distribution of one metadata key (a histogram for numbers, top values for categories), of the ROIs'
confidence (by label) and of a numeric ROI metadata key (`rois.meta.<key>`), and the metadata keys used.

Every statistic describes a view: the frames the filters match, or with a Sample by Property (`sample`, the Frames
tab's sample_by/sample_n/sample_seed) the frames the sample picks of those, as the Frames tab lists them.

Pure reads, whatever the version's size: one aggregate for min/max, one GROUP BY for the buckets. Keeping the
answers (a published version's statistics, caches, a worker counting a large version) is the services' part
(frames.services.stats).
"""
from __future__ import annotations

import math
from contextlib import contextmanager

from django.db import connection, transaction
from django.db.models import Case, CharField, Count, Exists, F, FloatField, Func, IntegerField, Max, Min, OuterRef, Q, Value, When
from django.db.models.fields.json import KeyTextTransform, KeyTransform, compile_json_path
from django.db.models.functions import Cast, Floor, Least

from ..exceptions import ServiceError
from ..filters import frames_matching
from ..models import DatasetVersion, FrameRevision, RoiLabel
from .access import VIEWER, require
from .sampling import Sample, sampled

DEFAULT_BINS = 20
MAX_BINS = 200
DEFAULT_TOP = 20
MAX_TOP = 1000
KEY_SAMPLE = 500


class JSONTypeOf(Func):
    """The JSON type of a key of a JSON column: 'number', 'string', 'boolean', 'null', 'object', 'array', or
    NULL when the key is missing (PostgreSQL's jsonb_typeof names; SQLite's integer/real/true/false mapped)."""

    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"jsonb_typeof({sql})", params

    def as_sqlite(self, compiler, connection, **extra):
        lhs, params, keys = self.source_expressions[0].preprocess_lhs(compiler, connection)
        path = compile_json_path(keys)
        kind = f"JSON_TYPE({lhs}, %s)"
        sql = (
            f"(CASE {kind} WHEN 'integer' THEN 'number' WHEN 'real' THEN 'number' WHEN 'true' THEN 'boolean' "
            f"WHEN 'false' THEN 'boolean' WHEN 'text' THEN 'string' ELSE {kind} END)"
        )
        return sql, (*params, path, *params, path)


def _key_parts(key: str) -> list[str]:
    key = (key or "").strip()
    if key.startswith("meta."):
        key = key[5:]
    parts = key.split(".")
    if not key or not all(parts) or any("__" in part for part in parts):
        raise ServiceError("must be a metadata key such as speed or camera.model (no empty parts, no '__')", field="key")
    return parts


def _json_key(parts: list[str], transform=KeyTransform):
    expr = F("meta")
    for part in parts[:-1]:
        expr = KeyTransform(part, expr)
    return transform(parts[-1], expr)


def _view_rows(version: DatasetVersion, filters=(), sample: Sample | None = None):
    """The revisions a statistic counts: what the filters match, or what the sample picks of it."""
    rows = frames_matching(version, filters)
    return sampled(rows, sample) if sample else rows


def stored_stats(version: DatasetVersion) -> dict | None:
    """The label statistics a published version keeps (computed once: it never changes), or None."""
    return version.stats if version.is_published and version.stats is not None else None


def inherited_stats(version: DatasetVersion) -> dict | None:
    """A draft child's label statistics while it has no revisions of its own: its published parent's (it shows
    exactly its parent's frames), or None."""
    parent = version.parent if version.parent_id else None
    if version.is_published or parent is None or parent.stats is None or not parent.is_published:
        return None
    if FrameRevision.objects.filter(version_id=version.pk).exists():
        return None
    return {**parent.stats, "frame_count": version.frame_count}


def kept_stats(version: DatasetVersion) -> dict | None:
    """The unfiltered label statistics the version keeps: stored when published, kept up to date by the frame
    services on a draft (frames.services.stats.LabelCounts), or inherited; None when they must be counted."""
    if version.stats is not None:
        return version.stats
    return inherited_stats(version)


def kept_label_count(version: DatasetVersion, filters) -> int | None:
    """The frame count of a filter that is one label (frames with an ROI carrying it, or without: excluded),
    read from the label statistics the version keeps; None for any other filter or when none are kept."""
    if len(filters or ()) != 1 or filters[0].frame_query or filters[0].sources_query or len(filters[0].roi_rules) != 1:
        return None
    rule = filters[0].roi_rules[0]
    stats = kept_stats(version) if len(rule.labels) == 1 and not rule.query and not rule.conf_range else None
    if stats is None:
        return None
    carrying = next((e["frame_count"] for e in stats["labels"] if e["label"] == rule.labels[0]), 0)
    return stats["frame_count"] - carrying if rule.exclude else carrying


def label_stats(*, user, version: DatasetVersion, filters=(), sample: Sample | None = None) -> dict:
    """Frame count, annotated frames, and per label the number of ROIs, of frame labels and of frames
    carrying it; the statistics the version keeps when there is no filter and no sample."""
    require(user, version, VIEWER)
    if not filters and not sample:
        kept = kept_stats(version)
        if kept is not None:
            return kept
    with _parallel_scans():
        return _label_stats(version, filters, sample)


def counted_label_stats(*, user, version: DatasetVersion, filters=()) -> dict:
    """label_stats counted from the frames, never from what the version keeps (to start keeping them, and to
    check what is kept)."""
    require(user, version, VIEWER)
    with _parallel_scans():
        return _label_stats(version, filters)


@contextmanager
def _parallel_scans():
    """Statistics read every frame of a version: let PostgreSQL use its parallel workers, which web connections
    have turned off for their short queries (a million frames: 15 s -> 7 s)."""
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL max_parallel_workers_per_gather = 2")
        yield


def _label_stats(version: DatasetVersion, filters, sample: Sample | None = None) -> dict:
    frames = _view_rows(version, filters, sample)
    label_rows = RoiLabel.objects.filter(revision__in=frames.values("pk"))
    # One pass over the label rows: per label, its frames and its ROI and frame-label rows.
    counted = label_rows.values("label").annotate(
        frames=Count("revision", distinct=True), rois=Count("pk", filter=Q(is_frame_label=False)),
        frame_labels=Count("pk", filter=Q(is_frame_label=True)),
    ).order_by()
    by_label = {row["label"]: {"label": row["label"], "roi_count": row["rois"], "frame_count": row["frames"],
                               "frame_label_count": row["frame_labels"]} for row in counted}
    annotated = frames.filter(Exists(RoiLabel.objects.filter(revision=OuterRef("pk")))).count()
    total = frames.count() if filters or sample else version.frame_count
    return {
        "frame_count": total,
        "annotated_frame_count": annotated,
        "labels": sorted(by_label.values(), key=lambda e: (-e["frame_count"], e["label"])),
    }


def meta_args(key: str, bins: int, top: int) -> tuple[list[str], int, int]:
    """The key's parts, bins and top of a distribution, checked (ServiceError names the bad one)."""
    parts = _key_parts(key)
    _check_bins(bins)
    if isinstance(top, bool) or not isinstance(top, int) or not 1 <= top <= MAX_TOP:
        raise ServiceError(f"must be a whole number between 1 and {MAX_TOP}", field="top")
    return parts, bins, top


def _check_bins(bins) -> None:
    if isinstance(bins, bool) or not isinstance(bins, int) or not 1 <= bins <= MAX_BINS:
        raise ServiceError(f"must be a whole number between 1 and {MAX_BINS}", field="bins")


def meta_distribution(*, user, version: DatasetVersion, key: str, filters=(), bins: int = DEFAULT_BINS, top: int = DEFAULT_TOP,
                      categorical: bool = False, sample: Sample | None = None) -> dict:
    """How the frames' values of metadata key `key` (`speed`, `camera.model`) are distributed.

    Numbers (when most frames holding the key hold a number): {"kind": "numeric", "min", "max", "buckets":
    [{"lo", "hi", "count"}], ...}; the last bucket includes `max`. Anything else: {"kind": "categorical",
    "values": [{"value", "count"}] (the `top` most frequent), "other": frames with another value}.
    Both carry "frames" (the frames under the filter), "with_key", "missing" and "other_types" (frames whose
    value is not of the chosen kind). `categorical` counts numbers per value too (a typed categorical_int field).
    """
    require(user, version, VIEWER)
    parts, bins, top = meta_args(key, bins, top)
    with _parallel_scans():
        return _distribution(_view_rows(version, filters, sample), parts, bins, top, categorical)


def _distribution(frames, parts, bins, top, categorical=False) -> dict:
    """Two passes over the frames: one aggregate (JSON types, and min/max of the numbers), then either the
    bucket counts or the top values."""
    number = Q(_type="number")
    present = Q(_type__isnull=False) & ~Q(_type="null")
    as_number = Case(When(number, then=Cast(_json_key(parts, KeyTextTransform), FloatField())), output_field=FloatField())
    frames = frames.annotate(_type=JSONTypeOf(_json_key(parts)))
    agg = frames.aggregate(
        total=Count("pk"), with_key=Count("pk", filter=present), numbers=Count("pk", filter=number),
        lo=Min(as_number), hi=Max(as_number),
    )
    total, with_key, numbers = agg["total"], agg["with_key"], agg["numbers"]
    base = {"key": ".".join(parts), "frames": total, "with_key": with_key, "missing": total - with_key}
    if with_key and numbers * 2 >= with_key and not categorical:
        numeric = frames.filter(number).annotate(_value=Cast(_json_key(parts, KeyTextTransform), FloatField()))
        histogram = _histogram(numeric, agg["lo"], agg["hi"], numbers, bins)
        return {**base, "kind": "numeric", "other_types": with_key - numbers, **histogram}
    if not with_key:
        return {**base, "kind": "empty", "other_types": 0, "values": [], "other": 0}
    categorical = frames.filter(present).annotate(_value=_json_key(parts, KeyTextTransform))
    rows = list(categorical.values("_value").annotate(n=Count("pk")).order_by("-n", "_value")[:top])
    values = [{"value": _label(row["_value"]), "count": row["n"]} for row in rows]
    shown = sum(v["count"] for v in values)
    return {**base, "kind": "categorical", "other_types": 0, "values": values, "other": with_key - shown}


def _label(value) -> str:
    if value is None:
        return "null"
    return str(value)


def _histogram(numeric, lo, hi, count: int, bins: int) -> dict:
    """The bucket counts in one GROUP BY (min and max are known); integers get whole-number edges."""
    if lo is None:
        return {"min": None, "max": None, "buckets": []}
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ServiceError("the key holds values that are not finite numbers", field="key")
    integral = float(lo).is_integer() and float(hi).is_integer()
    if hi == lo:
        return {"min": lo, "max": hi, "buckets": [{"lo": lo, "hi": hi, "count": count}]}
    span = hi - lo
    width = span / bins
    if integral:
        # Whole-number buckets: never narrower than 1, so 0..119 in 20 bins gives 6 values a bucket.
        width = max(1.0, math.ceil((span + 1) / bins))
        bins = int(math.ceil((span + 1) / width))
    bucket = Least(Cast(Floor((F("_value") - Value(lo)) / Value(width)), IntegerField()), Value(bins - 1))
    counts = {row["b"]: row["n"] for row in numeric.annotate(b=bucket).values("b").annotate(n=Count("pk")).order_by()}
    buckets = []
    for index in range(bins):
        b_lo = lo + index * width
        b_hi = (b_lo + width - 1) if integral else (hi if index == bins - 1 else b_lo + width)
        buckets.append({"lo": b_lo, "hi": min(b_hi, hi), "count": counts.get(index, 0)})
    return {"min": lo, "max": hi, "integral": integral, "buckets": buckets}


def meta_keys(*, user, version: DatasetVersion, sample: int = KEY_SAMPLE) -> list[str]:
    """The metadata keys of (a sample of) the version's frames, nested objects as `a.b`, sorted."""
    require(user, version, VIEWER)
    keys = set()
    for meta in frames_matching(version).values_list("meta", flat=True)[:sample]:
        if isinstance(meta, dict):
            for name, value in meta.items():
                if isinstance(value, dict) and value:
                    keys.update(f"{name}.{inner}" for inner in value if "__" not in str(inner))
                elif "__" not in name:
                    keys.add(name)
    return sorted(keys)


# -- ROIs: confidence by label, numeric ROI metadata ---------------------------------------------------------------

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
    return _key_parts(key[len("rois.meta."):])


def roi_args(key: str, bins: int) -> tuple[str, int]:
    """An ROI key and bins, checked (ServiceError names the bad one)."""
    roi_key_parts(key)
    _check_bins(bins)
    return key.strip(), bins


def roi_distribution(*, user, version: DatasetVersion, key: str, filters=(), bins: int = DEFAULT_BINS,
                     sample: Sample | None = None) -> dict:
    """A histogram over the ROIs of the frames under the filter: of their confidence (one value per ROI label,
    split by label: the TOP_LABELS commonest, then "other"), or of a numeric ROI metadata key. Same shape as
    meta_distribution's numeric answer, counting ROIs: "frames" is then the ROIs considered."""
    require(user, version, VIEWER)
    parts = roi_key_parts(key)
    _check_bins(bins)
    frames = _view_rows(version, filters, sample)
    with _parallel_scans():
        return _roi_meta_histogram(frames, parts, bins) if parts else _confidence_histogram(frames, bins)


def _confidence_histogram(frames, bins: int) -> dict:
    rows = RoiLabel.objects.filter(revision__in=frames.values("pk"))
    agg = rows.aggregate(total=Count("pk"), numbers=Count("confidence"), lo=Min("confidence"), hi=Max("confidence"))
    base = {"key": CONFIDENCE_KEY, "frames": agg["total"], "with_key": agg["numbers"], "missing": agg["total"] - agg["numbers"],
            "other_types": 0, "unit": "ROI labels"}
    if not agg["numbers"]:
        return {**base, "kind": "empty", "values": [], "other": 0}
    lo, hi = min(0.0, agg["lo"]), max(1.0, agg["hi"])  # confidences are 0..1: keep the axis whole
    width = (hi - lo) / bins
    # Multiplied, with a hair added, so 0.3 lands in [0.3, 0.35), not below it (0.3 / 0.05 is 5.999...).
    position = (F("confidence") - Value(lo)) * Value(bins / (hi - lo)) + Value(1e-9)
    bucket = Least(Cast(Floor(position), IntegerField()), Value(bins - 1))
    counts = rows.filter(confidence__isnull=False).annotate(b=bucket).values("label", "b").annotate(n=Count("pk")).order_by()
    by_label: dict[str, list[int]] = {}
    for row in counts:
        by_label.setdefault(row["label"], [0] * bins)[row["b"]] += row["n"]
    ranked = sorted(by_label, key=lambda label: (-sum(by_label[label]), label))
    series = [{"label": label, "counts": by_label[label]} for label in ranked[:TOP_LABELS]]
    if len(ranked) > TOP_LABELS:
        series.append({"label": "other", "counts": [sum(by_label[label][i] for label in ranked[TOP_LABELS:]) for i in range(bins)]})
    buckets = [{"lo": lo + i * width, "hi": hi if i == bins - 1 else lo + (i + 1) * width,
                "count": sum(by_label[label][i] for label in by_label)} for i in range(bins)]
    return {**base, "kind": "numeric", "min": agg["lo"], "max": agg["hi"], "integral": False, "buckets": buckets, "series": series}


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


def _roi_meta_histogram(frames, parts: list[str], bins: int) -> dict:
    sql, params = _roi_values_sql(frames, parts)
    floor = "floor" if connection.vendor == "postgresql" else ""  # SQLite's CAST truncates: v >= lo, so it floors
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*), count(v), coalesce(sum(present), 0), min(v), max(v) FROM ({sql}) x", params)
        total, numbers, with_key, lo, hi = cursor.fetchone()
        base = {"key": "rois.meta." + ".".join(parts), "frames": total, "with_key": with_key, "missing": total - with_key,
                "other_types": with_key - numbers, "unit": "ROIs"}
        if not numbers:
            return {**base, "kind": "empty", "values": [], "other": 0}
        lo, hi = float(lo), float(hi)
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise ServiceError("the key holds values that are not finite numbers", field="key")
        integral = lo.is_integer() and hi.is_integer()
        width = max(1.0, math.ceil((hi - lo + 1) / bins)) if integral else ((hi - lo) / bins or 1.0)
        bins = int(math.ceil((hi - lo + 1) / width)) if integral else bins
        cursor.execute(f"SELECT CAST({floor}((v - %s) / %s) AS INTEGER) AS b, count(*) FROM ({sql}) x "
                       "WHERE v IS NOT NULL GROUP BY 1", [lo, width, *params])
        counts: dict[int, int] = {}
        for index, n in cursor.fetchall():  # the maximum lands one past the last bucket: it belongs in it
            counts[min(index, bins - 1)] = counts.get(min(index, bins - 1), 0) + n
    buckets = []
    for index in range(bins):
        b_lo = lo + index * width
        b_hi = (b_lo + width - 1) if integral else (hi if index == bins - 1 else b_lo + width)
        buckets.append({"lo": b_lo, "hi": min(b_hi, hi), "count": counts.get(index, 0)})
    return {**base, "kind": "numeric", "min": lo, "max": hi, "integral": integral, "buckets": buckets}


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
