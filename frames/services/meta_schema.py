"""Typed custom metadata: set a draft version's schema, or merge fields into it (the importers' way).

The schema itself is checked here, so the API, the pages and the importers refuse the same things: an unknown
type, a path that is not a dotted meta key, two fields on one path, a default or a listed value that is not of
the field's type. Every error names the field (`fields[2].type`) and the schema field's name; nothing is saved
unless all of it is good.
"""
from __future__ import annotations

from django.db import transaction
from django.db.models import F

from ..exceptions import ServiceError
from ..models import DatasetVersion, VersionMetaSchema
from ..selectors.access import ANNOTATOR, require
from ..selectors.meta_schema import CATEGORICAL, TYPES, canonical_type, meta_schema_get, path_problem, value_problem
from .validation import require_fresh
from .versions import lock_version, refuse_published

FIELD_KEYS = ("name", "path", "type", "default", "values")
MAX_FIELDS = 200
MAX_VALUES = 1000


@transaction.atomic
def meta_schema_set(*, user, version: DatasetVersion, fields, if_match=None) -> dict:
    """Replace the schema of a draft version with `fields` (an empty list clears it: the version then has no
    typed fields, whatever its parent had). The schema is the version's content, like its metadata: the
    version's ETag is the precondition (`if_match`) and moves on. Returns what meta_schema_get returns."""
    version = _lock_draft(user, version)
    require_fresh(version, if_match)
    _store(version, clean_fields(fields))
    return meta_schema_get(user=user, version=version)


@transaction.atomic
def meta_schema_merge(*, user, version: DatasetVersion, fields) -> dict:
    """Add `fields` to the draft version's schema (its own or the one it inherits): a path it has already keeps
    its field (a categorical's allowed values are joined); the same path with another type is refused, naming
    both types. What importers call with the schema they read."""
    version = _lock_draft(user, version)
    incoming = clean_fields(fields)
    merged = [dict(field) for field in meta_schema_get(user=user, version=version)["fields"]]
    by_path = {field["path"]: field for field in merged}
    errors = []
    for index, field in enumerate(incoming):
        known = by_path.get(field["path"])
        if known is None:
            merged.append(field)
            by_path[field["path"]] = field
        elif known["type"] != field["type"]:
            errors.append(_error(index, "type", field, f"is {field['type']} here, but the version's schema has "
                                                       f"meta.{field['path']} as {known['type']} (field {known['name']!r})"))
        elif known.get("values") and field.get("values"):
            known["values"] = [*known["values"], *(v for v in field["values"] if v not in known["values"])]
    if errors:
        raise ServiceError(errors[0]["message"], errors=errors)
    _store(version, clean_fields(merged))
    return meta_schema_get(user=user, version=version)


def _lock_draft(user, version: DatasetVersion) -> DatasetVersion:
    require(user, version, ANNOTATOR)
    locked = lock_version(version)
    refuse_published(locked)
    return locked


def _store(version: DatasetVersion, fields: list[dict]) -> None:
    VersionMetaSchema.objects.update_or_create(
        version=version, defaults={"dataset_id": version.dataset_id, "version_seq": version.seq, "fields": fields},
    )
    DatasetVersion.objects.filter(pk=version.pk).update(revision=F("revision") + 1)
    version.refresh_from_db(fields=["revision"])


# -- Checking a schema --------------------------------------------------------------------------------------------


def clean_fields(fields) -> list[dict]:
    """The schema in its stored form (our type names, every key present), or ServiceError listing every problem."""
    if not isinstance(fields, list):
        raise ServiceError("must be a list of fields: [{name, path, type, default, values}]", field="fields")
    if len(fields) > MAX_FIELDS:
        raise ServiceError(f"at most {MAX_FIELDS} fields, not {len(fields)}", field="fields")
    cleaned, errors = [], []
    for index, raw in enumerate(fields):
        field, problems = _clean_field(index, raw)
        cleaned.append(field)
        errors.extend(problems)
    errors.extend(_path_clashes(cleaned))
    if errors:
        raise ServiceError(errors[0]["message"], errors=errors)
    return cleaned


def _error(index: int, key: str | None, field: dict, message: str) -> dict:
    name = field.get("name") if isinstance(field, dict) else None
    about = f"field {name!r}: " if isinstance(name, str) and name else ""
    return {"field": f"fields[{index}]" + (f".{key}" if key else ""), "message": about + message}


def _clean_field(index: int, raw) -> tuple[dict, list[dict]]:
    if not isinstance(raw, dict):
        return {}, [_error(index, None, {}, "must be an object {name, path, type, default, values}")]
    errors = [_error(index, key, raw, f"unknown key: a field has {', '.join(FIELD_KEYS)}") for key in raw if key not in FIELD_KEYS]
    path = raw.get("path")
    if problem := path_problem(path):
        errors.append(_error(index, "path", raw, problem))
    name = raw.get("name", path)
    if not isinstance(name, str) or not name.strip() or len(name) > 255:
        errors.append(_error(index, "name", raw, "must be a non-empty text of at most 255 characters"))
    field_type = canonical_type(raw.get("type"))
    if field_type is None:
        errors.append(_error(index, "type", raw, f"unknown type {raw.get('type')!r}: use one of {', '.join(TYPES)} "
                                                 "(or Lightly's NUMERIC_INT, ..., Encord's varchar, number, ...)"))
        return raw, errors
    field = {"name": name.strip() if isinstance(name, str) else name, "path": path, "type": field_type, "default": raw.get("default")}
    values = raw.get("values")
    if values is not None:
        errors.extend(_check_values(index, raw, field_type, values))
        field["values"] = values
    if field["default"] is not None and (problem := value_problem(field_type, field["default"], values if isinstance(values, list) else None)):
        errors.append(_error(index, "default", raw, f"the default {problem}"))
    return field, errors


def _check_values(index: int, raw: dict, field_type: str, values) -> list[dict]:
    if field_type not in CATEGORICAL:
        return [_error(index, "values", raw, f"only categorical fields ({', '.join(CATEGORICAL)}) list their values, not {field_type}")]
    if not isinstance(values, list) or len(values) > MAX_VALUES:
        return [_error(index, "values", raw, f"must be a list of at most {MAX_VALUES} values")]
    errors = []
    for position, value in enumerate(values):
        if problem := value_problem(field_type, value):
            errors.append(_error(index, f"values[{position}]", raw, problem))
    if len({repr(v) for v in values}) != len(values):
        errors.append(_error(index, "values", raw, "lists a value twice"))
    return errors


def _path_clashes(fields: list[dict]) -> list[dict]:
    """Two fields on one path, or one inside another's value (`weather` and `weather.temperature`)."""
    errors, seen = [], {}
    for index, field in enumerate(fields):
        path = field.get("path")
        if not isinstance(path, str) or path_problem(path):
            continue
        for other_path, other in seen.items():
            if path == other_path or path.startswith(other_path + ".") or other_path.startswith(path + "."):
                errors.append(_error(index, "path", field, f"meta.{path} clashes with field {other!r} (meta.{other_path})"))
        seen[path] = field.get("name")
    return errors
