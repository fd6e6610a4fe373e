"""DataViews: create, change and delete a user's saved queries over dataset versions (frames.dataview_models).

Every field is checked here, so the API, the SDK and the pages refuse the same input with the same field
names (`queries[1].roi_query`, `labels.car`, ...). A query naming a version the user cannot see is refused
with 404 naming `queries[i].version`, as the version itself would be.
"""
from __future__ import annotations

from django.db import transaction

from ..dataview_models import DataView
from ..exceptions import Forbidden, NotFound, ServiceError
from ..selectors.dataviews import dataview_frame_query, dataview_versions
from ..selectors.query import QueryInvalid
from .validation import NAME_LIMIT

MAX_QUERIES = 100
MAX_SEED = 2**63 - 1
FIELDS = ("name", "queries", "iteration_order", "infinite", "maximum_number_of_frames", "random_seed", "labels", "mapping_rules")
QUERY_KEYS = {"dataset", "version", "roi_query", "frame_query", "filters", "weight"}


class _Errors(list):
    def add(self, name: str, message: str) -> None:
        self.append({"field": name, "message": message})


@transaction.atomic
def dataview_create(*, user, data: dict) -> DataView:
    """A new DataView of the user's from `data` (the fields of DataView; `queries` is required)."""
    if not getattr(user, "is_authenticated", False) or user.pk is None:
        raise Forbidden("sign in to create dataviews", field="user")
    if not isinstance(data, dict):
        raise ServiceError("expected a JSON object", field="body")
    if "queries" not in data:
        raise ServiceError("required: a list of queries, each with a version", field="queries")
    return DataView.objects.create(owner=user, **_cleaned(user, data))


@transaction.atomic
def dataview_update(*, user, dataview: DataView, data: dict) -> DataView:
    """Change the given fields (the others stay); checked as on create."""
    if not isinstance(data, dict):
        raise ServiceError("expected a JSON object", field="body")
    _require_owner(user, dataview)
    view = DataView.objects.select_for_update().get(pk=dataview.pk)
    for name, value in _cleaned(user, data).items():
        setattr(view, name, value)
    view.save()
    return view


@transaction.atomic
def dataview_delete(*, user, dataview: DataView) -> None:
    _require_owner(user, dataview)
    DataView.objects.filter(pk=dataview.pk).delete()


def _require_owner(user, dataview: DataView) -> None:
    if not (getattr(user, "is_staff", False) or dataview.owner_id == getattr(user, "pk", None)):
        raise NotFound(f"no dataview with id {dataview.pk!r}", field="dataview")


def _cleaned(user, data: dict) -> dict:
    """The given fields checked and normalised; every bad one is named in one ServiceError (400), except a
    version the user cannot see (404, raised first: it says nothing about the rest)."""
    errors = _Errors()
    unknown = sorted(set(data) - set(FIELDS) - {"id", "owner", "created", "updated"})
    for name in unknown:
        errors.add(name, f"unknown field; use {', '.join(FIELDS)}")
    cleaned = {}
    checks = {"name": _name, "queries": _queries, "iteration_order": _order, "infinite": _flag,
              "maximum_number_of_frames": _maximum, "random_seed": _seed, "labels": _labels, "mapping_rules": _rules}
    for name, check in checks.items():
        if name in data:
            value = check(user, data[name], errors) if name == "queries" else check(data[name], errors)
            cleaned[name] = value
    if errors:
        raise ServiceError("; ".join(f"{e['field']}: {e['message']}" for e in errors), errors=list(errors))
    return cleaned


def _name(value, errors: _Errors):
    if not isinstance(value, str) or len(value) > NAME_LIMIT:
        errors.add("name", f"must be a string of at most {NAME_LIMIT} characters")
        return ""
    return value.strip()


def _queries(user, value, errors: _Errors) -> list[dict]:
    if not isinstance(value, list) or not value or not all(isinstance(q, dict) for q in value):
        errors.add("queries", "must be a non-empty list of objects, each with a version")
        return []
    if len(value) > MAX_QUERIES:
        errors.add("queries", f"at most {MAX_QUERIES} queries")
        return []
    for index, query in enumerate(value):
        for key in sorted(set(query) - QUERY_KEYS):
            errors.add(f"queries[{index}].{key}", f"unknown key; use {', '.join(sorted(QUERY_KEYS))}")
        if not isinstance(query.get("version"), str) or not query.get("version"):
            errors.add(f"queries[{index}].version", "required: the id of a dataset version")
    if errors:
        return []
    versions = dataview_versions(user=user, queries=value)
    cleaned = []
    for index, (query, version) in enumerate(zip(value, versions)):
        cleaned.append(_query(query, version, index, errors))
    return cleaned


def _query(query: dict, version, index: int, errors: _Errors) -> dict:
    where = f"queries[{index}]"
    if query.get("dataset") not in (None, "", version.dataset_id):
        errors.add(f"{where}.dataset", f"version {version.id} belongs to dataset {version.dataset_id}, not {query['dataset']!r}")
    texts = {}
    for key in ("roi_query", "frame_query"):
        text = query.get(key) or ""
        if not isinstance(text, str):
            errors.add(f"{where}.{key}", "must be a Lucene query string")
            text = ""
        texts[key] = text
    blocks = query.get("filters") or []
    if not isinstance(blocks, list):
        errors.add(f"{where}.filters", "must be a list of frame filters, as the frames API's `filters`")
        blocks = []
    try:
        dataview_frame_query({**texts, "filters": blocks}, index=index)
    except QueryInvalid as exc:
        errors.extend(exc.errors)
    weight = query.get("weight", 1)
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not 0 < weight <= 1e6:
        errors.add(f"{where}.weight", "must be a number above 0 (and at most 1,000,000)")
        weight = 1
    return {"dataset": version.dataset_id, "version": version.id, **texts, **({"filters": blocks} if blocks else {}), "weight": weight}


def _order(value, errors: _Errors) -> str:
    if value not in (DataView.SEQUENTIAL, DataView.RANDOM):
        errors.add("iteration_order", "must be sequential or random")
    return value


def _flag(value, errors: _Errors) -> bool:
    if not isinstance(value, bool):
        errors.add("infinite", "must be true or false")
    return bool(value)


def _maximum(value, errors: _Errors):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        errors.add("maximum_number_of_frames", "must be a whole number of at least 1, or null for no limit")
        return None
    return value


def _seed(value, errors: _Errors) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SEED:
        errors.add("random_seed", f"must be a whole number between 0 and {MAX_SEED}")
        return 0
    return value


def _labels(value, errors: _Errors) -> dict:
    if not isinstance(value, dict):
        errors.add("labels", "must be an object of label -> whole number, e.g. {\"car\": 1}")
        return {}
    for label, number in value.items():
        if not label or isinstance(number, bool) or not isinstance(number, int):
            errors.add(f"labels.{label}", "must map a non-empty label to a whole number")
    return value


def _rules(value, errors: _Errors) -> list[dict]:
    if not isinstance(value, list):
        errors.add("mapping_rules", 'must be a list of {"from_labels": [...], "to_label": "..."}')
        return []
    cleaned = []
    for index, rule in enumerate(value):
        where = f"mapping_rules[{index}]"
        if not isinstance(rule, dict):
            errors.add(where, 'must be {"from_labels": [...], "to_label": "..."}')
            continue
        sources, target = rule.get("from_labels"), rule.get("to_label")
        if not isinstance(sources, list) or not sources or not all(isinstance(s, str) and s for s in sources):
            errors.add(f"{where}.from_labels", "must be a non-empty list of labels")
        if not isinstance(target, str) or not target:
            errors.add(f"{where}.to_label", "must be a non-empty label")
        if rule.get("version") is not None and not isinstance(rule.get("version"), str):
            errors.add(f"{where}.version", "must be a version id, or null for every query")
        cleaned.append({"from_labels": sources, "to_label": target, "version": rule.get("version")})
    return cleaned
