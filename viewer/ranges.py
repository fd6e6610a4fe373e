"""HTTP byte ranges (RFC 9110 section 14) for the media proxy: a video player asks for the part of the file it
needs to seek to a frame, not for the whole file."""
from __future__ import annotations

import re

SINGLE_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class Unsatisfiable(ValueError):
    """The range lies outside the file (answered 416 with the file's size)."""


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The first and last byte (inclusive) a `Range` header asks of a file of `size` bytes; None when the whole
    file should be sent (no header, one we do not serve such as several ranges, or one we cannot read)."""
    if not header:
        return None
    match = SINGLE_RANGE.match(header.strip())
    if not match or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first == "":  # "bytes=-500": the last 500 bytes
        length = int(last)
        if length == 0:
            raise Unsatisfiable(header)
        return max(0, size - length), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        raise Unsatisfiable(header)
    return start, end
