"""What every importer yields, and the input it reads.

An importer is a pure reader: given an `ImportSource` it yields `Record`s (one frame each, in ClearML frame
JSON exactly as the REST API takes it), `Problem`s (what it could not read, with the file, line and field) and
at most one `VersionExtras` (version-level data such as COCO's `info`). It touches no database and writes no
file: the import service validates every record through the same code as the API and writes all or nothing.
"""
from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import quote


@dataclass(frozen=True)
class Problem:
    """Something the importer could not read: where (file, 1-based line and column when known) and why."""

    file: str
    field: str
    message: str
    line: int | None = None
    column: int | None = None

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class GeneratedFile:
    """A file an importer makes (a COCO RLE drawn as a PNG mask): written under the source's `output_dir` as
    `name` by the import service, on a real run only, before the frames that point at it are committed."""

    name: str
    render: Callable[[], bytes]


@dataclass
class Record:
    """One frame (ClearML frame JSON), where it was read from so a validation error can point there, and the
    files it refers to that the importer generates (URIs from `ImportSource.output_uri`)."""

    frame: dict
    file: str
    line: int | None = None
    files: list[GeneratedFile] = field(default_factory=list)


@dataclass
class VersionExtras:
    """Version-level data: `metadata` merged into the version's metadata (COCO `info` and `licenses`),
    `mask_labels` ({value: [labels]}) and `meta_schema` (typed custom metadata fields)."""

    metadata: dict = field(default_factory=dict)
    mask_labels: dict | None = None
    meta_schema: list | None = None
    notes: list[str] = field(default_factory=list)  # what a lenient reader fixed, for the summary


@dataclass
class ImportSource:
    """The input: `path`, a local file or folder (an upload, or a folder inside HYPERDATA_MEDIA_ROOTS);
    `media_root`, the folder or cloud prefix (s3://, gs://, az://, https://) that relative media names in it
    resolve against, by default the input's own folder; `options`, the format's own switches."""

    path: Path
    media_root: str = ""
    options: dict = field(default_factory=dict)
    output_dir: Path | None = None  # where generated files go (inside HYPERDATA_MEDIA_ROOTS); set by the service

    def option(self, name: str, default=None):
        return self.options.get(name, default)

    def resolve(self, name: str) -> str:
        """The source URI of a media file named `name` in the input (absolute URIs are kept)."""
        if "://" in name or name.startswith("/"):
            return name
        root = self.media_root or str(self.path.parent if self.path.is_file() else self.path)
        if "://" in root:
            return root.rstrip("/") + "/" + quote(name.lstrip("/"), safe="/")
        return posixpath.normpath(posixpath.join(root, name))

    def output_uri(self, name: str) -> str:
        """The URI a generated file named `name` will have once the import service has written it."""
        if self.output_dir is None:
            raise ValueError("this import has no output folder for generated files")
        return str(self.output_dir / name)


Item = Record | Problem | VersionExtras
Reader = Callable[[ImportSource], Iterator[Item]]
