"""DICOM slices: a PNG preview of one image of a DICOM file (Encord's `dicom_series` import, one file per slice).

A browser cannot show DICOM. pydicom reads the pixel data (uncompressed, RLE, and the transfer syntaxes its
installed decoders handle); the picture is what a radiologist's viewer shows first: the modality LUT (rescale
slope and intercept) and the file's own VOI window (WindowCenter/WindowWidth) when it has one, else the value
range stretched to 8 bits, MONOCHROME1 inverted so bone stays white. Grey stays lossless as PNG: JPEG's
artefacts are no friend of medical pictures. A multi-frame file (enhanced CT/MR, ultrasound clips) shows frame
`page`.
"""

from __future__ import annotations

import io

import numpy as np
import pydicom
from PIL import Image
from pydicom.errors import InvalidDicomError
from pydicom.pixels import apply_modality_lut, apply_voi_lut

from .common import PNG, PNG_COMPRESSION, Preview, PreviewError, Source, explain, fit_within, raise_read_error
from .common import seekable
from .scaling import stretch_to_uint8

DICOM_MAGIC_OFFSET = 128  # the preamble; "DICM" follows it (PS3.10 section 7.1)
HEAD_SIZE = DICOM_MAGIC_OFFSET + 4


def is_dicom(head: bytes) -> bool:
    """Whether the first HEAD_SIZE bytes are a DICOM file's (preamble, then "DICM")."""
    return head[DICOM_MAGIC_OFFSET:HEAD_SIZE] == b"DICM"


def render_dicom_preview(source: Source, *, max_size: int = 256, page: int = 0) -> Preview:
    """A PNG of frame `page` of the DICOM file, fitting in `max_size` square; width and height are the slice's."""
    fit_within(1, 1, max_size)
    with seekable(source) as src:
        try:
            dataset = pydicom.dcmread(src)
            pixels = _frame(dataset, page)
        except PreviewError:
            raise
        except (InvalidDicomError, AttributeError, KeyError, ValueError, NotImplementedError, RuntimeError, EOFError) as exc:
            raise_read_error(src)
            raise PreviewError(f"unreadable DICOM image: {explain(exc)}") from exc
        image = Image.fromarray(_displayed(dataset, pixels))
    height, width = pixels.shape[:2]
    image.thumbnail(fit_within(width, height, max_size), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=PNG_COMPRESSION)
    return Preview(buffer.getvalue(), PNG, width, height)


def _frame(dataset, page: int) -> np.ndarray:
    if "PixelData" not in dataset:
        raise PreviewError("the DICOM file holds no image (no pixel data)")
    frames = int(getattr(dataset, "NumberOfFrames", 1) or 1)
    if not 0 <= page < frames:
        raise PreviewError(f"frame {page} does not exist (the file has {frames}, numbered from 0)")
    pixels = dataset.pixel_array
    return pixels[page] if frames > 1 else pixels


def _displayed(dataset, pixels: np.ndarray) -> np.ndarray:
    """8-bit grey (or RGB) as a viewer shows the slice."""
    if getattr(dataset, "SamplesPerPixel", 1) != 1:
        return stretch_to_uint8(pixels, has_alpha=False, alpha_max=255) if pixels.dtype != np.uint8 else pixels
    values = apply_modality_lut(pixels, dataset)
    if "WindowCenter" in dataset and "WindowWidth" in dataset:
        values = apply_voi_lut(values, dataset, index=0)
    grey = stretch_to_uint8(np.asarray(values, dtype=np.float64), has_alpha=False, alpha_max=1)
    if getattr(dataset, "PhotometricInterpretation", "") == "MONOCHROME1":
        grey = 255 - grey
    return grey
