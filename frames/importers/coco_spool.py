"""Where a COCO import keeps the images and annotations it has read until the whole file is read: a temporary
SQLite database (stdlib sqlite3), removed when the import ends. COCO files list images and annotations in any
order (annotations may come first, categories last), so nothing can be checked or grouped before the end of the
file; held in Python, 100,000 images with two annotations each took 538 MiB. Here memory holds SQLite's page
cache (CACHE_KIB) and one image's annotations at a time; the disk holds about the file's size.

Values are stored with `marshal` (they are what `json` gives: dicts, lists, strings, numbers; marshal keeps
them exactly, and reads them back faster than JSON). Beside each element, the facts its checks need (its ids as
`key`s, whether it is well formed) are columns, so the checks that need every element (is an id taken? does the
image exist?) are a few set-wise statements in SQLite, and only the elements with a problem come back to Python.
"""
from __future__ import annotations

import marshal
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator
from itertools import groupby
from operator import itemgetter
from pathlib import Path

from .coco_panoptic import is_panoptic

CACHE_KIB = 16 * 1024
BATCH = 5000  # elements written per executemany
_SCHEMA = """
CREATE TABLE images (position INTEGER PRIMARY KEY, line INTEGER, col INTEGER, data BLOB, id_key TEXT, size_ok INTEGER);
CREATE TABLE annotations (
    position INTEGER PRIMARY KEY, line INTEGER, col INTEGER, data BLOB,
    is_object INTEGER, panoptic INTEGER, image_key TEXT, category_key TEXT, id_key TEXT, id_bad INTEGER
);
CREATE TABLE image_ids (key TEXT PRIMARY KEY, position INTEGER UNIQUE) WITHOUT ROWID;
CREATE TABLE category_keys (key TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE accepted (position INTEGER PRIMARY KEY, image_position INTEGER);
"""
_COLUMNS = {"images": 6, "annotations": 10}


def is_id(value) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool)) or (isinstance(value, str) and value != "")


def key(value) -> str | None:
    """An id as a text that tells 1 from "1" (as a dict of ids does); None when it is not an id (is_id)."""
    kind = type(value)  # JSON's values: int is never a subclass but bool
    if kind is int:
        return f"i{value}"
    if kind is str and value:
        return f"s{value}"
    return None


class Spool:
    """The images and annotations of one COCO file, on disk. Use as a context manager."""

    def __init__(self):
        self._folder = tempfile.TemporaryDirectory(prefix="hyperdata-coco-")
        # The reader may run in the import's read-ahead thread and be closed from another.
        self.db = sqlite3.connect(Path(self._folder.name) / "spool.sqlite3", isolation_level=None, check_same_thread=False)
        for pragma in ("journal_mode = OFF", "synchronous = OFF", "temp_store = FILE", f"cache_size = -{CACHE_KIB}"):
            self.db.execute(f"PRAGMA {pragma}")
        self.db.executescript(_SCHEMA)
        self.db.execute("BEGIN")  # one transaction, never committed: the file is thrown away
        self._pending: dict[str, list[tuple]] = {"images": [], "annotations": []}

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *exc) -> None:
        self.db.close()
        self._folder.cleanup()

    # -- while the file is read ---------------------------------------------------------------------------

    def add_image(self, index: int, image, line: int, column: int, *, id_key: str | None, size_ok: bool) -> None:
        """An image as read; `id_key` None when it has no id or no file name (it is refused whatever else),
        `size_ok` whether its width and height can be used."""
        self._add("images", (index, line, column, marshal.dumps(image), id_key, size_ok))

    def add_annotation(self, index: int, annotation, line: int, column: int) -> None:
        self._add("annotations", (index, line, column, marshal.dumps(annotation), *_annotation_keys(annotation)))

    def _add(self, list_key: str, row: tuple) -> None:
        pending = self._pending[list_key]
        pending.append(row)
        if len(pending) >= BATCH:
            self._flush(list_key)

    def reset(self, list_key: str) -> None:
        """Forget what `list_key` held (the key is given again: its later value counts)."""
        self._pending[list_key].clear()
        self.db.execute(f"DELETE FROM {list_key}")  # noqa: S608 (one of two table names)

    def _flush(self, list_key: str) -> None:
        rows, self._pending[list_key] = self._pending[list_key], []
        marks = ", ".join("?" * _COLUMNS[list_key])
        self.db.executemany(f"INSERT INTO {list_key} VALUES ({marks})", rows)  # noqa: S608

    # -- checks, once the file is read ---------------------------------------------------------------------

    def check_images(self) -> Iterator[tuple[int, int, int, object, bool]]:
        """Accept the first image of each id among those with an id, a file name and a usable size; yield
        (index, line, column, image, id taken) for each other, in the file's order. `id taken`: an image
        with its id was accepted before it."""
        self._flush("images")
        self.db.execute("INSERT INTO image_ids SELECT id_key, min(position) FROM images WHERE id_key IS NOT NULL AND size_ok GROUP BY id_key")
        refused = self.db.execute(
            "SELECT i.position, i.line, i.col, i.data, k.position < i.position FROM images i LEFT JOIN image_ids k ON k.key = i.id_key"
            " WHERE i.id_key IS NULL OR NOT i.size_ok OR k.position < i.position ORDER BY i.position"
        )
        for position, line, column, data, taken in refused:
            yield position, line, column, marshal.loads(data), bool(taken)

    def check_annotations(self, category_keys: Iterable[str]) -> Iterator[tuple]:
        """Accept each annotation that is an object, of an accepted image, of one of `category_keys` (or
        panoptic), with a usable id not taken by an accepted annotation before it; yield (index, line, column,
        annotation, is_object, image accepted, category known, id_bad) for each other, in the file's order
        (one that passes every check but the last has its id taken)."""
        self._flush("annotations")
        self.db.executemany("INSERT INTO category_keys VALUES (?)", [(k,) for k in set(category_keys)])
        self.db.execute(
            "INSERT INTO accepted SELECT position, image_position FROM ("
            "  SELECT a.position, k.position AS image_position, a.id_key,"
            "         row_number() OVER (PARTITION BY a.id_key ORDER BY a.position) AS nth"
            "  FROM annotations a JOIN image_ids k ON k.key = a.image_key"
            "  WHERE a.is_object AND NOT a.id_bad AND (a.panoptic OR a.category_key IN (SELECT key FROM category_keys))"
            ") WHERE id_key IS NULL OR nth = 1"
        )
        self.db.execute("CREATE INDEX accepted_by_image ON accepted (image_position, position)")
        refused = self.db.execute(
            "SELECT a.position, a.line, a.col, a.data, a.is_object, k.key IS NOT NULL,"
            " a.panoptic OR a.category_key IN (SELECT key FROM category_keys), a.id_bad"
            " FROM annotations a LEFT JOIN image_ids k ON k.key = a.image_key"
            " WHERE NOT EXISTS (SELECT 1 FROM accepted x WHERE x.position = a.position) ORDER BY a.position"
        )
        for position, line, column, data, is_object, image_known, category_known, id_bad in refused:
            yield position, line, column, marshal.loads(data), bool(is_object), bool(image_known), bool(category_known), bool(id_bad)

    # -- frames --------------------------------------------------------------------------------------------

    def frames(self) -> Iterator[tuple[int, object, list[tuple[int, int, int, dict]]]]:
        """(line, image, [(index, line, column, annotation), ...]) for each accepted image in the file's order,
        with its accepted annotations in the file's order."""
        rows = self.db.execute(
            "SELECT i.position, i.line, i.data, a.position, a.line, a.col, a.data FROM image_ids k"
            " JOIN images i ON i.position = k.position"
            " LEFT JOIN accepted x ON x.image_position = k.position"
            " LEFT JOIN annotations a ON a.position = x.position"
            " ORDER BY k.position, x.position"
        )
        for _position, group in groupby(rows, key=itemgetter(0)):
            first = next(group)
            annotations = [(row[3], row[4], row[5], marshal.loads(row[6])) for row in (first, *group) if row[3] is not None]
            yield first[1], marshal.loads(first[2]), annotations


def _annotation_keys(annotation) -> tuple:
    """(is_object, panoptic, image_key, category_key, id_key, id_bad) of an annotation as read."""
    if not isinstance(annotation, dict):
        return 0, 0, None, None, None, 0
    get = annotation.get
    id_key = key(get("id"))
    return 1, int(is_panoptic(annotation)), key(get("image_id")), key(get("category_id")), id_key, int(id_key is None and get("id") is not None)
