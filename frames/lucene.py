"""Lucene-style queries (as in ClearML's frame_query / sources_query) translated to Django Q objects.

Parsed with luqum, walked node by node; every value reaches the database as a query parameter through the
ORM's own lookups, never as SQL text. Field names are resolved by a `FieldResolver` so the same walker serves
`meta.*` rules on frames, `sources.*` rules on sources and ROI rules (labels, confidence, meta.*) on ROIs.
"""
from __future__ import annotations

import functools
import re
import threading
from dataclasses import dataclass
from typing import Callable

from django.db import DataError, connection, transaction
from django.db.models import Exists, OuterRef, Q
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

    def lookup(self, name: str) -> str:
        return f"{self.name}__{name}"


@dataclass(frozen=True)
class JsonPath:
    """A key path inside a JSON column, e.g. meta.weather.today -> ("meta", ("weather", "today")).

    The ORM lookup always ends in an explicit lookup name, so every key before it is read as a JSON key
    (a key called "gte" or "contains" stays a key); keys containing "__" are refused by the resolvers.
    """

    column: str
    keys: tuple[str, ...]
    numeric = False

    @property
    def name(self) -> str:
        return ".".join((self.column, *self.keys))

    def lookup(self, name: str) -> str:
        return "__".join((self.column, *self.keys, name))


@dataclass(frozen=True)
class Related:
    """A field read through another row: every condition on it becomes `wrap(q)` (e.g. an ROI's labels, one
    index row per label, asked as "does this ROI have a row with such a label")."""

    field: Column
    wrap: Callable[[Q], Q]

    @property
    def name(self) -> str:
        return self.field.name

    numeric = property(lambda self: self.field.numeric)

    def lookup(self, name: str) -> str:
        return self.field.lookup(name)


FieldResolver = Callable[[str], "Column | JsonPath | Related"]


# luqum's parser is PLY's, one object per process whose lexer keeps the text and position it reads: two threads
# of a web worker (gunicorn's gthread) parsing at once read each other's tokens and get a wrong tree or an error.
_PARSER_LOCK = threading.Lock()


def parse(query: str) -> tree.Item:
    try:
        with _PARSER_LOCK:
            parsed = parser.parse(query)
        return UnknownOperationResolver()(parsed)
    except ParseError as exc:
        raise LuceneError(str(exc).replace("Syntax error in input : ", "")) from None


def to_q(query: str, resolve: FieldResolver, model, *, rows=None, default_field: str | None = None) -> Q:
    """Translate a Lucene query string into a Q object over the `model` fields `resolve` knows.

    `rows` is the queryset NOT looks rows up in (when the fields need annotations; default all of `model`);
    `default_field` is the field of a bare term (`car` for `labels:car`), else a bare term is an error."""
    if not query or not query.strip():
        return Q()
    rows = model.objects.all() if rows is None else rows
    default = resolve(default_field) if default_field else None
    return _Translator(resolve, rows).visit(parse(query), field=default)


def term_number(text: str):
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return None


def checked_regex(pattern: str) -> None:
    """A LuceneError naming what is wrong with a regular expression the database would refuse when it reads the
    frames. The dialect is the database's (PostgreSQL's ARE; Python's on SQLite), so the database is asked."""
    error = _regex_error(connection.vendor, pattern)
    if error is not None:
        raise LuceneError(f"/{pattern}/: {error}")


@functools.lru_cache(maxsize=1024)
def _regex_error(vendor: str, pattern: str) -> str | None:
    """Kept per pattern: a filter is translated when it is read and again for each query it builds."""
    try:
        if vendor == "postgresql":
            with transaction.atomic(), connection.cursor() as cursor:  # a savepoint: the request's transaction stays usable
                cursor.execute("SELECT '' ~ %s", [pattern])
        else:
            re.compile(pattern)
    except (DataError, re.error) as exc:  # (an invalid regular expression; a lost connection is not one)
        return str(exc).splitlines()[0]
    return None


def wildcard_regex(text: str) -> str:
    escaped = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in text)
    return f"^{escaped}$"


def unquoted(phrase: str) -> str:
    return phrase[1:-1] if len(phrase) >= 2 and phrase[0] == phrase[-1] == '"' else phrase


class _Translator:
    def __init__(self, resolve: FieldResolver, rows):
        self.resolve = resolve
        self.rows = rows

    def negate(self, q: Q) -> Q:
        """Lucene's NOT matches rows where the field is missing too; SQL's NOT of a NULL comparison would not."""
        matching = self.rows.filter(pk=OuterRef("pk")).filter(q)
        return ~Q(Exists(matching))

    @staticmethod
    def leaf(field, q: Q) -> Q:
        return field.wrap(q) if isinstance(field, Related) else q

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
            return self.negate(self.visit(node.a, field))
        if isinstance(node, tree.Plus):
            return self.visit(node.a, field)
        if field is None:
            raise LuceneError(f"{str(node).strip()!r} has no field: write it as field:value, e.g. meta.weather:sunny")
        if isinstance(node, tree.Range):
            return self.range(node, field)
        if isinstance(node, tree.Regex):
            return self.regex(field, node.value.strip("/"))
        if isinstance(node, tree.Phrase):
            return self.exact(field, unquoted(node.value), quoted=True)
        if isinstance(node, tree.Word):
            if node.value == "*":
                return self.exists(field)
            if node.has_wildcard():
                return self.regex(field, wildcard_regex(node.value))
            return self.exact(field, node.value, quoted=False)
        raise LuceneError(f"{type(node).__name__.lower()} queries ({str(node).strip()}) are not supported")

    def exists(self, field):
        return self.leaf(field, Q(**{field.lookup("isnull"): False}))

    def regex(self, field, pattern):
        if field.numeric:
            raise LuceneError(f"{field.name} is a number: wildcards and regular expressions do not apply")
        checked_regex(pattern)
        return self.leaf(field, Q(**{field.lookup("regex"): pattern}))

    def exact(self, field, text, *, quoted):
        number = None if quoted else term_number(text)
        if isinstance(field, JsonPath):
            # JSON values are typed: `meta.speed:50` matches 50 and "50", `meta.ok:true` matches true.
            q = Q(**{field.lookup("exact"): text})
            if number is not None:
                q |= Q(**{field.lookup("exact"): number})
            if not quoted and text in ("true", "false"):
                q |= Q(**{field.lookup("exact"): text == "true"})
            return q
        if field.numeric and number is None:
            raise LuceneError(f"{field.name} is a number: {text!r} is not")
        return self.leaf(field, Q(**{field.lookup("exact"): number if field.numeric else text}))

    def range(self, node: tree.Range, field):
        q = Q()
        for bound, include, (inclusive, exclusive) in (
            (node.low, node.include_low, ("gte", "gt")),
            (node.high, node.include_high, ("lte", "lt")),
        ):
            text = unquoted(str(bound.value))
            if text == "*":
                continue
            value = term_number(text)
            if value is None and field.numeric:
                raise LuceneError(f"{field.name} is a number: range bound {text!r} is not")
            q &= Q(**{field.lookup(inclusive if include else exclusive): text if value is None else value})
        return self.leaf(field, q)


def _combine(children, translate, operator):
    result = None
    for child in children:
        q = translate(child)
        result = q if result is None else operator(result, q)
    return result
