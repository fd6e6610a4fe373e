"""Large compressed TIFFs decoded on several cores at once, in horizontal bands.

A TIFF (LZW, Deflate, PackBits, JPEG...) is a run of independently compressed strips of rows, or tiles.
Decoding them is most of a thumbnail's cost (libtiff's LZW: ~170 ms for a 4000x3000 photo), and libvips and
Pillow decode one after another on one core. Here the strips (or rows of tiles) are split into bands, and each
band is read as a TIFF of its own: the original bytes, untouched, plus a new IFD appended after them that lists
only the band's strips or tiles. Every offset in the original IFD (EXIF, JPEG tables, strips) stays valid,
and the file is never copied: `SplicedFile` serves the new header, the original bytes and the new IFD as one
stream, so separate decoders work on the bands in parallel threads (libvips releases the GIL while decoding).
"""

from __future__ import annotations

import io
import os
import struct
from dataclasses import dataclass
from math import gcd
from typing import BinaryIO

from .tiff import IfdReader, RawEntry

_IMAGE_WIDTH, _IMAGE_LENGTH, _COMPRESSION, _STRIP_OFFSETS, _SAMPLES = 256, 257, 259, 273, 277
_ROWS_PER_STRIP, _STRIP_BYTE_COUNTS, _PLANAR = 278, 279, 284
_TILE_WIDTH, _TILE_LENGTH, _TILE_OFFSETS, _TILE_BYTE_COUNTS = 322, 323, 324, 325
_NOT_COPIED = {254, 330}  # NewSubfileType (a band is a plain image), SubIFDs (reduced levels: not ours to split)
_INT_CODES = {3: "H", 4: "I", 16: "Q"}


@dataclass(frozen=True)
class Band:
    """Rows [top, top + rows) of the image, readable as a TIFF: `header` replaces the file's first bytes and
    `tail` (the band's IFD) follows the file's bytes, from offset `tail_at`."""

    top: int
    rows: int
    header: bytes
    tail_at: int
    tail: bytes


def row_bands(fp: BinaryIO, ifd_number: int, *, count: int, max_multiple: int) -> tuple[list[Band], int] | None:
    """Split the image of IFD `ifd_number` (main chain) into about `count` bands of whole strips (or whole rows
    of tiles), each but the last a multiple of k rows, k chosen between max_multiple / 2 and max_multiple so the
    bands are as even as can be (the caller shrinks each band by k, so band edges fall between output rows).
    Returns (bands, k), or None when the image is not split that way (uncompressed, planar, too few rows of
    strips or tiles)."""
    reader = IfdReader(fp)
    offsets = list(reader.offsets())
    if ifd_number >= len(offsets):
        return None
    entries = reader.entries(offsets[ifd_number])
    tags = {entry.tag: entry for entry in entries}
    layout = _layout(tags, reader.order)
    if layout is None or _value(tags.get(_COMPRESSION), reader.order, 1) == 1:
        return None  # uncompressed: nothing to decode, and one pass reads the file fastest
    offsets_tag, counts_tag, rows_per_unit, per_unit = layout
    height = _value(tags[_IMAGE_LENGTH], reader.order)
    chunk_offsets, byte_counts = _values(tags[offsets_tag], reader.order), _values(tags[counts_tag], reader.order)
    units = -(-height // rows_per_unit)
    if len(chunk_offsets) != len(byte_counts) or len(chunk_offsets) != units * per_unit or units < 2 * count:
        return None
    multiples = range(max_multiple, max(1, max_multiple // 2) - 1, -1)
    choices = [(k, cuts) for k in multiples if (cuts := _cuts(units, rows_per_unit, count, k)) is not None]
    if not choices:
        return None
    k, cuts = min(choices, key=lambda choice: (max(b - a for a, b in zip(choice[1], choice[1][1:])), -choice[0]))
    fp.seek(0, io.SEEK_END)
    tail_at = _aligned(fp.tell())
    bands = []
    for first, last in zip(cuts, cuts[1:]):
        top = first * rows_per_unit
        rows = min(height, last * rows_per_unit) - top
        chunks = slice(first * per_unit, last * per_unit)
        changed = {
            _IMAGE_LENGTH: RawEntry(_IMAGE_LENGTH, 4, 1, struct.pack(reader.order + "I", rows)),
            offsets_tag: _ints(tags[offsets_tag], chunk_offsets[chunks], reader.order),
            counts_tag: _ints(tags[counts_tag], byte_counts[chunks], reader.order),
        }
        band_entries = [changed.get(e.tag, e) for e in entries if e.tag not in _NOT_COPIED]
        header, tail = _header(reader, tail_at), _ifd_bytes(band_entries, reader, tail_at)
        bands.append(Band(top, rows, header, tail_at, tail))
    return bands, k


def _layout(tags: dict, order: str) -> tuple[int, int, int, int] | None:
    """(offsets tag, byte counts tag, rows per unit, chunks per unit): a unit is a strip, or a row of tiles."""
    if _value(tags.get(_PLANAR), order, 1) != 1 and _value(tags.get(_SAMPLES), order, 1) > 1:
        return None  # planar-separate chunks hold one colour each: a band of them is not a band of rows
    if _IMAGE_LENGTH not in tags or _IMAGE_WIDTH not in tags:
        return None
    if _TILE_WIDTH in tags:
        if not {_TILE_LENGTH, _TILE_OFFSETS, _TILE_BYTE_COUNTS} <= set(tags):
            return None
        across = -(-_value(tags[_IMAGE_WIDTH], order) // max(1, _value(tags[_TILE_WIDTH], order)))
        return _TILE_OFFSETS, _TILE_BYTE_COUNTS, max(1, _value(tags[_TILE_LENGTH], order)), across
    if not {_STRIP_OFFSETS, _STRIP_BYTE_COUNTS} <= set(tags):
        return None
    rows_per_strip = _value(tags.get(_ROWS_PER_STRIP), order, 2**32 - 1)
    return _STRIP_OFFSETS, _STRIP_BYTE_COUNTS, max(1, min(rows_per_strip, _value(tags[_IMAGE_LENGTH], order))), 1


def _cuts(units: int, rows_per_unit: int, count: int, row_multiple: int) -> list[int] | None:
    """Unit indexes where bands start (and the end), evenly spread, each on a multiple of `row_multiple` rows."""
    step = row_multiple // gcd(rows_per_unit, row_multiple)  # units per multiple of row_multiple rows
    cuts = [0]
    for i in range(1, count):
        cut = round(units * i / count / step) * step
        if cuts[-1] < cut < units:
            cuts.append(cut)
    return cuts + [units] if len(cuts) > 1 else None


def _value(entry: RawEntry | None, order: str, default: int = 0) -> int:
    return _values(entry, order)[0] if entry is not None else default


def _values(entry: RawEntry, order: str) -> tuple[int, ...]:
    code = _INT_CODES.get(entry.ftype)
    if code is None:
        raise ValueError(f"TIFF tag {entry.tag} is not an integer field")
    return struct.unpack(order + code * entry.count, entry.data)


def _ints(like: RawEntry, values, order: str) -> RawEntry:
    data = struct.pack(order + _INT_CODES[like.ftype] * len(values), *values)
    return RawEntry(like.tag, like.ftype, len(values), data)


def _aligned(offset: int) -> int:
    return offset + (-offset % 8)


def _header(reader: IfdReader, ifd_at: int) -> bytes:
    if reader.big:
        return ("II" if reader.order == "<" else "MM").encode() + struct.pack(reader.order + "HHHQ", 43, 8, 0, ifd_at)
    return ("II" if reader.order == "<" else "MM").encode() + struct.pack(reader.order + "HI", 42, ifd_at)


def _ifd_bytes(entries: list[RawEntry], reader: IfdReader, at: int) -> bytes:
    """An IFD at file offset `at` (entries sorted by tag, as TIFF requires), its long values right after it."""
    entries = sorted(entries, key=lambda e: e.tag)
    if reader.big:
        count_fmt, head_fmt, inline_size, pointer_fmt, next_size = "Q", "HHQ", 8, "Q", 8
    else:
        count_fmt, head_fmt, inline_size, pointer_fmt, next_size = "H", "HHI", 4, "I", 4
    entry_size = struct.calcsize(reader.order + head_fmt) + inline_size  # with the byte order: no padding
    values_at = at + struct.calcsize(reader.order + count_fmt) + len(entries) * entry_size + next_size
    table, values = bytearray(struct.pack(reader.order + count_fmt, len(entries))), bytearray()
    for entry in entries:
        table += struct.pack(reader.order + head_fmt, entry.tag, entry.ftype, entry.count)
        if len(entry.data) <= inline_size:
            table += entry.data.ljust(inline_size, b"\0")
        else:
            table += struct.pack(reader.order + pointer_fmt, values_at + len(values))
            values += entry.data + b"\0" * (len(entry.data) % 2)  # values start on a word boundary
    table += b"\0" * next_size  # no next IFD: a band is a one-image file
    return bytes(table + values)


class SplicedFile(io.RawIOBase):
    """A band as one seekable stream: its header, then the original file's bytes (read with pread, so bands
    can be read at once from one file), zeros up to `tail_at`, then its IFD."""

    def __init__(self, path: str, band: Band):
        super().__init__()
        self._fd = os.open(path, os.O_RDONLY)
        self._size = os.fstat(self._fd).st_size
        self._band = band
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        end = self._band.tail_at + len(self._band.tail)
        self._pos = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: end}[whence] + offset
        return self._pos

    def tell(self) -> int:
        return self._pos

    def readinto(self, buffer) -> int:
        band, pos, want = self._band, self._pos, len(buffer)
        if pos < len(band.header):
            chunk = band.header[pos: pos + want]
        elif pos < self._size:
            chunk = os.pread(self._fd, min(want, self._size - pos), pos)
        elif pos < band.tail_at:
            chunk = b"\0" * min(want, band.tail_at - pos)
        else:
            chunk = band.tail[pos - band.tail_at: pos - band.tail_at + want]
        buffer[: len(chunk)] = chunk
        self._pos += len(chunk)
        return len(chunk)

    def close(self) -> None:
        if not self.closed:
            os.close(self._fd)
        super().close()
