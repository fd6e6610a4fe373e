"""ClearML frame filters: ROI label rules, a Lucene frame rule on `meta.*` and a source rule on `sources.*`.

Rules inside one filter are AND-ed; several filters are OR-ed. The result is a Q object over FrameRevision.
Filters arrive as JSON, e.g.
    [{"rois": [{"labels": ["car"], "logic": "include", "conf_range": [0.5, 1]}],
      "frame_query": "meta.weather:sunny AND meta.speed:[10 TO 60]",
      "sources_query": "sources.content_type:image*"}]
ClearML's own spelling (`label_rules`, `label`, `must_not`) is accepted as well.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, Q

from .changes import changed_rows
from .exceptions import ServiceError
from .lucene import Column, JsonPath, LuceneError, to_q
from .models import DatasetVersion, FrameRevision, FrameSource, RoiLabel

FRAME_COLUMNS = {
    "id": Column("frame_id"),
    "context_id": Column("context_id"),
    "timestamp": Column("timestamp", numeric=True),
    "saved": Column("saved", numeric=True),
    "num_frames": Column("num_frames", numeric=True),
}
SOURCE_COLUMNS = {
    "id": Column("source_id"),
    "uri": Column("uri"),
    "content_type": Column("content_type"),
    "width": Column("width", numeric=True),
    "height": Column("height", numeric=True),
    "timestamp": Column("timestamp", numeric=True),
}


def _json_path(name: str, prefix: str) -> JsonPath:
    keys = tuple(name[len(prefix) :].split("."))
    if not all(keys) or any("__" in key for key in keys):
        raise LuceneError(f"field {name!r}: keys must be non-empty and must not contain '__'")
    return JsonPath("meta", keys)


def resolve_frame_field(name: str):
    if name.startswith("meta."):
        return _json_path(name, "meta.")
    if name in FRAME_COLUMNS:
        return FRAME_COLUMNS[name]
    raise LuceneError(f"unknown field {name!r}: frame rules use meta.<key>, or one of {', '.join(FRAME_COLUMNS)}")


def resolve_source_field(name: str):
    if name.startswith("sources.meta."):
        return _json_path(name, "sources.meta.")
    column = SOURCE_COLUMNS.get(name.removeprefix("sources.")) if name.startswith("sources.") else None
    if column is None:
        raise LuceneError(
            f"unknown field {name!r}: source rules use sources.<{'|'.join(SOURCE_COLUMNS)}> or sources.meta.<key>"
        )
    return column


@dataclass(frozen=True)
class RoiRule:
    labels: tuple[str, ...]
    exclude: bool = False
    conf_range: tuple[float, float] | None = None


@dataclass(frozen=True)
class FrameFilter:
    roi_rules: tuple[RoiRule, ...] = field(default_factory=tuple)
    frame_query: str = ""
    sources_query: str = ""


def _fail(field_name: str, message: str):
    raise ServiceError(message, field=field_name)


def _parse_conf_range(value, where: str):
    if value is None:
        return None
    if not (isinstance(value, (list, tuple)) and len(value) == 2 and all(isinstance(v, (int, float)) for v in value)):
        _fail(where, "expected [min, max] with numbers between 0 and 1")
    low, high = float(value[0]), float(value[1])
    if not (0 <= low <= high <= 1):
        _fail(where, "expected 0 <= min <= max <= 1")
    return (low, high)


def _parse_rule(raw, where: str) -> RoiRule:
    if not isinstance(raw, dict):
        _fail(where, "expected an object with labels, logic and conf_range")
    labels = raw.get("labels", raw.get("label", []))
    labels = [labels] if isinstance(labels, str) else labels
    if not isinstance(labels, list) or not all(isinstance(label, str) and label for label in labels):
        _fail(f"{where}.labels", "expected a list of label names")
    logic = raw.get("logic", "exclude" if raw.get("must_not") else "include")
    if logic not in ("include", "exclude"):
        _fail(f"{where}.logic", "expected 'include' or 'exclude'")
    conf_range = _parse_conf_range(raw.get("conf_range"), f"{where}.conf_range")
    if not labels and conf_range is None:
        _fail(f"{where}.labels", "a rule needs labels or a conf_range")
    return RoiRule(tuple(labels), logic == "exclude", conf_range)


def _check_query(text, where: str, resolve, model) -> str:
    if text is None:
        return ""
    if not isinstance(text, str):
        _fail(where, "expected a Lucene query string")
    try:
        to_q(text, resolve, model)
    except LuceneError as exc:
        _fail(where, str(exc))
    except RecursionError:
        _fail(where, "nested too deeply")
    return text


def parse_filters(raw) -> list[FrameFilter]:
    """Validate filters from JSON; errors name the field, e.g. filters[0].frame_query."""
    if raw in (None, "", []):
        return []
    if isinstance(raw, dict):
        raw = [raw]
    if not isinstance(raw, list):
        _fail("filters", "expected a list of filter objects")
    result = []
    for i, item in enumerate(raw):
        where = f"filters[{i}]"
        if not isinstance(item, dict):
            _fail(where, "expected an object")
        unknown = set(item) - {"rois", "label_rules", "frame_query", "sources_query", "filter_by_roi"}
        if unknown:
            _fail(f"{where}.{sorted(unknown)[0]}", "unknown field")
        rules = item.get("rois", item.get("label_rules")) or []
        if not isinstance(rules, list):
            _fail(f"{where}.rois", "expected a list of ROI rules")
        result.append(
            FrameFilter(
                roi_rules=tuple(_parse_rule(rule, f"{where}.rois[{j}]") for j, rule in enumerate(rules)),
                frame_query=_check_query(item.get("frame_query"), f"{where}.frame_query", resolve_frame_field, FrameRevision),
                sources_query=_check_query(item.get("sources_query"), f"{where}.sources_query", resolve_source_field, FrameSource),
            )
        )
    return result


def filters_to_json(filters: list[FrameFilter]) -> list[dict]:
    """The JSON `parse_filters` reads back into the same filters (to hand them to a worker)."""
    return [
        {
            "rois": [
                {"labels": list(rule.labels), "logic": "exclude" if rule.exclude else "include",
                 **({"conf_range": list(rule.conf_range)} if rule.conf_range else {})}
                for rule in f.roi_rules
            ],
            "frame_query": f.frame_query,
            "sources_query": f.sources_query,
        }
        for f in filters
    ]


def _roi_rule_q(rule: RoiRule) -> Q:
    """Frames where one ROI carries every label of the rule (within the confidence range)."""
    labels = list(rule.labels)
    rois = RoiLabel.objects.filter(revision=OuterRef("pk"))
    if labels:
        rois = rois.filter(label=labels.pop(0))
    if rule.conf_range:
        rois = rois.filter(confidence__gte=rule.conf_range[0], confidence__lte=rule.conf_range[1])
    for label in labels:
        same_roi = RoiLabel.objects.filter(revision=OuterRef("revision"), roi_index=OuterRef("roi_index"), label=label)
        rois = rois.filter(Exists(same_roi))
    q = Q(Exists(rois))
    return ~q if rule.exclude else q


def _filter_q(frame_filter: FrameFilter) -> Q:
    q = Q()
    for rule in frame_filter.roi_rules:
        q &= _roi_rule_q(rule)
    if frame_filter.frame_query:
        q &= to_q(frame_filter.frame_query, resolve_frame_field, FrameRevision)
    if frame_filter.sources_query:
        matching_sources = FrameSource.objects.filter(revision=OuterRef("pk")).filter(
            to_q(frame_filter.sources_query, resolve_source_field, FrameSource)
        )
        q &= Q(Exists(matching_sources))
    return q


def filters_q(filters) -> Q:
    """OR of the filters; an empty Q (everything) when there is nothing to filter by."""
    qs = [_filter_q(f) for f in filters]
    if not qs or not all(qs):
        return Q()  # an empty filter matches everything, so the OR does too
    result = qs[0]
    for q in qs[1:]:
        result |= q
    return result


def filtering(filters) -> bool:
    """Whether the filters narrow anything down (an empty filter block matches every frame)."""
    return any(f.roi_rules or f.frame_query or f.sources_query for f in filters or ())


def confident_object_q(min_confidence: float) -> Q:
    """Frames with an object ROI (not a frame label) of at least this confidence; an ROI without a confidence
    counts as above any minimum, as the frame page's slider never hides it. Found through the label index, so
    an ROI without labels is not seen."""
    confident = Q(confidence__gte=min_confidence) | Q(confidence__isnull=True)
    return Q(Exists(RoiLabel.objects.filter(confident, revision=OuterRef("pk"), is_frame_label=False)))


def frames_matching(version: DatasetVersion, filters=(), *, changed: str = "", min_confidence: float | None = None):
    """The revisions of the version's view that the filters match (a queryset; access is the caller's).

    `changed` lists what the version changed against its parent instead (frames.changes); `min_confidence`
    keeps frames with an object ROI at least that confident (confident_object_q)."""
    rows = changed_rows(version, changed) if changed else FrameRevision.objects.visible_in(version)
    q = filters_q(filters or ())
    if min_confidence is not None:
        q &= confident_object_q(min_confidence)
    return rows.filter(q)
