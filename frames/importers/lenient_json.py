"""JSON with the line of every value, and a lenient mode that mends the two mistakes hand-written JSON makes.

Lightly's documentation publishes its metadata examples with a trailing comma after the last member and a
missing comma between two schema entries; users copy them. `parse(text, file=..., lenient=True)` accepts both,
changes nothing else, and says what it fixed ("schema.json line 7: inserted a missing ','"). Any other error,
and every error in strict mode, is a `JSONSyntaxError` with json's own message, line and column.

Why our own small fixer and not a library:
- json5 (0.17) accepts trailing commas but not a missing comma (the schema example fails at line 8), and
  reports nothing about what it accepted;
- json-repair (0.64) mends both, but logs no line numbers, logs nothing for a removed trailing comma, and
  silently "repairs" anything else too (`{"a": x y}` becomes `{"a": "x y"}`), so a broken file would import
  with made-up values instead of being refused.
The fixer walks tokens (strings are single tokens, so commas and brackets inside them are never touched),
keeps a stack of open objects and arrays, and only edits at two places: a ',' right before '}' or ']' (blanked
out, so columns stay put) and a value that follows a value with no ',' between (one ',' inserted right after
the first value, on its line). The mended text is then parsed by `json` itself.

The same walk records the line each value starts on, keyed by its path (`("metadata", "weather", "temperature")`
or `(1, "valueDataType")`), so a reader can name the line of a field whose value is wrong; for valid JSON
the walk runs only when a line is asked for (json alone reads it ten times faster).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

_TOKEN = re.compile(
    r'(?P<string>"(?:[^"\\\n]|\\.)*"?)'  # an unterminated string runs to the end of its line
    r"|(?P<space>[ \t\r\n]+)"
    r"|(?P<punct>[{}\[\]:,])"
    r'|(?P<scalar>[^ \t\r\n{}\[\]:,"]+)'
)
_VALUE_END = {"string", "scalar", "}", "]"}

ValuePath = tuple


class JSONSyntaxError(ValueError):
    """Invalid JSON: json's message, and the 1-based line and column where it went wrong."""

    def __init__(self, message: str, line: int, column: int):
        super().__init__(f"{message} (line {line}, column {column})")
        self.message, self.line, self.column = message, line, column


@dataclass
class Parsed:
    value: object
    text: str  # what was parsed (mended in lenient mode), for the lines of its values
    notes: list[str] = field(default_factory=list)  # what lenient mode fixed
    _lines: dict[ValuePath, int] | None = None

    @property
    def lines(self) -> dict[ValuePath, int]:
        """The path of every value -> the line it starts on; worked out when first asked (for a problem)."""
        if self._lines is None:
            walk = _Walk(self.text, file="", lenient=False)
            walk.run()
            self._lines = walk.lines
        return self._lines

    def line(self, path: ValuePath) -> int | None:
        """The line of the value at `path`, or of its nearest parent that is in the text."""
        if not path and self._lines is None:  # the whole value: where the text stops being blank
            return self.text.count("\n", 0, len(self.text) - len(self.text.lstrip())) + 1
        while path not in self.lines and path:
            path = path[:-1]
        return self.lines.get(path)


def parse(text: str, *, file: str, lenient: bool = False) -> Parsed:
    """The value in `text` (the content of `file`, a name for the notes). Valid JSON is read by json alone:
    the token walk runs only when that fails in lenient mode, or when a line is asked for."""
    try:
        return Parsed(value=json.loads(text), text=text)
    except json.JSONDecodeError as exc:
        if not lenient:
            raise JSONSyntaxError(exc.msg, exc.lineno, exc.colno) from None
    walk = _Walk(text, file=file, lenient=True)
    walk.run()
    mended = "".join(walk.out)
    try:
        value = json.loads(mended)
    except json.JSONDecodeError as exc:
        raise JSONSyntaxError(exc.msg, exc.lineno, exc.colno) from None
    return Parsed(value=value, text=mended, notes=walk.notes, _lines=walk.lines)


class _Container:
    """An open object or array: what it expects next, the key being read, the index of the next element."""

    def __init__(self, kind: str, path: ValuePath):
        self.kind = kind  # "{" or "["
        self.path = path
        self.expect = "key" if kind == "{" else "value"  # key, colon, value, comma
        self.key: object = None
        self.index = 0

    def child_path(self) -> ValuePath:
        return self.path + ((self.key,) if self.kind == "{" else (self.index,))


class _Walk:
    """One pass over the tokens: copies them to `out`, mending in lenient mode, and records value lines.
    On anything it does not understand it stops tracking and copies the rest as is; json reports it."""

    def __init__(self, text: str, *, file: str, lenient: bool):
        self.text, self.file, self.lenient = text, file, lenient
        self.out: list[str] = []
        self.lines: dict[ValuePath, int] = {}
        self.notes: list[str] = []
        self.stack: list[_Container] = []
        self.line = 1
        self.last: tuple[str, int, int] | None = None  # kind, line and index in `out` of the last significant token
        self.lost = False

    def run(self) -> None:
        tokens = list(_TOKEN.finditer(self.text))
        for number, match in enumerate(tokens):
            kind = match.lastgroup
            token = match.group()
            if kind == "space":
                self.out.append(token)
                self.line += token.count("\n")
                continue
            if kind == "punct":
                kind = token
            if kind == "," and self.lenient and self._ends_container(tokens, number):
                self.out.append(" ")
                self.notes.append(f"{self.file} line {self.line}: removed a trailing ','")
                self._after_comma()
                continue
            if not self.lost:
                self._track(kind, token)
            self.out.append(token)
            self.last = (kind, self.line, len(self.out) - 1)

    def _ends_container(self, tokens, number: int) -> bool:
        """Whether the ',' at `number` follows a value and comes right before the '}' or ']' closing it."""
        if self.lost or not self.stack or self.stack[-1].expect != "comma":
            return False
        closer = "}" if self.stack[-1].kind == "{" else "]"
        for match in tokens[number + 1 :]:
            if match.lastgroup != "space":
                return match.group() == closer
        return False

    def _track(self, kind: str, token: str) -> None:
        top = self.stack[-1] if self.stack else None
        if top is not None and top.expect == "comma" and self._starts_value(kind, top):
            if not self.lenient:
                self.lost = True  # json reports the missing comma at this token
                return
            self._insert_comma()
            self._after_comma()
        if kind in ("{", "["):
            path = self._value_starts()
            self.stack.append(_Container(kind, path))
        elif kind in ("}", "]"):
            self._close(kind)
        elif kind == ":":
            self._expect(top, "colon", "value")
        elif kind == ",":
            if top is None or top.expect != "comma":
                self.lost = True
            else:
                self._after_comma()
        elif top is not None and top.kind == "{" and top.expect == "key" and kind == "string":
            top.key = _decode(token)
            top.expect = "colon"
        else:
            self._value_starts()
            self._value_ends()

    @staticmethod
    def _starts_value(kind: str, top: _Container) -> bool:
        return kind == "string" if top.kind == "{" else kind in ("string", "scalar", "{", "[")

    def _insert_comma(self) -> None:
        _kind, line, index = self.last
        self.out[index] += ","
        self.notes.append(f"{self.file} line {line}: inserted a missing ','")

    def _value_starts(self) -> ValuePath:
        top = self.stack[-1] if self.stack else None
        if top is not None and top.expect != "value":
            self.lost = True
            return ()
        path = top.child_path() if top is not None else ()
        self.lines[path] = self.line
        return path

    def _value_ends(self) -> None:
        if self.stack:
            self.stack[-1].expect = "comma"

    def _close(self, kind: str) -> None:
        top = self.stack[-1] if self.stack else None
        opener = "{" if kind == "}" else "["
        if top is None or top.kind != opener or top.expect not in ("comma", "key" if opener == "{" else "value"):
            self.lost = True
            return
        self.stack.pop()
        self._value_ends()

    def _after_comma(self) -> None:
        top = self.stack[-1] if self.stack else None
        if top is None:
            return
        if top.kind == "[":
            top.index += 1
        top.expect = "key" if top.kind == "{" else "value"

    def _expect(self, top: _Container | None, now: str, then: str) -> None:
        if top is None or top.expect != now:
            self.lost = True
        else:
            top.expect = then


def _decode(token: str):
    try:
        return json.loads(token)
    except json.JSONDecodeError:
        return token
