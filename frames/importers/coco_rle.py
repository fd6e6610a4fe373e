"""COCO run-length encoded masks (`segmentation: {"counts": ..., "size": [height, width]}`): checked, and drawn
as a 1-bit PNG (white where the object is) for a source's `masks` entry.

Counts come as a list (uncompressed RLE) or as COCO's compressed string. Both are turned into a list of run
lengths here and checked to cover exactly height x width pixels (pycocotools' decoder trusts the counts and
would write past the image for a bad one), then drawn with numpy.
"""
from __future__ import annotations

import io

import numpy as np
from PIL import Image


class BadRle(ValueError):
    """An RLE that cannot be a mask of its size; the message says why."""


def string_counts(text: str) -> list[int]:
    """The run lengths of COCO's compressed counts string (pycocotools' rleFrString, in Python, checked)."""
    counts: list[int] = []
    position = 0
    while position < len(text):
        value, shift, more = 0, 0, True
        while more:
            if position >= len(text):
                raise BadRle("the compressed counts end in the middle of a number")
            code = ord(text[position]) - 48
            if not 0 <= code < 64:
                raise BadRle(f"character {text[position]!r} cannot appear in compressed counts")
            value |= (code & 0x1F) << (5 * shift)
            more = bool(code & 0x20)
            position += 1
            shift += 1
            if not more and code & 0x10:
                value |= -1 << (5 * shift)  # a negative delta
        if len(counts) > 2:
            value += counts[-2]  # runs after the first two are stored as differences
        if value < 0:
            raise BadRle("the compressed counts decode to a negative run length")
        counts.append(value)
    return counts


def rle_counts(segmentation: dict) -> tuple[np.ndarray, int, int]:
    """(run lengths, height, width) of an RLE segmentation, checked; BadRle when it is not a valid one."""
    size = segmentation.get("size")
    if not (isinstance(size, list) and len(size) == 2 and all(_is_count(v) for v in size)):
        raise BadRle("size must be [height, width], two whole numbers")
    height, width = size
    counts = segmentation.get("counts")
    if isinstance(counts, (bytes, str)):
        counts = string_counts(counts.decode("ascii") if isinstance(counts, bytes) else counts)
    elif not (isinstance(counts, list) and all(_is_count(v) for v in counts)):
        raise BadRle("counts must be a list of whole numbers (uncompressed RLE) or a string (compressed RLE)")
    if sum(counts) != height * width:
        raise BadRle(f"the runs cover {sum(counts)} pixels, not height x width = {height * width}")
    return np.asarray(counts, dtype=np.int64), height, width


def _is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def rle_png(counts: np.ndarray, height: int, width: int) -> bytes:
    """The mask of checked run lengths (alternately off and on, column by column, as COCO writes them) as a
    1-bit PNG: white (255, 255, 255 once decoded as RGB) where the object is."""
    runs = np.zeros(len(counts), dtype=bool)
    runs[1::2] = True
    pixels = np.repeat(runs, counts).reshape(width, height).T
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels)).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
