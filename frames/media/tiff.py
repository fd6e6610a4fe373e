"""TIFF structure: which IFD is which page, and which reduced-resolution levels each page has.

libvips numbers every IFD in the main chain as a "page", but real files mix two kinds of IFD:
document pages (a fax, a scan, a z-stack) and reduced-resolution copies of the page before them
(pyramid levels, GDAL overviews, a scanner's preview). Users mean the first kind when they say
"page 2"; a thumbnailer wants the second kind, because decoding a 9312x6560 G4 page to make a
256-pixel preview costs ~185 ms while its 2328x1640 reduced copy costs ~28 ms. Levels can also
live in SubIFDs (OME-TIFF, libvips ``subifd=True`` pyramids).

Only tags are read here (a few hundred bytes per IFD), never pixel data, so this is cheap even for
remote files.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import BinaryIO

from .common import PreviewError

_IMAGE_WIDTH, _IMAGE_LENGTH = 256, 257
_NEW_SUBFILE_TYPE, _ORIENTATION, _SUB_IFDS = 254, 274, 330
_WANTED = {_IMAGE_WIDTH, _IMAGE_LENGTH, _NEW_SUBFILE_TYPE, _ORIENTATION, _SUB_IFDS}

# NewSubfileType bits (TIFF 6.0 section 8).
_REDUCED = 0x1
_TRANSPARENCY_MASK = 0x4

# TIFF field types we need: SHORT, LONG, IFD, LONG8, IFD8 -> (struct code, byte size).
_TYPES = {3: ("H", 2), 4: ("I", 4), 13: ("I", 4), 16: ("Q", 8), 18: ("Q", 8)}

# Guards against hostile files: an IFD chain that loops or never ends.
_MAX_IFDS = 4096
_MAX_SUBIFDS = 64

# A reduced copy must keep the page's aspect ratio (within this tolerance) to count as a level;
# whole-slide files also mark label and macro photos as "reduced", and those are other pictures.
_ASPECT_TOLERANCE = 0.02


# Bytes per value of each TIFF field type (TIFF 6.0 and BigTIFF).
TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8, 17: 8, 18: 8}


@dataclass(frozen=True)
class RawEntry:
    """One IFD entry as stored: tag, field type, value count and the value's bytes."""

    tag: int
    ftype: int
    count: int
    data: bytes


@dataclass(frozen=True)
class Level:
    """One stored resolution of a page, with the libvips load options that select it."""

    width: int
    height: int
    ifd: int  # index in the main IFD chain (libvips "page")
    subifd: int = -1  # index in that IFD's SubIFDs, or -1 for the IFD itself

    @property
    def load_options(self) -> dict:
        return {"page": self.ifd} if self.subifd < 0 else {"page": self.ifd, "subifd": self.subifd}


@dataclass
class Page:
    """A document page: its full-resolution level first, then smaller copies of it."""

    orientation: int
    levels: list[Level] = field(default_factory=list)

    @property
    def full(self) -> Level:
        return self.levels[0]

    def smallest_level_covering(self, width: int, height: int) -> Level:
        """The cheapest level that still has at least ``width`` x ``height`` pixels."""
        covering = [lv for lv in self.levels if lv.width >= width and lv.height >= height]
        return min(covering, key=lambda lv: lv.width * lv.height) if covering else self.full


def read_pages(fp: BinaryIO) -> list[Page]:
    """Group the IFDs of a TIFF/BigTIFF into document pages with their reduced levels."""
    reader = IfdReader(fp)
    pages: list[Page] = []
    for number, ifd in enumerate(reader.chain()):
        kind = ifd.get(_NEW_SUBFILE_TYPE, 0)
        if kind & _TRANSPARENCY_MASK or not ifd.get(_IMAGE_WIDTH) or not ifd.get(_IMAGE_LENGTH):
            continue
        level = Level(ifd[_IMAGE_WIDTH], ifd[_IMAGE_LENGTH], number)
        if kind & _REDUCED and pages and _same_aspect(pages[-1].full, level):
            pages[-1].levels.append(level)
            continue
        if kind & _REDUCED and pages:
            continue  # a label/macro/thumbnail picture, not part of any page
        page = Page(orientation=ifd.get(_ORIENTATION, 1), levels=[level])
        for k, sub in enumerate(reader.sub_ifds(ifd.get(_SUB_IFDS, ()))):
            sub_level = Level(sub.get(_IMAGE_WIDTH, 0), sub.get(_IMAGE_LENGTH, 0), number, k)
            if sub_level.width and sub_level.height and _same_aspect(level, sub_level):
                page.levels.append(sub_level)
        pages.append(page)
    if not pages:
        raise PreviewError("the TIFF file contains no image")
    return pages


def _same_aspect(full: Level, reduced: Level) -> bool:
    ratio, reduced_ratio = full.width / full.height, reduced.width / reduced.height
    # Small levels are rounded to whole pixels (75x62 from 300x250), so allow one pixel of slack.
    slack = _ASPECT_TOLERANCE * ratio + 1 / reduced.height
    return abs(ratio - reduced_ratio) <= slack


class IfdReader:
    """Minimal reader of TIFF and BigTIFF IFDs: the tags in ``_WANTED`` (``chain``), or every entry of one IFD
    (``entries``)."""

    def __init__(self, fp: BinaryIO):
        self.fp = fp
        head = self._read(0, 16)
        order = {b"II": "<", b"MM": ">"}.get(head[:2])
        if order is None or len(head) < 8:
            raise PreviewError("not a TIFF file (bad byte-order mark)")
        self.order = order
        version = struct.unpack(order + "H", head[2:4])[0]
        if version == 42:
            self.big = False
            self.first = struct.unpack(order + "I", head[4:8])[0]
        elif version == 43:
            self.big = True
            self.first = struct.unpack(order + "Q", head[8:16])[0]
        else:
            raise PreviewError(f"not a TIFF file (version {version})")

    def chain(self):
        for offset in self.offsets():
            yield self._ifd(offset)[0]

    def offsets(self):
        """Where each IFD of the main chain starts."""
        offset, seen = self.first, set()
        while offset and offset not in seen and len(seen) < _MAX_IFDS:
            seen.add(offset)
            yield offset
            offset = self._ifd(offset)[1]

    def entries(self, offset: int) -> list[RawEntry]:
        """Every entry of the IFD at `offset`, with its value's bytes (read from where it points if needed)."""
        count_fmt, entry_size, count_size = ("Q", 20, 8) if self.big else ("H", 12, 2)
        count = struct.unpack(self.order + count_fmt, self._read(offset, count_size))[0]
        if count > 10000:
            raise PreviewError("corrupt TIFF: implausible number of tags in an IFD")
        body = self._read(offset + count_size, count * entry_size)
        head_fmt, inline_size, pointer_fmt = ("HHQ", 8, "Q") if self.big else ("HHI", 4, "I")
        entries = []
        for i in range(count):
            entry = body[i * entry_size:(i + 1) * entry_size]
            if len(entry) < entry_size:
                raise PreviewError("truncated TIFF: an IFD is cut short")
            tag, ftype, n = struct.unpack(self.order + head_fmt, entry[: entry_size - inline_size])
            size = TYPE_SIZES.get(ftype, 1) * n
            inline = entry[entry_size - inline_size:]
            if size <= inline_size:
                data = inline[:size]
            else:
                data = self._read(struct.unpack(self.order + pointer_fmt, inline)[0], size)
                if len(data) < size:
                    raise PreviewError("truncated TIFF: a tag's value points past the end of the file")
            entries.append(RawEntry(tag, ftype, n, data))
        return entries

    def sub_ifds(self, offsets) -> list[dict]:
        if isinstance(offsets, int):
            offsets = (offsets,)
        return [self._ifd(off)[0] for off in list(offsets)[:_MAX_SUBIFDS]]

    def _ifd(self, offset: int) -> tuple[dict, int]:
        count_fmt, entry_size, count_size = ("Q", 20, 8) if self.big else ("H", 12, 2)
        raw_count = self._read(offset, count_size)
        if len(raw_count) < count_size:
            raise PreviewError("truncated TIFF: an IFD points past the end of the file")
        count = struct.unpack(self.order + count_fmt, raw_count)[0]
        if count > 10000:
            raise PreviewError("corrupt TIFF: implausible number of tags in an IFD")
        body = self._read(offset + count_size, count * entry_size + (8 if self.big else 4))
        tags = {}
        for i in range(count):
            entry = body[i * entry_size:(i + 1) * entry_size]
            if len(entry) < entry_size:
                raise PreviewError("truncated TIFF: an IFD is cut short")
            tag = struct.unpack(self.order + "H", entry[:2])[0]
            if tag in _WANTED:
                value = self._value(entry)
                if value is not None:
                    tags[tag] = value
        tail = body[count * entry_size:]
        next_fmt = "Q" if self.big else "I"
        next_offset = struct.unpack(self.order + next_fmt, tail)[0] if len(tail) == struct.calcsize(next_fmt) else 0
        return tags, next_offset

    def _value(self, entry: bytes):
        """Decode one entry's value(s); a single value becomes an int, several a tuple."""
        if self.big:
            ftype, n = struct.unpack(self.order + "HQ", entry[2:12])
            inline, inline_size = entry[12:20], 8
        else:
            ftype, n = struct.unpack(self.order + "HI", entry[2:8])
            inline, inline_size = entry[8:12], 4
        if ftype not in _TYPES or n == 0 or n > _MAX_SUBIFDS:
            return None
        code, size = _TYPES[ftype]
        if n * size <= inline_size:
            data = inline[: n * size]
        else:
            pointer = struct.unpack(self.order + ("Q" if self.big else "I"), inline)[0]
            data = self._read(pointer, n * size)
            if len(data) < n * size:
                return None
        values = struct.unpack(self.order + code * n, data)
        return values[0] if n == 1 else values

    def _read(self, offset: int, size: int) -> bytes:
        self.fp.seek(offset)
        return self.fp.read(size)

