"""Read paths for the Statistics tab: the distribution of one metadata key over a version's frames (a
histogram for numbers, top values for categories) and the metadata keys a version's frames use.

Pure reads: counting and bucketing happen in the database (one aggregate query for min/max, one GROUP BY for
the buckets), whatever the version's size. A published version never changes, so its answers are cached.
"""
from __future__ import annotations

import hashlib
import json
import logging
import math
import time

from django.conf import settings
from django.core.cache import cache
from django.db.models import Case, CharField, Count, F, FloatField, Func, IntegerField, Max, Min, Q, Value, When
from django.db.models.fields.json import KeyTextTransform, KeyTransform, compile_json_path
from django.db.models.functions import Cast, Floor, Least

from .exceptions import ServiceError
from .filters import FrameFilter, filters_to_json, parse_filters
from .models import DatasetVersion
from .selectors import filtered_frames, version_stats

DEFAULT_BINS = 20
MAX_BINS = 200
DEFAULT_TOP = 20
KEY_SAMPLE = 500
CACHE_SECONDS = None  # published versions never change
DRAFT_CACHE_SECONDS = 600
LOCK_SECONDS = 300

logger = logging.getLogger(__name__)


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


class StatsPending(Exception):
    """Another request or a worker is counting the same thing right now; ask again in a moment (`_cached`)."""

    def __init__(self, kind: str, *, since: float | None = None, in_worker: bool = False):
        super().__init__(kind)
        self.kind, self.in_worker = kind, in_worker
        self.seconds = max(0.0, time.time() - since) if since else 0.0


def _cache_key(kind: str, version: DatasetVersion, *args) -> str:
    """Published versions never change; a draft's answers are keyed by its state (every write moves
    `updated` or `frame_count`), so a changed draft is counted again."""
    state = [] if version.is_published else [version.updated.isoformat(), version.frame_count]
    digest = hashlib.sha1(json.dumps([repr(a) for a in args] + state).encode()).hexdigest()
    return f"stats:{kind}:{version.pk}:{digest}"


def _cached(kind, version, args, compute, *, single_flight=False, params=None):
    """The answer from the cache, or computed and cached (for good on a published version, for a while on a
    draft). With single_flight (a web request that can ask again), a request that finds another one counting
    the same thing raises StatsPending at once instead of counting a million frames a second time, and a
    version larger than HYPERDATA_STATS_SYNC_FRAMES is counted by a worker (`params` say what to count, see
    `compute_queued`) while the request answers StatsPending."""
    key = _cache_key(kind, version, *args)
    result = cache.get(key)
    if result is not None:
        return result
    lock = f"{key}:lock"
    in_worker = single_flight and _queued(version, params)
    if not cache.add(lock, time.time(), LOCK_SECONDS) and single_flight:
        raise StatsPending(kind, since=cache.get(lock), in_worker=in_worker)
    if in_worker and _queue(kind, version, params, key):
        raise StatsPending(kind, since=time.time(), in_worker=True)
    try:
        result = compute()
        cache.set(key, result, CACHE_SECONDS if version.is_published else DRAFT_CACHE_SECONDS)
    finally:
        cache.delete(lock)
    return result


def _queued(version: DatasetVersion, params) -> bool:
    """Whether a worker counts this: a large version, and a cache the worker and the web processes share."""
    return (
        params is not None
        and version.frame_count > settings.HYPERDATA_STATS_SYNC_FRAMES
        and settings.CACHES["default"]["BACKEND"].endswith("RedisCache")
    )


def _queue(kind: str, version: DatasetVersion, params: dict, key: str) -> bool:
    from .tasks import compute_statistics

    try:  # the cache key as task id: the same question is never queued twice
        compute_statistics.apply_async(args=[kind, version.pk, params], task_id=f"stats-{key}", retry=False)
        return True
    except Exception as exc:  # no broker: the request counts it itself
        logger.warning("could not queue statistics for version %s: %s", version.pk, exc)
        return False


def compute_queued(*, kind: str, version_id: str, params: dict) -> None:
    """What a worker runs for `_queue`: the same selector, counting in place, the answer left in the cache."""
    version = DatasetVersion.objects.get(pk=version_id)
    filters = parse_filters(params["filters"])
    if kind == "labels":
        label_stats(version=version, filters=filters)
    else:
        meta_key_distribution(version=version, key=params["key"], filters=filters, bins=params["bins"], top=params["top"])


def label_stats(*, version: DatasetVersion, filters: list[FrameFilter] | None = None, single_flight=False) -> dict:
    """selectors.version_stats, cached: a published version stores its unfiltered statistics when it is
    published; under a filter, and on drafts, the answer is kept here."""
    if not filters and version.is_published and version.stats is not None:
        return version.stats
    return _cached("labels", version, (filters or [],), lambda: version_stats(version=version, filters=filters or None),
                   single_flight=single_flight, params={"filters": filters_to_json(filters or [])})


def meta_key_distribution(
    *,
    version: DatasetVersion,
    key: str,
    filters: list[FrameFilter] | None = None,
    bins: int = DEFAULT_BINS,
    top: int = DEFAULT_TOP,
    single_flight: bool = False,
) -> dict:
    """How the frames' values of metadata key `key` (`speed`, `camera.model`) are distributed.

    Numbers (when most frames holding the key hold a number): {"kind": "numeric", "min", "max", "buckets":
    [{"lo", "hi", "count"}], ...}; the last bucket includes `max`. Anything else: {"kind": "categorical",
    "values": [{"value", "count"}] (the `top` most frequent), "other": frames with another value}.
    Both carry "frames" (the frames under the filter), "with_key", "missing" and "other_types" (frames whose
    value is not of the chosen kind). Cached (see `_cached`; `single_flight` may raise StatsPending).
    """
    parts = _key_parts(key)
    if not isinstance(bins, int) or not 1 <= bins <= MAX_BINS:
        raise ServiceError(f"must be a whole number between 1 and {MAX_BINS}", field="bins")
    if not isinstance(top, int) or not 1 <= top <= 1000:
        raise ServiceError("must be a whole number between 1 and 1000", field="top")
    args = (".".join(parts), filters or [], bins, top)
    params = {"filters": filters_to_json(filters or []), "key": ".".join(parts), "bins": bins, "top": top}
    return _cached("meta", version, args, lambda: _distribution(version, parts, filters, bins, top),
                   single_flight=single_flight, params=params)


def _distribution(version, parts, filters, bins, top) -> dict:
    """Two passes over the frames: one aggregate (JSON types, and min/max of the numbers), then either the
    bucket counts or the top values."""
    number = Q(_type="number")
    present = Q(_type__isnull=False) & ~Q(_type="null")
    as_number = Case(When(number, then=Cast(_json_key(parts, KeyTextTransform), FloatField())), output_field=FloatField())
    frames = filtered_frames(version=version, filters=filters).annotate(_type=JSONTypeOf(_json_key(parts)))
    agg = frames.aggregate(
        total=Count("pk"), with_key=Count("pk", filter=present), numbers=Count("pk", filter=number),
        lo=Min(as_number), hi=Max(as_number),
    )
    total, with_key, numbers = agg["total"], agg["with_key"], agg["numbers"]
    base = {"key": ".".join(parts), "frames": total, "with_key": with_key, "missing": total - with_key}
    if with_key and numbers * 2 >= with_key:
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


def meta_keys(*, version: DatasetVersion, sample: int = KEY_SAMPLE) -> list[str]:
    """The metadata keys of (a sample of) the version's frames, nested objects as `a.b`, sorted."""
    def compute():
        keys = set()
        for meta in filtered_frames(version=version).values_list("meta", flat=True)[:sample]:
            if isinstance(meta, dict):
                for name, value in meta.items():
                    if isinstance(value, dict) and value:
                        keys.update(f"{name}.{inner}" for inner in value if "__" not in str(inner))
                    elif "__" not in name:
                        keys.add(name)
        return sorted(keys)

    return _cached("meta-keys", version, (sample,), compute)
