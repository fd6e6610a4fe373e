"""ClearML frame filters: ROI rules, a Lucene frame rule on `meta.*` and a source rule on `sources.*`.

Rules inside one filter are AND-ed; several filters are OR-ed. The result is a Q object over FrameRevision.
Filters arrive as JSON, e.g.
    [{"rois": [{"labels": ["car"], "logic": "include", "conf_range": [0.5, 1]},
               {"roi_query": "labels:person AND confidence:[0.5 TO 1] AND meta.occluded:true"}],
      "frame_query": "meta.weather:sunny AND meta.speed:[10 TO 60]",
      "sources_query": "sources.content_type:image*"}]
An ROI rule matches frames with at least one ROI that satisfies all of it (its labels, its confidence range
and its `roi_query`, a Lucene query over that ROI's `labels`, `confidence`, `id` and `meta.*`; a bare term is a
label). ROI rules see the ROIs that carry a label (they are found through the label index, RoiLabel).
ClearML's own spelling (`label_rules`, `label`, `must_not`, and `roi_query` on the filter) is accepted as well.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Exists, F, Func, JSONField, OuterRef, Q
from luqum import tree as lucene_tree

from .changes import changed_rows
from .exceptions import ServiceError
from .lucene import Column, JsonPath, LuceneError, Related, parse, to_q
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


class RoiJson(Func):
    """The ROI a label index row belongs to, read from its frame's `rois` (a JSON object, so `meta.*` keys are
    looked up in it with the ORM's JSON lookups)."""

    output_field = JSONField()

    def __init__(self):
        super().__init__(F("revision__rois"), F("roi_index"))

    def as_sql(self, compiler, connection, **extra):
        rois, _ = compiler.compile(self.source_expressions[0])
        index, _ = compiler.compile(self.source_expressions[1])
        if connection.vendor == "postgresql":
            return f"({rois} -> ({index})::integer)", []
        return f"JSON_EXTRACT({rois}, '$[' || {index} || ']')", []


ROI_ALIAS = "_roi"


def roi_rows():
    """Label index rows with their ROI's JSON (what ROI rules are evaluated on, one row per label of an ROI)."""
    return RoiLabel.objects.alias(**{ROI_ALIAS: RoiJson()})


def _same_roi_label(q: Q) -> Q:
    """Does the ROI of this index row have a label row matching q."""
    return Q(Exists(RoiLabel.objects.filter(q, revision=OuterRef("revision"), roi_index=OuterRef("roi_index"))))


ROI_LABELS = Related(Column("label"), _same_roi_label)
ROI_COLUMNS = {"labels": ROI_LABELS, "label": ROI_LABELS, "label.keyword": ROI_LABELS,
               "confidence": Column("confidence", numeric=True)}


def resolve_roi_field(name: str):
    if name.startswith("meta."):
        path = _json_path(name, "meta.")
        return JsonPath(ROI_ALIAS, ("meta", *path.keys))
    if name == "id":
        return JsonPath(ROI_ALIAS, ("id",))
    if name in ROI_COLUMNS:
        return ROI_COLUMNS[name]
    raise LuceneError(f"unknown field {name!r}: ROI rules use labels, confidence, id or meta.<key>")


def roi_query_q(query: str) -> Q:
    """The Q over roi_rows() of a Lucene ROI query (a bare term is a label)."""
    return to_q(query, resolve_roi_field, RoiLabel, rows=roi_rows(), default_field="labels")


@dataclass(frozen=True)
class RoiRule:
    labels: tuple[str, ...]
    exclude: bool = False
    conf_range: tuple[float, float] | None = None
    query: str = ""  # Lucene over the same ROI's labels, confidence, id, meta.*


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
    query = _check_query(raw.get("roi_query"), f"{where}.roi_query", roi_query_q).strip()
    if not labels and conf_range is None and not query:
        _fail(f"{where}.labels", "a rule needs labels, a conf_range or a roi_query")
    return RoiRule(tuple(labels), logic == "exclude", conf_range, query)


def _check_query(text, where: str, translate) -> str:
    if text is None:
        return ""
    if not isinstance(text, str):
        _fail(where, "expected a Lucene query string")
    try:
        translate(text)
    except LuceneError as exc:
        _fail(where, str(exc))
    except RecursionError:
        _fail(where, "nested too deeply")
    return text


def _frame_query_q(text: str) -> Q:
    return to_q(text, resolve_frame_field, FrameRevision)


def _sources_query_q(text: str) -> Q:
    return to_q(text, resolve_source_field, FrameSource)


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
        unknown = set(item) - {"rois", "label_rules", "roi_query", "frame_query", "sources_query", "filter_by_roi"}
        if unknown:
            _fail(f"{where}.{sorted(unknown)[0]}", "unknown field")
        rules = item.get("rois", item.get("label_rules")) or []
        if not isinstance(rules, list):
            _fail(f"{where}.rois", "expected a list of ROI rules")
        roi_rules = [_parse_rule(rule, f"{where}.rois[{j}]") for j, rule in enumerate(rules)]
        roi_query = _check_query(item.get("roi_query"), f"{where}.roi_query", roi_query_q).strip()
        if roi_query:  # ClearML's add_query(roi_query=...): one more include rule
            roi_rules.append(RoiRule((), query=roi_query))
        result.append(
            FrameFilter(
                roi_rules=tuple(roi_rules),
                frame_query=_check_query(item.get("frame_query"), f"{where}.frame_query", _frame_query_q),
                sources_query=_check_query(item.get("sources_query"), f"{where}.sources_query", _sources_query_q),
            )
        )
    return result


def filters_to_json(filters: list[FrameFilter]) -> list[dict]:
    """The JSON `parse_filters` reads back into the same filters (to hand them to a worker)."""
    return [
        {
            "rois": [
                {"labels": list(rule.labels), "logic": "exclude" if rule.exclude else "include",
                 **({"conf_range": list(rule.conf_range)} if rule.conf_range else {}),
                 **({"roi_query": rule.query} if rule.query else {})}
                for rule in f.roi_rules
            ],
            "frame_query": f.frame_query,
            "sources_query": f.sources_query,
        }
        for f in filters
    ]


def _roi_rule_q(rule: RoiRule) -> Q:
    """Frames where one ROI carries every label of the rule (within the confidence range) and satisfies its
    query. Each ROI has a row per label and every row of an ROI answers the same, so any row of it may stand
    for it: a label the rule requires picks the rows through the (label, revision) index."""
    labels = list(rule.labels) or _required_label(rule.query)
    rois = roi_rows().filter(revision=OuterRef("pk")) if rule.query else RoiLabel.objects.filter(revision=OuterRef("pk"))
    if rule.query:
        rois = rois.filter(roi_query_q(rule.query))
    if labels:
        rois = rois.filter(label=labels.pop(0))
    if rule.conf_range:
        rois = rois.filter(confidence__gte=rule.conf_range[0], confidence__lte=rule.conf_range[1])
    for label in labels:
        same_roi = RoiLabel.objects.filter(revision=OuterRef("revision"), roi_index=OuterRef("roi_index"), label=label)
        rois = rois.filter(Exists(same_roi))
    q = Q(Exists(rois))
    return ~q if rule.exclude else q


def _required_label(query: str) -> list[str]:
    """A label every matching ROI must carry (`labels:car AND ...` at the top), to start from its index rows;
    none when the query does not say."""
    if not query:
        return []
    tree_ = parse(query)
    terms = tree_.children if isinstance(tree_, lucene_tree.AndOperation) else (tree_,)
    for term in terms:
        name = term.name if isinstance(term, lucene_tree.SearchField) else "labels"
        word = term.expr if isinstance(term, lucene_tree.SearchField) else term
        if resolve_roi_field(name) is ROI_LABELS and isinstance(word, lucene_tree.Word) and not word.has_wildcard() and word.value != "*":
            return [word.value]
    return []


def _filter_q(frame_filter: FrameFilter) -> Q:
    q = Q()
    for rule in frame_filter.roi_rules:
        q &= _roi_rule_q(rule)
    if frame_filter.frame_query:
        q &= _frame_query_q(frame_filter.frame_query)
    if frame_filter.sources_query:
        matching_sources = FrameSource.objects.filter(revision=OuterRef("pk")).filter(
            _sources_query_q(frame_filter.sources_query)
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
