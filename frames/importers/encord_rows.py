"""Frames made from Encord label rows alone (no import JSON names their data): each data unit's `data_link`
(resolved against the media root) is the source, its `width`/`height` the size, and the frames are the ones
the row labels: an image group is one FrameGroup (a source per image, ids "0", "1", ... by data_sequence), a
video gives a frame per labelled frame number (at frame / data_fps, in milliseconds), an image sequence or a
DICOM series a frame per labelled position, an image one frame."""
from __future__ import annotations

from collections.abc import Iterator

from . import encord_frames as parts
from . import encord_video as video
from .base import Item, Problem
from .encord_frames import ImportState
from .encord_labels import LabelRow, LabelUnit


def frames_of(row: LabelRow, state: ImportState) -> Iterator[Item]:
    if row.data_type == "img_group":
        yield _group(row, state)
    elif row.data_type == "video":
        yield from _video(row, state)
    elif row.data_type == "image":
        for unit in row.units:
            yield _image(row, unit, state)
    else:
        yield from _positions(row, state)


def _uri(unit: LabelUnit, state: ImportState) -> str:
    return state.source.resolve(unit.link or unit.title)


def _group(row: LabelRow, state: ImportState):
    sources, rois = [], []
    for unit in row.units:
        source_id = str(unit.sequence)
        sources.append(parts.source(_uri(unit, state), id=source_id, kind=parts.content_type(unit.title, unit.data_type),
                                    width=unit.width, height=unit.height))
        rois += parts.with_sources(unit.rois.get(0, []), source_id)
    built = parts.frame(context=row.title or sources[0]["uri"], timestamp=0, sources=sources, meta={}, rois=rois,
                        occurrence=state.occurrence(row.title))
    return parts.record(built, row.file, row.line)


def _video(row: LabelRow, state: ImportState) -> Iterator[Item]:
    unit = row.units[0]
    if unit.fps is None and set(unit.rois) - {0}:
        yield Problem(row.file, f"data_units.{unit.title or unit.link}.data_fps",
                      "a video's labelled frame numbers need its frame rate (data_fps)", row.line)
        return
    uri = _uri(unit, state)
    kind = parts.content_type(unit.title, unit.data_type, "video/mp4")
    occurrence = state.occurrence(uri)
    for number, rois in sorted(unit.rois.items()):
        ms = video.frame_ms(number, unit.fps) if number else 0
        source = parts.source(uri, kind=kind, width=unit.width, height=unit.height, timestamp=ms)
        built = parts.frame(context=uri, timestamp=ms, sources=[source], meta={}, rois=rois, occurrence=occurrence)
        yield parts.record(built, row.file, row.line)


def _image(row: LabelRow, unit: LabelUnit, state: ImportState):
    uri = _uri(unit, state)
    source = parts.source(uri, kind=parts.content_type(unit.title, unit.data_type), width=unit.width, height=unit.height)
    built = parts.frame(context=None, timestamp=0, sources=[source], meta={}, rois=unit.rois.get(0, []),
                        occurrence=state.occurrence(uri))
    return parts.record(built, row.file, row.line)


def _positions(row: LabelRow, state: ImportState) -> Iterator[Item]:
    """An image sequence or a DICOM series: one unit labelled per frame (the video Encord made, the series), or
    a unit per image or slice (its data_sequence the position); frames in the context of the row's title."""
    context = row.title or _uri(row.units[0], state)
    occurrence = state.occurrence(context)
    dicom = row.data_type.startswith("dicom")
    if len(row.units) == 1:
        unit = row.units[0]
        positions = [(unit, number, rois) for number, rois in sorted(unit.rois.items())] or [(unit, 0, [])]
    else:
        positions = [(unit, unit.sequence, unit.rois.get(0, [])) for unit in row.units]
    for unit, position, rois in positions:
        kind = parts.DICOM if dicom else parts.content_type(unit.title, unit.data_type)
        source = parts.source(_uri(unit, state), kind=kind, width=unit.width, height=unit.height)
        built = parts.frame(context=context, timestamp=position, sources=[source], meta={}, rois=rois, occurrence=occurrence)
        yield parts.record(built, row.file, row.line)
