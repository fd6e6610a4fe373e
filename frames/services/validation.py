"""Checks the services share: names, tags, metadata, file names, the mask-label map, write preconditions."""
from __future__ import annotations

import re
from pathlib import Path

from .. import limits
from ..exceptions import Conflict, PreconditionFailed, ServiceError

NAME_LIMIT = limits.NAME_LENGTH


def clean_name(name, *, field_name="name") -> str:
    if not isinstance(name, str) or not name.strip():
        raise ServiceError("must be a non-empty string", field=field_name)
    if len(name) > NAME_LIMIT:
        raise ServiceError(f"must be at most {NAME_LIMIT} characters", field=field_name)
    return name.strip()


def unique_name(model, name, *, kind: str, instance=None) -> str:
    """`name` cleaned (clean_name), refused (409) when another row of `model` (not `instance`) has it."""
    name = clean_name(name)
    others = model.objects.filter(name=name)
    if instance is not None:
        others = others.exclude(pk=instance.pk)
    if others.exists():
        raise Conflict(f"a {kind} named {name!r} already exists", field="name")
    return name


def clean_text(value, *, field_name: str) -> str:
    if not isinstance(value, str):
        raise ServiceError("must be a string", field=field_name)
    return value


def clean_tags(tags) -> list[str]:
    if tags is None:
        return []
    if not isinstance(tags, list) or not all(isinstance(t, str) and t.strip() for t in tags):
        raise ServiceError("must be a list of non-empty strings", field="tags")
    if any(len(t) > NAME_LIMIT for t in tags):
        raise ServiceError(f"each tag must be at most {NAME_LIMIT} characters", field="tags")
    return list(dict.fromkeys(t.strip() for t in tags))


def clean_metadata(metadata) -> dict:
    if metadata is None:
        return {}
    if not isinstance(metadata, dict):
        raise ServiceError("must be a JSON object", field="metadata")
    problem = limits.meta_problem(metadata)
    if problem:
        raise ServiceError(problem, field="metadata")
    mask_labels = metadata.get("mask_labels")
    if mask_labels is not None:
        check_mask_labels(mask_labels)
    return metadata


def check_frames_per_request(frames, *, field: str = "frames") -> None:
    """A bulk write is a list of at most HYPERDATA_MAX_FRAMES_PER_REQUEST frames (or ids)."""
    if not isinstance(frames, list):
        raise ServiceError("expected a list of frames" if field == "frames" else "expected a list of frame ids", field=field)
    problem = limits.too_many(frames, limits.frames_per_request(), "frames" if field == "frames" else "frame ids")
    if problem:
        raise ServiceError(problem, field=field)


def check_mask_labels(mask_labels) -> None:
    """ClearML's mask-label map: {"_all_": [{"value": [r, g, b], "labels": [...]}, ...], <mask id>: [...]}."""
    if not isinstance(mask_labels, dict):
        raise ServiceError("must be an object of mask id -> list of {value, labels}", field="metadata.mask_labels")
    for mask_id, entries in mask_labels.items():
        where = f"metadata.mask_labels.{mask_id}"
        if not isinstance(entries, list):
            raise ServiceError("must be a list of {value, labels}", field=where)
        for i, entry in enumerate(entries):
            value = entry.get("value") if isinstance(entry, dict) else None
            if not (isinstance(value, list) and len(value) in (1, 3, 4) and all(_channel(v) for v in value)):
                raise ServiceError("value must be a list of 0..255 integers (RGB)", field=f"{where}[{i}].value")
            labels = entry.get("labels")
            if not (isinstance(labels, list) and all(isinstance(label, str) and label for label in labels)):
                raise ServiceError("labels must be a list of non-empty strings", field=f"{where}[{i}].labels")


def _channel(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 255


def require_fresh(obj, if_match: list[str] | None) -> None:
    """The write precondition: the client's ETag (If-Match, or the edit form's hidden field) is the current
    one, else PreconditionFailed carrying the object as it is now. No If-Match: no precondition."""
    if if_match is None or "*" in if_match:
        return
    if obj.etag not in if_match:
        kind = type(obj).__name__.replace("DatasetVersion", "version").lower()
        raise PreconditionFailed(
            f"this {kind} was changed by someone else since you read it (ETag {obj.etag}, you sent {', '.join(if_match)}); "
            "reload it and apply your change again", current=obj,
        )


def safe_file_name(name: str | None) -> str:
    """A file name kept on the server: its last part, characters other than letters, digits, `.`, `_` and `-`
    replaced, no leading or trailing dots (never empty)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", Path(name or "upload").name).strip("._") or "upload"
