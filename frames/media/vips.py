"""libvips helpers: loading from a path or stream, shrinking, handing small images to Pillow, and libvips' log.

libvips reports through GLib's log, which pyvips forwards to the Python logger "pyvips" (``VIPS: ...`` records):
INFO for every step of every thumbnail, WARNING when a decode went wrong but carried on. Here

- every such record is lowered to DEBUG (``LibvipsLogFilter``): a worker logging at INFO would otherwise print
  several lines per preview;
- the warnings are first collected by ``warnings_caught()``, because a decode that warned may have produced a
  damaged or black picture without raising, and the caller then asks another decoder.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import threading
from typing import BinaryIO, Iterator, Optional, Union

import numpy as np
import pyvips
from PIL import Image

from .scaling import stretch_to_uint8

# libvips' operation cache would return the previous result for a path whose file has since been
# replaced, and a worker sees each file once anyway: keep it off (this is process-wide).
pyvips.cache_set_max(0)

LIBVIPS_LOGGER = logging.getLogger("pyvips")  # pyvips logs libvips' messages here; its own go to child loggers

# The warnings list of the decode running in this thread (see warnings_caught).
_thread_warnings: contextvars.ContextVar[Optional[list[str]]] = contextvars.ContextVar("libvips_warnings", default=None)
_open_warning_lists: list[list[str]] = []
_open_lists_lock = threading.Lock()


class LibvipsWarning(Exception):
    """libvips warned while decoding: the picture it returned may be damaged or blank."""

    def __init__(self, messages: list[str]):
        self.messages = messages
        super().__init__(f"libvips warned: {messages[0]}")


@contextlib.contextmanager
def warnings_caught() -> Iterator[list[str]]:
    """Collect the warnings libvips logs while the block runs (the ``VIPS: `` prefix removed).

    A warning logged from this thread is this block's. libvips also logs from its own worker threads, which
    carry no trace of who asked for the work: such a warning goes to every block open at the time. In a worker
    that renders one preview at a time that is exactly the right one; when several previews are decoded at once
    in threads, a warning of one can make another try its next decoder too (slower, never wrong).
    """
    # Warnings are collected by the filter of the "pyvips" logger, which sees only records its level lets
    # through: a worker started with `-l error` must not silence them.
    if not LIBVIPS_LOGGER.isEnabledFor(logging.WARNING):
        LIBVIPS_LOGGER.setLevel(logging.WARNING)
    caught: list[str] = []
    token = _thread_warnings.set(caught)
    with _open_lists_lock:
        _open_warning_lists.append(caught)
    try:
        yield caught
    finally:
        with _open_lists_lock:
            _open_warning_lists.remove(caught)
        _thread_warnings.reset(token)


def _note_warning(message: str) -> None:
    own = _thread_warnings.get()
    if own is not None:
        own.append(message)
        return
    with _open_lists_lock:
        for caught in _open_warning_lists:
            caught.append(message)


class LibvipsLogFilter(logging.Filter):
    """Notes libvips' warnings for ``warnings_caught``, then lowers every libvips record to DEBUG.

    Lowering the level is not enough on its own: the logger has already checked the original level, and a
    handler with no level of its own would print the record. So a lowered record goes on only where DEBUG is
    enabled for the "pyvips" logger, exactly as if libvips had logged it at DEBUG.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING:
            _note_warning(record.getMessage().removeprefix("VIPS: "))
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return LIBVIPS_LOGGER.isEnabledFor(logging.DEBUG)


def _install_log_filter() -> None:
    if not any(isinstance(existing, LibvipsLogFilter) for existing in LIBVIPS_LOGGER.filters):
        LIBVIPS_LOGGER.addFilter(LibvipsLogFilter())


_install_log_filter()

# Interpretations whose 8-bit conversion needs colour management (an ICC transform), which
# libvips' thumbnailer does properly; a value-range stretch would be meaningless for them.
_COLOUR_MANAGED = {"cmyk", "lab", "labs", "labq", "lch", "cmc", "xyz", "yxy", "hsv"}

# Largest alpha value per pixel format, to bring alpha to 0..255 without stretching it.
_ALPHA_MAX = {"uchar": 255, "char": 127, "ushort": 65535, "short": 32767, "uint": 2**32 - 1, "int": 2**31 - 1}


def load(src: Union[str, BinaryIO], **options) -> pyvips.Image:
    """Open lazily; ``fail_on="error"`` so corrupt data raises instead of rendering grey blocks."""
    options.setdefault("fail_on", "error")
    if isinstance(src, str):
        return pyvips.Image.new_from_file(src, **options)
    return pyvips.Image.new_from_source(stream_source(src), "", **options)


def thumbnail(src: Union[str, BinaryIO], width: int, height: int, *, page: int = 0) -> Image.Image:
    """libvips' thumbnailer, which shrinks while decoding (WebP, HEIF), to exactly this size.

    No rotation here: callers apply orientation themselves, the same way on every route.
    """
    options = {"height": height, "size": "force", "no_rotate": True, "fail_on": "error"}
    if isinstance(src, str):
        # thumbnail() takes load options only in the file name's [...] suffix.
        return to_pil(pyvips.Image.thumbnail(f"{src}[page={page}]" if page else src, width, **options))
    # thumbnail_source ignores its fail_on argument: the loader only sees the option string.
    load_options = f"page={page},fail_on=error" if page else "fail_on=error"
    source = stream_source(src)
    image = pyvips.Image.thumbnail_source(source, width, option_string=load_options, **options)
    # Evaluate while `source` is still referenced: unlike new_from_source, thumbnail_source does
    # not tie the source's lifetime to the image, and a collected source crashes the process.
    picture = to_pil(image)
    del source
    return picture


def stream_source(stream: BinaryIO) -> pyvips.Source:
    """A libvips source reading a Python stream, so only the bytes libvips asks for are read.

    Exceptions must not escape into libvips' C callbacks (they would only be printed): a failed
    read looks like the end of the data to libvips, and the stream (a ``TrackedStream``) keeps
    the exception for the caller to re-raise.
    """
    stream.seek(0)

    def read(size: int):
        try:
            return stream.read(size)
        except Exception:
            return None

    def seek(offset: int, whence: int) -> int:
        try:
            return stream.seek(offset, whence)
        except Exception:
            return -1

    source = pyvips.SourceCustom()
    source.on_read(read)
    source.on_seek(seek)
    return source


def shrink_to_pil(image: pyvips.Image, width: int, height: int) -> Image.Image:
    """Shrink to exactly ``width`` x ``height`` and return an 8-bit Pillow image (no orientation).

    8-bit and colour-managed images go through ``thumbnail_image`` (ICC import/export, CMYK to
    sRGB). Images with more than 8 bits (16-bit, 32-bit, float) are shrunk at their own depth and
    then stretched over their real value range: the usual ``>> 8`` makes 12-bit sensor data or
    an image whose values span 291..694 look black.
    """
    if image.format in ("complex", "dpcomplex"):
        raise ValueError("complex-valued pixels cannot be shown as an image")
    if image.format == "uchar" or image.interpretation in _COLOUR_MANAGED:
        return _thumbnail_8bit(image, width, height)
    small = image.resize(width / image.width, vscale=height / image.height)
    has_alpha = bool(small.hasalpha()) and small.bands in (2, 4)
    array = stretch_to_uint8(small.numpy(), has_alpha=has_alpha, alpha_max=_ALPHA_MAX.get(small.format, 1.0))
    return Image.fromarray(array)


def _thumbnail_8bit(image: pyvips.Image, width: int, height: int) -> Image.Image:
    options = {"height": height, "size": "force", "no_rotate": True}
    if "icc-profile-data" in image.get_fields():
        options["export_profile"] = "srgb"  # show wide-gamut and CMYK sources with true colours
    small = image.thumbnail_image(width, **options)
    return to_pil(small)


def browser_bands(image: pyvips.Image) -> pyvips.Image:
    """sRGB or grey, 8 bits, at most RGB plus alpha: what a browser image (JPEG, PNG) holds. Lazy, as vips is."""
    if image.interpretation not in ("srgb", "b-w"):
        image = image.colourspace("srgb" if image.bands >= 3 else "b-w")
    if image.format != "uchar":
        image = image.cast("uchar")
    if image.bands > 4 or (image.bands == 4 and not image.hasalpha()):
        image = image[:3]
    return image


def to_pil(image: pyvips.Image) -> Image.Image:
    """A small 8-bit vips image as a Pillow image in L, LA, RGB or RGBA."""
    array = browser_bands(image).numpy()
    return Image.fromarray(np.ascontiguousarray(array))
