"""Which image the browser shows for a frame source, and why it shows a placeholder instead.

A source's `preview` (made by the preview workers, or given by the user as in ClearML) is what tiles show. A
preview at an http(s) or /media/ address is used as it is; any other address (s3://, gs://, azure://, file://)
goes through the media proxy (`viewer:source-media`), with a link signed for the frame's dataset
(frames.links). A source that has no preview and none on its way
(no `preview_status`) shows its original when a browser can display the format (JPEG, PNG, ...); otherwise
the tile says the preview is pending, or why it failed (`preview_status` / `preview_error`, which
`frames.previews.attach_previews` sets from the workers' records).
"""
from __future__ import annotations

from frames import links
from frames.selectors.previews import browser_can_show, is_video, source_page, view_link

FAILED_STATES = {"failed", "error"}
TIFF_EXTENSIONS = (".tif", ".tiff")


def _direct(uri: str) -> bool:
    return uri.startswith(("http://", "https://", "/media/"))


def _preview_uri(source: dict) -> str | None:
    preview = source.get("preview")
    uri = preview.get("uri") if isinstance(preview, dict) else None
    return uri if isinstance(uri, str) and uri else None


def preview_failed(source: dict) -> bool:
    return str(source.get("preview_status") or "").lower() in FAILED_STATES or bool(source.get("preview_error"))


def preview_pending(source: dict) -> bool:
    return str(source.get("preview_status") or "").lower() == "pending"


def tile_image_url(dataset_id: str, source: dict) -> str | None:
    """The URL of the image a tile shows for `source`, or None when a placeholder must be shown."""
    if not isinstance(source, dict):
        return None
    uri = _preview_uri(source)
    if uri:
        return uri if _direct(uri) else links.source_url(dataset_id, uri)
    if preview_failed(source):
        return browser_reachable_url(source)
    if preview_pending(source):
        return None
    return _original_url(dataset_id, source)


def browser_reachable_url(source: dict) -> str | None:
    """An http(s) original in a format the browser shows, for a source the server could not read: a browser
    often reaches hosts the server cannot (a VPN, an intranet, an address the operator's policy refuses), so it
    is shown from there, with why it has no preview (`preview_note`), rather than as a warning tile."""
    original = source.get("uri")
    if isinstance(original, str) and original.startswith(("http://", "https://")) and browser_can_show(source):
        return original
    return None


def preview_note(source: dict) -> str:
    """Why a source shown by the browser itself has no preview ("" when it has one or none was attempted)."""
    return placeholder_reason(source) if isinstance(source, dict) and preview_failed(source) else ""


def _original_url(dataset_id: str, source: dict) -> str | None:
    original = source.get("uri")
    if isinstance(original, str) and original and browser_can_show(source):
        return original if original.startswith(("http://", "https://")) else links.source_url(dataset_id, original)
    return None


def original_image_url(dataset_id: str, source: dict) -> str | None:
    """The large image for the frame page and the film strip: the original when a browser can show it, else
    a large rendition a worker makes on first view (a video frame, a TIFF page), else the user's own preview."""
    if not isinstance(source, dict):
        return None
    if preview_failed(source):  # the server could not read or decode it: a worker's rendition would fail too
        return browser_reachable_url(source)
    original = _original_url(dataset_id, source)
    if original:
        return original
    if isinstance(source.get("uri"), str) and source["uri"]:
        link = view_link(dataset_id, source)
        if link is not None:
            return links.view_url(link)
    return tile_image_url(dataset_id, source)


def placeholder_reason(source: dict) -> str:
    """Why a source shows no image: the worker's error, or that its preview is not made yet."""
    if not isinstance(source, dict):
        return "no source"
    if preview_failed(source):
        error = str(source.get("preview_error") or "").strip()
        return f"preview failed: {error}" if error else "preview failed"
    return "preview pending"


def source_image(dataset_id: str, source: dict, *, full: bool = False) -> dict:
    """What a template needs for one source: id, url (or None) and the placeholder reason."""
    url = original_image_url(dataset_id, source) if full else tile_image_url(dataset_id, source)
    return {
        "id": source.get("id", "default") if isinstance(source, dict) else "",
        "url": url,
        "reason": "" if url else placeholder_reason(source),
        "note": preview_note(source) if url else "",
        "width": source.get("width") if isinstance(source, dict) else None,
        "height": source.get("height") if isinstance(source, dict) else None,
        "content_type": source.get("content_type", "") if isinstance(source, dict) else "",
    }


def video_media(dataset_id: str, source: dict) -> dict | None:
    """A video source as the frame page plays it: its original (the media proxy answers byte ranges, so the
    player can seek) and where the frame is in it (`start`, seconds: the source's timestamp); None otherwise."""
    uri = source.get("uri") if isinstance(source, dict) else None
    if not isinstance(uri, str) or not uri or not is_video(source):
        return None
    url = uri if uri.startswith(("http://", "https://")) else links.source_url(dataset_id, uri)
    return {"url": url, "start": int(source.get("timestamp") or 0) / 1000}


def tiff_page(source: dict) -> int | None:
    """The page a TIFF source shows (0 is the first; `meta.page`), None for other formats: a TIFF frame is
    labelled by its page, not by a timestamp."""
    if not isinstance(source, dict) or not isinstance(source.get("uri"), str):
        return None
    content_type = str(source.get("content_type") or "").lower()
    if content_type == "image/tiff" or source["uri"].lower().split("?")[0].endswith(TIFF_EXTENSIONS):
        return source_page(source)
    return None
