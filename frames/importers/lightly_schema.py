"""Lightly's schema.json: typed fields at dotted meta paths with defaults, checked and applied to frame meta.

Each entry {name, path, defaultValue, valueDataType} becomes a `Field`; `Field.as_schema()` is the entry in
HyperData's typed metadata schema (frames.services.meta_schema takes exactly {name, path, type, default}).
A value is of its type when NUMERIC_INT / CATEGORICAL_INT hold an integer, NUMERIC_FLOAT a number (an integer
is one too), CATEGORICAL_STRING a string, CATEGORICAL_BOOLEAN true or false; a missing or null value is not
wrong: it gets the default.
"""
from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass

from .base import Problem
from .lenient_json import Parsed

SCHEMA = "schema.json"

TYPES = {  # Lightly's valueDataType -> HyperData's meta_schema type
    "NUMERIC_INT": "integer",
    "NUMERIC_FLOAT": "float",
    "CATEGORICAL_INT": "categorical_int",
    "CATEGORICAL_STRING": "categorical_string",
    "CATEGORICAL_BOOLEAN": "boolean",
}


@dataclass(frozen=True)
class Field:
    name: str
    path: tuple[str, ...]
    type: str  # Lightly's valueDataType
    default: object

    def as_schema(self) -> dict:
        return {"name": self.name, "path": ".".join(self.path), "type": TYPES[self.type], "default": self.default}


def schema_fields(parsed: Parsed) -> Iterator[Field | Problem]:
    """The fields of a parsed schema.json, and a Problem (with its line) for each entry that is wrong."""
    if not isinstance(parsed.value, list):
        yield Problem(file=SCHEMA, field="", message="expected a list of {name, path, defaultValue, valueDataType}", line=1)
        return
    seen: set[tuple[str, ...]] = set()
    for index, entry in enumerate(parsed.value):
        problem = _schema_problem(entry, index, seen)
        if problem is not None:
            yield Problem(file=SCHEMA, field=problem[0], message=problem[1], line=parsed.line((index, *problem[2])))
            continue
        path = tuple(entry["path"].split("."))
        seen.add(path)
        yield Field(name=entry["name"], path=path, type=entry["valueDataType"], default=entry["defaultValue"])


def _schema_problem(entry, index: int, seen: set) -> tuple[str, str, tuple] | None:
    """(field, message, path within the entry) of what is wrong with schema entry `index`, or None."""
    where = f"[{index}]"
    if not isinstance(entry, dict):
        return where, "expected an object with name, path, defaultValue and valueDataType", ()
    for key in ("name", "path", "defaultValue", "valueDataType"):
        if key not in entry:
            return f"{where}.{key}", "missing", ()
    for key in ("name", "path"):
        if not isinstance(entry[key], str) or not entry[key].strip():
            return f"{where}.{key}", "expected a non-empty string", (key,)
    if any(not part for part in entry["path"].split(".")):
        return f"{where}.path", f"{entry['path']!r} has an empty key", ("path",)
    if tuple(entry["path"].split(".")) in seen:
        return f"{where}.path", f"{entry['path']!r} is already in the schema", ("path",)
    if entry["valueDataType"] not in TYPES:
        return f"{where}.valueDataType", f"{entry['valueDataType']!r} is not one of {', '.join(TYPES)}", ("valueDataType",)
    if not fits(entry["defaultValue"], entry["valueDataType"]):
        return f"{where}.defaultValue", wrong_type(entry["defaultValue"], entry["valueDataType"]), ("defaultValue",)
    return None


def fits(value, value_type: str) -> bool:
    if value_type == "CATEGORICAL_BOOLEAN":
        return isinstance(value, bool)
    if value_type == "CATEGORICAL_STRING":
        return isinstance(value, str)
    if isinstance(value, bool):
        return False
    return isinstance(value, (int, float)) if value_type == "NUMERIC_FLOAT" else isinstance(value, int)


def wrong_type(value, value_type: str) -> str:
    wanted = {"NUMERIC_INT": "an integer", "NUMERIC_FLOAT": "a number", "CATEGORICAL_INT": "an integer",
              "CATEGORICAL_STRING": "a string", "CATEGORICAL_BOOLEAN": "true or false"}[value_type]
    return f"expected {wanted} ({value_type}), got {value!r}"


def value_problems(fields: list[Field], parsed: Parsed, name: str) -> Iterator[Problem]:
    """Values at the schema's paths that are not of the schema's type (missing and null ones get the default)."""
    blocked: set[tuple] = set()  # a non-object on the way to several fields is reported once
    for schema_field in fields:
        value = parsed.value["metadata"]
        for depth, key in enumerate(schema_field.path):
            if value is None:
                break
            if not isinstance(value, dict):
                where = ("metadata", *schema_field.path[:depth])
                if where not in blocked:
                    blocked.add(where)
                    yield Problem(file=name, field=".".join(where), line=parsed.line(where),
                                  message=f"expected an object holding {'.'.join(schema_field.path[depth:])} (schema field {schema_field.name!r}), got {value!r}")
                break
            value = value.get(key)
        else:
            if value is not None and not fits(value, schema_field.type):
                where = ("metadata", *schema_field.path)
                yield Problem(file=name, field=".".join(where), line=parsed.line(where), message=wrong_type(value, schema_field.type))


def meta_with_defaults(fields: list[Field], *layers: dict) -> dict:
    """The layers merged key by key (later ones win), then the schema's defaults where a value is missing."""
    meta: dict = {}
    for layer in layers:
        _merge(meta, layer)
    for schema_field in fields:
        _set_default(meta, schema_field.path, schema_field.default)
    return meta


def _merge(into: dict, layer: dict) -> None:
    for key, value in layer.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = copy.deepcopy(value)


def _set_default(meta: dict, path: tuple[str, ...], default) -> None:
    for key in path[:-1]:
        if not isinstance(meta.get(key), dict):
            meta[key] = {}
        meta = meta[key]
    if meta.get(path[-1]) is None:
        meta[path[-1]] = default
