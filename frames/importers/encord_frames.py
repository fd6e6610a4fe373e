"""The pieces every Encord data unit becomes: frame ids, sources, titles, and the state one import shares (URLs
seen for `skip_duplicate_urls`, the label rows not yet matched, the notes for the summary)."""
from __future__ import annotations

import hashlib
import mimetypes
import posixpath
from dataclasses import dataclass, field
from urllib.parse import unquote, urlparse

from .base import ImportSource, Problem, Record
from .encord_labels import LabelRow

DICOM = "application/dicom"
RESERVED_META = ("keyframes", "$encord")  # Encord's own keys inside clientMetadata, not the user's metadata


@dataclass
class ImportState:
    """What one import shares across its data units."""

    source: ImportSource
    skip_duplicates: bool = False
    seen_urls: set = field(default_factory=set)
    unmatched: dict[str, LabelRow] = field(default_factory=dict)  # label rows by data title, until a unit takes one
    notes: list[str] = field(default_factory=list)
    contexts: dict[str, int] = field(default_factory=dict)  # how often a context occurred (frame ids stay unique)

    def take_labels(self, *titles: str) -> LabelRow | None:
        for title in titles:
            if title and title in self.unmatched:
                return self.unmatched.pop(title)
        return None

    def seen(self, url: str | tuple, where: str, file: str) -> bool:
        """True when `skip_duplicate_urls` is on and `url` (a URL, or a group's tuple of URLs) came earlier in this
        import (noted); else records it (only while the flag is on: a million URLs are not kept for nothing)."""
        if not self.skip_duplicates:
            return False
        if url in self.seen_urls:
            shown = "the same images" if isinstance(url, tuple) else url
            self.notes.append(f"{file}: {where}: skipped, {shown} came earlier in this import (skip_duplicate_urls)")
            return True
        self.seen_urls.add(url)
        return False

    def occurrence(self, context: str) -> int:
        count = self.contexts.get(context, 0)
        self.contexts[context] = count + 1
        return count


def frame_id(context: str, timestamp: int, occurrence: int = 0) -> str:
    """A frame id that is the same each time the same file is imported (importing again replaces the frames)."""
    return hashlib.sha256(f"encord|{context}|{timestamp}|{occurrence}".encode()).hexdigest()[:32]


def title_of(url: str) -> str:
    """Encord's default title: the file name of the URL."""
    return unquote(posixpath.basename(urlparse(url).path.rstrip("/"))) or url


def content_type(url: str, given=None, default: str | None = None) -> str | None:
    if isinstance(given, str) and "/" in given:
        return given
    guessed = mimetypes.guess_type(urlparse(url).path)[0]
    if url.lower().split("?")[0].endswith((".dcm", ".dicom")):
        guessed = DICOM
    return guessed or default


def source(uri: str, *, id: str = "default", kind: str | None = None, width=None, height=None, timestamp=None) -> dict:
    entry = {"id": id, "uri": uri}
    if kind:
        entry["content_type"] = kind
    if isinstance(width, int) and isinstance(height, int):
        entry["width"], entry["height"] = width, height
    if timestamp is not None:
        entry["timestamp"] = timestamp
    return entry


def frame(*, context: str | None, timestamp: int, sources: list[dict], meta: dict, rois: list[dict], occurrence: int) -> dict:
    built = {"id": frame_id(context or sources[0]["uri"], timestamp, occurrence), "timestamp": timestamp,
             "meta": meta, "sources": sources, "rois": rois}
    if context:
        built["context_id"] = context
    return built


def client_metadata(item: dict, where: str, file: str, line: int | None) -> tuple[dict, dict, Problem | None]:
    """(the frame meta from `clientMetadata`, the `$encord.frame_metadata` per frame, a problem)."""
    value = item.get("clientMetadata", {})
    if not isinstance(value, dict):
        return {}, {}, Problem(file, f"{where}.clientMetadata", "expected an object (the data unit's custom metadata)", line)
    frames = (value.get("$encord") or {}).get("frame_metadata") if isinstance(value.get("$encord"), dict) else None
    if frames is not None and not isinstance(frames, dict):
        return {}, {}, Problem(file, f"{where}.clientMetadata.$encord.frame_metadata", "expected an object of frame numbers", line)
    meta = {k: v for k, v in value.items() if k not in RESERVED_META}
    return meta, frames or {}, None


def with_sources(rois: list[dict], source_id: str) -> list[dict]:
    """The ROIs of one source of a FrameGroup: their ids get the source's (an object labelled on several
    images of the group is one ROI per image; ROI ids stay unique in the frame)."""
    return [{**roi, "sources": [source_id], **({"id": f"{roi['id']}@{source_id}"} if roi.get("id") else {})} for roi in rois]


def record(built: dict, file: str, line: int | None) -> Record:
    return Record(frame=built, file=file, line=line)
