"""Deep Zoom pyramids of large images: the tiles the viewer pans and zooms through, so that neither the browser
nor the web process ever holds a gigapixel picture whole.

``make_pyramid(path, out_dir, page=0, sample_size=1280, report=None)`` writes libvips' ``dzsave`` layout into
``out_dir`` (``<Pyramid.tiles_dir>/<level>/<x>_<y>.<format>``, level 0 being 1x1 pixel and the last level the
full size, as OpenSeadragon's Deep Zoom tile sources number them) and returns a ``Pyramid`` describing it.

The picture is the one the previews and the large rendition show (frames.media.images): the same document page
of a TIFF (reduced-resolution copies are not pages), turned upright by its EXIF/TIFF orientation, 16-bit and
float samples stretched over their value range, CMYK and ICC-tagged images converted to sRGB, more than three
colour bands shown as the first three. Only libvips decodes here, reading the file once from top to bottom
(``access="sequential"``) in bounded memory; a file only Pillow or tifffile can read fails with a reason, and
the viewer keeps showing the large rendition.

No Django here: the worker hands in a local path and stores the tiles (frames.services.pyramids).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np
import pyvips

from . import vips
# The previews' own rules: which images are colour-managed rather than stretched, and each format's alpha scale.
from .vips import _ALPHA_MAX, _COLOUR_MANAGED
from .common import JPEG_QUALITY, PNG_COMPRESSION, PreviewError, describe, explain, fit_within, read_head, sniff_format
from .tiff import read_pages

# 510 px + 1 px overlap on each inner edge: 512 px images. OpenSeadragon takes any size from the tile source;
# Deep Zoom's usual 254 px quadruples the tiles. For a 20000 x 20000 image here dzsave took 5.0 s for 8,390
# tiles at 254 against 3.6 s for 2,150 at 510 (libvips pays per tile), and a full-screen view needs ~20
# requests to the tile endpoint instead of ~55.
TILE_SIZE = 510
OVERLAP = 1

_COMPLEX = ("complex", "dpcomplex")
_FLOAT = ("float", "double")
_PROGRESS_INTERVAL = 0.5  # seconds between two calls of `report`


@dataclass(frozen=True)
class Pyramid:
    """A Deep Zoom pyramid on disk: tile ``<tiles_dir>/<level>/<x>_<y>.<format>``; ``levels`` levels, 0..levels-1."""

    tiles_dir: str
    width: int
    height: int
    tile_size: int
    overlap: int
    format: str  # "jpeg" | "png"
    levels: int

    @property
    def max_level(self) -> int:
        return self.levels - 1


def make_pyramid(
    path: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    page: int = 0,
    sample_size: int = 1280,
    report: Optional[Callable[[int], None]] = None,
) -> Pyramid:
    """Write the Deep Zoom pyramid of the image at ``path`` (document ``page`` of a multi-page file) into
    ``out_dir``, an empty directory. JPEG tiles, or PNG when the picture has transparency.

    ``sample_size``: the long side of the shrunk copy that sets the stretch of high-bit-depth samples (the
    viewer's large rendition size, so both show the same contrast) and tells whether an alpha band is used.
    ``report(percent)`` is called from this thread every half second or so while the tiles are written; an
    exception it raises (a cancelled job) stops libvips and is raised again from here.
    Raises PreviewError with a readable reason for files that cannot be tiled; OSError when reading fails.
    """
    if page < 0:
        raise PreviewError(f"page {page} does not exist (pages are numbered from 0)")
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise PreviewError(f"file not found: {describe(path)}")
    fmt = sniff_format(read_head(path))
    try:
        with vips.warnings_caught() as warnings:
            image, orientation = _open_page(path, fmt, page)
            image = _displayable(image, lambda: _sample(path, fmt, page, sample_size))
            image = _upright(image, orientation)
            tile_format = "png" if image.hasalpha() else "jpeg"
            _save_tiles(image, os.path.join(os.fspath(out_dir), "pyramid"), tile_format, report)
    except pyvips.Error as exc:
        raise PreviewError(f"cannot make tiles of this {(fmt or 'image').upper()} file: {explain(exc)}") from exc
    if warnings:  # libvips carried on past a decoding problem: the tiles may be black or damaged
        raise PreviewError(f"libvips could not decode this {(fmt or 'image').upper()} file cleanly: {warnings[0]}")
    tiles_dir = os.path.join(os.fspath(out_dir), "pyramid_files")
    levels = sum(1 for name in os.listdir(tiles_dir) if name.isdigit())
    return Pyramid(tiles_dir, image.width, image.height, TILE_SIZE, OVERLAP, tile_format, levels)


# --- opening ----------------------------------------------------------------------------------------------


def _open_page(path: str, fmt: str | None, page: int) -> tuple[pyvips.Image, int]:
    """The page at full resolution, lazily, and its orientation (1 = upright).

    Turning an image (orientations 3 to 8, and 4's vertical flip) reads it out of order, so those open with
    random access, which libvips serves from the file (tiled TIFF) or from a decoded copy on disk.
    """
    if fmt == "tiff":
        with open(path, "rb") as fh:
            pages = read_pages(fh)
        if page >= len(pages):
            raise PreviewError(f"page {page} does not exist: the TIFF has {len(pages)} page(s)")
        chosen = pages[page]
        return vips.load(path, access=_access(chosen.orientation), **chosen.full.load_options), chosen.orientation
    header = vips.load(path)
    fields = header.get_fields()
    pages = header.get("n-pages") if "n-pages" in fields else 1
    if page >= pages:
        raise PreviewError(f"page {page} does not exist: the {(fmt or 'image').upper()} file has {pages} page(s)")
    orientation = header.get("orientation") if "orientation" in fields else 1
    paged = {"page": page} if page else {}  # only multi-page loaders know the option
    return vips.load(path, access=_access(orientation), **paged), orientation


def _access(orientation: int) -> str:
    return "sequential" if orientation in (1, 2) else "random"  # 2 mirrors each row: still top to bottom


def _sample(path: str, fmt: str | None, page: int, size: int) -> pyvips.Image:
    """A copy of the page shrunk to fit ``size`` (from a TIFF's smallest stored level that covers it), in memory,
    at the page's own depth: what the range of the stretch and the use of alpha are read from."""
    if fmt == "tiff":
        with open(path, "rb") as fh:
            chosen = read_pages(fh)[page]
        target = fit_within(chosen.full.width, chosen.full.height, size)
        level = chosen.smallest_level_covering(*target)
        image = vips.load(path, access="sequential", **level.load_options)
    else:
        image = vips.load(path, access="sequential", **({"page": page} if page else {}))
        target = fit_within(image.width, image.height, size)
    return image.resize(target[0] / image.width, vscale=target[1] / image.height).copy_memory()


def _upright(image: pyvips.Image, orientation: int) -> pyvips.Image:
    if orientation in (None, 1):
        return image
    turned = image.copy()
    turned.set_type(pyvips.GValue.gint_type, "orientation", int(orientation))
    return turned.autorot()  # the same turns as images._TRANSPOSE (checked against Pillow for all eight)


# --- pixels for a browser -------------------------------------------------------------------------------------


def _displayable(image: pyvips.Image, sample: Callable[[], pyvips.Image]) -> pyvips.Image:
    """8-bit L, LA, RGB or RGBA, with an alpha band only when some pixel is not opaque (as images.encode)."""
    if image.format in _COMPLEX:
        raise PreviewError("complex-valued pixels cannot be shown as an image")
    needs_sample = image.format != "uchar" and image.interpretation not in _COLOUR_MANAGED
    small = sample() if needs_sample or _has_alpha(image) else None
    if needs_sample:
        image = _stretched(image, small)
    else:
        image = vips.browser_bands(_to_srgb(image))
    if _has_alpha(image) and not _alpha_used(small):
        image = image[:-1]  # an alpha opaque everywhere only makes the tiles bigger PNGs
    return image


def _has_alpha(image: pyvips.Image) -> bool:
    return bool(image.hasalpha()) and image.bands in (2, 4)


def _alpha_used(small: Optional[pyvips.Image]) -> bool:
    """Whether the shrunk copy has a pixel that is not fully opaque. A transparent patch smaller than the shrink
    factor may average away: then the tiles are JPEG and that patch shows opaque."""
    if small is None or not _has_alpha(small):
        return False
    return small[small.bands - 1].min() < _ALPHA_MAX.get(small.format, 1.0)


def _to_srgb(image: pyvips.Image) -> pyvips.Image:
    """ICC-tagged and colour-managed images in sRGB, as the thumbnailer's export_profile="srgb" makes them."""
    if "icc-profile-data" in image.get_fields():
        return image.icc_transform("srgb", embedded=True)
    if image.interpretation == "cmyk":
        return image.icc_transform("srgb", input_profile="cmyk")  # libvips' own CMYK profile, as the thumbnailer
    return image


def _stretched(image: pyvips.Image, small: pyvips.Image) -> pyvips.Image:
    """High-bit-depth samples mapped from their [min, max] to 0..255, as scaling.stretch_to_uint8 maps the
    large rendition (the range read from the same shrunk size); NaN and infinities become 0."""
    has_alpha = _has_alpha(image)
    colour_bands = min(3, image.bands - 1 if has_alpha else image.bands)
    colour = image[:colour_bands] if colour_bands < image.bands else image
    low, high = _finite_range(small.numpy()[..., :colour_bands] if small.bands > 1 else small.numpy())
    if high is None or high <= low:
        # Nothing finite, or a constant image: no range to stretch; shown black or mid-grey like the rendition.
        level = 128 if high is not None and low > 0 else 0
        out = (colour * 0 + level).cast("uchar")
    else:
        scaled = (colour - low) * (255.0 / (high - low))
        if image.format in _FLOAT:
            scaled = (colour.abs() <= np.finfo(np.float64).max).ifthenelse(scaled, 0)  # false for NaN and infinities
        out = (scaled + 0.5).cast("uchar")  # cast clips to 0..255 and truncates: +0.5 rounds
    if has_alpha:
        alpha = image[image.bands - 1] * (255.0 / _ALPHA_MAX.get(image.format, 1.0)) + 0.5
        out = out.bandjoin(alpha.cast("uchar"))
    return out.copy(interpretation="srgb" if colour_bands >= 3 else "b-w")


def _finite_range(array: np.ndarray) -> tuple[float | None, float | None]:
    finite = np.isfinite(array.astype(np.float64))
    if not finite.any():
        return None, None
    values = array[finite]
    return float(values.min()), float(values.max())


# --- tiles ---------------------------------------------------------------------------------------------------


def _save_tiles(image: pyvips.Image, base: str, tile_format: str, report) -> None:
    """dzsave, calling ``report(percent)`` from libvips' progress signal (it fires on this thread). An exception
    must not escape into libvips' C callback: it is kept, libvips is told to stop, and it is raised here."""
    suffix = f".jpeg[Q={JPEG_QUALITY}]" if tile_format == "jpeg" else f".png[compression={PNG_COMPRESSION}]"
    stopped: list[BaseException] = []
    if report is not None:
        image = image.copy()  # the progress signal belongs to this image, not to a cached loader's
        image.set_progress(True)
        last = [0.0]

        def on_eval(target, progress):
            now = time.monotonic()
            if stopped or now - last[0] < _PROGRESS_INTERVAL:
                return
            last[0] = now
            try:
                report(int(progress.percent))
            except BaseException as exc:  # noqa: BLE001 -- handed back to the caller below
                stopped.append(exc)
                target.set_kill(True)

        image.signal_connect("eval", on_eval)
    try:
        image.dzsave(base, tile_size=TILE_SIZE, overlap=OVERLAP, depth="onepixel", layout="dz", suffix=suffix, keep=0)
    except pyvips.Error:
        if stopped:
            raise stopped[0] from None
        raise
    if stopped:
        raise stopped[0]
