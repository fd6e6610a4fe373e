"""Sample by Property: N frames per value of a metadata key or per label, picked by a seeded hash.

    sample_by    meta.<key> (one group per value, read as text; frames without it are left out) or label (one group per
                 label, ROI and frame labels; a frame with several labels can be picked for each of them)
    sample_n     frames per value, 1..MAX_SAMPLE_N (default 10)
    sample_seed  a whole number (default 0): the same seed picks the same frames, another seed others

How: within each value, frames are ranked by md5("<seed>:<frame id>") with a window function,
DENSE_RANK() OVER (PARTITION BY value ORDER BY md5(...)), and those ranked N or better are kept (two frame ids
with one md5 are not expected). One pass
over the filtered frames, no sort of the whole version by anything but the hash, the same SQL on SQLite (Django
registers MD5 there) and PostgreSQL. The hash is of the frame id, not of the row, so a frame keeps its chance
in every version of the dataset. DENSE_RANK rather than ROW_NUMBER: a frame whose label appears on several of
its ROIs has a row per ROI, and they share one rank, so a label's group still holds N different frames.

The sample is taken after the filters (a sample of what the filters match) and before sorting and paging: the
Frames tab, the counts, the export and Group by URL all read the same sampled frames.
"""
from __future__ import annotations

from dataclasses import dataclass

from django.db.models import CharField, F, Func, Value, Window
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.db.models.functions import MD5, Concat, DenseRank

from ..exceptions import ServiceError
from ..models import FrameRevision, RoiLabel

SAMPLE_KEYS = ("sample_by", "sample_n", "sample_seed")
DEFAULT_SAMPLE_N = 10
MAX_SAMPLE_N = 10_000
MAX_SEED = 2**31 - 1


@dataclass(frozen=True)
class Sample:
    by: str  # "label" or "meta.<key>[.<key>...]"
    n: int = DEFAULT_SAMPLE_N
    seed: int = 0

    @property
    def meta_keys(self) -> list[str]:
        return self.by.split(".")[1:] if self.by.startswith("meta.") else []

    def params(self) -> dict:
        return {"sample_by": self.by, "sample_n": str(self.n), "sample_seed": str(self.seed)}


def parse_sample(params) -> Sample | None:
    """The sample a request asks for (None without `sample_by`); ServiceError names every bad parameter."""
    by = (params.get("sample_by") or "").strip()
    raw_n, raw_seed = params.get("sample_n") or "", params.get("sample_seed") or ""
    errors = []
    if not by:
        for name, raw in (("sample_n", raw_n), ("sample_seed", raw_seed)):
            if raw:
                errors.append({"field": name, "message": "needs sample_by (meta.<key> or label)"})
        if errors:
            raise ServiceError(errors[0]["message"], errors=errors)
        return None
    keys = by.split(".")[1:] if by.startswith("meta.") else None
    if by != "label" and not (keys and all(keys) and not any("__" in k for k in keys)):
        errors.append({"field": "sample_by", "message": f"{by!r}: use meta.<key> (e.g. meta.weather) or label"})
    n = _whole(raw_n, DEFAULT_SAMPLE_N, 1, MAX_SAMPLE_N, "sample_n", errors)
    seed = _whole(raw_seed, 0, 0, MAX_SEED, "sample_seed", errors)
    if errors:
        raise ServiceError("; ".join(f"{e['field']}: {e['message']}" for e in errors), errors=errors)
    return Sample(by, n, seed)


def _whole(raw: str, default: int, low: int, high: int, name: str, errors: list) -> int:
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        errors.append({"field": name, "message": f"must be a whole number, got {raw!r}"})
        return default
    if not low <= value <= high:
        errors.append({"field": name, "message": f"must be between {low} and {high:,}"})
    return value


class SampleHash(Func):
    """md5("<seed>:<frame id>") as the rank order: the hex text on SQLite (compared byte by byte), its bytes on
    PostgreSQL (the same order; text would sort by collation, several times slower)."""

    output_field = CharField()

    def __init__(self, seed: int, frame_id: str = "frame_id"):
        super().__init__(MD5(Concat(Value(f"{seed}:"), F(frame_id), output_field=CharField())))

    def as_sql(self, compiler, connection, **extra):
        return compiler.compile(self.source_expressions[0])

    def as_postgresql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"decode({sql}, 'hex')", params


def sampled(rows, sample: Sample):
    """The revisions of `rows` (a FrameRevision queryset, already filtered) that the sample picks."""
    if sample.meta_keys:
        # The value as text: 5 and "5" are one group, and text partitions sort far faster than jsonb ones.
        *path, last = sample.meta_keys
        value = F("meta")
        for key in path:
            value = KeyTransform(key, value)
        value = KeyTextTransform(last, value)
        ranked = (
            rows.annotate(_sample_value=value)
            .filter(_sample_value__isnull=False)
            .annotate(_sample_rank=Window(DenseRank(), partition_by=[F("_sample_value")], order_by=[SampleHash(sample.seed)]))
            .filter(_sample_rank__lte=sample.n)
            .values("pk")
        )
    else:
        ranked = (
            RoiLabel.objects.filter(revision__in=rows.values("pk"))
            .annotate(_sample_rank=Window(DenseRank(), partition_by=[F("label")],
                                          order_by=[SampleHash(sample.seed, "revision__frame_id")]))
            .filter(_sample_rank__lte=sample.n)
            .values("revision_id")
        )
    return FrameRevision.objects.filter(pk__in=ranked)
