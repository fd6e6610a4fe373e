"""Lucene-style queries (as in ClearML's frame_query / sources_query) translated to Django Q objects.

Parsed with luqum, walked node by node; every value reaches the database as a query parameter through the
ORM's own lookups, never as SQL text. Field names are resolved by a `FieldResolver` so the same walker serves
`meta.*` rules on frames and `sources.*` rules on sources.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from django.db.models import F, Q
from django.db.models.fields.json import (
    KeyTransform,
    KeyTransformExact,
    KeyTransformGt,
    KeyTransformGte,
    KeyTransformIsNull,
    KeyTransformLt,
    KeyTransformLte,
    KeyTransformRegex,
)
from django.db.models.lookups import Exact, GreaterThan, GreaterThanOrEqual, LessThan, LessThanOrEqual, Regex
from luqum import tree
from luqum.exceptions import ParseError
from luqum.parser import parser
from luqum.utils import UnknownOperationResolver


class LuceneError(ValueError):
    """A query that cannot be parsed or translated; the message says where and why."""


@dataclass(frozen=True)
class Column:
    """A plain model column; `numeric` columns only compare with numbers."""

    name: str
    numeric: bool = False


@dataclass(frozen=True)
class JsonPath:
    """A key path inside a JSON column, e.g. meta.weather.today -> ("meta", ["weather", "today"])."""

    column: str
    keys: tuple[str, ...]

    def expression(self):
        expr = F(self.column)
        for key in self.keys:
            expr = KeyTransform(key, expr)
        return expr


FieldResolver = Callable[[str], Column | JsonPath]

_JSON_LOOKUPS = {"gte": KeyTransformGte, "gt": KeyTransformGt, "lte": KeyTransformLte, "lt": KeyTransformLt}
_COLUMN_LOOKUPS = {"gte": GreaterThanOrEqual, "gt": GreaterThan, "lte": LessThanOrEqual, "lt": LessThan}


def parse(query: str) -> tree.Item:
    try:
        return UnknownOperationResolver()(parser.parse(query))
    except ParseError as exc:
        raise LuceneError(str(exc).replace("Syntax error in input : ", "")) from None


def to_q(query: str, resolve: FieldResolver) -> Q:
    """Translate a Lucene query string into a Q object over the fields `resolve` knows."""
    if not query or not query.strip():
        return Q()
    return _Translator(resolve).visit(parse(query), field=None)


def _number(text: str):
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return None


def _wildcard_regex(text: str) -> str:
    escaped = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in text)
    return f"^{escaped}$"


def _unquote(phrase: str) -> str:
    return phrase[1:-1] if len(phrase) >= 2 and phrase[0] == phrase[-1] == '"' else phrase


class _Translator:
    def __init__(self, resolve: FieldResolver):
        self.resolve = resolve

    def visit(self, node: tree.Item, field):
        if isinstance(node, tree.SearchField):
            return self.visit(node.expr, self.resolve(node.name))
        if isinstance(node, (tree.Group, tree.FieldGroup)):
            return self.visit(node.expr, field)
        if isinstance(node, tree.AndOperation):
            return _combine(node.children, lambda child: self.visit(child, field), Q.__and__)
        if isinstance(node, tree.OrOperation):
            return _combine(node.children, lambda child: self.visit(child, field), Q.__or__)
        if isinstance(node, (tree.Not, tree.Prohibit)):
            return ~self.visit(node.a, field)
        if isinstance(node, tree.Plus):
            return self.visit(node.a, field)
        if field is None:
            raise LuceneError(f"{str(node).strip()!r} has no field: write it as field:value, e.g. meta.weather:sunny")
        if isinstance(node, tree.Range):
            return self.range(node, field)
        if isinstance(node, tree.Regex):
            return self.regex(field, node.value.strip("/"))
        if isinstance(node, tree.Phrase):
            return self.exact(field, _unquote(node.value), quoted=True)
        if isinstance(node, tree.Word):
            if node.value == "*":
                return self.exists(field)
            if node.has_wildcard():
                return self.regex(field, _wildcard_regex(node.value))
            return self.exact(field, node.value, quoted=False)
        raise LuceneError(f"{type(node).__name__.lower()} queries ({str(node).strip()}) are not supported")

    def exists(self, field):
        if isinstance(field, JsonPath):
            return Q(KeyTransformIsNull(field.expression(), False))
        return Q(**{f"{field.name}__isnull": False})

    def regex(self, field, pattern):
        if isinstance(field, JsonPath):
            return Q(KeyTransformRegex(field.expression(), pattern))
        if field.numeric:
            raise LuceneError(f"{field.name} is a number: wildcards and regular expressions do not apply")
        return Q(Regex(F(field.name), pattern))

    def exact(self, field, text, *, quoted):
        number = None if quoted else _number(text)
        if isinstance(field, JsonPath):
            expr = field.expression()
            q = Q(KeyTransformExact(expr, text))
            if number is not None:
                q |= Q(KeyTransformExact(field.expression(), number))
            if not quoted and text in ("true", "false"):
                q |= Q(KeyTransformExact(field.expression(), text == "true"))
            return q
        if field.numeric:
            if number is None:
                raise LuceneError(f"{field.name} is a number: {text!r} is not")
            return Q(Exact(F(field.name), number))
        return Q(Exact(F(field.name), text))

    def range(self, node: tree.Range, field):
        q = Q()
        for bound, include, (inclusive, exclusive) in (
            (node.low, node.include_low, ("gte", "gt")),
            (node.high, node.include_high, ("lte", "lt")),
        ):
            text = _unquote(str(bound.value))
            if text == "*":
                continue
            value = _number(text)
            if value is None:
                if isinstance(field, Column) and field.numeric:
                    raise LuceneError(f"{field.name} is a number: range bound {text!r} is not")
                value = text
            op = inclusive if include else exclusive
            if isinstance(field, JsonPath):
                q &= Q(_JSON_LOOKUPS[op](field.expression(), value))
            else:
                q &= Q(_COLUMN_LOOKUPS[op](F(field.name), value))
        return q


def _combine(children, translate, operator):
    result = None
    for child in children:
        q = translate(child)
        result = q if result is None else operator(result, q)
    return result
