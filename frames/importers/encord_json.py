"""Reading Encord's JSON files with the line each item starts on, so a problem can say `videos[2]` is on line 14.

An import JSON is one object whose arrays (`videos`, `images`, ...) hold the data units; `json` parses each
element (its C scanner), and this module only walks between them, counting newlines. A syntax error becomes a
`Problem` with the line and column.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from .base import Problem

_decoder = json.JSONDecoder()
_WHITESPACE = " \t\n\r"


@dataclass
class Document:
    """A top-level JSON object: its values, and the line where each value down to some depth starts, by its
    path (`videos[2]`, `data_units.<hash>.labels.1.objects[0]`)."""

    values: dict
    lines: dict[str, int] = field(default_factory=dict)

    def line_of(self, path: str) -> int | None:
        """The line of `path`, else of the nearest enclosing value whose line is known."""
        while path:
            if path in self.lines:
                return self.lines[path]
            cut = max(path.rfind("."), path.rfind("["))
            path = path[:cut] if cut > 0 else ""
        return 1


class _Text:
    def __init__(self, text: str):
        self.text = text
        self.pos = 0
        self.line = 1

    def skip(self) -> str:
        end = self.pos
        while end < len(self.text) and self.text[end] in _WHITESPACE:
            end += 1
        self.move(end)
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def move(self, end: int) -> None:
        self.line += self.text.count("\n", self.pos, end)
        self.pos = end

    def decode(self):
        value, end = _decoder.raw_decode(self.text, self.pos)
        self.move(end)
        return value

    def expect(self, character: str) -> None:
        if self.skip() != character:
            raise json.JSONDecodeError(f"Expecting '{character}'", self.text, self.pos)
        self.move(self.pos + 1)


def load(path: Path, name: str, *, depth: int = 2) -> Document | list | Problem:
    """The file's top-level object as a Document (lines of its values `depth` levels down), a top-level list as
    it is (several label rows), or a Problem saying where the JSON is broken."""
    text = path.read_text(encoding="utf-8-sig")
    try:
        if text.lstrip().startswith("{"):
            reader, lines = _Text(text), {}
            values = _value(reader, "", depth, lines)
            if reader.skip():
                raise json.JSONDecodeError("Extra data", reader.text, reader.pos)
            return Document(values=values, lines=lines)
        return json.loads(text)
    except json.JSONDecodeError as exc:
        line = exc.doc.count("\n", 0, exc.pos) + 1
        column = exc.pos - exc.doc.rfind("\n", 0, exc.pos)
        return Problem(file=name, field="", message=f"invalid JSON: {exc.msg}", line=line, column=column)


def _value(reader: _Text, path: str, depth: int, lines: dict[str, int]):
    """The value at the reader, noting where it and (to `depth` levels) the values inside it start; below
    that `json` decodes it whole."""
    opening = reader.skip()
    if path:
        lines[path] = reader.line
    if depth <= 0 or opening not in "{[" or not opening:
        return reader.decode()
    closing = "}" if opening == "{" else "]"
    reader.move(reader.pos + 1)
    values: dict | list = {} if opening == "{" else []
    if reader.skip() == closing:
        reader.move(reader.pos + 1)
        return values
    while True:
        if isinstance(values, dict):
            reader.skip()
            key = reader.decode()
            if not isinstance(key, str):
                raise json.JSONDecodeError("Expecting property name enclosed in double quotes", reader.text, reader.pos)
            reader.expect(":")
            values[key] = _value(reader, f"{path}.{key}" if path else key, depth - 1, lines)
        else:
            values.append(_value(reader, f"{path}[{len(values)}]", depth - 1, lines))
        following = reader.skip()
        if following == closing:
            reader.move(reader.pos + 1)
            return values
        if following != ",":
            raise json.JSONDecodeError("Expecting ',' delimiter", reader.text, reader.pos)
        reader.move(reader.pos + 1)
