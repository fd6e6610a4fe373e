"""Image thumbnails: one entry point, the fastest decoder per format, a fallback for odd files.

Routes, chosen by measurement (``bench/previews.py``) rather than taste:

- JPEG: Pillow with draft mode. libjpeg decodes straight at 1/2, 1/4 or 1/8 scale, so a
  4000x3000 photo is never decoded at full size; this beat libvips' shrink-on-load here.
- TIFF: libvips, after reading the IFDs ourselves to pick the document page and its smallest
  stored level (pyramid, overview, SubIFD) that still covers the preview size. A large compressed level (LZW,
  Deflate) is decoded in bands on the idle cores (``tiff_bands``): its decoding is most of the cost.
- PNG, WebP, GIF, HEIF/AVIF: libvips (WebP and HEIF shrink on load; 16-bit PNG keeps its depth).
- BMP and anything libvips cannot read: Pillow.

Every route falls back to the other library if its decoder fails (libvips has no old-style
JPEG-in-TIFF or 8-bit CIELab; Pillow cannot read 5-sample CMYK or float TIFFs), and TIFF then to
tifffile with imagecodecs (``tifffile_decoder``: JPEG 2000, JPEG XL, LERC... which neither has here).
When all fail the caller gets a ``PreviewError`` saying why.

A decoder can fail without raising: the libvips of pyvips-binary has no ZSTD or JPEG 2000 for TIFF and
decodes such tiles as black, at most logging a warning. So a decode during which libvips logged a warning
counts as failed, and a thumbnail of one flat colour is checked with the next decoder (see
``_first_believable_picture``); a thumbnail with any detail in it, the usual case, costs one extrema scan.
"""

from __future__ import annotations

import io
import os
import struct
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache, reduce
from typing import BinaryIO, Callable, Union

import numpy as np
import pyvips
from PIL import ExifTags, Image, ImageCms

from . import dicom, tifffile_decoder, vips
from .common import JPEG, JPEG_QUALITY, PILLOW_FORMATS, PNG, PNG_COMPRESSION, Preview, PreviewError, Source
from .common import explain, fit_within, raise_read_error, read_head, seekable, sniff_format
from .scaling import stretch_to_uint8
from .tiff import read_pages
from .tiff_bands import SplicedFile, row_bands

Opened = Union[str, BinaryIO]

# EXIF orientation -> the Pillow transpose that shows the picture upright (as ImageOps does).
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

_SRGB = ImageCms.createProfile("sRGB")

# Compressed TIFF levels of at least this many pixels are decoded in up to MAX_BANDS bands at once (tiff_bands.py).
BANDS_MIN_PIXELS = 4_000_000
MAX_BANDS = 4

# Decoder failures we turn into a fallback or a PreviewError. Anything else is a bug and propagates.
_DECODE_ERRORS = (
    pyvips.Error,
    vips.LibvipsWarning,
    OSError,
    ValueError,
    SyntaxError,
    EOFError,
    Image.DecompressionBombError,
)

Picture = tuple[Image.Image, int, int]  # a route's result: the thumbnail, and the source's displayed size


def render_image_preview(source: Source, *, max_size: int = 256, page: int = 0) -> Preview:
    """Render a thumbnail of an image that fits in ``max_size`` x ``max_size`` pixels.

    ``source`` is a path or a binary file-like object; ``page`` picks a page of a multi-page file
    (TIFF document pages; reduced-resolution copies are not pages). The result is JPEG, or PNG when
    the picture has transparency, shown upright (EXIF/TIFF orientation applied), and carries the
    source's full-resolution displayed width and height.
    """
    fit_within(1, 1, max_size)  # validates max_size before any I/O
    if page < 0:
        raise PreviewError(f"page {page} does not exist (pages are numbered from 0)")
    with seekable(source) as src:
        head = read_head(src, dicom.HEAD_SIZE)
        if dicom.is_dicom(head):  # a DICOM slice (Encord's dicom_series): pydicom's route, a lossless PNG
            return dicom.render_dicom_preview(src, max_size=max_size, page=page)
        fmt = sniff_format(head)
        image, width, height = _first_believable_picture(src, fmt, max_size=max_size, page=page)
        return encode(image, width=width, height=height)


def _first_believable_picture(src: Opened, fmt, *, max_size: int, page: int) -> Picture:
    """Ask the format's decoders in turn for a thumbnail; the first believable one is the preview.

    A decoder that raises, or during which libvips logged a warning, has failed. A thumbnail of one flat
    colour may be a decoder that read nothing (libvips' black for a codec it lacks): the next decoder that
    gives a picture has the last word, flat or not. A flat thumbnail from the last decoder is believed: there
    is no one left to ask (HEIF has one decoder). Raises PreviewError with every decoder's reason.
    """
    routes = _ROUTES.get(fmt, (_with_pillow,))
    errors: list[str] = []
    flat_seen = False
    for number, render in enumerate(routes, start=1):
        try:
            picture = _decode_without_warnings(render, src, fmt=fmt, max_size=max_size, page=page)
        except _DECODE_ERRORS as exc:
            raise_read_error(src)  # a failed read is not a bad file: let the caller retry
            errors.append(explain(exc))
            continue
        if not flat_seen and number < len(routes) and _is_flat(picture[0]):
            flat_seen = True
            errors.append(f"{_DECODER_NAMES.get(render.__name__, render.__name__)} gave one flat colour, "
                          "which no other decoder confirmed")
            continue
        return picture
    raise PreviewError(_failure_reason(fmt, errors))


def _decode_without_warnings(render: Callable[..., Picture], src: Opened, **options) -> Picture:
    with vips.warnings_caught() as warnings:
        picture = render(src, **options)
    if warnings:
        raise vips.LibvipsWarning(warnings)
    return picture


def _is_flat(image: Image.Image) -> bool:
    """Every pixel the same colour and alpha.

    Nine scattered pixels settle it for nearly every picture (a few microseconds); the full scan (about
    0.13 ms for a 256-pixel thumbnail) runs only when they all agree.
    """
    width, height = image.size
    probes = {image.getpixel((x, y)) for x in (0, width // 2, width - 1) for y in (0, height // 2, height - 1)}
    if len(probes) > 1:
        return False
    extrema = image.getextrema()
    per_band = extrema if len(image.getbands()) > 1 else (extrema,)
    return all(low == high for low, high in per_band)


def encode(image: Image.Image, *, width: int, height: int) -> Preview:
    """JPEG for opaque pictures, PNG when transparency must survive."""
    image = _drop_opaque_alpha(image)
    buffer = io.BytesIO()
    if image.mode in ("LA", "RGBA"):
        image.save(buffer, "PNG", compress_level=PNG_COMPRESSION)
        return Preview(buffer.getvalue(), PNG, width, height)
    image.save(buffer, "JPEG", quality=JPEG_QUALITY)
    return Preview(buffer.getvalue(), JPEG, width, height)


# --- routes -----------------------------------------------------------------------------------


def _tiff_with_vips(src: Opened, *, fmt, max_size: int, page: int):
    def decode(level, target):
        return _shrunk_in_bands(src, level, target) or vips.load(src, access="sequential", **level.load_options)

    return _tiff_level_shrunk(src, page, max_size, decode)


def _tiff_with_tifffile(src: Opened, *, fmt, max_size: int, page: int):
    """For TIFF compressions libvips and Pillow lack here (JPEG 2000, JPEG XL, LERC, JPEG XR, WebP...)."""
    return _tiff_level_shrunk(src, page, max_size, lambda level, target: tifffile_decoder.decode_level(src, level))


def _tiff_level_shrunk(src: Opened, page: int, max_size: int, decode: Callable[..., pyvips.Image]):
    """The page's smallest level that covers the preview, decoded by `decode(level, target)`, shrunk and upright."""
    chosen = _tiff_page(src, page)
    width, height = chosen.full.width, chosen.full.height
    target = fit_within(width, height, max_size)
    level = chosen.smallest_level_covering(*target)
    small = vips.shrink_to_pil(decode(level, target), *target)
    return _orient(small, chosen.orientation), *_displayed(width, height, chosen.orientation)


def _shrunk_in_bands(src: Opened, level, target: tuple[int, int]) -> pyvips.Image | None:
    """A large compressed TIFF level decoded in bands on the idle cores, each band box-shrunk by a whole factor
    (at most half the total, as libvips' thumbnailer does before its final resize); None to decode it in one
    pass (a stream, an uncompressed or small image, a reduced level in a SubIFD, no idle core)."""
    bands_wanted = _spare_cores()
    small = level.width * level.height < BANDS_MIN_PIXELS
    if not isinstance(src, str) or level.subifd >= 0 or small or bands_wanted < 2:
        return None
    max_shrink = int(min(level.width / target[0], level.height / target[1]) / 2)
    if max_shrink < 2:
        return None
    try:
        with open(src, "rb") as fh:
            split = row_bands(fh, level.ifd, count=bands_wanted, max_multiple=max_shrink)
    except (PreviewError, ValueError, struct.error):
        return None  # odd tags: the one-pass decoder is the judge of whether the file is readable
    if split is None:
        return None
    bands, shrink = split

    def decode(band):
        with SplicedFile(src, band) as stream:
            return vips.load(stream, access="sequential").shrink(shrink, shrink).copy_memory()

    parts = list(_band_pool().map(decode, bands))
    return reduce(lambda above, below: above.join(below, "vertical"), parts)  # arrayjoin would pad to equal cells


def _spare_cores() -> int:
    """Cores no other process is using (the 1-minute load average, less this process's own share): bands
    only pay off on idle cores, and cost ~4% more CPU, so a busy machine decodes in one pass."""
    load = os.getloadavg()[0]
    return min(MAX_BANDS, (os.cpu_count() or 1) - max(0, round(load) - 1))


@lru_cache(maxsize=1)
def _band_pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=MAX_BANDS, thread_name_prefix="tiff-band")


def _with_vips(src: Opened, *, fmt, max_size: int, page: int):
    header = vips.load(src)
    pages = header.get("n-pages") if "n-pages" in header.get_fields() else 1
    if page >= pages:
        raise PreviewError(f"page {page} does not exist: the {fmt.upper()} file has {pages} page(s)")
    orientation = header.get("orientation") if "orientation" in header.get_fields() else 1
    width, height = header.width, header.height
    target = fit_within(width, height, max_size)
    if header.format == "uchar":
        # thumbnail() shrinks while decoding where the format allows it (WebP, HEIF).
        small = vips.thumbnail(src, *target, page=page)
    else:
        paged = {"page": page} if page else {}  # only multi-page loaders know the option
        small = vips.shrink_to_pil(vips.load(src, access="sequential", **paged), *target)
    return _orient(small, orientation), *_displayed(width, height, orientation)


def _with_pillow(src: Opened, *, fmt, max_size: int, page: int):
    with _pillow_open(src) as image:
        _pillow_seek(image, page)
        orientation = image.getexif().get(ExifTags.Base.Orientation, 1)
        width, height = image.size
        target = fit_within(width, height, max_size)
        if image.format == "JPEG":
            image.draft(None, target)  # libjpeg decodes at 1/2..1/8 scale, still >= target
        small = _pillow_shrink(image, target)
    return _orient(small, orientation), *_displayed(width, height, orientation)


def _tiff_with_pillow(src: Opened, *, fmt, max_size: int, page: int):
    """For TIFFs libvips cannot read (old-style JPEG, 8-bit CIELab, tiled planar-separate)."""
    chosen = _tiff_page(src, page)
    target = fit_within(chosen.full.width, chosen.full.height, max_size)
    level = chosen.smallest_level_covering(*target)
    with _pillow_open(src) as image:
        _pillow_seek(image, level.ifd)
        # Pillow turns a TIFF upright while loading, using the loaded IFD's own Orientation tag;
        # reduced levels may lack the tag, and then the page's orientation is still to apply.
        applied = image.tag_v2.get(ExifTags.Base.Orientation, 1)
        small = _pillow_shrink(image, _displayed(*target, applied))
    remaining = chosen.orientation if applied == 1 else 1
    return _orient(small, remaining), *_displayed(chosen.full.width, chosen.full.height, chosen.orientation)


_ROUTES: dict[str | None, tuple[Callable, ...]] = {
    "jpeg": (_with_pillow, _with_vips),
    # tifffile last: Pillow already handles what libvips cannot among everyday TIFFs (old-style JPEG, 8-bit
    # CIELab, tiled planar overviews), and tifffile renders raw samples, without Pillow's colour handling.
    "tiff": (_tiff_with_vips, _tiff_with_pillow, _tiff_with_tifffile),
    "png": (_with_vips, _with_pillow),
    "webp": (_with_vips, _with_pillow),
    "gif": (_with_vips, _with_pillow),
    "heif": (_with_vips,),
    "bmp": (_with_pillow,),
}

_DECODER_NAMES = {
    "_with_vips": "libvips",
    "_tiff_with_vips": "libvips",
    "_with_pillow": "Pillow",
    "_tiff_with_pillow": "Pillow",
    "_tiff_with_tifffile": "tifffile",
}


# --- helpers ----------------------------------------------------------------------------------


def _tiff_page(src: Opened, page: int):
    if isinstance(src, str):
        with open(src, "rb") as fh:
            pages = read_pages(fh)
    else:
        pages = read_pages(src)
    if page >= len(pages):
        raise PreviewError(f"page {page} does not exist: the TIFF has {len(pages)} page(s)")
    return pages[page]


def _pillow_open(src: Opened) -> Image.Image:
    if not isinstance(src, str):
        src.seek(0)
    return Image.open(src, formats=PILLOW_FORMATS)


def _pillow_seek(image: Image.Image, frame: int) -> None:
    try:
        image.seek(frame)
    except EOFError:
        count = getattr(image, "n_frames", 1)
        raise PreviewError(f"page {frame} does not exist: the file has {count} page(s)") from None


def _pillow_shrink(image: Image.Image, target: tuple[int, int]) -> Image.Image:
    """Resize to ``target`` and convert to L, LA, RGB or RGBA with true colours."""
    icc = image.info.get("icc_profile")
    image = _pillow_8bit(image)
    # Bicubic, as Pillow's own thumbnail(): after draft mode the image is at most twice the
    # target, where Lanczos costs twice as much (4.3 vs 2.2 ms for 500x375) for no visible gain.
    image = image.resize(target, Image.Resampling.BICUBIC, reducing_gap=2.0)
    if icc and image.mode in ("RGB", "L", "CMYK"):
        image = _to_srgb(image, icc)
    if image.mode not in ("L", "LA", "RGB", "RGBA"):
        image = image.convert("RGBA" if "A" in image.mode else "RGB")
    return image


def _pillow_8bit(image: Image.Image) -> Image.Image:
    """Bring any Pillow mode to one that resizes well; high depths are stretched, not clipped."""
    mode = image.mode
    if mode in ("L", "LA", "RGB", "RGBA", "CMYK"):
        return image
    if mode == "1":
        return image.convert("L")
    if mode in ("P", "PA"):
        transparent = mode == "PA" or "transparency" in image.info
        return image.convert("RGBA" if transparent else "RGB")
    if mode == "LAB":
        return _lab_to_srgb(image)
    if mode.startswith("I") or mode == "F":
        return Image.fromarray(stretch_to_uint8(np.asarray(image), has_alpha=False, alpha_max=1))
    return image.convert("RGBA" if "A" in mode or "a" in mode else "RGB")


def _lab_to_srgb(image: Image.Image) -> Image.Image:
    # TIFF CIELab stores L* as 0..255 for 0..100 and a*, b* as signed bytes, which Pillow passes
    # through untouched; libvips does the CIELAB -> sRGB maths.
    raw = np.asarray(image)
    lab = np.empty(raw.shape, np.float32)
    lab[:, :, 0] = raw[:, :, 0] * (100.0 / 255.0)
    lab[:, :, 1:] = raw[:, :, 1:].view(np.int8)
    rgb = pyvips.Image.new_from_array(lab).copy(interpretation="lab").colourspace("srgb")
    return Image.fromarray(rgb.cast("uchar").numpy())


def _to_srgb(image: Image.Image, icc: bytes) -> Image.Image:
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        return ImageCms.profileToProfile(image, profile, _SRGB, outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError):
        return image  # a broken profile should not cost the user their preview


def _orient(image: Image.Image, orientation) -> Image.Image:
    transpose = _TRANSPOSE.get(orientation)
    return image.transpose(transpose) if transpose is not None else image


def _displayed(width: int, height: int, orientation) -> tuple[int, int]:
    return (height, width) if orientation in (5, 6, 7, 8) else (width, height)


def _drop_opaque_alpha(image: Image.Image) -> Image.Image:
    """An alpha channel that is opaque everywhere only makes the preview a bigger PNG."""
    if image.mode in ("LA", "RGBA") and image.getchannel("A").getextrema()[0] == 255:
        return image.convert(image.mode[:-1])
    return image


def _failure_reason(fmt, errors: list[str]) -> str:
    if fmt is None:
        return "not a supported image format (JPEG, PNG, TIFF, WebP, GIF, BMP, HEIF/AVIF and a few more)"
    detail = "; ".join(dict.fromkeys(errors)) or "no decoder available"
    return f"cannot decode this {fmt.upper()} file: {detail}"
