"""Where a COCO import keeps the images and annotations it has read until the whole file is read: a temporary
SQLite database (stdlib sqlite3) beside nothing else, removed when the import ends. COCO files list images and
annotations in any order (annotations may come first, categories last), so nothing can be checked or grouped
before the end of the file; held in Python, 100,000 images with two annotations each took 538 MiB. Here memory
holds SQLite's page cache (CACHE_KIB) and one image's annotations at a time; the disk holds about the file's size.

Values are stored with `marshal` (they are what `json` gives: dicts, lists, strings, numbers; marshal keeps
them exactly, and reads them back faster than JSON). An annotation's ids are stored beside it as keys (`key`)
so the checks that need every image (does its image exist? is its id taken?) are joins and lookups in SQLite.
"""
from __future__ import annotations

import marshal
import sqlite3
import tempfile
from collections.abc import Iterator
from itertools import groupby
from operator import itemgetter
from pathlib import Path

from .coco_panoptic import is_panoptic

CACHE_KIB = 16 * 1024
BATCH = 5000  # elements written per executemany
_SCHEMA = """
CREATE TABLE images (position INTEGER PRIMARY KEY, line INTEGER, col INTEGER, data BLOB);
CREATE TABLE annotations (
    position INTEGER PRIMARY KEY, line INTEGER, col INTEGER, data BLOB,
    is_object INTEGER, panoptic INTEGER, image_key TEXT, category_key TEXT, id_key TEXT, id_bad INTEGER
);
CREATE TABLE image_ids (key TEXT PRIMARY KEY, position INTEGER UNIQUE) WITHOUT ROWID;
CREATE TABLE annotation_ids (key TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE accepted (image_position INTEGER, position INTEGER, PRIMARY KEY (image_position, position)) WITHOUT ROWID;
"""


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
        self._accepted: list[tuple[int, int]] = []

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *exc) -> None:
        self.db.close()
        self._folder.cleanup()

    # -- while the file is read ---------------------------------------------------------------------------

    def add(self, list_key: str, index: int, value, line: int, column: int) -> None:
        row = (index, line, column, marshal.dumps(value))
        if list_key == "annotations":
            row += _annotation_keys(value)
        pending = self._pending[list_key]
        pending.append(row)
        if len(pending) >= BATCH:
            self._flush(list_key)

    def reset(self, list_key: str) -> None:
        """Forget what `list_key` held (the key is given again: its later value counts)."""
        self._pending[list_key].clear()
        self.db.execute(f"DELETE FROM {list_key}")  # noqa: S608 (one of two table names)

    def finish(self) -> None:
        for list_key in self._pending:
            self._flush(list_key)

    def _flush(self, list_key: str) -> None:
        rows, self._pending[list_key] = self._pending[list_key], []
        marks = ", ".join("?" * (4 if list_key == "images" else 10))
        self.db.executemany(f"INSERT INTO {list_key} VALUES ({marks})", rows)  # noqa: S608

    # -- checks, once the file is read ---------------------------------------------------------------------

    def images(self) -> Iterator[tuple[int, int, int, object]]:
        """(index, line, column, image) in the file's order."""
        for position, line, column, data in self.db.execute("SELECT position, line, col, data FROM images ORDER BY position"):
            yield position, line, column, marshal.loads(data)

    def image_id_taken(self, id_key: str) -> bool:
        return self.db.execute("SELECT 1 FROM image_ids WHERE key = ?", (id_key,)).fetchone() is not None

    def accept_image(self, id_key: str, position: int) -> bool:
        """False, accepting nothing, when an image with this id was accepted before."""
        return self.db.execute("INSERT OR IGNORE INTO image_ids VALUES (?, ?)", (id_key, position)).rowcount == 1

    def annotation_checks(self) -> Iterator[tuple]:
        """(index, line, column, is_object, panoptic, image index or None when not an accepted image,
        category_key, id_key, id_bad, id_shared) of each annotation, in the file's order. `id_shared`: other
        annotations have the same id (only those need claim_annotation_id, one lookup each)."""
        return self.db.execute(
            "SELECT a.position, a.line, a.col, a.is_object, a.panoptic, i.position, a.category_key, a.id_key, a.id_bad,"
            " a.id_key IN (SELECT id_key FROM annotations WHERE id_key IS NOT NULL GROUP BY id_key HAVING count(*) > 1)"
            " FROM annotations a LEFT JOIN image_ids i ON i.key = a.image_key ORDER BY a.position"
        )

    def annotation(self, index: int):
        return marshal.loads(self.db.execute("SELECT data FROM annotations WHERE position = ?", (index,)).fetchone()[0])

    def claim_annotation_id(self, id_key: str) -> bool:
        """True the first time `id_key` is claimed."""
        return self.db.execute("INSERT OR IGNORE INTO annotation_ids VALUES (?)", (id_key,)).rowcount == 1

    def accept_annotation(self, image_position: int, position: int) -> None:
        self._accepted.append((image_position, position))
        if len(self._accepted) >= BATCH:
            self._flush_accepted()

    def _flush_accepted(self) -> None:
        self.db.executemany("INSERT INTO accepted VALUES (?, ?)", self._accepted)
        self._accepted = []

    # -- frames --------------------------------------------------------------------------------------------

    def frames(self) -> Iterator[tuple[int, object, list[tuple[int, int, int, dict]]]]:
        """(line, image, [(index, line, column, annotation), ...]) for each accepted image in the file's order,
        with its accepted annotations in the file's order."""
        self._flush_accepted()
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
