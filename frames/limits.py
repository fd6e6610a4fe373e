"""The limits on what a client may send, in one place: each value is a setting (hyperdata/settings.py, from the
environment; the README's Limits table lists them), read when a request is checked, so the API, the imports and
the SDK get the same answer.

The checks here only say what is wrong (a message, or None); frames/schema.py and frames/services/validation.py
turn it into a 4xx naming the field. Label and name lengths are fixed (the width of their database columns).
"""
from __future__ import annotations

import json
from functools import cache

import orjson
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

LABEL_LENGTH = 255  # the label index column's width
NAME_LENGTH = 255  # name columns (datasets, versions, projects, tags)


@cache
def setting(name: str):
    """The setting `name`, read once: through the lazy `settings` object each read costs 0.35 us, and a frame's
    validation reads six (two percent of an import). Forgotten whenever a setting changes (tests)."""
    return getattr(settings, name)


@receiver(setting_changed)
def _settings_changed(**kwargs) -> None:
    setting.cache_clear()


def body_bytes() -> int:
    """A JSON (or form) request body: the whole of a bulk frame write."""
    return settings.HYPERDATA_MAX_BODY_BYTES


def upload_bytes() -> int:
    """A multipart upload: a media file (POST /api/versions/<id>/uploads/) or an import file."""
    return settings.HYPERDATA_MAX_UPLOAD_BYTES


def frames_per_request() -> int:
    return settings.HYPERDATA_MAX_FRAMES_PER_REQUEST


def too_many(items: list, limit: int, what: str) -> str | None:
    if len(items) > limit:
        return f"{len(items)} {what}; at most {limit} in one request"
    return None


def poly_problem(poly: list[float], separator: float) -> str | None:
    """A polygon ROI has too many vertices (x,y pairs over all its polygons)."""
    limit = setting("HYPERDATA_MAX_POLY_VERTICES")
    vertices = (len(poly) - poly.count(separator)) // 2
    if vertices > limit:
        return f"{vertices} vertices; at most {limit} per ROI"
    return None


def points_problem(values: list[float]) -> str | None:
    limit = setting("HYPERDATA_MAX_POLY_VERTICES")
    if len(values) // 2 > limit:
        return f"{len(values) // 2} points; at most {limit} per ROI"
    return None


def labels_problem(labels: list) -> str | None:
    limit = setting("HYPERDATA_MAX_LABELS_PER_ROI")
    if len(labels) > limit:
        return f"{len(labels)} labels; at most {limit} per ROI"
    return None


def depth(value, limit: int) -> int:
    """How deeply `value` nests objects and lists (a scalar: 0), counted no further than limit + 1."""
    deepest, level, stack = 0, 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level)
        if deepest > limit:
            break
        stack.extend((child, level + 1) for child in children)
    return deepest


def meta_problem(value) -> str | None:
    """Metadata (a frame's, a source's, an ROI's, a dataset's or a version's) nested too deeply or too large."""
    if value is None:
        return None
    max_depth = setting("HYPERDATA_MAX_META_DEPTH")
    flat = isinstance(value, dict) and not any(isinstance(child, (dict, list)) for child in value.values())
    if (1 if flat else depth(value, max_depth)) > max_depth:  # most metadata is one level: not walked
        return f"nested more than {max_depth} levels deep"
    limit = setting("HYPERDATA_MAX_META_BYTES")
    if _orjson_size(value) * 2 <= limit:
        return None  # certain without json: it writes what orjson writes, a float's exponent a character longer at most
    size = len(json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str).encode())
    if size > limit:
        return f"{size} bytes as JSON; at most {limit}"
    return None


def _orjson_size(value) -> float:
    """Bytes of `value` as orjson writes it (several times faster than json); infinite for what it refuses."""
    try:
        return len(orjson.dumps(value))
    except TypeError:  # keys that are not strings, integers beyond 64 bits, other types, half surrogate pairs
        return float("inf")


def unstorable_text(value, path: str = "") -> tuple[str, str] | None:
    """The first string (key or value) the database cannot store, as (its path, why): a NUL character
    (PostgreSQL's text and jsonb refuse it) or half of a UTF-16 surrogate pair (not a character: no UTF-8)."""
    if _text_all_storable(value):
        return None
    stack = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            problem = _text_problem(item)
            if problem:
                return where, problem
        elif isinstance(item, dict):
            for key, child in item.items():
                child_path = f"{where}.{key}" if where else str(key)
                problem = _text_problem(key) if isinstance(key, str) else None
                if problem:
                    return where or "body", f"a key {problem}"
                stack.append((child, child_path))
        elif isinstance(item, list):
            stack.extend((child, f"{where}[{index}]") for index, child in enumerate(item))
    return None


def _text_all_storable(value) -> bool:
    """A quick True for the usual case, without walking `value` in Python (half of a frame's validation): orjson
    refuses half a surrogate pair and writes a NUL as \\u0000. False: walk it (a NUL escaped or not, or what orjson
    refuses for other reasons: keys that are not strings, integers beyond 64 bits)."""
    try:
        return b"\\u0000" not in orjson.dumps(value)
    except TypeError:
        return False


def _text_problem(text: str) -> str | None:
    if "\x00" in text:
        return "contains a NUL character (\\u0000)"
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return "contains half of a UTF-16 surrogate pair (not a character)"
    return None
