"""Request body parsers that refuse a body over its limit (frames.limits) with 413 before reading it.

DRF reads the request stream itself, so Django's DATA_UPLOAD_MAX_MEMORY_SIZE never sees a JSON body: the limit is
checked here, on the declared length, and no more than the limit is ever read. JSON and form bodies get
HYPERDATA_MAX_BODY_BYTES; multipart uploads (media and import files) their own, larger HYPERDATA_MAX_UPLOAD_BYTES.
"""
from __future__ import annotations

import io
import re

from rest_framework import parsers

from .. import limits
from ..exceptions import ServiceError, TooLarge

# Escapes that may decode to text the database cannot store (frames.limits.unstorable_text): only a body that
# has one is walked, so ordinary bodies cost nothing more.
SUSPECT_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")


def _declared_length(parser_context) -> int:
    request = (parser_context or {}).get("request")
    meta = getattr(request, "META", {}) if request is not None else {}
    try:
        return int(meta.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _refuse_over(limit: int, size: int) -> None:
    if size > limit:
        raise TooLarge(f"the request body is {size} bytes; at most {limit} are accepted", field="body")


def _read_within(stream, limit: int) -> io.BytesIO:
    """The body, read up to the limit: a stream longer than its declared length is refused as well."""
    data = stream.read(limit + 1) if stream is not None else b""
    _refuse_over(limit, len(data))
    return io.BytesIO(data)


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        _refuse_over(limits.body_bytes(), _declared_length(parser_context))
        body = _read_within(stream, limits.body_bytes())
        data = super().parse(body, media_type, parser_context)
        if SUSPECT_ESCAPE.search(body.getbuffer()):
            unstorable = limits.unstorable_text(data)
            if unstorable:
                path = unstorable[0]
                raise ServiceError(unstorable[1], field=f"body{'' if path.startswith('[') or not path else '.'}{path}")
        return data


def _refuse_unstorable_fields(data) -> None:
    """A form's fields: the same refusal as a JSON body's text (frames.limits.unstorable_text)."""
    for name, values in data.lists():
        unstorable = limits.unstorable_text({name: values})
        if unstorable:
            raise ServiceError(unstorable[1], field=name if "\x00" not in name else "body")


class FormParser(parsers.FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        _refuse_over(limits.body_bytes(), _declared_length(parser_context))
        data = super().parse(_read_within(stream, limits.body_bytes()), media_type, parser_context)
        _refuse_unstorable_fields(data)
        return data


class MultiPartParser(parsers.MultiPartParser):
    """Django's multipart parser spools files to disk as it reads; only the declared length is checked."""

    def parse(self, stream, media_type=None, parser_context=None):
        _refuse_over(limits.upload_bytes(), _declared_length(parser_context))
        parsed = super().parse(stream, media_type, parser_context)
        _refuse_unstorable_fields(parsed.data)
        return parsed

