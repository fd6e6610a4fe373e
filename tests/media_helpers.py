"""Helpers for the media tests: the shared test data, media the tests make, independent decoders.

The reference decoders here are deliberately naive (decode everything from the start, pick frames
with their own arithmetic) so they share no code with ``frames.media``.
"""

from __future__ import annotations

import functools
import io
from fractions import Fraction
from pathlib import Path
from typing import Sequence

import av
import numpy as np
import pytest
from PIL import Image

TESTDATA = Path(__file__).resolve().parents[2] / "shared" / "testdata"


def media_testdata() -> Path:
    """``../shared/testdata`` beside the repository; fail loudly when it is missing."""
    if not (TESTDATA / "README.md").is_file():
        pytest.fail(
            f"media test data not found at {TESTDATA}: these tests read the shared files made by "
            "others (TIFFs, videos, masks); check out or mount the 'shared' folder beside the repo"
        )
    return TESTDATA


def pixels(preview_or_bytes) -> np.ndarray:
    """Decode a preview (or encoded bytes) to a numpy array as Pillow reads it."""
    data = getattr(preview_or_bytes, "data", preview_or_bytes)
    with Image.open(io.BytesIO(data)) as image:
        if image.mode in ("L", "LA", "RGB", "RGBA"):
            return np.asarray(image)
        return np.asarray(image.convert("RGB"))


def image_format(preview) -> str:
    with Image.open(io.BytesIO(preview.data)) as image:
        return image.format


def mean_diff(a: np.ndarray, b: np.ndarray) -> float:
    assert a.shape == b.shape, f"shapes differ: {a.shape} vs {b.shape}"
    return float(np.abs(a.astype(np.int32) - b.astype(np.int32)).mean())


def record_routes(monkeypatch) -> list[tuple[str, str]]:
    """Record, in order, each image decoder (route) that ``render_image_preview`` asked and whether it
    returned a picture ("ok") or raised ("failed"). A picture can still be turned down afterwards (a flat
    colour, a libvips warning): then the next route appears in the list too."""
    from frames.media import images

    used: list[tuple[str, str]] = []

    def recording(route):
        @functools.wraps(route)  # the renderer names decoders in its messages by their function names
        def wrapper(*args, **kwargs):
            try:
                result = route(*args, **kwargs)
            except Exception:
                used.append((route.__name__, "failed"))
                raise
            used.append((route.__name__, "ok"))
            return result

        return wrapper

    routes = {fmt: tuple(recording(r) for r in chain) for fmt, chain in images._ROUTES.items()}
    monkeypatch.setattr(images, "_ROUTES", routes)
    return used


def assert_fits(preview, max_size: int, source_size: tuple[int, int]) -> None:
    """Within ``max_size`` and the source's aspect ratio kept (to one pixel of rounding)."""
    with Image.open(io.BytesIO(preview.data)) as image:
        width, height = image.size
    sw, sh = source_size
    assert max(width, height) == min(max_size, max(sw, sh)), (image.size, source_size, max_size)
    if sw >= sh:
        assert abs(height - sh * width / sw) <= 1, (image.size, source_size)
    else:
        assert abs(width - sw * height / sh) <= 1, (image.size, source_size)


# --- videos made by the tests -----------------------------------------------------------------


_LEVELS = [8 + 16 * k for k in range(16)]  # 16 grey levels, far apart for any codec


def frame_picture(i: int, size: tuple[int, int]) -> np.ndarray:
    """Frame ``i`` as flat blocks that survive lossy codecs: left half ``i % 16``, right ``i // 16``."""
    width, height = size
    rgb = np.empty((height, width, 3), np.uint8)
    rgb[:, : width // 2] = _LEVELS[i % 16]
    rgb[:, width // 2 :] = _LEVELS[(i // 16) % 16]
    return rgb


def frame_number(array: np.ndarray) -> int:
    """Read back the number drawn by ``frame_picture`` (checked to be unambiguous)."""
    height, width = array.shape[:2]
    rows = slice(height // 4, 3 * height // 4)
    low = _level(array[rows, width // 8 : 3 * width // 8])
    high = _level(array[rows, 5 * width // 8 : 7 * width // 8])
    return high * 16 + low


def _level(block: np.ndarray) -> int:
    value = float(block.mean())
    k = int(np.argmin([abs(value - level) for level in _LEVELS]))
    assert abs(value - _LEVELS[k]) < 5, f"block level {value:.1f} is between two frame numbers"
    return k


def make_video(
    path: Path,
    *,
    frame_times_ms: Sequence[int],
    codec: str = "libx264",
    container: str | None = None,
    pix_fmt: str = "yuv420p",
    size: tuple[int, int] = (64, 48),
    gop: int = 12,
    options: dict | None = None,
    pictures: Sequence[np.ndarray] | None = None,
    rotation: int | None = None,
) -> Path:
    """Encode frames at exactly the given times (variable frame rate is just uneven times).

    Frame ``i`` shows ``frame_picture(i)`` unless ``pictures`` gives RGB (or RGBA) arrays. ``rotation`` sets
    the stream's display matrix (degrees counter-clockwise), as phones do.
    """
    opts = {"g": str(gop), "keyint_min": str(gop), "sc_threshold": "0"} if codec.startswith("libx264") else {}
    opts.update(options or {})
    with av.open(str(path), "w", format=container) as out:
        stream = out.add_stream(codec, rate=30, options=opts)
        stream.width, stream.height = size
        stream.pix_fmt = pix_fmt
        stream.codec_context.time_base = Fraction(1, 1000)
        stream.time_base = Fraction(1, 1000)
        if not codec.startswith("libx264"):
            stream.codec_context.gop_size = gop
        if rotation is not None:
            stream.set_display_rotation(rotation)
        for i, t in enumerate(frame_times_ms):
            rgb = pictures[i] if pictures is not None else frame_picture(i, size)
            layout = "rgba" if rgb.shape[2] == 4 else "rgb24"
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format=layout)
            frame.pts, frame.time_base = int(t), Fraction(1, 1000)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def naive_frame_at(path, timestamp_ms: int) -> tuple[int, np.ndarray]:
    """Decode from the very first frame; return (frame number, RGB) of the frame on screen at t.

    On screen at t: the last frame whose presentation time, truncated to whole milliseconds and
    counted from the first frame, is <= t.
    """
    chosen, number, first = None, -1, None
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for i, frame in enumerate(container.decode(stream)):
            seconds = Fraction(frame.pts) * stream.time_base
            first = seconds if first is None else first
            if int((seconds - first) * 1000) > timestamp_ms:
                break
            chosen, number = frame.to_ndarray(format="rgb24"), i
    assert chosen is not None, "no frame at or before the timestamp"
    return number, chosen


def resize_rgb(array: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return np.asarray(Image.fromarray(array).resize(size, Image.Resampling.BILINEAR))


class OneWayStream(io.RawIOBase):
    """An HTTP-body-like stream: readable, not seekable."""

    def __init__(self, data: bytes):
        self._inner = io.BytesIO(data)

    def readable(self):
        return True

    def readinto(self, buffer):
        chunk = self._inner.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)
