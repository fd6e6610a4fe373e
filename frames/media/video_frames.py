"""Decoded video frames and how to show them: which decoder a stream needs, and the turn that shows a frame upright.

WebM keeps the alpha plane of a VP8/VP9 frame beside it (Matroska BlockAdditional) and marks such streams
``alpha_mode=1``. FFmpeg's own vp8/vp9 decoders ignore that plane; libvpx decodes it (frames come out
yuva420p), so those streams are decoded with libvpx.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Optional

import av
import numpy as np
from av.sidedata.sidedata import Type as SideDataType


@dataclass(frozen=True)
class DisplayTransform:
    """The quarter turns and flips that show a decoded picture upright, as FFmpeg's autorotate."""

    quarter_turns_ccw: int = 0
    flip_vertical: bool = False
    flip_horizontal: bool = False

    @property
    def swaps(self) -> bool:
        return self.quarter_turns_ccw % 2 == 1

    def apply(self, array: np.ndarray) -> np.ndarray:
        if self.flip_horizontal:
            array = array[:, ::-1]
        array = np.rot90(array, self.quarter_turns_ccw)
        if self.flip_vertical:
            array = array[::-1]
        return np.ascontiguousarray(array)


def display_transform(frame: av.VideoFrame) -> DisplayTransform:
    """Read the frame's display matrix the way ``ffmpeg`` (fftools) does for autorotation."""
    side = frame.side_data.get(SideDataType.DISPLAYMATRIX)
    if side is None:
        return DisplayTransform()
    matrix = struct.unpack("=9i", bytes(side)[:36])
    theta = (-frame.rotation) % 360  # clockwise degrees needed to show it upright
    if theta == 90:
        # ffmpeg: transpose=cclock_flip when the matrix also mirrors, else transpose=clock
        return DisplayTransform(1, flip_vertical=True) if matrix[3] > 0 else DisplayTransform(3)
    if theta == 270:
        # ffmpeg: transpose=clock_flip when mirrored, else transpose=cclock
        return DisplayTransform(3, flip_vertical=True) if matrix[3] < 0 else DisplayTransform(1)
    if theta == 180:
        return DisplayTransform(0, flip_vertical=matrix[4] < 0, flip_horizontal=matrix[0] < 0)
    return DisplayTransform(0, flip_vertical=matrix[4] < 0)


@dataclass(frozen=True)
class ShownFrame:
    """A decoded frame (full size, as stored) and the turn that shows it upright."""

    frame: av.VideoFrame
    transform: DisplayTransform

    @property
    def has_alpha(self) -> bool:
        return any(component.is_alpha for component in self.frame.format.components)


# FFmpeg's own decoders of these codecs drop the alpha plane that WebM stores beside each frame; libvpx's keep it.
_ALPHA_DECODERS = {"vp8": "libvpx", "vp9": "libvpx-vp9"}


class FrameDecoder:
    """Turns the video stream's packets into frames, with the turn that shows each one upright.

    Streams marked ``alpha_mode=1`` (WebM's VP8/VP9 with alpha) go to a libvpx decoder of our own, which also
    decodes the alpha plane (frames come out yuva420p). Its frames lack the container's display matrix: that
    reaches only the stream's own decoder, so the first keyframe is also decoded there once, to read it.
    """

    def __init__(self, stream):
        self.stream = stream
        self._libvpx = _libvpx_decoder(stream)
        self._stream_transform: Optional[DisplayTransform] = None

    def decode(self, packet) -> list[av.VideoFrame]:
        if self._libvpx is None:
            return packet.decode()
        if self._stream_transform is None and packet.is_keyframe:
            self._stream_transform = _transform_of_native_decode(self.stream, packet)
        return self._libvpx.decode(packet)

    def after_seek(self) -> None:
        """Forget frames of before the seek (the container flushes only the stream's own decoder)."""
        if self._libvpx is not None:
            self._libvpx.flush_buffers()

    def shown(self, frame: av.VideoFrame) -> ShownFrame:
        if self._libvpx is None:
            return ShownFrame(frame, display_transform(frame))
        return ShownFrame(frame, self._stream_transform or DisplayTransform())


def _libvpx_decoder(stream):
    name = _ALPHA_DECODERS.get(stream.codec_context.name)
    if name is None or stream.metadata.get("alpha_mode") != "1":
        return None
    decoder = av.CodecContext.create(name, "r")
    decoder.thread_count = 0  # as many threads as cores, as for the stream's own decoder
    return decoder


def _transform_of_native_decode(stream, keyframe_packet) -> DisplayTransform:
    native = stream.codec_context
    try:
        frames = native.decode(keyframe_packet) + native.decode(None)  # None drains frame threads
    except av.FFmpegError:
        frames = []
    native.flush_buffers()
    return display_transform(frames[0]) if frames else DisplayTransform()
