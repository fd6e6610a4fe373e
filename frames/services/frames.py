"""Frames: add (replacing ids that exist), merge updates, delete. The only code that writes frame revisions.

Writes lock the version row, so writes to one version are serialised and a write precondition (the `saved`
value a client read a frame with) is checked against what is stored at that moment: a stale one refuses the
whole batch (FramesStale), never a silent overwrite. Every save moves the frame's `saved` forward.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Iterable

from django.db import IntegrityError, transaction
from django.utils import timezone

from ..exceptions import Conflict, FramesInvalid, FramesStale, ServiceError
from ..models import DatasetVersion, FrameRevision, FrameSource, RoiLabel
from ..schema import FrameError, parse_frame
from ..selectors.access import ANNOTATOR, require
from ..selectors.frames import frame_to_dict
from ..selectors.meta_schema import meta_checked
from .bulk import copy_text_of, label_signatures_of, references_checked_per_statement, insert_frames, insert_index_rows, insert_revisions, new_revision
from .planner import planner_stats_refresh_after
from .previews import previews_request
from .label_counts import LabelCounts
from .validation import check_frames_per_request
from .versions import lock_version, refuse_published

WRITE_CHUNK = 500


@dataclass
class FramesWriteResult:
    added: int = 0
    replaced: int = 0
    failed: list[dict] = field(default_factory=list)  # {"index", "id", "errors": [{"field", "message"}]}
    frame_ids: list[str] | None = field(default_factory=list)


@dataclass
class FramesDeleteResult:
    deleted: int = 0
    missing: list[str] = field(default_factory=list)


def _now_ms() -> int:
    return int(time.time() * 1000)


def _lock_writable(user, version: DatasetVersion) -> DatasetVersion:
    require(user, version, ANNOTATOR)
    locked = lock_version(version)
    refuse_published(locked)
    return locked


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
    """`frames` without the earlier of two with one id; the same list (and the COPY text it carries) when
    every id is once."""
    by_id = {frame["id"]: frame for frame in frames}
    return frames if len(by_id) == len(frames) else list(by_id.values())


@transaction.atomic
def frames_add(*, user, version: DatasetVersion, frames: list, atomic: bool = True, expected_saved: dict | None = None) -> FramesWriteResult:
    """Add frames; a frame whose id the version already shows is replaced.

    With atomic=True any invalid frame fails the whole call (FramesInvalid, nothing written); with
    atomic=False the valid frames are written and the invalid ones come back in `failed` with the reasons
    (ClearML's add_frames returning the frames that were not registered). `expected_saved` ({id: [saved
    values]}, from an If-Match) is the write precondition of the frames it names.
    """
    check_frames_per_request(frames)
    version = _lock_writable(user, version)
    good, failed = _parse_all(frames, meta_checked(version, parse_frame))  # typed metadata: checked, defaults filled
    if failed and atomic:
        raise FramesInvalid(failed)
    if expected_saved:
        _refuse_stale(version, expected_saved, ids=[f["id"] for f in good])
    result = FramesWriteResult(failed=failed)
    _write(user, version, _dedupe_last_wins(good), result)
    return result


@transaction.atomic
def frames_update(*, user, version: DatasetVersion, frames: list, atomic: bool = True, expected_saved: dict | None = None) -> FramesWriteResult:
    """Merge partial frames into existing ones: given top-level keys replace, `meta` is merged key by key.

    A frame that carries `saved` (the value it was read with), or is named in `expected_saved`, is only
    written if nobody saved it since; otherwise the whole batch is refused, listing the stale ids.
    """
    check_frames_per_request(frames)
    version = _lock_writable(user, version)
    ids = [str(f["id"]) for f in frames if isinstance(f, dict) and f.get("id") not in (None, "")]
    current = FrameRevision.objects.latest_in(version, ids)
    _refuse_stale(version, {**_read_with(frames), **(expected_saved or {})}, ids=ids, current=current)

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

    good, failed = _parse_all(frames, meta_checked(version, merge))
    if failed and atomic:
        raise FramesInvalid(failed)
    result = FramesWriteResult(failed=failed)
    _write(user, version, _dedupe_last_wins(good), result)
    return result


def _read_with(frames: list) -> dict[str, list[int]]:
    """{id: [saved]} of the update bodies that say which `saved` they were read with."""
    expected = {}
    for raw in frames:
        if isinstance(raw, dict) and raw.get("id") not in (None, "") and "saved" in raw:
            saved = raw["saved"]
            if isinstance(saved, bool) or not isinstance(saved, int):
                raise ServiceError("must be the frame's `saved` value (a whole number) as it was read", field=f"frames[{frames.index(raw)}].saved")
            expected[str(raw["id"])] = [saved]
    return expected


def _refuse_stale(version: DatasetVersion, expected: dict, *, ids: list[str], current: dict | None = None) -> None:
    """FramesStale when a frame named in `expected` ({id: [saved values]}) was saved since (or deleted)."""
    if not expected:
        return
    current = FrameRevision.objects.latest_in(version, list(expected)) if current is None else current
    order = {frame_id: index for index, frame_id in reversed(list(enumerate(ids)))}
    stale = []
    for frame_id, accepted in expected.items():
        row = current.get(frame_id)
        if row is None or row.deleted or row.saved not in accepted:
            stale.append({"index": order.get(frame_id, 0), "id": frame_id, "row": row})
    if stale:
        rows = [e["row"] for e in stale if e["row"] is not None and not e["row"].deleted]
        raise FramesStale(sorted(stale, key=lambda e: e["index"]), current=[frame_to_dict(r, version_id=version.id) for r in rows])


@transaction.atomic
def frames_delete(*, user, version: DatasetVersion, frame_ids: list, expected_saved: dict | None = None) -> FramesDeleteResult:
    if not isinstance(frame_ids, list) or not all(isinstance(i, (str, int)) and not isinstance(i, bool) for i in frame_ids):
        raise ServiceError("expected a list of frame ids", field="ids")
    check_frames_per_request(frame_ids, field="ids")
    version = _lock_writable(user, version)
    ids = list(dict.fromkeys(str(i) for i in frame_ids))
    _refuse_stale(version, expected_saved or {}, ids=ids)
    result = FramesDeleteResult()
    counts = LabelCounts.before_write(user=user, version=version)
    for start in range(0, len(ids), WRITE_CHUNK):
        _delete_chunk(version, ids[start : start + WRITE_CHUNK], result, counts)
    frame_count = version.frame_count - result.deleted
    DatasetVersion.objects.filter(pk=version.pk).update(frame_count=frame_count, updated=timezone.now(), stats=counts.stats(frame_count=frame_count))
    return result


def _delete_chunk(version: DatasetVersion, ids: list[str], result: FramesDeleteResult, counts: LabelCounts) -> None:
    latest = FrameRevision.objects.latest_in(version, ids)
    visible = {i: r for i, r in latest.items() if not r.deleted}
    result.missing.extend(i for i in ids if i not in visible)
    if not visible:
        return
    for revision in visible.values():
        counts.remove(revision)
    own = [r for r in visible.values() if r.version_seq == version.seq]
    inherited = [r for r in visible.values() if r.version_seq != version.seq]
    # An own revision that hides an ancestor's must become a tombstone; one that hides nothing just goes.
    in_ancestors = FrameRevision.objects.latest_in(version, [r.frame_id for r in own], lineage=version.lineage[:-1])
    shadowing = [r for r in own if r.frame_id in in_ancestors and not in_ancestors[r.frame_id].deleted]
    lone = [r.pk for r in own if r not in shadowing]
    _clear_index_rows([r.pk for r in own])
    FrameRevision.objects.filter(pk__in=lone)._raw_delete(FrameRevision.objects.db)
    saved = max([_now_ms(), *(r.saved + 1 for r in visible.values())])
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
            hides=r.pk,
        )
        for r in inherited
    )
    result.deleted += len(visible)


def _clear_index_rows(revision_pks: list[int]) -> None:
    RoiLabel.objects.filter(revision_id__in=revision_pks).delete()
    FrameSource.objects.filter(revision_id__in=revision_pks).delete()


def frames_write_stream(*, user, version: DatasetVersion, chunks: Iterable[list[dict]]) -> FramesWriteResult:
    """Write chunks of frames already validated by parse_frame (an import), in the caller's transaction: the
    version stays locked from the first chunk to the last, and an exception raised by `chunks` rolls all of
    it back. A frame id seen again replaces the earlier one. The ids written are not collected (millions)."""
    version = _lock_writable(user, version)
    references_checked_per_statement()
    result = FramesWriteResult(frame_ids=None)
    _write_chunks(user, version, (_dedupe_last_wins(chunk) for chunk in chunks), result)
    return result


def _write(user, version: DatasetVersion, frames: list[dict], result: FramesWriteResult) -> None:
    _write_chunks(user, version, (frames[start : start + WRITE_CHUNK] for start in range(0, len(frames), WRITE_CHUNK)), result)


def _write_chunks(user, version: DatasetVersion, chunks: Iterable[list[dict]], result: FramesWriteResult) -> None:
    counts = LabelCounts.before_write(user=user, version=version)  # the label statistics, kept in step
    fresh = version.frame_count == 0
    for chunk in chunks:
        _write_chunk(version, chunk, result, counts, fresh=fresh)
        previews_request(user=user, version=version, frames=chunk)
    frame_count = version.frame_count + result.added
    DatasetVersion.objects.filter(pk=version.pk).update(
        frame_count=frame_count, updated=timezone.now(), stats=counts.stats(frame_count=frame_count)
    )
    planner_stats_refresh_after(result.added + result.replaced)


def _write_chunk(version: DatasetVersion, frames: list[dict], result: FramesWriteResult, counts: LabelCounts, *, fresh: bool = False) -> None:
    """Write one chunk. `fresh`: the version showed no frames when the write began, so the chunk is first
    inserted without looking its ids up; an id met earlier in the same write makes that fail, and the chunk
    is then written the ordinary way."""
    signatures = label_signatures_of(frames) or [None] * len(frames)
    if fresh and _insert_fresh(version, frames):
        for frame, signature in zip(frames, signatures):
            counts.replace(None, frame["rois"], signature)
        result.added += len(frames)
        _note_ids(result, frames)
        return
    latest = FrameRevision.objects.latest_in(version, [f["id"] for f in frames])
    now = _now_ms()
    texts = copy_text_of(frames)
    own, new, new_texts = [], [], []
    for index, frame in enumerate(frames):
        current = latest.get(frame["id"])
        counts.replace(current, frame["rois"], signatures[index])
        if current is None or current.deleted:
            result.added += 1
        else:
            result.replaced += 1
        # `saved` is the frame's write precondition: every save moves it forward, even within one millisecond.
        saved = max(now, current.saved + 1) if current is not None else now
        if current is not None and current.version_seq == version.seq:
            own.append(_fill(current, frame, saved))
        else:
            new.append(new_revision(version, frame, saved, hides=_hidden_by_new(current)))
            if texts:
                new_texts.append(texts[index])
    _clear_index_rows([r.pk for r in own])
    if own:
        FrameRevision.objects.bulk_update(
            own, ["deleted", "context_id", "timestamp", "saved", "num_frames", "meta", "sources", "rois"]
        )
        insert_index_rows(own)
    try:
        with transaction.atomic():
            insert_revisions(new, new_texts or None)
    except IntegrityError:
        raise Conflict("another write to this version saved the same frame ids at the same time; retry", field="frames") from None
    _note_ids(result, frames)


def _hidden_by_new(current: FrameRevision | None) -> int:
    """FrameRevision.hides of a version's first revision of a frame id, whose latest so far is `current` (from
    an ancestor, or None): the revision the parent shows, or 0 when it shows none."""
    return 0 if current is None or current.deleted else current.pk


def _insert_fresh(version: DatasetVersion, frames: list[dict]) -> bool:
    try:
        with transaction.atomic():
            insert_frames(version=version, saved=_now_ms(), frames=frames)
    except IntegrityError:
        return False
    return True


def _note_ids(result: FramesWriteResult, frames: list[dict]) -> None:
    if result.frame_ids is not None:
        result.frame_ids.extend(f["id"] for f in frames)


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


