"""The stored form of frames.columnar's columns: one .npz file's bytes, no pickles (the header is JSON)."""
from __future__ import annotations

import io
import json

import numpy as np

from .columnar import Columns, MetaColumn, MetaTable

FORMAT = 6  # a copy in another format is not read (selectors.columns counts instead, as without one)

_ARRAYS = ("pks", "annotated", "row_frame", "row_roi", "row_label", "row_confidence", "row_frame_label", "row_first", "roi_frame",
           "roi_position", "roi_meta_frame", "source_frame")
_TABLES = ("meta", "fields", "sources", "roi_meta")


def to_bytes(columns: Columns) -> bytes:
    """The columns as one .npz file's bytes (no pickles: the header is JSON)."""
    arrays = {name: getattr(columns, name) for name in _ARRAYS}
    header = {"format": FORMAT, "frames": columns.frames, "labels": columns.labels,
              **{name: _table_stored(getattr(columns, name), name, arrays) for name in _TABLES}}
    out = io.BytesIO()
    np.savez(out, header=np.frombuffer(json.dumps(header).encode(), dtype=np.uint8), **arrays)
    return out.getvalue()


def _table_stored(table: MetaTable, name: str, arrays: dict) -> dict:
    """A MetaTable's header; its columns' arrays go into `arrays`."""
    for number, column in enumerate(table.paths.values()):
        arrays[f"{name}_kinds_{number}"], arrays[f"{name}_values_{number}"] = column.kinds, column.values
    return {"size": table.size, "complete": table.complete, "dropped": table.dropped,
            "paths": [{"path": path, "strings": column.strings, "exact": column.exact,
                       "number_texts": None if column.number_texts is None else list(column.number_texts.items())}
                      for path, column in table.paths.items()]}


def from_bytes(data: bytes) -> Columns | None:
    """The columns, or None when they were stored in another format."""
    stored = np.load(io.BytesIO(data), allow_pickle=False)
    header = json.loads(stored["header"].tobytes())
    if header.get("format") != FORMAT:
        return None
    tables = {name: MetaTable(header[name]["size"], {
        entry["path"]: MetaColumn(stored[f"{name}_kinds_{n}"], stored[f"{name}_values_{n}"], entry["strings"], entry["exact"],
                                  None if entry["number_texts"] is None else dict(entry["number_texts"]))
        for n, entry in enumerate(header[name]["paths"])}, header[name]["complete"], header[name]["dropped"]) for name in _TABLES}
    return Columns(frames=header["frames"], labels=header["labels"], **tables, **{name: stored[name] for name in _ARRAYS})
