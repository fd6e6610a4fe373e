"""Encord's custom metadata schema as the version's typed metadata fields.

Encord validates `clientMetadata` against a schema of keys and types (seed 003: boolean, varchar, datetime,
uuid, number; also text, enum and embedding), which its SDK sets from a dict (`{"captured": "datetime",
"reviewed": "boolean", ...}`). A file `*.metadata_schema.json` in the input (or the option
`metadata_schema=<file>`) holding that dict becomes the version's schema: the import service merges the fields
and checks every frame's meta against them. An enum may list its options (`{"weather": {"enum": ["sunny",
"rain"]}}`). Embeddings stay in the frames' meta untyped (HyperData's schema has no vector type), and a key
with a dot (Encord's namespacing, `team.key`) names one flat key, which a typed path cannot: both are noted.
"""
from __future__ import annotations

from .base import Problem

SUFFIX = ".metadata_schema.json"
UNTYPED = ("embedding",)


def schema_fields(schema, *, file: str, line_of) -> tuple[list[dict], list[str], list[Problem]]:
    """(typed fields, notes, problems) from Encord's {key: type} dict."""
    if not isinstance(schema, dict):
        return [], [], [Problem(file, "", "a metadata schema is an object of {key: type}", 1)]
    fields, notes, problems = [], [], []
    for key, declared in schema.items():
        enum_options = declared.get("enum") if isinstance(declared, dict) else None
        kind = "enum" if isinstance(enum_options, list) else declared
        if not isinstance(kind, str):
            problems.append(Problem(file, key, "expected a type name (boolean, varchar, datetime, uuid, number, "
                                               "text, enum, embedding) or {\"enum\": [options]}", line_of(key)))
        elif kind.lower() in UNTYPED:
            notes.append(f"{file}: {key} ({kind}) is kept in the frames' meta without a type")
        elif "." in key:
            notes.append(f"{file}: {key} is kept in the frames' meta without a type (a typed path cannot name a key with a dot)")
        else:
            field = {"name": key, "path": key, "type": kind}
            if enum_options is not None:
                field["values"] = enum_options
            fields.append(field)
    return fields, notes, problems
