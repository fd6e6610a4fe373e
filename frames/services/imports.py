"""Imports: frames from other tools' formats into a draft version, all or nothing.

A reader from frames.importers turns the input into ClearML frame JSON records; every record goes through
parse_frame, the API's validation, and the valid ones are written in chunks by frames_write_stream inside one
transaction. The first problem (a record the reader could not read, or one the validation refused) stops the
writing; reading and validating go on, so the report lists every problem (up to PROBLEM_LIMIT), and then the
transaction rolls back: an import with problems writes nothing. A dry run reads and validates the same way
and writes nothing either. Files a reader generates (masks) are written under the import's own folder only on
a real run, and removed again when it rolls back.
"""
from __future__ import annotations

import gc
import queue
import shutil
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import connections, transaction
from django.db.models import F

from ..exceptions import ServiceError
from ..importers.base import ImportSource, Problem, Record, VersionExtras
from ..importers.formats import FORMATS
from ..models import DatasetVersion
from ..schema import FrameError, parse_frame
from ..selectors.access import ANNOTATOR, require
from ..selectors.meta_schema import meta_checked
from .bulk import prepared_frames
from .frames import frames_write_stream
from .meta_schema import meta_schema_merge
from .validation import check_mask_labels
from .versions import lock_version, refuse_published

IMPORT_CHUNK = 5000
FIRST_CHUNK = 500  # the writer starts once this many are read; chunks then double up to IMPORT_CHUNK
READ_AHEAD = 2  # chunks read and validated ahead of the one being written (memory: a few chunks, any file size)
PROBLEM_LIMIT = 200  # problems kept in the report; `problem_count` counts them all
PROGRESS_EVERY = 10000


@dataclass
class ImportResult:
    format: str
    dry_run: bool
    frames: int = 0  # valid frames read
    added: int = 0
    replaced: int = 0
    problem_count: int = 0
    problems: list[dict] = field(default_factory=list)  # {file, line, column, field, message}
    labels: dict[str, int] = field(default_factory=dict)  # ROIs per label among the valid frames
    notes: list[str] = field(default_factory=list)
    generated_files: int = 0
    seconds: float = 0.0
    extras: VersionExtras | None = field(default=None, repr=False)  # applied once the frames are written

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    def as_dict(self) -> dict:
        report = {**asdict(self), "ok": self.ok}
        report.pop("extras")
        return report


class ImportRefused(ServiceError):
    """The input has problems; nothing was imported. `result` is the full report."""

    def __init__(self, result: ImportResult):
        self.result = result
        first = result.problems[0]
        super().__init__(
            f"{result.problem_count} problem(s), nothing was imported; first: {_problem_field(first)}: {first['message']}",
            errors=[{"field": _problem_field(p), "message": p["message"]} for p in result.problems],
        )


def problem_place(problem: dict) -> str:
    """`file:line:column` of a reported problem, leaving out what is not known."""
    return ":".join(str(p) for p in (problem["file"], problem["line"], problem["column"]) if p)


def _problem_field(problem: dict) -> str:
    return f"{problem_place(problem)} {problem['field']}".strip()


def import_formats() -> list[str]:
    return sorted(FORMATS)


def import_frames(
    *, user, version: DatasetVersion, format: str, source: ImportSource, dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Import `source` (read as `format`) into the draft `version`; ImportRefused (nothing written) when any
    record cannot be read or validated. `progress(frames_read)` is called every PROGRESS_EVERY frames."""
    reader = import_reader(format)
    require(user, version, ANNOTATOR)
    refuse_published(version)
    started = time.perf_counter()
    result = ImportResult(format=format, dry_run=dry_run)
    parse = meta_checked(version, parse_frame)  # the version's typed fields, as the API checks them
    with _cyclic_gc_paused(), _short_thread_turns():
        if dry_run:
            for _chunk in _valid_chunks(reader(source), result, source, progress, parse, write_files=False):
                pass
        else:
            _import(user, version, reader, source, result, progress, parse)
    result.seconds = round(time.perf_counter() - started, 3)
    if not result.ok:
        raise ImportRefused(result)
    return result


@contextmanager
def _cyclic_gc_paused():
    """Python's cycle collector off while importing: a few chunks of frames stay alive (hundreds of thousands of
    objects) and every full collection walks them all (19 of them, a quarter of the CPU, at 100,000 frames),
    while an import leaves almost no cycles to collect (224 objects after 100,000 frames; reference counting
    frees the rest as it goes). On again afterwards, whatever happened."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextmanager
def _short_thread_turns(seconds: float = 0.0002):
    """Python's thread switch interval at 0.2 ms instead of 5 while importing. The writing thread waits for
    PostgreSQL dozens of times a chunk (a COPY sends its data in pieces) and each time must take the GIL back
    from the reading thread, which keeps it for a whole interval: 5 ms a wait cost a quarter of an import's time
    (11,300 frames/s at 5 ms, 14,000 at 0.2 ms, the same from 0.05 to 0.2). The previous interval is restored."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(seconds)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


def import_reader(format: str):
    """The reader of `format`; ServiceError naming the field for an unknown one."""
    if format not in FORMATS:
        raise ServiceError(f"unknown format {format!r}; one of: {', '.join(import_formats())}", field="format")
    return FORMATS[format]


def _import(user, version, reader, source: ImportSource, result: ImportResult, progress, parse) -> None:
    try:
        with transaction.atomic():
            chunks = _read_ahead(_valid_chunks(reader(source), result, source, progress, parse, write_files=True))
            try:
                written = frames_write_stream(user=user, version=version, chunks=chunks)
            finally:
                chunks.close()  # the reading thread stops before anything is rolled back or removed
            if not result.ok:
                raise ImportRefused(result)  # rolls the frames back
            result.added, result.replaced = written.added, written.replaced
            _apply_extras(user, version, result)
    except BaseException:
        _remove_generated(source)
        raise


def _read_ahead(chunks: Iterator[list[dict]], depth: int = READ_AHEAD) -> Iterator[list[dict]]:
    """`chunks`, made by a thread of their own up to `depth` ahead, so that reading and validating the next
    chunk goes on while the database writes this one (the writer mostly waits for PostgreSQL, which frees the
    GIL: about a quarter of an import's time). What the thread raises is raised here, after the chunks it made;
    the thread stops when the writer stops, whatever the reason."""
    handoff: queue.Queue = queue.Queue(maxsize=depth)
    stopped = threading.Event()

    def hand(item) -> bool:
        while not stopped.is_set():
            try:
                handoff.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for chunk in chunks:
                if not hand(("chunk", chunk)):
                    return
            hand(("end", None))
        except BaseException as exc:  # noqa: BLE001 (raised again in the writer's thread)
            hand(("error", exc))
        finally:
            connections.close_all()  # this thread's own, if anything it ran opened one

    thread = threading.Thread(target=produce, name="import-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            kind, value = handoff.get()
            if kind == "error":
                raise value
            if kind == "end":
                return
            yield value
    finally:
        stopped.set()
        thread.join()


def _valid_chunks(items: Iterator, result: ImportResult, source: ImportSource, progress, parse, *, write_files: bool) -> Iterator[list[dict]]:
    """Chunks of parsed frames while no problem has been met; after the first, only validation goes on."""
    chunk: list[dict] = []
    size = min(FIRST_CHUNK, IMPORT_CHUNK)  # small at first: the database starts writing sooner
    labels: Counter = Counter()
    for item in items:
        if isinstance(item, VersionExtras):
            result.notes.extend(item.notes)
            result.extras = item
            continue
        frame = _parse(item, result, parse)
        if frame is None:
            continue
        result.frames += 1
        labels.update(label for roi in frame["rois"] for label in roi.get("labels", []))
        if progress is not None and result.frames % PROGRESS_EVERY == 0:
            progress(result.frames)
        if not result.ok:
            continue
        if write_files:
            _write_generated(item, source, result)
        chunk.append(frame)
        if len(chunk) >= size:
            yield _for_writing(chunk, write_files)
            chunk, size = [], min(size * 2, IMPORT_CHUNK)
    result.labels = dict(labels.most_common())
    if chunk and result.ok:
        yield _for_writing(chunk, write_files)


def _for_writing(chunk: list[dict], real_run: bool) -> list[dict]:
    """A real run's chunk with what its write needs that depends on its frames alone, made here in the reading
    thread while the writer waits for the database (bulk.PreparedFrames)."""
    return prepared_frames(chunk) if real_run else chunk


def _parse(item: Record | Problem, result: ImportResult, parse) -> dict | None:
    if isinstance(item, Problem):
        _add_problem(result, item.as_dict())
        return None
    try:
        return parse(item.frame)
    except FrameError as exc:
        for error in exc.errors:
            _add_problem(result, {"file": item.file, "line": item.line, "column": None, "field": _frame_field(item, error["field"]), "message": error["message"]})
        return None


def _frame_field(record: Record, field_name: str) -> str:
    frame_id = record.frame.get("id") if isinstance(record.frame, dict) else None
    prefix = f"frame {frame_id!r}" if frame_id not in (None, "") else "frame"
    return f"{prefix}.{field_name}" if field_name else prefix


def _add_problem(result: ImportResult, problem: dict) -> None:
    result.problem_count += 1
    if len(result.problems) < PROBLEM_LIMIT:
        result.problems.append(problem)


def _write_generated(record: Record, source: ImportSource, result: ImportResult) -> None:
    for generated in record.files:
        path = Path(source.output_uri(generated.name))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(generated.render())
        result.generated_files += 1


def _remove_generated(source: ImportSource) -> None:
    if source.output_dir is not None and source.output_dir.exists():
        shutil.rmtree(source.output_dir, ignore_errors=True)


def _apply_extras(user, version: DatasetVersion, result: ImportResult) -> None:
    """Version-level data from the reader: metadata merged key by key, the mask-label map, typed fields."""
    extras = result.extras
    if extras is None:
        return
    if extras.meta_schema:
        meta_schema_merge(user=user, version=version, fields=extras.meta_schema)
    if not (extras.metadata or extras.mask_labels):
        return
    locked = lock_version(version)
    metadata = {**(locked.metadata or {}), **extras.metadata}
    if extras.mask_labels:
        check_mask_labels(extras.mask_labels)
        metadata["mask_labels"] = {**(metadata.get("mask_labels") or {}), **extras.mask_labels}
    DatasetVersion.objects.filter(pk=locked.pk).update(metadata=metadata, revision=F("revision") + 1)


def import_output_dir(key: str) -> Path:
    """A new import's own folder for the files it generates (inside HYPERDATA_MEDIA_ROOTS)."""
    return Path(settings.HYPERDATA_IMPORTS_DIR) / "generated" / key
