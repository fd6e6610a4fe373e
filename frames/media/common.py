"""Shared pieces of the media layer: the result type, the error type, and source handling.

A *source* is what the storage layer hands us: a filesystem path (``str`` / ``os.PathLike``) or a
binary file-like object. Local files are best passed as paths, because libvips and FFmpeg then read
only the bytes they need (a pyramid level, an index) instead of going through Python callbacks.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import tempfile
from dataclasses import dataclass
from typing import BinaryIO, Iterator, Union

Source = Union[str, "os.PathLike[str]", BinaryIO]

JPEG = "image/jpeg"
PNG = "image/png"

# Encoder settings shared by every renderer so all previews look alike.
JPEG_QUALITY = 85
# zlib level 6 is libpng's default; measured on 1080p masks it is within ~10% of level 1 in time
# and makes files 2-3x smaller, which matters more for a grid of 100 overlays.
PNG_COMPRESSION = 6

# Files larger than this are spooled to disk instead of memory when a caller hands us a stream
# that cannot seek (an HTTP body, say): decoders need random access.
_SPOOL_IN_MEMORY_MAX = 32 * 1024 * 1024


class PreviewError(Exception):
    """The media cannot be previewed; ``reason`` is a sentence a user can read.

    Raised for corrupt, truncated or unsupported files and for requests the file cannot satisfy
    (a page or timestamp it does not have). Callers record ``reason`` on the source and do not
    retry: the same bytes will fail the same way.
    """

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Preview:
    """An encoded, browser-readable rendition of a source.

    ``width`` and ``height`` describe the *source* (full resolution, as displayed: after
    orientation, rotation and pixel aspect ratio), not the preview, so a caller can record the
    dimensions of sources that arrived without them.
    """

    data: bytes
    content_type: str
    width: int
    height: int

    @property
    def extension(self) -> str:
        return ".png" if self.content_type == PNG else ".jpg"


def fit_within(width: int, height: int, max_size: int) -> tuple[int, int]:
    """Largest size with the same aspect that fits in ``max_size`` square; never enlarges."""
    if max_size < 1:
        raise ValueError(f"max_size must be a positive number of pixels, got {max_size!r}")
    longest = max(width, height)
    if longest <= max_size:
        return width, height
    scale = max_size / longest
    return max(1, round(width * scale)), max(1, round(height * scale))


def is_path(source: Source) -> bool:
    return isinstance(source, (str, os.PathLike))


def describe(source: Source) -> str:
    """A short name for messages: the file name, or the stream's name if it has one."""
    name = os.fspath(source) if is_path(source) else getattr(source, "name", None)
    return os.path.basename(name) if isinstance(name, str) and name else "<stream>"


@contextlib.contextmanager
def seekable(source: Source) -> Iterator[Union[str, BinaryIO]]:
    """Yield the path, or a seekable binary stream positioned at the start of the media.

    A non-seekable stream is copied into a spooled temporary file first, because every decoder
    here needs random access (TIFF IFDs, MP4 ``moov`` atoms at the end, seeking to keyframes).
    """
    if is_path(source):
        path = os.fspath(source)
        if not os.path.exists(path):
            raise PreviewError(f"file not found: {path}")
        yield path
        return
    stream: BinaryIO = source  # type: ignore[assignment]
    if _can_seek(stream):
        # Decoders treat offsets as absolute (TIFF IFD offsets, MP4 atoms): the whole stream
        # is the media, so start from byte 0 whatever the caller read before.
        stream.seek(0)
        yield stream
        return
    with tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY_MAX) as spool:
        shutil.copyfileobj(stream, spool, 1024 * 1024)
        spool.seek(0)
        yield spool  # type: ignore[misc]


def _can_seek(stream: BinaryIO) -> bool:
    try:
        return bool(stream.seekable()) and stream.tell() >= 0
    except (AttributeError, OSError, io.UnsupportedOperation):
        return False


def read_head(source: Union[str, BinaryIO], size: int = 32) -> bytes:
    """The first ``size`` bytes, without moving a stream's position."""
    if isinstance(source, str):
        with open(source, "rb") as fh:
            return fh.read(size)
    position = source.tell()
    try:
        return source.read(size)
    finally:
        source.seek(position)


def sniff_format(head: bytes) -> str | None:
    """Identify the container from its signature; file names and content types lie too often."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "tiff"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:2] == b"BM":
        return "bmp"
    if head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"mif1", b"msf1", b"avif", b"avis"):
        return "heif"
    return None
