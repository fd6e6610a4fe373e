"""Bulk inserts of frame revisions and their index rows.

PostgreSQL gets COPY (ids taken from the table's sequence up front so index rows can point at their
revision; JSON columns serialised by orjson, 5-10x faster than json); other databases get Django's bulk_create.
Both write the same rows.
"""
import json
from dataclasses import dataclass, fields
from typing import NamedTuple

import orjson
from django.db import connection
from django.db.models import Max, Min
from django.utils import timezone

from ..models import FrameRevision, FrameSource, MediaPreview, RoiLabel
from ..schema import is_frame_label

REVISION_COLUMNS = [
    "id", "dataset_id", "version_id", "version_seq", "frame_id", "deleted",
    "context_id", "timestamp", "saved", "num_frames", "meta", "sources", "rois",
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
    pk: int | None = None


def insert_revisions(revisions: list[FrameRevision | NewRevision]) -> None:
    """Insert new revisions (setting their pk) together with their ROI-label and source rows."""
    if not revisions:
        return
    if connection.vendor == "postgresql":
        _copy_revisions(revisions)
    else:
        _create_revisions(revisions)
    insert_index_rows(revisions)


def _create_revisions(revisions: list) -> None:
    models = [r if isinstance(r, FrameRevision) else FrameRevision(**{f.name: getattr(r, f.name) for f in fields(NewRevision)}) for r in revisions]
    FrameRevision.objects.bulk_create(models)
    for revision, model in zip(revisions, models):
        revision.pk = model.pk


def insert_index_rows(revisions: list[FrameRevision]) -> None:
    labels = [row for revision in revisions for row in roi_label_values(revision)]
    sources = [row for revision in revisions for row in source_values(revision)]
    if connection.vendor == "postgresql":
        _copy(RoiLabel, ROI_LABEL_COLUMNS, labels)
        _copy(FrameSource, SOURCE_COLUMNS, ([*row[:-1], json_text(row[-1])] for row in sources))
    else:
        RoiLabel.objects.bulk_create(RoiLabel(**dict(zip(ROI_LABEL_COLUMNS, row))) for row in labels)
        FrameSource.objects.bulk_create(FrameSource(**dict(zip(SOURCE_COLUMNS, row))) for row in sources)


def roi_label_values(revision: FrameRevision):
    """Rows of ROI_LABEL_COLUMNS: one per label of each ROI (an ROI without poly, shape or mask labels the frame)."""
    for index, roi in enumerate(revision.rois):
        frame_label = is_frame_label(roi)
        for label in dict.fromkeys(roi.get("labels", [])):
            yield (revision.pk, index, label, roi.get("confidence"), frame_label)


def source_values(revision: FrameRevision):
    """Rows of SOURCE_COLUMNS, one per source."""
    for source in revision.sources:
        yield (
            revision.pk, source["id"], source["uri"], source.get("content_type") or "",
            source.get("width"), source.get("height"), source.get("timestamp"), source.get("meta") or {},
        )


def _copy_revisions(revisions: list[FrameRevision]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [FrameRevision._meta.db_table, len(revisions)],
        )
        for revision, (pk,) in zip(revisions, cursor.fetchall()):
            revision.pk = pk
    _copy(FrameRevision, REVISION_COLUMNS, (_revision_values(r) for r in revisions))


def _revision_values(revision: FrameRevision) -> list:
    return [
        revision.pk, revision.dataset_id, revision.version_id, revision.version_seq, revision.frame_id,
        revision.deleted, revision.context_id, revision.timestamp, revision.saved, revision.num_frames,
        json_text(revision.meta), json_text(revision.sources), json_text(revision.rois),
    ]


def json_text(value) -> str:
    """`value` as JSON text for a jsonb column, as json.dumps writes it: through orjson unless orjson refuses it
    (integers beyond 64 bits) or may have written a NaN or an infinity as null (json writes them, and the
    database refuses them, as it always did)."""
    try:
        text = orjson.dumps(value)
    except orjson.JSONEncodeError:
        return json.dumps(value)
    return json.dumps(value) if b"null" in text else text.decode()


def _copy(model, columns: list[str], rows) -> None:
    table = connection.ops.quote_name(model._meta.db_table)
    column_list = ", ".join(connection.ops.quote_name(c) for c in columns)
    # The raw psycopg cursor raises psycopg's errors: wrapped, a duplicate id is Django's IntegrityError as elsewhere.
    with connection.cursor() as cursor, connection.wrap_database_errors:
        with cursor.cursor.copy(f"COPY {table} ({column_list}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


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
