"""Streaming JSON: the elements of a top-level array, or the values of a JSON-lines file, one at a time with
the line they start on, in memory bounded by the largest element (the C scanner of `json` does the parsing;
JSON lines go through orjson first, at half the cost, and through `json` whenever orjson refuses a line or
could read it differently, so both give the same values and the same messages).

A syntax error becomes a `Problem` with the file, line and column, and reading stops there (what follows a
broken element cannot be trusted to start where it seems to).
"""
from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from typing import TextIO

import orjson

from .base import Problem

CHUNK = 1 << 20
_decoder = json.JSONDecoder()
_WHITESPACE = " \t\n\r"
_LONGEST_TOKEN = 16  # characters of a literal or escape the scanner may stop at the start of (-Infinity, \\uXXXX)
# orjson reads an integer beyond 64 bits (below -2**63 or above 2**64 - 1) as a float; json keeps it whole. 19
# digits in a row (inside a string too, harmlessly) send the text to json: -9999999999999999999 has 19. Looked
# for in the UTF-8 bytes with every digit made a 0 (0.7 us a frame with the encoding; a regular expression 4.9 us,
# the same on the str 2.2 us), which orjson then reads as they are.
_DIGITS_AS_ZEROS = bytes.maketrans(b"123456789", b"000000000")
_NINETEEN_DIGITS = b"0" * 19


class JsonBuffer:
    """Text read ahead from the file, with the line and column of its start."""

    def __init__(self, stream: TextIO):
        self.stream = stream
        self.text = ""
        self.pos = 0
        self.line = 1
        self.line_start = 0  # offset in text where self.line began (may be negative after trimming)
        self.eof = False

    def fill(self) -> bool:
        if self.eof:
            return False
        chunk = self.stream.read(CHUNK)
        if not chunk:
            self.eof = True
            return False
        self.text = self.text[self.pos :] + chunk
        self.line_start -= self.pos
        self.pos = 0
        return True

    def advance_to(self, end: int) -> None:
        newlines = self.text.count("\n", self.pos, end)
        if newlines:
            self.line += newlines
            self.line_start = self.text.rfind("\n", self.pos, end) + 1
        self.pos = end

    def skip(self, characters: str) -> str | None:
        """Skip `characters`; the next other character (not consumed), None at the end of the file."""
        run = _run_of(characters)
        while True:
            self.advance_to(run.match(self.text, self.pos).end())
            if self.pos < len(self.text):
                return self.text[self.pos]
            if not self.fill():
                return None

    def column(self, offset: int | None = None) -> int:
        return (self.pos if offset is None else offset) - self.line_start + 1

    def problem(self, file: str, message: str, field: str = "") -> Problem:
        return Problem(file=file, field=field, message=message, line=self.line, column=self.column())

    def decode(self, file: str):
        """The value at the current position and the line it starts on, or a Problem."""
        line = self.line
        while True:
            try:
                value, end = _decoder.raw_decode(self.text, self.pos)
            except json.JSONDecodeError as exc:
                if _may_continue(exc, len(self.text)) and self.fill():  # the element goes on past what was read so far
                    continue
                error_line = line + self.text.count("\n", self.pos, exc.pos)
                start = self.text.rfind("\n", 0, exc.pos) + 1
                return Problem(file=file, field="", message=f"invalid JSON: {exc.msg}", line=error_line, column=exc.pos - start + 1)
            if end == len(self.text) and not self.eof and isinstance(value, (int, float)) and self.fill():
                continue  # a number cut at the chunk's end
            self.advance_to(end)
            return value, line


@functools.cache
def _run_of(characters: str) -> re.Pattern:
    """A pattern matching any run of `characters` (skipping them one by one in Python cost a quarter of reading
    a COCO file)."""
    return re.compile("[" + "".join(re.escape(c) for c in characters) + "]*")


def _may_continue(error: json.JSONDecodeError, read: int) -> bool:
    """Whether `error` may only mean that the text read so far stops inside the value: the scanner stopped within
    a few characters of its end (a cut literal, number or escape), or a string is still open. Any other error is
    one whatever follows, and is reported without reading the rest of the file into memory."""
    return error.pos >= read - _LONGEST_TOKEN or error.msg.startswith("Unterminated string")


def iter_json_array(stream: TextIO, file: str) -> Iterator[tuple[object, int] | Problem]:
    """(element, line) for each element of the top-level array in `stream`; a Problem where it is not one."""
    buffer = JsonBuffer(stream)
    if buffer.skip(_WHITESPACE + "\ufeff") != "[":
        yield buffer.problem(file, "expected a JSON array of frames ('[' first)")
        return
    buffer.advance_to(buffer.pos + 1)
    if buffer.skip(_WHITESPACE) == "]":
        return
    while True:
        decoded = buffer.decode(file)
        if isinstance(decoded, Problem):
            yield decoded
            return
        yield decoded
        following = buffer.skip(_WHITESPACE)
        if following == "]":
            return
        if following != ",":
            yield buffer.problem(file, "expected ',' or ']' after an element" if following else "the array is not closed (']' missing)")
            return
        buffer.advance_to(buffer.pos + 1)
        buffer.skip(_WHITESPACE)


def iter_json_lines(stream: TextIO, file: str) -> Iterator[tuple[object, int] | Problem]:
    """(value, line) for each non-blank line of a JSON-lines stream; a Problem for each line that is not JSON
    (lines are independent, so reading goes on)."""
    for number, text in enumerate(stream, start=1):
        if not text.strip():
            continue
        try:
            yield _loads(text), number
        except json.JSONDecodeError as exc:
            yield Problem(file=file, field="", message=f"invalid JSON: {exc.msg}", line=number, column=exc.colno)


def _loads(text: str):
    """json.loads(text), through orjson when it gives the same value (json raises what is wrong)."""
    data = text.encode("utf-8", "surrogatepass")  # half a surrogate pair: orjson refuses it, json reads it
    if _NINETEEN_DIGITS not in data.translate(_DIGITS_AS_ZEROS):
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass  # json says why (its messages, its columns), or reads what orjson refuses (NaN, Infinity)
    return json.loads(text)
