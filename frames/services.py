"""Write paths: the only code that changes datasets, versions and frames. One transaction per service."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Iterable

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from .bulk import insert_index_rows, insert_revisions
from .exceptions import Conflict, FramesInvalid, ServiceError, VersionImmutable
from .previews import previews_request
from .models import Dataset, DatasetVersion, FrameRevision, FrameSource, RoiLabel
from .schema import FrameError, parse_frame
from .selectors import compute_version_stats, frame_to_dict, latest_revisions, visible_frames

logger = logging.getLogger(__name__)
WRITE_CHUNK = 500
INITIAL_VERSION_NAME = "Current"


@dataclass
class FramesWriteResult:
    added: int = 0
    replaced: int = 0
    failed: list[dict] = field(default_factory=list)  # {"index", "id", "errors": [{"field", "message"}]}
    frame_ids: list[str] = field(default_factory=list)


@dataclass
class FramesDeleteResult:
    deleted: int = 0
    missing: list[str] = field(default_factory=list)


def _now_ms() -> int:
    return int(time.time() * 1000)


# -- validation helpers ------------------------------------------------------------------------------------


def _clean_name(name, *, field_name="name") -> str:
    if not isinstance(name, str) or not name.strip():
        raise ServiceError("must be a non-empty string", field=field_name)
    if len(name) > 255:
        raise ServiceError("must be at most 255 characters", field=field_name)
    return name.strip()


def _clean_tags(tags) -> list[str]:
    if tags is None:
        return []
    if not isinstance(tags, list) or not all(isinstance(t, str) and t.strip() for t in tags):
        raise ServiceError("must be a list of non-empty strings", field="tags")
    return list(dict.fromkeys(t.strip() for t in tags))


def _clean_metadata(metadata) -> dict:
    if metadata is None:
        return {}
    if not isinstance(metadata, dict):
        raise ServiceError("must be a JSON object", field="metadata")
    mask_labels = metadata.get("mask_labels")
    if mask_labels is not None:
        _check_mask_labels(mask_labels)
    return metadata


def _check_mask_labels(mask_labels):
    """ClearML's mask-label map: {"_all_": [{"value": [r, g, b], "labels": [...]}, ...], <mask id>: [...]}."""
    if not isinstance(mask_labels, dict):
        raise ServiceError("must be an object of mask id -> list of {value, labels}", field="metadata.mask_labels")
    for mask_id, entries in mask_labels.items():
        where = f"metadata.mask_labels.{mask_id}"
        if not isinstance(entries, list):
            raise ServiceError("must be a list of {value, labels}", field=where)
        for i, entry in enumerate(entries):
            value = entry.get("value") if isinstance(entry, dict) else None
            if not (isinstance(value, list) and len(value) in (1, 3, 4) and all(isinstance(v, int) and 0 <= v <= 255 for v in value)):
                raise ServiceError("value must be a list of 0..255 integers (RGB)", field=f"{where}[{i}].value")
            labels = entry.get("labels")
            if not (isinstance(labels, list) and all(isinstance(label, str) for label in labels)):
                raise ServiceError("labels must be a list of strings", field=f"{where}[{i}].labels")


def _lock_writable(version: DatasetVersion) -> DatasetVersion:
    """Re-read the version under a row lock (writes to one version are serialised) and refuse published ones."""
    locked = DatasetVersion.objects.select_for_update().get(pk=version.pk)
    if locked.is_published:
        raise VersionImmutable(locked)
    return locked


# -- datasets -------------------------------------------------------------------------------------------------


@transaction.atomic
def dataset_create(*, name, description="", tags=None, metadata=None) -> Dataset:
    name = _clean_name(name)
    if Dataset.objects.filter(name=name).exists():
        raise Conflict(f"a dataset named {name!r} already exists", field="name")
    dataset = Dataset.objects.create(
        name=name, description=description or "", tags=_clean_tags(tags), metadata=_clean_metadata(metadata)
    )
    DatasetVersion.objects.create(dataset=dataset, seq=1, lineage=[1], name=INITIAL_VERSION_NAME)
    return dataset


@transaction.atomic
def dataset_update(*, dataset: Dataset, name=None, description=None, tags=None, metadata=None) -> Dataset:
    if name is not None:
        name = _clean_name(name)
        if Dataset.objects.filter(name=name).exclude(pk=dataset.pk).exists():
            raise Conflict(f"a dataset named {name!r} already exists", field="name")
        dataset.name = name
    if description is not None:
        dataset.description = str(description)
    if tags is not None:
        dataset.tags = _clean_tags(tags)
    if metadata is not None:
        dataset.metadata = _clean_metadata(metadata)
    dataset.save()
    return dataset


@transaction.atomic
def dataset_delete(*, dataset: Dataset) -> None:
    _delete_revisions(dataset=dataset)
    DatasetVersion.objects.filter(dataset=dataset).update(parent=None)
    dataset.delete()


def _delete_revisions(**owner) -> None:
    """Delete the frame rows of a dataset or version in bulk, index rows first: the ORM's cascade would load
    every frame row into memory."""
    related = {f"revision__{key}": value for key, value in owner.items()}
    RoiLabel.objects.filter(**related).delete()
    FrameSource.objects.filter(**related).delete()
    FrameRevision.objects.filter(**owner)._raw_delete(FrameRevision.objects.db)


# -- versions ---------------------------------------------------------------------------------------------


@transaction.atomic
def version_create(*, parent: DatasetVersion, name, description="", metadata=None) -> DatasetVersion:
    """A child of a published version. It copies no frames: it sees its parent's through its lineage."""
    name = _clean_name(name)
    Dataset.objects.select_for_update().get(pk=parent.dataset_id)  # serialises seq numbering
    parent = DatasetVersion.objects.get(pk=parent.pk)
    if not parent.is_published:
        raise Conflict(
            f"version {parent.name!r} is a draft: publish it before creating a child from it", field="parent"
        )
    seq = (DatasetVersion.objects.filter(dataset_id=parent.dataset_id).aggregate(m=Max("seq"))["m"] or 0) + 1
    return DatasetVersion.objects.create(
        dataset_id=parent.dataset_id,
        parent=parent,
        seq=seq,
        lineage=[*parent.lineage, seq],
        name=name,
        description=description or "",
        metadata=_clean_metadata(metadata) if metadata is not None else dict(parent.metadata),
        frame_count=parent.frame_count,
    )


@transaction.atomic
def version_update(*, version: DatasetVersion, name=None, description=None, metadata=None) -> DatasetVersion:
    """Name and description are labels and may change at any time; metadata is content, frozen on publish."""
    version = DatasetVersion.objects.select_for_update().get(pk=version.pk)
    if metadata is not None:
        if version.is_published:
            raise VersionImmutable(version)
        version.metadata = _clean_metadata(metadata)
    if name is not None:
        version.name = _clean_name(name)
    if description is not None:
        version.description = str(description)
    version.save()
    return version


@transaction.atomic
def version_publish(*, version: DatasetVersion, name=None) -> DatasetVersion:
    version = _lock_writable(version)
    if name is not None:
        version.name = _clean_name(name)
    # Small versions get their statistics now; large ones from a worker (seconds at a million frames), and
    # until it is done, readers compute them live.
    large = version.frame_count > settings.HYPERDATA_STATS_SYNC_FRAMES
    version.stats = None if large else compute_version_stats(version=version)
    version.status = DatasetVersion.PUBLISHED
    version.published = timezone.now()
    version.save()
    if large:
        transaction.on_commit(lambda: _queue_stats(version.pk))
    return version


def _queue_stats(version_id: str) -> None:
    from .tasks import compute_published_stats

    try:
        compute_published_stats.apply_async(args=[version_id], task_id=f"stats-{version_id}", retry=False)
    except Exception as exc:  # no broker: readers keep computing the statistics live
        logger.warning("could not queue statistics for version %s: %s", version_id, exc)


def version_stats_store(*, version_id: str) -> None:
    """Compute and keep the statistics of a published version (it never changes, so once is enough)."""
    version = DatasetVersion.objects.get(pk=version_id)
    if version.is_published and version.stats is None:
        DatasetVersion.objects.filter(pk=version_id, stats__isnull=True).update(stats=compute_version_stats(version=version))


@transaction.atomic
def version_snapshot(*, version: DatasetVersion, name=None, child_name=None) -> tuple[DatasetVersion, DatasetVersion]:
    """Publish a draft and open a new draft child of it in one step (ClearML's snapshot)."""
    if name is None and version.name == INITIAL_VERSION_NAME:
        name = f"v{version.seq}"
    published = version_publish(version=version, name=name)
    child = version_create(parent=published, name=child_name or INITIAL_VERSION_NAME, description="")
    return published, child


@transaction.atomic
def version_delete(*, version: DatasetVersion) -> None:
    version = DatasetVersion.objects.select_for_update().get(pk=version.pk)
    if version.is_published:
        raise Conflict(f"version {version.name!r} is published; only drafts can be deleted", field="version")
    _delete_revisions(version=version)
    version.delete()


# -- frames ------------------------------------------------------------------------------------------------


def _parse_all(frames: Iterable, parse) -> tuple[list[dict], list[dict]]:
    """Validate every frame first so that a bad one never leaves a half-written batch."""
    good, failed = [], []
    for index, raw in enumerate(frames):
        try:
            good.append(parse(raw))
        except FrameError as exc:
            frame_id = raw.get("id") if isinstance(raw, dict) else None
            failed.append({"index": index, "id": frame_id, "errors": exc.errors})
    return good, failed


def _dedupe_last_wins(frames: list[dict]) -> list[dict]:
    return list({frame["id"]: frame for frame in frames}.values())


@transaction.atomic
def frames_add(*, version: DatasetVersion, frames: list, atomic: bool = True) -> FramesWriteResult:
    """Add frames; a frame whose id the version already shows is replaced.

    With atomic=True any invalid frame fails the whole call (FramesInvalid, nothing written); with
    atomic=False the valid frames are written and the invalid ones come back in `failed` with the reasons
    (ClearML's add_frames returning the frames that were not registered).
    """
    if not isinstance(frames, list):
        raise ServiceError("expected a list of frames", field="frames")
    version = _lock_writable(version)
    good, failed = _parse_all(frames, parse_frame)
    if failed and atomic:
        raise FramesInvalid(failed)
    result = FramesWriteResult(failed=failed)
    _write(version, _dedupe_last_wins(good), result)
    return result


@transaction.atomic
def frames_update(*, version: DatasetVersion, frames: list, atomic: bool = True) -> FramesWriteResult:
    """Merge partial frames into existing ones: given top-level keys replace, `meta` is merged key by key."""
    if not isinstance(frames, list):
        raise ServiceError("expected a list of frames", field="frames")
    version = _lock_writable(version)
    ids = [f.get("id") for f in frames if isinstance(f, dict) and f.get("id") is not None]
    current = latest_revisions(version=version, frame_ids=[str(i) for i in ids])

    def merge(raw):
        if not isinstance(raw, dict) or raw.get("id") in (None, ""):
            raise FrameError([{"field": "id", "message": "required to update a frame"}])
        revision = current.get(str(raw["id"]))
        if revision is None or revision.deleted:
            raise FrameError([{"field": "id", "message": f"no frame with id {raw['id']!r} in this version"}])
        merged = frame_to_dict(revision, version_id=version.id)
        merged.update({k: v for k, v in raw.items() if k != "meta"})
        if isinstance(raw.get("meta"), dict):
            merged["meta"] = {**revision.meta, **raw["meta"]}
        elif "meta" in raw:
            merged["meta"] = raw["meta"]
        return parse_frame(merged)

    good, failed = _parse_all(frames, merge)
    if failed and atomic:
        raise FramesInvalid(failed)
    result = FramesWriteResult(failed=failed)
    _write(version, _dedupe_last_wins(good), result)
    return result


@transaction.atomic
def frames_delete(*, version: DatasetVersion, frame_ids: list) -> FramesDeleteResult:
    if not isinstance(frame_ids, list) or not all(isinstance(i, (str, int)) for i in frame_ids):
        raise ServiceError("expected a list of frame ids", field="ids")
    version = _lock_writable(version)
    result = FramesDeleteResult()
    ids = list(dict.fromkeys(str(i) for i in frame_ids))
    for start in range(0, len(ids), WRITE_CHUNK):
        _delete_chunk(version, ids[start : start + WRITE_CHUNK], result)
    DatasetVersion.objects.filter(pk=version.pk).update(frame_count=version.frame_count - result.deleted)
    return result


def _delete_chunk(version: DatasetVersion, ids: list[str], result: FramesDeleteResult) -> None:
    latest = latest_revisions(version=version, frame_ids=ids)
    visible = {i: r for i, r in latest.items() if not r.deleted}
    result.missing.extend(i for i in ids if i not in visible)
    if not visible:
        return
    own = [r for r in visible.values() if r.version_seq == version.seq]
    inherited = [r for r in visible.values() if r.version_seq != version.seq]
    # An own revision that hides an ancestor's must become a tombstone; one that hides nothing just goes.
    in_ancestors = latest_revisions(version=version, frame_ids=[r.frame_id for r in own], lineage=version.lineage[:-1])
    shadowing = [r for r in own if r.frame_id in in_ancestors and not in_ancestors[r.frame_id].deleted]
    lone = [r.pk for r in own if r not in shadowing]
    _clear_index_rows([r.pk for r in own])
    FrameRevision.objects.filter(pk__in=lone)._raw_delete(FrameRevision.objects.db)
    saved = _now_ms()
    FrameRevision.objects.filter(pk__in=[r.pk for r in shadowing]).update(
        deleted=True, meta={}, sources=[], rois=[], saved=saved
    )
    # A tombstone keeps the frame's place (context, timestamp) so it never piles up at the start of an order.
    FrameRevision.objects.bulk_create(
        FrameRevision(
            dataset_id=version.dataset_id,
            version_id=version.pk,
            version_seq=version.seq,
            frame_id=r.frame_id,
            context_id=r.context_id,
            timestamp=r.timestamp,
            deleted=True,
            saved=saved,
        )
        for r in inherited
    )
    result.deleted += len(visible)


def _clear_index_rows(revision_pks: list[int]) -> None:
    RoiLabel.objects.filter(revision_id__in=revision_pks).delete()
    FrameSource.objects.filter(revision_id__in=revision_pks).delete()


def _write(version: DatasetVersion, frames: list[dict], result: FramesWriteResult) -> None:
    for start in range(0, len(frames), WRITE_CHUNK):
        chunk = frames[start : start + WRITE_CHUNK]
        _write_chunk(version, chunk, result)
        previews_request(chunk)
    DatasetVersion.objects.filter(pk=version.pk).update(
        frame_count=version.frame_count + result.added, updated=timezone.now()
    )


def _write_chunk(version: DatasetVersion, frames: list[dict], result: FramesWriteResult) -> None:
    ids = [f["id"] for f in frames]
    latest = latest_revisions(version=version, frame_ids=ids)
    saved = _now_ms()
    own, new = [], []
    for frame in frames:
        current = latest.get(frame["id"])
        if current is None or current.deleted:
            result.added += 1
        else:
            result.replaced += 1
        if current is not None and current.version_seq == version.seq:
            own.append(_fill(current, frame, saved))
        else:
            new.append(_fill(FrameRevision(dataset_id=version.dataset_id, version_id=version.pk, version_seq=version.seq), frame, saved))
    _clear_index_rows([r.pk for r in own])
    if own:
        FrameRevision.objects.bulk_update(
            own, ["deleted", "context_id", "timestamp", "saved", "num_frames", "meta", "sources", "rois"]
        )
        insert_index_rows(own)
    try:
        with transaction.atomic():
            insert_revisions(new)
    except IntegrityError:
        raise Conflict("another write to this version saved the same frame ids at the same time; retry", field="frames") from None
    result.frame_ids.extend(ids)


def _fill(revision: FrameRevision, frame: dict, saved: int) -> FrameRevision:
    revision.frame_id = frame["id"]
    revision.deleted = False
    revision.context_id = frame["context_id"]
    revision.timestamp = frame["timestamp"]
    revision.num_frames = frame["num_frames"]
    revision.meta = frame["meta"]
    revision.sources = frame["sources"]
    revision.rois = frame["rois"]
    revision.saved = saved
    return revision


def previews_regenerate_soon(*, version: DatasetVersion, everything: bool = False) -> int | None:
    """`previews_regenerate` now for a version of up to HYPERDATA_PROGRESS_SYNC_FRAMES frames (returns how many
    previews it queued), else by a worker (it reads every frame: about a minute at a million), returning None."""
    if version.frame_count <= settings.HYPERDATA_PROGRESS_SYNC_FRAMES:
        return previews_regenerate(version=version, everything=everything)
    from .tasks import regenerate_previews

    try:  # one job per version and kind: asking again while it waits does not queue a second pass
        task_id = f"regenerate-{version.pk}-{int(everything)}"
        regenerate_previews.apply_async(args=[version.pk, everything], task_id=task_id, retry=False)
    except Exception as exc:  # no broker: nobody would render the previews either; say so and do the reading now
        logger.warning("could not queue regenerating previews of version %s: %s", version.pk, exc)
        return previews_regenerate(version=version, everything=everything)
    return None


def previews_regenerate(*, version: DatasetVersion, everything: bool = False) -> int:
    """Queue the version's failed and unfinished previews again (or all of them); returns how many."""
    queued = 0
    for revisions in _chunks(visible_frames(version=version).order_by("pk").iterator(chunk_size=WRITE_CHUNK), WRITE_CHUNK):
        with transaction.atomic():
            queued += previews_request(
                [{"sources": r.sources} for r in revisions], regenerate="all" if everything else "failed"
            )
    return queued


def _chunks(iterable, size):
    chunk = []
    for item in iterable:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
