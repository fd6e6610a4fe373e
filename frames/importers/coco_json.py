"""A COCO file read whole, with the line and column where each image and each annotation starts, so a problem
can point there (in a file written on one line, the column does).

The top-level object is walked key by key with the C scanner of `json` (raw_decode), and its `images` and
`annotations` lists element by element; lines are counted once, front to back. Anything unusual (a syntax
error, a top level that is not an object) goes back to `json.loads`, whose error has the line and column.
"""
from __future__ import annotations

import json

LISTED = ("images", "annotations")  # the lists whose elements' positions are kept
_decoder = json.JSONDecoder()
_WHITESPACE = " \t\n\r"


class _Lines:
    """Line and column of increasing offsets in `text`, counting each newline once."""

    def __init__(self, text: str):
        self.text = text
        self.offset = 0
        self.line = 1
        self.line_start = 0

    def at(self, offset: int) -> tuple[int, int]:
        newlines = self.text.count("\n", self.offset, offset)
        if newlines:
            self.line += newlines
            self.line_start = self.text.rfind("\n", self.offset, offset) + 1
        self.offset = offset
        return self.line, offset - self.line_start + 1


def _skip(text: str, position: int) -> int:
    while position < len(text) and text[position] in _WHITESPACE:
        position += 1
    return position


def load_with_positions(text: str) -> tuple[object, dict[str, list[tuple[int, int]]]]:
    """The parsed document, and {"images": [(line, column), ...], "annotations": [...]} for its lists.
    Raises json.JSONDecodeError (with line and column) when the text is not JSON."""
    try:
        return _walk(text)
    except (ValueError, IndexError):
        return json.loads(text), {}  # raises the error with its line and column (or reads what the walk did not)


def _walk(text: str):
    lines = _Lines(text)
    position = _skip(text, 0)
    if text[position] != "{":
        raise ValueError("not an object")
    data: dict = {}
    positions: dict[str, list[tuple[int, int]]] = {}
    position = _skip(text, position + 1)
    if text[position] == "}":
        return data, positions
    while True:
        key, position = _decoder.raw_decode(text, position)
        position = _skip(text, position)
        if not isinstance(key, str) or text[position] != ":":
            raise ValueError("not a key")
        position = _skip(text, position + 1)
        if key in LISTED and text[position] == "[":
            data[key], positions[key], position = _array(text, position, lines)
        else:
            data[key], position = _decoder.raw_decode(text, position)
        position = _skip(text, position)
        if text[position] == "}":
            if _skip(text, position + 1) != len(text):
                raise ValueError("extra data")
            return data, positions
        if text[position] != ",":
            raise ValueError("expected ','")
        position = _skip(text, position + 1)


def _array(text: str, position: int, lines: _Lines):
    values, where = [], []
    position = _skip(text, position + 1)
    if text[position] == "]":
        return values, where, position + 1
    while True:
        where.append(lines.at(position))
        value, position = _decoder.raw_decode(text, position)
        values.append(value)
        position = _skip(text, position)
        if text[position] == "]":
            return values, where, position + 1
        if text[position] != ",":
            raise ValueError("expected ','")
        position = _skip(text, position + 1)
