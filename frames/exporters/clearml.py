"""ClearML frame JSON out: a JSON array (one frame per line between `[` and `]`) or JSON lines; either streams
one keyset page at a time, so memory stays constant whatever the version's size. Both read back through
frames.importers.clearml."""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator


def _compact(frame: dict) -> str:
    return json.dumps(frame, separators=(",", ":"), ensure_ascii=False)


def json_array_chunks(pages: Iterable[list], to_dict: Callable[[object], dict]) -> Iterator[str]:
    """`[`, the frames (each `to_dict(row)`), `]`: one chunk per page."""
    yield "["
    written = False
    for page in pages:
        if not page:
            continue
        body = ",\n".join(_compact(to_dict(row)) for row in page)
        yield ("," if written else "") + "\n" + body
        written = True
    yield "\n]\n"


def json_lines_chunks(pages: Iterable[list], to_dict: Callable[[object], dict]) -> Iterator[str]:
    """One frame per line: one chunk per page."""
    for page in pages:
        if page:
            yield "".join(_compact(to_dict(row)) + "\n" for row in page)


CHUNKERS = {"clearml": json_array_chunks, "jsonl": json_lines_chunks}
