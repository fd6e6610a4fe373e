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
    """A top-level JSON object: its values, and for each array value the line of each element."""

    values: dict
    element_lines: dict[str, list[int]] = field(default_factory=dict)
    line: int = 1

    def line_of(self, key: str, index: int) -> int | None:
        lines = self.element_lines.get(key) or []
        return lines[index] if index < len(lines) else None


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


def load(path: Path, name: str) -> Document | list | Problem:
    """The file's top-level object as a Document (element lines for its arrays), a top-level list as it is
    (several label rows), or a Problem saying where the JSON is broken."""
    text = path.read_text(encoding="utf-8-sig")
    try:
        if text.lstrip().startswith("{"):
            return _object(_Text(text))
        return json.loads(text)
    except json.JSONDecodeError as exc:
        line = exc.doc.count("\n", 0, exc.pos) + 1
        column = exc.pos - exc.doc.rfind("\n", 0, exc.pos)
        return Problem(file=name, field="", message=f"invalid JSON: {exc.msg}", line=line, column=column)


def _object(reader: _Text) -> Document:
    reader.expect("{")
    document = Document(values={})
    if reader.skip() == "}":
        return document
    while True:
        reader.skip()
        key = reader.decode()
        reader.expect(":")
        if reader.skip() == "[":
            document.values[key], document.element_lines[key] = _array(reader)
        else:
            document.values[key] = reader.decode()
        following = reader.skip()
        reader.move(reader.pos + 1)
        if following == "}":
            break
        if following != ",":
            raise json.JSONDecodeError("Expecting ',' delimiter", reader.text, reader.pos - 1)
    if reader.skip():
        raise json.JSONDecodeError("Extra data", reader.text, reader.pos)
    return document


def _array(reader: _Text) -> tuple[list, list[int]]:
    reader.expect("[")
    values, lines = [], []
    if reader.skip() == "]":
        reader.move(reader.pos + 1)
        return values, lines
    while True:
        reader.skip()
        lines.append(reader.line)
        values.append(reader.decode())
        following = reader.skip()
        reader.move(reader.pos + 1)
        if following == "]":
            return values, lines
        if following != ",":
            raise json.JSONDecodeError("Expecting ',' delimiter", reader.text, reader.pos - 1)
