"""The stored forms of frames.columnar's columns, no pickles (the header is JSON):
- one .npz file's bytes, kept in the database (VersionColumns), so that every host reads the same copy;
- a directory of .npy files that a host keeps on its disk and maps into memory: a process opens a million frames'
  columns in tens of ms instead of fetching and parsing 190 MB (about 1 s), and the processes of a host share
  one copy in the page cache instead of holding one each."""
from __future__ import annotations

import io
import json
import os
import shutil
import uuid
from pathlib import Path

import numpy as np

from .columnar import Columns, MetaColumn, MetaTable

FORMAT = 6  # a copy in another format is not read (selectors.columns counts instead, as without one)

_ARRAYS = ("pks", "annotated", "row_frame", "row_roi", "row_label", "row_confidence", "row_frame_label", "row_first", "roi_frame",
           "roi_position", "roi_meta_frame", "source_frame")
_TABLES = ("meta", "fields", "sources", "roi_meta")
_DERIVED = ("roi_confidence", "labelled_roi_positions", "row_tally")  # Columns' cached properties, kept in a directory too


def to_bytes(columns: Columns) -> bytes:
    """The columns as one .npz file's bytes."""
    header, arrays = _parts(columns)
    out = io.BytesIO()
    np.savez(out, header=np.frombuffer(json.dumps(header).encode(), dtype=np.uint8), **arrays)
    return out.getvalue()


def from_bytes(data: bytes) -> Columns | None:
    """The columns, or None when they were stored in another format."""
    stored = np.load(io.BytesIO(data), allow_pickle=False)
    return _columns(json.loads(stored["header"].tobytes()), stored)


def to_directory(columns: Columns, path: Path) -> None:
    """The columns as a directory of .npy files (with what questions derive from them), written under another
    name and renamed into place: a reader finds all of it or nothing."""
    header, arrays = _parts(columns)
    arrays.update({name: getattr(columns, name) for name in _DERIVED})
    part = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    part.mkdir(parents=True)
    try:
        for name, array in arrays.items():
            np.save(part / f"{name}.npy", array, allow_pickle=False)
        (part / "header.json").write_text(json.dumps(header))
        os.rename(part, path)
    except OSError:
        shutil.rmtree(part, ignore_errors=True)
        if not path.is_dir():  # (another process renamed its copy into place first: it is the same)
            raise


def from_directory(path: Path) -> Columns | None:
    """The columns of a directory, mapped from its files (read-only), or None when in another format."""
    header = json.loads((path / "header.json").read_text())
    stored = {file.stem: np.load(file, mmap_mode="r", allow_pickle=False) for file in path.glob("*.npy")}
    columns = _columns(header, stored)
    if columns is not None:
        columns.__dict__.update({name: stored[name] for name in _DERIVED})  # the cached properties' values
    return columns


def _parts(columns: Columns) -> tuple[dict, dict]:
    """The header (JSON) and the arrays by name."""
    arrays = {name: getattr(columns, name) for name in _ARRAYS}
    header = {"format": FORMAT, "frames": columns.frames, "labels": columns.labels,
              **{name: _table_stored(getattr(columns, name), name, arrays) for name in _TABLES}}
    return header, arrays


def _table_stored(table: MetaTable, name: str, arrays: dict) -> dict:
    """A MetaTable's header; its columns' arrays go into `arrays`."""
    for number, column in enumerate(table.paths.values()):
        arrays[f"{name}_kinds_{number}"], arrays[f"{name}_values_{number}"] = column.kinds, column.values
    return {"size": table.size, "complete": table.complete, "dropped": table.dropped,
            "paths": [{"path": path, "strings": column.strings, "exact": column.exact,
                       "number_texts": None if column.number_texts is None else list(column.number_texts.items())}
                      for path, column in table.paths.items()]}


def _columns(header: dict, stored) -> Columns | None:
    if header.get("format") != FORMAT:
        return None
    tables = {name: MetaTable(header[name]["size"], {
        entry["path"]: MetaColumn(stored[f"{name}_kinds_{n}"], stored[f"{name}_values_{n}"], entry["strings"], entry["exact"],
                                  None if entry["number_texts"] is None else dict(entry["number_texts"]))
        for n, entry in enumerate(header[name]["paths"])}, header[name]["complete"], header[name]["dropped"]) for name in _TABLES}
    return Columns(frames=header["frames"], labels=header["labels"], **tables, **{name: stored[name] for name in _ARRAYS})
