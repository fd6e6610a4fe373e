"""Previews as readers see them: which renditions a frame's sources need (pure), frames with their previews (or
preview status) and signed media links attached, and preview progress.

A browser cannot show TIFF or video, and a grid of 100 full-size photos is slow, so every source without a
preview of the user's own gets a tile-sized thumbnail (a video one per frame, at the source's timestamp), and
every mask a lossless PNG with its exact RGB values. One MediaPreview row per rendition, keyed by what it
renders (PreviewRequest.key), so the same source, timestamp and size never produce two jobs or two files.
Making them is frames.services.previews.
"""
from __future__ import annotations

import hashlib
import mimetypes
import time
from typing import NamedTuple

from django.conf import settings
from django.db.models import Count

from .. import links
from ..filters import frames_matching
from ..models import DatasetVersion, Job, MediaPreview
from .access import VIEWER, require
from .frames import frame_to_dict

VIDEO_EXTENSIONS = (".mp4", ".m4v", ".mov", ".webm", ".mkv", ".avi", ".mpg", ".mpeg", ".ts")
COUNT_CHUNK = 5000


class PreviewRequest(NamedTuple):
    """A rendition wanted (a tuple: an import makes one per source, 0.3 us instead of a dataclass's 1)."""

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
    """By the content type given, else a video extension, else the type the extension stands for."""
    uri = entry["uri"]
    path = uri.lower().split("?")[0]
    if path.endswith(VIDEO_EXTENSIONS):
        return True
    content_type = entry.get("content_type")
    if not content_type:
        if "?" not in uri and path.endswith(BROWSER_IMAGE_EXTENSIONS):
            return False  # what mimetypes would say, without its microsecond per source of an import
        content_type = mimetypes.guess_type(uri)[0]
    return (content_type or "").lower().startswith("video/")


# Formats every browser shows as they are: their originals go to the browser whole (up to a size, see pyramids).
BROWSER_IMAGE_TYPES = {
    "image/jpeg", "image/jpg", "image/png", "image/gif", "image/webp", "image/avif", "image/bmp", "image/svg+xml",
}
BROWSER_IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".avif", ".bmp", ".svg")


def browser_can_show(source: dict) -> bool:
    """Whether a browser displays the source's format itself (by its content type, else its extension)."""
    content_type = (source.get("content_type") or "").split(";")[0].strip().lower()
    if content_type:
        return content_type in BROWSER_IMAGE_TYPES
    return (source.get("uri") or "").lower().split("?")[0].endswith(BROWSER_IMAGE_EXTENSIONS)


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


def view_link(dataset_id: str, source: dict) -> links.ViewLink | None:
    """The large rendition (HYPERDATA_VIEW_SIZE) the viewer shows of a source a browser cannot display (a video
    frame at the source's timestamp, a TIFF page); None for a source with a preview of the user's own."""
    wanted = source_request(source, max_size=settings.HYPERDATA_VIEW_SIZE)
    if wanted is None:
        return None
    return links.ViewLink(dataset_id, wanted.uri, wanted.media, wanted.timestamp, wanted.page)


def view_request(link: links.ViewLink) -> PreviewRequest:
    return PreviewRequest(MediaPreview.SOURCE, link.uri, link.media, link.timestamp, link.page, settings.HYPERDATA_VIEW_SIZE)


# -- frames with their previews -------------------------------------------------------------------------------


def frames_to_dicts(revisions, *, user, version: DatasetVersion) -> list[dict]:
    """Frames as the API and the pages show them: ClearML JSON with the previews the workers made (or their
    status) attached, one query for all."""
    require(user, version, VIEWER)
    return attach_previews([frame_to_dict(r, version_id=version.id) for r in revisions])


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
        dataset_id = frame["dataset"]["id"]
        frame["sources"] = [_with_preview(source, requests, rows, dataset_id) for source in frame.get("sources", [])]
    return frames


def _with_preview(source: dict, requests: dict, rows: dict, dataset_id: str) -> dict:
    shown = _decorate(source, requests.get(id(source)), rows, dataset_id)
    if source.get("masks"):
        shown["masks"] = [_decorate(mask, requests.get(id(mask)), rows, dataset_id) for mask in source["masks"]]
    return shown


def _decorate(entry: dict, request: PreviewRequest | None, rows: dict, dataset_id: str) -> dict:
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
            "uri": links.preview_url(dataset_id, row.file),
            "content_type": row.content_type,
            "timestamp": row.timestamp,
            "generated": True,
        }
        if request.kind == MediaPreview.SOURCE and shown.get("width") is None and row.width:
            shown["width"], shown["height"] = row.width, row.height
    return shown


# -- progress -------------------------------------------------------------------------------------------------


def previews_count(*, user, version: DatasetVersion) -> dict:
    """done / failed / pending counts of the renditions the version's frames need, counted now (reads every
    frame's sources: about 45 s at a million frames)."""
    require(user, version, VIEWER)
    sources = frames_matching(version).values_list("sources", flat=True).iterator(chunk_size=2000)
    keys = list({r.key for frame_sources in sources for r in frame_requests({"sources": frame_sources})})
    counts = {MediaPreview.DONE: 0, MediaPreview.FAILED: 0, MediaPreview.PENDING: 0}
    found = 0
    for start in range(0, len(keys), COUNT_CHUNK):
        chunk = MediaPreview.objects.filter(key__in=keys[start : start + COUNT_CHUNK])
        for status, n in chunk.values_list("status").annotate(n=Count("pk")).order_by():
            counts[status] += n
            found += n
    counts[MediaPreview.PENDING] += len(keys) - found
    return {"total": len(keys), **counts}


def latest_previews_count(*, user, version: DatasetVersion) -> Job | None:
    """The newest finished count of the version's previews a worker made (kind previews_count), or None."""
    require(user, version, VIEWER)
    return Job.objects.filter(version=version, kind="previews_count", state=Job.DONE).order_by("-finished").first()


def rendition_wait(*, user, dataset, key: str, timeout: float, interval: float = 0.05) -> MediaPreview | None:
    """The rendition row `key` (of a source of `dataset`) once a worker has finished it (done or failed), or as
    it is when `timeout` runs out."""
    require(user, dataset, VIEWER)
    deadline = time.monotonic() + timeout
    while True:
        row = MediaPreview.objects.filter(key=key).first()
        if row is None or row.status != MediaPreview.PENDING or time.monotonic() >= deadline:
            return row
        time.sleep(interval)
