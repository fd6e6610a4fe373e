"""One TIFF level decoded by tifffile with imagecodecs: the decoder of last resort for TIFF compressions.

The libvips of pyvips-binary has no ZSTD, LZMA, JPEG 2000, JPEG XL, JPEG XR, LERC or PNG-in-TIFF (it renders
such tiles black), and Pillow's libtiff has only ZSTD and LZMA of those; imagecodecs has them all.
tifffile gives the samples as stored, so this module says what they mean (photometric interpretation,
palette, alpha, planar layout, ICC profile) and hands libvips an image that it shrinks like any other level.
Orientation is left to the caller, as for the libvips route.
"""

from __future__ import annotations

import struct
from typing import BinaryIO, Union

import numpy as np
import pyvips
from PIL import Image

from .tiff import Level

# Photometric interpretations (TIFF tag 262) rendered here, with their colour sample counts. The others
# (CIELab, ICCLab, LogLuv, CFA...) are refused: Pillow, tried before, reads 8-bit CIELab.
_MIN_IS_WHITE, _MIN_IS_BLACK, _RGB, _PALETTE, _SEPARATED, _YCBCR = 0, 1, 2, 3, 5, 6
_COLOUR_SAMPLES = {_MIN_IS_WHITE: 1, _MIN_IS_BLACK: 1, _PALETTE: 1, _RGB: 3, _YCBCR: 3, _SEPARATED: 4}
_INTERPRETATIONS = {1: "b-w", 3: "srgb", 4: "cmyk"}
_JPEG = 7  # the JPEG codec returns YCbCr already converted to RGB
_ASSOCIATED_ALPHA, _UNASSOCIATED_ALPHA = 1, 2  # ExtraSamples values

# Errors tifffile and imagecodecs raise for data they cannot decode (imagecodecs' codec errors are
# RuntimeErrors); reported as ValueError, which the renderer treats as this decoder's failure.
_TIFFFILE_ERRORS = (RuntimeError, NotImplementedError, KeyError, IndexError, struct.error)


def decode_level(src: Union[str, BinaryIO], level: Level) -> pyvips.Image:
    """The level's pixels as a libvips image: 1 (grey), 3 (sRGB) or 4 (CMYK) colour bands, perhaps alpha."""
    import tifffile  # on first use only: most workers never need it, and it brings imagecodecs along

    if not isinstance(src, str):
        src.seek(0)  # tifffile reads a stream as a TIFF starting where the stream is
    try:
        with tifffile.TiffFile(src) as tiff:
            page = tiff.pages[level.ifd]
            if level.subifd >= 0:
                page = tifffile.TiffPages(page)[level.subifd]
            _refuse_decompression_bombs(page)
            samples = _rows_columns_samples(page.asarray(), page.axes)
            return _as_vips_image(page, samples)
    except _TIFFFILE_ERRORS as exc:
        raise ValueError(f"tifffile: {exc or type(exc).__name__}") from None


def _refuse_decompression_bombs(page) -> None:
    # Pillow's limit, which an operator can change: tifffile decodes the whole level at once.
    limit = Image.MAX_IMAGE_PIXELS
    pixels = page.imagewidth * page.imagelength * page.imagedepth
    if limit is not None and pixels > 2 * limit:
        raise Image.DecompressionBombError(f"the level to decode has {pixels} pixels, more than {2 * limit}")


def _rows_columns_samples(samples: np.ndarray, axes: str) -> np.ndarray:
    """Samples as (height, width, samples) whatever the planar layout."""
    if axes == "YX":
        return samples[:, :, None]
    if axes == "YXS":
        return samples
    if axes == "SYX":  # planar-separate: one plane per sample
        return np.moveaxis(samples, 0, -1)
    raise ValueError(f"tifffile: a level with axes {axes} (depth or several images) is not a picture")


def _as_vips_image(page, samples: np.ndarray) -> pyvips.Image:
    photometric = int(page.photometric)
    if photometric not in _COLOUR_SAMPLES or (photometric == _YCBCR and page.compression != _JPEG):
        raise ValueError(f"tifffile: photometric interpretation {photometric} is not rendered here")
    colour = samples[:, :, : _COLOUR_SAMPLES[photometric]]
    if photometric == _PALETTE:
        colour = _palette_colours(page.colormap, colour[:, :, 0])
    else:
        colour = _full_range(colour, page.bitspersample, inverted=photometric == _MIN_IS_WHITE)
    alpha_kind = page.extrasamples[0] if page.extrasamples else None
    has_alpha = alpha_kind in (_ASSOCIATED_ALPHA, _UNASSOCIATED_ALPHA) and samples.shape[2] > colour.shape[2]
    if has_alpha:
        alpha = _full_range(samples[:, :, colour.shape[2] : colour.shape[2] + 1], page.bitspersample, inverted=False)
        colour = np.concatenate([colour, alpha.astype(colour.dtype)], axis=2)
    bands = 3 if photometric == _PALETTE else _COLOUR_SAMPLES[photometric]
    image = pyvips.Image.new_from_array(np.ascontiguousarray(colour), interpretation=_INTERPRETATIONS[bands])
    if has_alpha and alpha_kind == _ASSOCIATED_ALPHA:
        image = image.unpremultiply(max_alpha=_largest(colour.dtype)).cast(image.format)
    icc = page.iccprofile
    if icc:
        image = image.copy()
        image.set_type(pyvips.GValue.blob_type, "icc-profile-data", icc)
    return image


def _palette_colours(colormap: np.ndarray | None, indexes: np.ndarray) -> np.ndarray:
    if colormap is None:
        raise ValueError("tifffile: a palette image without a colour map")
    # TIFF colour maps are 16-bit; some writers put 8-bit values in them.
    table = colormap if colormap.max() < 256 else colormap >> 8
    return np.moveaxis(table.astype(np.uint8)[:, indexes], 0, -1)


def _full_range(values: np.ndarray, bits: int, *, inverted: bool) -> np.ndarray:
    """Bilevel and 2..7-bit samples spread over 0..255 (tifffile gives them as stored), min-is-white turned
    the right way; deeper samples are left for the renderer, which stretches them over their real range."""
    if values.dtype == bool:
        values, bits = values.astype(np.uint8), 1
    if values.dtype == np.uint8 and bits < 8:
        values = values * np.uint8(255 // (2**bits - 1))
    if not inverted:
        return values
    if values.dtype.kind == "f":
        return -values
    return _largest(values.dtype) - values if values.dtype.kind == "u" else -values


def _largest(dtype: np.dtype) -> float:
    return float(np.iinfo(dtype).max) if np.dtype(dtype).kind in "ui" else 1.0
