"""Mask PNGs for the viewer: every pixel's exact RGB value, at full size, losslessly.

The viewer maps each mask pixel's RGB value to a label (ClearML's ``mask_labels`` map), so one
changed value is a wrong label: no resizing (interpolation invents colours at edges), no JPEG,
and palette PNGs are expanded to the RGB values of their palette entries.
"""

from __future__ import annotations

import io
from typing import Optional

import numpy as np
import pyvips
from PIL import Image

from . import video, vips
from .common import PILLOW_FORMATS, PNG, PNG_COMPRESSION, Preview, PreviewError, Source
from .common import explain, raise_read_error, read_head, seekable, sniff_format
from .video import VideoIndex

_IMAGE_FORMATS = {"png", "tiff", "bmp", "gif", "webp", "jpeg"}


def render_mask_png(
    source: Source, *, timestamp_ms: Optional[int] = None, index: Optional[VideoIndex] = None
) -> Preview:
    """A lossless RGB(A) PNG of a mask image, or of a video mask's frame at ``timestamp_ms``.

    Image masks are recognised by their signature; anything else is read as a video, for which
    ``timestamp_ms`` is required. Pixels keep their exact values and the full size; a video
    mask's display rotation is applied as an exact quarter turn.
    """
    with seekable(source) as src:
        is_image = sniff_format(read_head(src)) in _IMAGE_FORMATS
        if is_image:
            return _image_mask(src)
    if timestamp_ms is None:
        raise PreviewError("this mask is a video: a timestamp is needed to pick its frame")
    return _video_mask(source, timestamp_ms, index)


def _image_mask(src) -> Preview:
    try:
        with Image.open(src, formats=PILLOW_FORMATS) as image:
            array = _exact_rgb(image)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise_read_error(src)  # a failed read is not a bad file: let the caller retry
        array = _exact_rgb_with_vips(src, exc)
    return _encode(array)


def _exact_rgb(image: Image.Image) -> np.ndarray:
    """Pixel values as uint8 RGB or RGBA; refuses what cannot be represented exactly."""
    mode = image.mode
    if mode in ("P", "PA"):
        # Palette entries are the mask's colours; keep transparency only if the file has some.
        has_alpha = mode == "PA" or "transparency" in image.info
        return np.asarray(image.convert("RGBA" if has_alpha else "RGB"))
    if mode in ("RGB", "RGBA"):
        return np.asarray(image)
    if mode in ("1", "L", "LA"):
        return np.asarray(image.convert("RGBA" if mode == "LA" else "RGB"))
    if mode.startswith("I") or mode == "F":
        return _gray_values(np.asarray(image))
    raise PreviewError(f"a {mode} mask cannot be turned into exact RGB values")


def _gray_values(values: np.ndarray) -> np.ndarray:
    # 16-bit masks usually hold class ids; they are exact in RGB only when they fit in a byte.
    if values.size and (values.min() < 0 or values.max() > 255 or not np.all(values == np.round(values))):
        raise PreviewError("the mask has values outside 0..255, which RGB cannot hold exactly")
    grey = values.astype(np.uint8)
    return np.repeat(grey[:, :, None], 3, axis=2)


def _exact_rgb_with_vips(src, pillow_error: BaseException) -> np.ndarray:
    """For the few mask files Pillow cannot open (5-sample TIFF, float TIFF)."""
    try:
        image = vips.load(src)
        values = image.numpy()
    except pyvips.Error:
        raise_read_error(src)
        raise PreviewError(f"cannot decode the mask image: {explain(pillow_error)}") from None
    if image.format != "uchar":
        if values.ndim != 2:
            raise PreviewError(f"a {image.format} {image.bands}-band mask cannot be turned into exact RGB values")
        return _gray_values(values)
    if values.ndim == 2:
        return np.repeat(values[:, :, None], 3, axis=2)
    return values[:, :, :4] if image.bands >= 4 and image.hasalpha() else values[:, :, :3]


def _video_mask(source: Source, timestamp_ms: int, index: Optional[VideoIndex]) -> Preview:
    for _, outcome in video.frames_at(source, [timestamp_ms], index=index):
        if isinstance(outcome, PreviewError):
            raise outcome
        # No scaling: only the pixel format changes (a lossless RGB codec converts exactly).
        rgb = outcome.frame.to_ndarray(format="rgba" if outcome.has_alpha else "rgb24")
        return _encode(outcome.transform.apply(rgb))
    raise AssertionError("unreachable: one timestamp always yields one outcome")


def _encode(array: np.ndarray) -> Preview:
    image = Image.fromarray(np.ascontiguousarray(array))
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=PNG_COMPRESSION)
    return Preview(buffer.getvalue(), PNG, image.width, image.height)
