"""A COCO file read as a stream: the top-level object key by key, and the elements of its `images` and
`annotations` lists one at a time with the line and column where each starts (so a problem can point there; in
a file written on one line, the column does). The keys come in any order. Memory holds one element at a time
(and the values of the other keys: `categories`, `info`, `licenses`, small), whatever the file's size.

The C scanner of `json` does the parsing (jsonstream.JsonBuffer), so values are what `json.load` gives. A
syntax error is a Problem with the line and column, and reading stops there.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import NamedTuple, TextIO

from .base import Problem
from .jsonstream import JsonBuffer

LISTED = ("images", "annotations")  # the lists read element by element
_WHITESPACE = " \t\n\r"
_SEPARATOR = re.compile(r"[ \t\n\r]*,[ \t\n\r]*")
# on_element(key, index, value, line, column) for each element of a listed array: a call, not an item yielded,
# since there are millions (the tuple and the dispatch cost a fifth of reading one).
OnElement = Callable[[str, int, object, int, int], None]


class ListStart(NamedTuple):
    """A listed key's array begins (a key given twice: its later value counts, as in `json.load`)."""

    key: str


class Value(NamedTuple):
    """A top-level key and its whole value (a listed key whose value is not an array comes this way too)."""

    key: str
    value: object


def walk(stream: TextIO, file: str, on_element: OnElement) -> Iterator[ListStart | Value | Problem]:
    """The parts of the COCO object in `stream`, in the file's order, the elements of the listed arrays handed
    to `on_element`; a Problem (the last item) where the text is not JSON or not an object."""
    buffer = JsonBuffer(stream)
    first = buffer.skip(_WHITESPACE + "\ufeff")
    if first != "{":
        yield _not_an_object(buffer, first, file)
        return
    buffer.advance_to(buffer.pos + 1)
    following = buffer.skip(_WHITESPACE)
    while following != "}":
        if following != '"':
            yield _invalid(buffer, file, "Expecting property name enclosed in double quotes")
            return
        problem = yield from _member(buffer, file, on_element)
        if problem:
            yield problem
            return
        following = buffer.skip(_WHITESPACE)
        if following == ",":
            buffer.advance_to(buffer.pos + 1)
            following = buffer.skip(_WHITESPACE)
        elif following != "}":
            yield _invalid(buffer, file, "Expecting ',' delimiter")
            return
    buffer.advance_to(buffer.pos + 1)
    if buffer.skip(_WHITESPACE) is not None:
        yield _invalid(buffer, file, "Extra data")


def _member(buffer: JsonBuffer, file: str, on_element: OnElement):
    """Read `"key": value` (a listed array element by element); the Problem that stops the reading, if any."""
    decoded = buffer.decode(file)
    if isinstance(decoded, Problem):
        return decoded
    key = decoded[0]
    if buffer.skip(_WHITESPACE) != ":":
        return _invalid(buffer, file, "Expecting ':' delimiter")
    buffer.advance_to(buffer.pos + 1)
    if buffer.skip(_WHITESPACE) == "[" and key in LISTED:
        yield ListStart(key)
        return _elements(buffer, key, file, on_element)
    decoded = buffer.decode(file)
    if isinstance(decoded, Problem):
        return decoded
    yield Value(key, decoded[0])
    return None


def _elements(buffer: JsonBuffer, key: str, file: str, on_element: OnElement) -> Problem | None:
    buffer.advance_to(buffer.pos + 1)
    following = buffer.skip(_WHITESPACE)
    index = 0
    while following != "]":
        column = buffer.column()
        decoded = buffer.decode(file)
        if isinstance(decoded, Problem):
            return decoded
        on_element(key, index, decoded[0], decoded[1], column)
        index += 1
        separator = _SEPARATOR.match(buffer.text, buffer.pos)
        if separator and separator.end() < len(buffer.text):  # the next element starts in what was read
            buffer.advance_to(separator.end())
            following = None  # a "]" there is no element: decoding it says so
            continue
        following = buffer.skip(_WHITESPACE)
        if following == ",":
            buffer.advance_to(buffer.pos + 1)
            buffer.skip(_WHITESPACE)
            following = None
        elif following != "]":
            return _invalid(buffer, file, "Expecting ',' delimiter")
    buffer.advance_to(buffer.pos + 1)
    return None


def _not_an_object(buffer: JsonBuffer, first: str | None, file: str) -> Problem:
    if first is None:
        return _invalid(buffer, file, "Expecting value")
    if first == "[":  # named without reading it: a list may be as large as the file
        kind = "list"
    else:
        decoded = buffer.decode(file)
        if isinstance(decoded, Problem):
            return decoded
        kind = type(decoded[0]).__name__
    return Problem(file=file, field="", message=f'expected a COCO object ({{"images": ..., "annotations": ...}}), got a JSON {kind}')


def _invalid(buffer: JsonBuffer, file: str, message: str) -> Problem:
    return buffer.problem(file, f"invalid JSON: {message}")
