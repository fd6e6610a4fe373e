"""COCO run-length encoded masks (`segmentation: {"counts": ..., "size": [height, width]}`): checked, and drawn
as a 1-bit PNG (white where the object is) for a source's `masks` entry.

Counts come as a list (uncompressed RLE) or as COCO's compressed string. Both are turned into a list of run
lengths here and checked to cover exactly height x width pixels before pycocotools touches them: its decoder
trusts the counts and would write past the image for a bad one.
"""
from __future__ import annotations

import io

import numpy as np
from PIL import Image
from pycocotools import mask as coco_mask


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


def rle_counts(segmentation: dict) -> tuple[list[int], int, int]:
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
    return counts, height, width


def _is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def compressed(counts: list[int], height: int, width: int) -> dict:
    """pycocotools' compressed RLE ({"size", "counts": bytes}) of checked run lengths."""
    return coco_mask.frPyObjects({"counts": counts, "size": [height, width]}, height, width)


def rle_area(rle: dict) -> int:
    return int(coco_mask.area(rle))


def rle_png(rle: dict) -> bytes:
    """The mask as a 1-bit PNG: white (255, 255, 255 once decoded as RGB) where the object is."""
    pixels = coco_mask.decode(rle).astype(bool)
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels)).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def png_rle(data: bytes) -> dict:
    """The compressed RLE (counts as text, as COCO files hold it) of a mask image: every non-black pixel."""
    with Image.open(io.BytesIO(data)) as image:
        pixels = np.asarray(image.convert("L")) > 0
    rle = coco_mask.encode(np.asfortranarray(pixels.astype(np.uint8)))
    return {"size": [int(v) for v in rle["size"]], "counts": rle["counts"].decode("ascii")}
