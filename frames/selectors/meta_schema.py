"""Typed custom metadata: the schema of a version's frame `meta` fields, what each type accepts, and the check
that frame writes run through.

A schema is a list of fields `{"name", "path", "type", "default", "values"}`: `path` is a dotted key inside a
frame's `meta` (`weather.temperature`), `type` one of TYPES, `default` the value a frame without the key gets,
`values` (categorical types only, optional) the values allowed. Lightly's and Encord's type names are accepted
as aliases (TYPE_ALIASES) and stored under ours.

A version without a schema of its own uses its nearest ancestor's (copy-on-write, as frames are): ancestors
are published, so what a child inherits never changes under it.
"""
from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import datetime

from django.db.models import Count, F
from django.db.models.fields.json import KeyTransform

from ..filters import frames_matching
from ..models import DatasetVersion, VersionMetaSchema
from ..schema import FrameError
from .access import VIEWER, require

TYPES = ("integer", "float", "categorical_int", "categorical_string", "boolean", "string", "datetime", "uuid")
CATEGORICAL = ("categorical_int", "categorical_string", "boolean")
NUMERIC = ("integer", "float")
TYPE_ALIASES = {
    # Lightly's schema.json valueDataType
    "numeric_int": "integer", "numeric_float": "float", "categorical_int": "categorical_int",
    "categorical_string": "categorical_string", "categorical_boolean": "boolean",
    # Encord's custom metadata types
    "boolean": "boolean", "varchar": "string", "text": "string", "long_string": "string", "datetime": "datetime",
    "uuid": "uuid", "number": "float", "enum": "categorical_string",
    # ours, and the obvious spellings
    **{name: name for name in TYPES}, "int": "integer", "bool": "boolean", "str": "string",
}
TYPE_TEXT = {
    "integer": "a whole number", "float": "a number", "categorical_int": "a whole number",
    "categorical_string": "a string", "boolean": "true or false", "string": "a string",
    "datetime": "an ISO 8601 date and time (a string such as 2024-05-01T12:30:00Z)",
    "uuid": "a UUID (a string such as 123e4567-e89b-12d3-a456-426614174000)",
}
PATH_PART = re.compile(r"^[A-Za-z0-9_\-]+$")
UUID_TEXT = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
SEEN_TOP = 100

Errors = list[dict]


def canonical_type(name) -> str | None:
    """Our name of a type given in ours, Lightly's or Encord's spelling (any case), or None."""
    return TYPE_ALIASES.get(name.strip().lower()) if isinstance(name, str) else None


def path_problem(path) -> str | None:
    """Why `path` is not a dotted key of frame meta (`weather.temperature`), or None."""
    if not isinstance(path, str) or not path.strip():
        return "must be a dotted key inside the frame's meta, such as weather.temperature"
    parts = path.split(".")
    if not all(PATH_PART.match(part) for part in parts) or any("__" in part for part in parts):
        return f"{path!r} is not a dotted key: use letters, digits, _ and - between the dots (no '__', no empty part)"
    return None


def value_problem(field_type: str, value, values=None) -> str | None:
    """Why `value` is not a value of `field_type` (and of the allowed `values`, when given), or None."""
    if not _is_of_type(field_type, value):
        return f"must be {TYPE_TEXT[field_type]}, not {value!r}"
    if values and value not in values:
        shown = ", ".join(repr(v) for v in values[:10]) + (", ..." if len(values) > 10 else "")
        return f"{value!r} is not one of the field's values ({shown})"
    return None


def _is_of_type(field_type: str, value) -> bool:
    if field_type in ("integer", "categorical_int"):
        return isinstance(value, int) and not isinstance(value, bool)
    if field_type == "float":
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if field_type == "boolean":
        return isinstance(value, bool)
    if field_type in ("string", "categorical_string"):
        return isinstance(value, str)
    if field_type == "datetime":
        return isinstance(value, str) and _is_iso_datetime(value)
    if field_type == "uuid":
        return isinstance(value, str) and bool(UUID_TEXT.match(value))
    return False


def _is_iso_datetime(text: str) -> bool:
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


# -- Reads ----------------------------------------------------------------------------------------------------------


def _schema_row(version: DatasetVersion) -> VersionMetaSchema | None:
    """The row that decides the version's schema: its own, else its nearest ancestor's."""
    rows = VersionMetaSchema.objects.filter(dataset_id=version.dataset_id, version_seq__in=version.lineage or [version.seq])
    return rows.order_by("-version_seq").first()


def meta_schema_get(*, user, version: DatasetVersion) -> dict:
    """{"fields": [...], "inherited_from": the id of the ancestor whose schema this is, or None}."""
    require(user, version, VIEWER)
    row = _schema_row(version)
    if row is None:
        return {"fields": [], "inherited_from": None}
    return {"fields": row.fields, "inherited_from": None if row.version_id == version.pk else row.version_id}


def meta_field_values(*, user, version: DatasetVersion, path: str, top: int = SEEN_TOP) -> list[dict]:
    """The `top` most frequent values of meta key `path` in the version's frames: [{"value", "count"}]."""
    require(user, version, VIEWER)
    problem = path_problem(path)
    if problem:
        return []
    expr = F("meta")
    for part in path.split("."):
        expr = KeyTransform(part, expr)
    rows = (frames_matching(version).annotate(_value=expr).filter(_value__isnull=False)
            .values("_value").annotate(n=Count("pk")).order_by("-n")[:top])
    return [{"value": row["_value"], "count": row["n"]} for row in rows]


# -- The check frame writes run ----------------------------------------------------------------------------------------


def meta_schema_validator(version: DatasetVersion) -> Callable[[dict], Errors]:
    """A check for frames written to `version` (frames.services.frames calls it on each parsed frame): it fills
    a missing (or null) typed value with the field's default, in place, and returns the errors of values of the
    wrong type, each naming `meta.<path>`. One query here; none per frame. No user: the writing service has
    already checked the writer's role."""
    row = _schema_row(version)
    checks = [_field_check(field) for field in (row.fields if row else [])]
    if not checks:
        return _no_errors

    def validate(frame: dict) -> Errors:
        meta = frame.get("meta")
        if meta is None:
            meta = frame["meta"] = {}
        if not isinstance(meta, dict):
            return [{"field": "meta", "message": "must be an object: this version's metadata fields are typed"}]
        errors = []
        for check in checks:
            error = check(meta)
            if error:
                errors.append(error)
        return errors

    return validate


def _no_errors(frame: dict) -> Errors:
    return []


def meta_checked(version: DatasetVersion, parse: Callable[[dict], dict]) -> Callable[[dict], dict]:
    """`parse` (frames.schema.parse_frame, or a merge that ends in it) followed by the version's meta check:
    the parsed frame with its defaults filled, or FrameError naming `meta.<path>`. Without a schema, `parse`
    itself (nothing added to a write)."""
    validate = meta_schema_validator(version)
    if validate is _no_errors:
        return parse

    def parse_and_check(raw):
        frame = parse(raw)
        errors = validate(frame)
        if errors:
            raise FrameError(errors)
        return frame

    return parse_and_check


def _field_check(field: dict) -> Callable[[dict], dict | None]:
    keys = field["path"].split(".")
    where = f"meta.{field['path']}"
    field_type, default, values = field["type"], field.get("default"), field.get("values") or None

    def check(meta: dict) -> dict | None:
        holder = meta
        for key in keys[:-1]:
            inner = holder.get(key)
            if inner is None:
                if default is None:
                    return None
                inner = holder[key] = {}
            if not isinstance(inner, dict):
                return {"field": where, "message": f"must be inside an object, but {key!r} holds {inner!r}"}
            holder = inner
        value = holder.get(keys[-1])
        if value is None:
            if default is not None:
                holder[keys[-1]] = default
            return None
        problem = value_problem(field_type, value, values)
        return {"field": where, "message": f"{problem} (field {field['name']!r} is {field_type})"} if problem else None

    return check
