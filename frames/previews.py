"""Previews: which renditions a frame's sources need, rendering them in workers, and showing them in frames.

A browser cannot show TIFF or video, and a grid of 100 full-size photos is slow, so every source without a
preview of the user's own gets a tile-sized thumbnail (a video one per frame, at the source's timestamp), and
every mask a lossless PNG with its exact RGB values. One MediaPreview row per rendition, keyed by what it
renders, so the same source, timestamp and size never produce two jobs or two files.
"""
from __future__ import annotations

import hashlib
import logging
import mimetypes
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from . import media
from .models import MediaPreview
from .storage import PermanentStorageError, StorageError, TransientStorageError, storage_for_uri

logger = logging.getLogger(__name__)
VIDEO_INDEX_SECONDS = 7 * 24 * 3600
VIDEO_EXTENSIONS = (".mp4", ".m4v", ".mov", ".webm", ".mkv", ".avi", ".mpg", ".mpeg", ".ts")


@dataclass(frozen=True)
class PreviewRequest:
    kind: str
    uri: str
    media: str  # image | video
    timestamp: int = 0
    page: int = 0
    max_size: int = 0

    @property
    def key(self) -> str:
        text = f"{self.kind}|{self.media}|{self.uri}|{self.timestamp}|{self.page}|{self.max_size}"
        return hashlib.sha256(text.encode()).hexdigest()


def is_video(entry: dict) -> bool:
    content_type = (entry.get("content_type") or mimetypes.guess_type(entry["uri"])[0] or "").lower()
    return content_type.startswith("video/") or entry["uri"].lower().split("?")[0].endswith(VIDEO_EXTENSIONS)


def has_own_preview(source: dict) -> bool:
    preview = source.get("preview")
    return bool(preview and preview.get("uri") and not preview.get("generated"))


def source_request(source: dict, max_size: int = 0) -> PreviewRequest | None:
    """The tile preview (or, with `max_size`, a rendition of that size) a source needs; None for a source
    that brought its own preview."""
    if has_own_preview(source):
        return None  # a preview the user supplied is never replaced
    size = max_size or settings.HYPERDATA_TILE_SIZE
    if is_video(source):
        return PreviewRequest(MediaPreview.SOURCE, source["uri"], "video", int(source.get("timestamp") or 0), 0, size)
    return PreviewRequest(MediaPreview.SOURCE, source["uri"], "image", 0, source_page(source), size)


def source_page(source: dict) -> int:
    """The page of a multi-page file (TIFF) a source shows: `meta.page`, 0 when absent or invalid."""
    page = (source.get("meta") or {}).get("page", 0)
    return page if isinstance(page, int) and page >= 0 else 0


def mask_request(mask: dict, source: dict) -> PreviewRequest:
    if is_video(mask):
        timestamp = mask.get("timestamp", source.get("timestamp")) or 0
        return PreviewRequest(MediaPreview.MASK, mask["uri"], "video", int(timestamp))
    return PreviewRequest(MediaPreview.MASK, mask["uri"], "image")


def frame_requests(frame: dict) -> list[PreviewRequest]:
    requests = []
    for source in frame.get("sources", []):
        request = source_request(source)
        if request:
            requests.append(request)
        requests.extend(mask_request(mask, source) for mask in source.get("masks") or [])
    return requests


# -- asking for previews (called by the services inside their transaction) --------------------------------


def previews_request(frames: list[dict], *, regenerate: str = "") -> int:
    """Create the missing preview rows for these frames and queue their jobs once the write commits.

    regenerate="failed" queues failed and still-pending rows again; "all" re-renders every one.
    Returns the number of renditions queued.
    """
    wanted = {r.key: r for frame in frames for r in frame_requests(frame)}
    if not wanted:
        return 0
    existing = dict(MediaPreview.objects.filter(key__in=list(wanted)).values_list("key", "status"))
    queue = [key for key in wanted if key not in existing]
    MediaPreview.objects.bulk_create(
        [MediaPreview(key=k, kind=wanted[k].kind, uri=wanted[k].uri, media=wanted[k].media, timestamp=wanted[k].timestamp,
                      page=wanted[k].page, max_size=wanted[k].max_size) for k in queue],
        ignore_conflicts=True,
    )
    if regenerate:
        again = [k for k, status in existing.items() if regenerate == "all" or status != MediaPreview.DONE]
        MediaPreview.objects.filter(key__in=again).update(status=MediaPreview.PENDING, error="", attempts=0)
        queue += again
    if queue and settings.HYPERDATA_PREVIEWS_AUTO:
        by_uri: dict[str, list[str]] = {}
        for key in queue:
            by_uri.setdefault(wanted[key].uri, []).append(key)
        transaction.on_commit(lambda: _enqueue(by_uri))
    return len(queue)


def _enqueue(by_uri: dict[str, list[str]]) -> None:
    from .tasks import generate_previews

    for uri, keys in by_uri.items():
        keys = sorted(keys)
        task_id = "previews-" + hashlib.sha256("|".join([uri, *keys]).encode()).hexdigest()[:40]
        try:
            generate_previews.apply_async(args=[uri, keys], task_id=task_id, retry=False)
        except Exception as exc:  # the broker is down: rows stay pending; "regenerate" queues them again
            logger.warning("could not queue previews for %s: %s", uri, exc)
            return


def view_rendition(request: PreviewRequest) -> MediaPreview:
    """The large rendition of one source for a viewer, rendered now in this process if it is not made yet.

    One frame on demand (the frame a user paused on), so no queue: a worker would add its own latency.
    Rendered by the workers' code path and kept as a MediaPreview like any preview, so the next view is a
    file read. A storage error that may pass is raised (TransientStorageError) and nothing is recorded.
    """
    row, _ = MediaPreview.objects.get_or_create(key=request.key, defaults={
        "kind": request.kind, "uri": request.uri, "media": request.media, "timestamp": request.timestamp,
        "page": request.page, "max_size": request.max_size,
    })
    if row.status == MediaPreview.PENDING:
        render_previews(uri=request.uri, keys=[row.key])
        row.refresh_from_db()
    return row


# -- rendering (called by the worker) -------------------------------------------------------------------


def render_previews(*, uri: str, keys: list[str], give_up: bool = False) -> None:
    """Render the pending rows of `keys` (all of one uri), reading the uri once.

    A storage error that may pass (timeout, 5xx) is raised for the task to retry, unless `give_up`, when it
    is recorded like a permanent one; a file that cannot be previewed is recorded with the reason.
    """
    rows = list(MediaPreview.objects.filter(key__in=keys, status=MediaPreview.PENDING).order_by("timestamp"))
    if not rows:
        return
    MediaPreview.objects.filter(pk__in=[r.pk for r in rows]).update(attempts=rows[0].attempts + 1)
    try:
        storage = storage_for_uri(uri)
        with storage.local_path(uri) as path:
            if rows[0].media == "video":
                _render_video(path, rows, index=_video_index(storage, uri, path))
            else:
                for row in rows:
                    _render_image(path, row)
    except TransientStorageError as exc:
        if not give_up:
            raise
        _fail(rows, f"could not read the source: {exc.reason}")
    except (PermanentStorageError, StorageError) as exc:
        _fail(rows, f"could not read the source: {exc.reason}")
    except media.PreviewError as exc:  # not a readable video at all: every frame of it fails the same way
        _fail(rows, exc.reason)


def _render_image(path: str, row: MediaPreview) -> None:
    try:
        if row.kind == MediaPreview.MASK:
            result = media.render_mask_png(path)
        else:
            result = media.render_image_preview(path, max_size=row.max_size, page=row.page)
    except media.PreviewError as exc:
        _fail([row], exc.reason)
        return
    _store(row, result)


def _video_index(storage, uri: str, path: str) -> media.VideoIndex:
    """The video's keyframe index: one demuxing pass per version of the file, cached for every later job
    (frames of one video arrive in several batches)."""
    fingerprint = storage.stat(uri).fingerprint
    key = "video-index:" + hashlib.sha256(f"{uri}|{fingerprint}".encode()).hexdigest() if fingerprint else None
    cached = cache.get(key) if key else None
    if cached:
        return media.VideoIndex.from_dict(cached)
    index = media.build_video_index(path)
    if key:
        cache.set(key, index.to_dict(), VIDEO_INDEX_SECONDS)
    return index


def _render_video(path: str, rows: list[MediaPreview], *, index: media.VideoIndex) -> None:
    masks = [r for r in rows if r.kind == MediaPreview.MASK]
    by_size: dict[int, dict[int, list[MediaPreview]]] = {}  # max_size -> timestamp -> rows (one pass per size)
    for row in rows:
        if row.kind == MediaPreview.SOURCE:
            by_size.setdefault(row.max_size, {}).setdefault(row.timestamp, []).append(row)
    for max_size, by_time in by_size.items():
        for timestamp, outcome in media.render_video_previews(path, sorted(by_time), max_size=max_size, index=index):
            for row in by_time.get(timestamp, []):
                _fail([row], outcome.reason) if isinstance(outcome, media.PreviewError) else _store(row, outcome)
    for row in masks:
        try:
            _store(row, media.render_mask_png(path, timestamp_ms=row.timestamp, index=index))
        except media.PreviewError as exc:
            _fail([row], exc.reason)


def preview_file_name(row: MediaPreview, extension: str) -> str:
    return f"previews/{row.key[:2]}/{row.key}{extension}"


def _store(row: MediaPreview, result: media.Preview) -> None:
    name = preview_file_name(row, result.extension)
    if default_storage.exists(name):  # a retried job overwrites its own file instead of adding another
        default_storage.delete(name)
    saved = default_storage.save(name, ContentFile(result.data))
    MediaPreview.objects.filter(pk=row.pk).update(
        status=MediaPreview.DONE, file=saved, content_type=result.content_type,
        width=result.width, height=result.height, error="",
    )


def _fail(rows: list[MediaPreview], reason: str) -> None:
    """Record the reason on the rows not yet rendered (a pass that fails midway keeps what it made)."""
    MediaPreview.objects.filter(pk__in=[r.pk for r in rows], status=MediaPreview.PENDING).update(
        status=MediaPreview.FAILED, error=reason[:2000]
    )


# -- showing previews in frames ------------------------------------------------------------------------------


def attach_previews(frames: list[dict]) -> list[dict]:
    """Give each source (and mask) its generated preview, or its preview status, in one query for all frames.

    Sources that came without width/height get the ones the worker measured.
    """
    requests = {}
    for frame in frames:
        for source in frame.get("sources", []):
            request = source_request(source)
            if request:
                requests[id(source)] = request
            for mask in source.get("masks") or []:
                requests[id(mask)] = mask_request(mask, source)
    if not requests:
        return frames
    rows = {r.key: r for r in MediaPreview.objects.filter(key__in={r.key for r in requests.values()})}
    for frame in frames:
        frame["sources"] = [_with_preview(source, requests, rows) for source in frame.get("sources", [])]
    return frames


def _with_preview(source: dict, requests: dict, rows: dict) -> dict:
    shown = _decorate(source, requests.get(id(source)), rows)
    if source.get("masks"):
        shown["masks"] = [_decorate(mask, requests.get(id(mask)), rows) for mask in source["masks"]]
    return shown


def _decorate(entry: dict, request: PreviewRequest | None, rows: dict) -> dict:
    if request is None:
        return entry
    row = rows.get(request.key)
    shown = dict(entry)
    if row is None or row.status == MediaPreview.PENDING:
        shown["preview_status"] = MediaPreview.PENDING
    elif row.status == MediaPreview.FAILED:
        shown["preview_status"] = MediaPreview.FAILED
        shown["preview_error"] = row.error
    else:
        shown["preview"] = {
            "uri": default_storage.url(row.file),
            "content_type": row.content_type,
            "timestamp": row.timestamp,
            "generated": True,
        }
        if request.kind == MediaPreview.SOURCE and shown.get("width") is None and row.width:
            shown["width"], shown["height"] = row.width, row.height
    return shown


def previews_progress(frames) -> dict:
    """done / failed / pending counts of the renditions these frames need."""
    keys = {r.key for frame in frames for r in frame_requests(frame)}
    counts = {MediaPreview.DONE: 0, MediaPreview.FAILED: 0, MediaPreview.PENDING: 0}
    found = 0
    key_list = list(keys)
    for start in range(0, len(key_list), 5000):
        for status, n in _status_counts(key_list[start : start + 5000]):
            counts[status] += n
            found += n
    counts[MediaPreview.PENDING] += len(keys) - found
    return {"total": len(keys), **counts}


def _status_counts(keys):
    from django.db.models import Count

    return MediaPreview.objects.filter(key__in=keys).values_list("status").annotate(n=Count("pk")).order_by()
