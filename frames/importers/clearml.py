"""ClearML frame JSON: a JSON array of frames (what our export writes), a single frame object, or JSON lines
(`.jsonl` / `.ndjson`, or any file whose first value is followed by more, one frame per line); a folder imports every such file in it, in name order. Frames pass
through unchanged: the import service validates them as the REST API does."""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from .base import ImportSource, Item, Problem, Record
from .jsonstream import iter_json_array, iter_json_lines

LINE_SUFFIXES = {".jsonl", ".ndjson"}
SUFFIXES = {".json", *LINE_SUFFIXES}
ONE_OBJECT_LIMIT = 64 * 1024**2  # a single frame object is read whole; anything larger is taken as JSON lines


def read(source: ImportSource) -> Iterator[Item]:
    files = sorted(p for p in source.path.iterdir() if p.suffix.lower() in SUFFIXES) if source.path.is_dir() else [source.path]
    if not files:
        yield Problem(file=source.path.name, field="", message="no .json, .jsonl or .ndjson files in this folder")
    for path in files:
        yield from _read_file(path, name=path.name if source.path.is_dir() else source.path.name)


def _read_file(path: Path, *, name: str) -> Iterator[Item]:
    with path.open(encoding="utf-8-sig", newline="") as stream:
        if path.suffix.lower() in LINE_SUFFIXES:
            values = iter_json_lines(stream, name)
        elif _starts_with_object(stream):
            values = _one_object_or_lines(stream, name)
        else:
            values = iter_json_array(stream, name)
        for value in values:
            if isinstance(value, Problem):
                yield value
            elif isinstance(value[0], dict):
                yield Record(frame=value[0], file=name, line=value[1])
            else:
                yield Problem(file=name, line=value[1], field="", message=f"expected a frame object, got {type(value[0]).__name__}")


def _starts_with_object(stream) -> bool:
    head = stream.read(4096)
    stream.seek(0)
    return head.lstrip().startswith("{")


def _one_object_or_lines(stream, name: str):
    """A file starting with `{`: one frame object, or JSON lines whatever its name says (more than one value)."""
    if path_size(stream) <= ONE_OBJECT_LIMIT:
        text = stream.read()
        try:
            yield json.loads(text), 1
            return
        except json.JSONDecodeError as exc:
            if exc.msg != "Extra data":
                yield Problem(file=name, field="", message=f"invalid JSON: {exc.msg}", line=exc.lineno, column=exc.colno)
                return
        stream.seek(0)
    yield from iter_json_lines(stream, name)


def path_size(stream) -> int:
    stream.seek(0, 2)
    size = stream.tell()
    stream.seek(0)
    return size
