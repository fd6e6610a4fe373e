"""Bulk inserts of frame revisions and their index rows.

PostgreSQL gets COPY in its text format, written here rather than by psycopg's per-value adapters (a third of
an import's writing thread), with ids taken from the table's sequence up front so index rows can point at their
revision and JSON columns serialised by orjson (5-10x faster than json). A frame's own part of those rows
(FrameCopyText) does not depend on the write, so an import makes it in its reading thread, which waits for the
writer most of the time, and the writer only adds ids. Other databases get Django's bulk_create. Both write
the same rows.
"""
import json
import re
from dataclasses import dataclass, fields
from itertools import repeat
from typing import NamedTuple

import orjson
from django.db import connection
from django.db.models import Max, Min
from django.utils import timezone

from ..models import FrameRevision, FrameSource, MediaPreview, RoiLabel
from ..schema import is_frame_label
from ..selectors.previews import PreviewRequest, frame_requests

# The frame's own columns come last, as FrameCopyText.frame holds them; the write's (id to deleted) first.
REVISION_COLUMNS = [
    "id", "saved", "dataset_id", "version_id", "version_seq", "deleted", "hides",
    "frame_id", "context_id", "timestamp", "num_frames", "meta", "sources", "rois",
]
ROI_LABEL_COLUMNS = ["revision_id", "roi_index", "label", "confidence", "is_frame_label"]
SOURCE_COLUMNS = ["revision_id", "source_id", "uri", "content_type", "width", "height", "timestamp", "meta"]


@dataclass(slots=True)
class NewRevision:
    """A revision about to be inserted, without a model instance's cost (~25 us each, a fifth of an import)."""

    dataset_id: str
    version_id: str
    version_seq: int
    frame_id: str
    context_id: str | None
    timestamp: int
    num_frames: int | None
    meta: dict
    sources: list
    rois: list
    saved: int
    deleted: bool = False
    hides: int | None = None
    pk: int | None = None


@dataclass(slots=True)
class FrameCopyText:
    """A frame's part of its rows in COPY text: its revision's columns from frame_id on, and each ROI-label
    and source row after revision_id, every one ending in a newline."""

    frame: str
    labels: list[str]
    sources: list[str]


class PreparedFrames(list):
    """Parsed frames together with what their write needs that depends on them alone, made ahead of the write
    (by an import's reading thread): their FrameCopyText, their label_signature and the renditions they need
    ({key: PreviewRequest}). A write given a plain list makes these itself."""

    def __init__(self, frames: list[dict]):
        super().__init__(frames)
        self.copy_text, self.label_signatures = [], []
        for f in frames:
            label_rows = list(roi_label_rows(f["rois"]))
            self.copy_text.append(dict_copy_text(f, label_rows))
            self.label_signatures.append(label_signature(label_rows))
        self.preview_requests = frames_preview_requests(frames)


def frames_preview_requests(frames: list[dict]) -> dict[str, PreviewRequest]:
    """The renditions these frames' sources and masks need, by key."""
    if isinstance(frames, PreparedFrames):
        return frames.preview_requests
    return {r.key: r for frame in frames for r in frame_requests(frame)}


def prepared_frames(frames: list[dict]) -> list[dict]:
    """`frames` as PreparedFrames when the database takes COPY, else as they are."""
    return PreparedFrames(frames) if connection.vendor == "postgresql" else frames


def copy_text_of(frames: list[dict]) -> list[FrameCopyText] | None:
    return frames.copy_text if isinstance(frames, PreparedFrames) else None


def label_signatures_of(frames: list[dict]) -> list[tuple] | None:
    return frames.label_signatures if isinstance(frames, PreparedFrames) else None


def label_signature(label_rows: list[tuple]) -> tuple:
    """A frame's part of the label statistics from its roi_label_rows: ((label, ROIs, frame labels), ...) by
    label (an ROI without poly, shape or mask labels the frame)."""
    counts: dict[str, list[int]] = {}
    for _, label, _, frame_label in label_rows:
        counts.setdefault(label, [0, 0])[frame_label] += 1
    return tuple(sorted((label, rois, frame_labels) for label, (rois, frame_labels) in counts.items()))


def frame_copy_text(frame_id, context_id, timestamp, num_frames, meta, sources, rois, label_rows=None) -> FrameCopyText:
    """`label_rows`: the ROIs' roi_label_rows when the caller has them."""
    return FrameCopyText(
        f"{copy_field(frame_id)}\t{copy_field(context_id)}\t{copy_field(timestamp)}\t{copy_field(num_frames)}\t"
        f"{json_copy_field(meta)}\t{json_copy_field(sources)}\t{json_copy_field(rois)}\n",
        *index_copy_lines(rois, sources, label_rows),
    )


def dict_copy_text(frame: dict, label_rows=None) -> FrameCopyText:
    """frame_copy_text of a parsed frame."""
    f = frame
    return frame_copy_text(f["id"], f["context_id"], f["timestamp"], f["num_frames"], f["meta"], f["sources"], f["rois"], label_rows)


def revision_copy_text(revision: FrameRevision | NewRevision) -> FrameCopyText:
    r = revision
    return frame_copy_text(r.frame_id, r.context_id, r.timestamp, r.num_frames, r.meta, r.sources, r.rois)


def index_copy_lines(rois: list[dict], sources: list[dict], label_rows=None) -> tuple[list[str], list[str]]:
    """A frame's ROI-label and source rows in COPY text, after revision_id."""
    labels = [f"{index}\t{copy_field(label)}\t{copy_field(confidence)}\t{copy_field(frame_label)}\n"
              for index, label, confidence, frame_label in (roi_label_rows(rois) if label_rows is None else label_rows)]
    source_lines = ["\t".join([*map(copy_field, row[:-1]), json_copy_field(row[-1]) if row[-1] else "{}"]) + "\n"
                    for row in source_rows(sources)]
    return labels, source_lines


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\b": "\\b", "\v": "\\v", "\f": "\\f"})
_NEEDS_ESCAPE = re.compile(r"[\\\t\n\r\b\v\f]")


def copy_field(value) -> str:
    """`value` as one field of COPY's text format (as psycopg writes it: NULL, booleans, escapes)."""
    if value is None:
        return r"\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    text = value if isinstance(value, str) else str(value)
    if text.isprintable() and "\\" not in text:  # the usual case, twice as fast as the search below
        return text
    return text.translate(_COPY_ESCAPES) if _NEEDS_ESCAPE.search(text) else text


def json_copy_field(value) -> str:
    """`value` as JSON text in one COPY field: JSON text escapes every control character itself, so only its
    backslashes need doubling."""
    return json_text(value).replace("\\", "\\\\")


def insert_revisions(revisions: list[FrameRevision | NewRevision], texts: list[FrameCopyText] | None = None) -> None:
    """Insert new revisions (setting their pk) together with their ROI-label and source rows; `texts`, their
    COPY text when it was made ahead."""
    if not revisions:
        return
    if connection.vendor != "postgresql":
        _create_revisions(revisions)
        return
    texts = texts or [revision_copy_text(r) for r in revisions]
    heads = (_revision_head(r.saved, r.dataset_id, r.version_id, r.version_seq, r.deleted, r.hides) for r in revisions)
    for revision, pk in zip(revisions, _copy_new_revisions(heads, texts)):
        revision.pk = pk


def references_checked_per_statement() -> None:
    """For the rest of the transaction, the frame table's foreign key (its version) is checked as each statement
    ends instead of all at its commit. The checks cost the same (one lookup a row, 3 us), but a long import's are
    then made chunk by chunk while its reading thread prepares the next chunk, not in one wait at the end (0.8 s
    per 100,000 frames). Only PostgreSQL (Django's keys are deferrable)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f'", [FrameRevision._meta.db_table])
        names = [connection.ops.quote_name(name) for (name,) in cursor.fetchall()]
        if names:
            cursor.execute(f"SET CONSTRAINTS {', '.join(names)} IMMEDIATE")


def insert_frames(*, version, saved: int, frames: list[dict]) -> None:
    """Insert frames the version does not show yet as its own revisions saved at `saved`, with their index rows
    (the COPY text the frames came with, if any)."""
    if connection.vendor != "postgresql":
        _create_revisions([new_revision(version, frame, saved) for frame in frames])
        return
    texts = copy_text_of(frames) or [dict_copy_text(f) for f in frames]  # only the text: a write's other work is its own
    _copy_new_revisions(repeat(_revision_head(saved, version.dataset_id, version.pk, version.seq, False, None)), texts)


def new_revision(version, frame: dict, saved: int, hides: int | None = None) -> NewRevision:
    return NewRevision(
        dataset_id=version.dataset_id, version_id=version.pk, version_seq=version.seq, frame_id=frame["id"],
        context_id=frame["context_id"], timestamp=frame["timestamp"], num_frames=frame["num_frames"],
        meta=frame["meta"], sources=frame["sources"], rois=frame["rois"], saved=saved, hides=hides,
    )


def _revision_head(saved: int, dataset_id: str, version_id: str, version_seq: int, deleted: bool, hides: int | None) -> str:
    """The write's columns of a revision row (after its id), in COPY text."""
    return f"\t{saved}\t{copy_field(dataset_id)}\t{copy_field(version_id)}\t{version_seq}\t{copy_field(deleted)}\t{copy_field(hides)}\t"


def _copy_new_revisions(heads, texts: list[FrameCopyText]) -> list[int]:
    """COPY revision rows (each its new id, its head, its frame text) and their index rows; their ids."""
    pks = _new_ids(FrameRevision, len(texts))
    _copy_text(FrameRevision, REVISION_COLUMNS, [f"{pk}{head}{text.frame}" for pk, head, text in zip(pks, heads, texts)])
    _copy_index_text(pks, [(text.labels, text.sources) for text in texts])
    return pks


def _new_ids(model, count: int) -> list[int]:
    """`count` ids from the table's sequence (its name looked up once, not once per id: 9 us a frame)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [model._meta.db_table])
        sequence = cursor.fetchone()[0]
        cursor.execute("SELECT nextval(%s::regclass) FROM generate_series(1, %s)", [sequence, count])
        return [pk for (pk,) in cursor.fetchall()]


def _copy_index_text(pks: list[int], index_lines: list[tuple[list[str], list[str]]]) -> None:
    """COPY each revision's (label lines, source lines) of index_copy_lines, prefixed with its id."""
    _copy_text(RoiLabel, ROI_LABEL_COLUMNS, [f"{pk}\t{line}" for pk, (labels, _) in zip(pks, index_lines) for line in labels])
    _copy_text(FrameSource, SOURCE_COLUMNS, [f"{pk}\t{line}" for pk, (_, sources) in zip(pks, index_lines) for line in sources])


def _create_revisions(revisions: list) -> None:
    models = [r if isinstance(r, FrameRevision) else FrameRevision(**{f.name: getattr(r, f.name) for f in fields(NewRevision)}) for r in revisions]
    FrameRevision.objects.bulk_create(models)
    for revision, model in zip(revisions, models):
        revision.pk = model.pk
    insert_index_rows(revisions)


def insert_index_rows(revisions: list[FrameRevision]) -> None:
    """The ROI-label and source rows of revisions that have their ids (rewritten in place)."""
    if connection.vendor == "postgresql":
        _copy_index_text([r.pk for r in revisions], [index_copy_lines(r.rois, r.sources) for r in revisions])
        return
    RoiLabel.objects.bulk_create(RoiLabel(revision_id=r.pk, **dict(zip(ROI_LABEL_COLUMNS[1:], row))) for r in revisions for row in roi_label_rows(r.rois))
    FrameSource.objects.bulk_create(FrameSource(revision_id=r.pk, **dict(zip(SOURCE_COLUMNS[1:], row))) for r in revisions for row in source_rows(r.sources))


def roi_label_rows(rois: list[dict]):
    """ROI_LABEL_COLUMNS after revision_id: one per label of each ROI (an ROI without poly, shape or mask labels the frame)."""
    for index, roi in enumerate(rois):
        frame_label = is_frame_label(roi)
        for label in dict.fromkeys(roi.get("labels", [])):
            yield (index, label, roi.get("confidence"), frame_label)


def source_rows(sources: list[dict]):
    """SOURCE_COLUMNS after revision_id, one per source."""
    for source in sources:
        yield (
            source["id"], source["uri"], source.get("content_type") or "",
            source.get("width"), source.get("height"), source.get("timestamp"), source.get("meta") or {},
        )


def json_text(value) -> str:
    """`value` as JSON text for a jsonb column, as json.dumps writes it: through orjson unless orjson refuses it
    (integers beyond 64 bits) or may have written a NaN or an infinity as null (json writes them, and the
    database refuses them, as it always did)."""
    try:
        text = orjson.dumps(value)
    except orjson.JSONEncodeError:
        return json.dumps(value)
    return json.dumps(value) if b"null" in text else text.decode()


def _copy_text(model, columns: list[str], lines: list[str]) -> None:
    """COPY `lines` (rows in COPY text, each ending in a newline) into `model`'s table."""
    if not lines:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    column_list = ", ".join(connection.ops.quote_name(c) for c in columns)
    # The raw psycopg cursor raises psycopg's errors: wrapped, a duplicate id is Django's IntegrityError as elsewhere.
    with connection.cursor() as cursor, connection.wrap_database_errors:
        with cursor.cursor.copy(f"COPY {table} ({column_list}) FROM STDIN") as copy:
            copy.write("".join(lines))


PREVIEW_COLUMNS = ["key", "kind", "uri", "media", "timestamp", "page", "max_size"]
_PREVIEW_STAGE = "hyperdata_preview_stage"


class InsertedPreviews(NamedTuple):
    keys: list[str]
    pk_range: tuple[int, int] | None  # the lowest and highest primary key among them


def insert_missing_previews(rows: list[tuple], *, requested_by_id: int | None, job_id: str | None = None) -> InsertedPreviews:
    """Insert the MediaPreview rows (tuples of PREVIEW_COLUMNS, distinct keys) whose key no row has yet, as
    pending under the previews job `job_id`; the keys inserted and their primary keys' range. PostgreSQL: COPY
    into a temporary table, then one INSERT ... ON CONFLICT DO NOTHING (the ORM's bulk_create cost ~45 us a row,
    more than the frame's own rows); others: bulk_create."""
    if not rows:
        return InsertedPreviews([], None)
    if connection.vendor != "postgresql":
        return _create_missing_previews(rows, requested_by_id, job_id)
    table = connection.ops.quote_name(MediaPreview._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in PREVIEW_COLUMNS)
    with connection.cursor() as cursor, connection.wrap_database_errors:
        # Made once a session (a temporary table is the session's own), emptied before each use.
        cursor.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS {_PREVIEW_STAGE} AS SELECT {columns} FROM {table} WITH NO DATA")
        cursor.execute(f"TRUNCATE {_PREVIEW_STAGE}")
        with cursor.cursor.copy(f"COPY {_PREVIEW_STAGE} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        now = timezone.now()
        cursor.execute(
            f"""INSERT INTO {table} ({columns}, status, file, content_type, error, attempts, requested_by_id, job_id, created, updated)
                SELECT {columns}, %s, '', '', '', 0, %s, %s, %s, %s FROM {_PREVIEW_STAGE}
                ON CONFLICT (key) DO NOTHING RETURNING id, key""",
            [MediaPreview.PENDING, requested_by_id, job_id, now, now],
        )
        inserted = cursor.fetchall()
    pks = [pk for pk, _ in inserted]
    return InsertedPreviews([key for _, key in inserted], (min(pks), max(pks)) if pks else None)


def _create_missing_previews(rows: list[tuple], requested_by_id: int | None, job_id: str | None) -> InsertedPreviews:
    keys = [row[0] for row in rows]
    existing = set(MediaPreview.objects.filter(key__in=keys).values_list("key", flat=True))
    new = [row for row in rows if row[0] not in existing]
    MediaPreview.objects.bulk_create(
        [MediaPreview(**dict(zip(PREVIEW_COLUMNS, row)), requested_by_id=requested_by_id, job_id=job_id) for row in new],
        ignore_conflicts=True,
    )
    new_keys = [row[0] for row in new]
    bounds = MediaPreview.objects.filter(key__in=new_keys).aggregate(low=Min("pk"), high=Max("pk"))
    return InsertedPreviews(new_keys, (bounds["low"], bounds["high"]) if new_keys else None)
