"""Video frames at timestamps: a keyframe index, seeking, and one ordered pass for many frames.

Rules this module keeps, because each one has produced wrong previews elsewhere:

- Positions come from the stream's own presentation timestamps (``pts`` x ``time_base``), never
  from ``time x nominal frame rate``: variable-frame-rate phone videos would drift.
- The frame shown at time ``t`` is the last frame whose presentation time is at or before ``t``
  (the one on screen at ``t``). Frame timestamps are whole milliseconds in the data model, so a
  frame at 33.33 ms counts as "at 33 ms": the comparison is on the presentation time truncated
  to the millisecond. Time 0 is the stream's first frame (MP4 edit lists can make that pts > 0).
- Never decode from the start: seek to the last keyframe at or before ``t`` and decode forward.
- Many timestamps of one video are served by one ordered pass that emits each requested frame
  as it goes by, jumping ahead only when a keyframe lies between the current position and the
  next requested frame (then the jump skips decoding the gap). With 250-frame GOPs one seek per
  frame costs as much as decoding from the start every time.
- The display matrix (phone rotation, mirroring) and the pixel aspect ratio are applied.
- Transparency survives (VP8/VP9 WebM with alpha, see ``video_frames``): previews with transparency are PNGs,
  as for images.
"""

from __future__ import annotations

import bisect
import contextlib
from dataclasses import asdict, dataclass
from typing import Iterable, Iterator, Optional, Union

import av
from PIL import Image

from .common import Preview, PreviewError, Source, describe, explain, fit_within, raise_read_error, seekable
from .images import encode
from .video_frames import FrameDecoder, ShownFrame

Outcome = Union[Preview, PreviewError]


@dataclass(frozen=True)
class VideoIndex:
    """Where the keyframes of a video stream are; computed once by demuxing, then reusable.

    Plain data (``to_dict``/``from_dict`` give JSON-ready dicts) so a caller can cache it next
    to the source and hand it back for every later frame of the same video.
    """

    stream_index: int
    time_base: tuple[int, int]  # numerator, denominator of one pts unit in seconds
    start_pts: int  # presentation time of the first frame: the video's time 0
    end_pts: int  # presentation time just after the last frame
    keyframes: tuple[int, ...]  # pts of every keyframe, ascending
    # Where to seek for each keyframe: its decoding timestamp when lower than its pts. Demuxers
    # seek by dts (MPEG-TS lands on the *next* keyframe when asked for a keyframe's pts); asking
    # for a slightly earlier time with "backward" is always safe.
    seek_points: tuple[int, ...]

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "VideoIndex":
        return cls(
            stream_index=int(data["stream_index"]),
            time_base=(int(data["time_base"][0]), int(data["time_base"][1])),
            start_pts=int(data["start_pts"]),
            end_pts=int(data["end_pts"]),
            keyframes=tuple(int(k) for k in data["keyframes"]),
            # Indexes cached before seek points existed: keyframe pts are the seek points then.
            seek_points=tuple(int(k) for k in data.get("seek_points", data["keyframes"])),
        )

    @property
    def duration_ms(self) -> int:
        num, den = self.time_base
        return (self.end_pts - self.start_pts) * num * 1000 // den

    def pts_after(self, timestamp_ms: int) -> int:
        """The first pts that is *not* at or before ``timestamp_ms`` (exact integer maths).

        A frame at ``pts`` is shown at ``timestamp_ms`` when its time truncated to whole
        milliseconds is <= ``timestamp_ms``, i.e. (pts - start) * tb * 1000 < timestamp_ms + 1.
        """
        num, den = self.time_base
        return self.start_pts + -(-(timestamp_ms + 1) * den // (num * 1000))

    def keyframe_for(self, timestamp_ms: int) -> int:
        """Number of the last keyframe at or before ``timestamp_ms``: where decoding must start."""
        return max(bisect.bisect_left(self.keyframes, self.pts_after(timestamp_ms)) - 1, 0)


def build_video_index(source: Source) -> VideoIndex:
    """Demux (never decode) the first video stream and note every keyframe's pts."""
    with open_video(source) as (container, stream):
        return _index(container, stream)


def render_video_preview(
    source: Source, *, timestamp_ms: int, max_size: int = 256, index: Optional[VideoIndex] = None
) -> Preview:
    """A JPEG (PNG if it has transparency) of the frame on screen at ``timestamp_ms``, in ``max_size`` square."""
    for _, outcome in render_video_previews(source, [timestamp_ms], max_size=max_size, index=index):
        if isinstance(outcome, PreviewError):
            raise outcome
        return outcome
    raise AssertionError("unreachable: one timestamp always yields one outcome")


def render_video_previews(
    source: Source, timestamps_ms: Iterable[int], *, max_size: int = 256, index: Optional[VideoIndex] = None
) -> Iterator[tuple[int, Outcome]]:
    """Previews for many timestamps of one video in a single ordered decoding pass.

    Yields ``(timestamp_ms, Preview)`` in ascending timestamp order (duplicates once), as each
    frame is decoded, so a caller can store previews while the pass goes on. A timestamp the
    video does not have (negative, past the end) yields ``(timestamp_ms, PreviewError)`` instead
    of ending the pass. ``index`` (from ``build_video_index``) saves the demuxing pass.
    """
    fit_within(1, 1, max_size)  # validates max_size before any I/O
    with open_video(source) as (container, stream):
        # The container's pixel aspect ratio wins over the codec's, as in FFmpeg's guess.
        sar = stream.sample_aspect_ratio or stream.codec_context.sample_aspect_ratio
        for timestamp, outcome in _frames_at(container, stream, timestamps_ms, index):
            if not isinstance(outcome, PreviewError):
                outcome = _preview(outcome, max_size, sar)
            yield timestamp, outcome


def frames_at(
    source: Source, timestamps_ms: Iterable[int], *, index: Optional[VideoIndex] = None
) -> Iterator[tuple[int, Union[ShownFrame, PreviewError]]]:
    """Decoded frames (full size, as stored, with their display turn) for the timestamps, in ascending order."""
    with open_video(source) as (container, stream):
        yield from _frames_at(container, stream, timestamps_ms, index)


def _frames_at(container, stream, timestamps_ms, index):
    wanted = sorted(set(int(t) for t in timestamps_ms))
    index = index or _index(container, stream)
    if index.stream_index != stream.index:
        raise ValueError(f"the index describes stream {index.stream_index}, not the video stream {stream.index}")
    errors = {t: _range_error(t, index) for t in wanted}
    valid = [t for t in wanted if errors[t] is None]
    yield from ((t, errors[t]) for t in wanted if t < 0)
    if valid:
        yield from _OrderedPass(container, stream, index, valid).run()
    yield from ((t, errors[t]) for t in wanted if t >= 0 and errors[t] is not None)


@contextlib.contextmanager
def open_video(source: Source):
    """Open the container and its first video stream, with decoder threads enabled."""
    with seekable(source) as src:
        try:
            container = av.open(src, mode="r")
        except (av.FFmpegError, UnicodeDecodeError) as exc:
            raise_read_error(src)  # a failed read is not a bad file: let the caller retry
            raise PreviewError(f"not a readable video ({describe(source)}): {explain(exc)}") from None
        try:
            if not container.streams.video:
                raise PreviewError("the file has no video stream")
            stream = container.streams.video[0]
            # Slice and frame threads: decoding dominates the cost and most codecs parallelise.
            stream.thread_type = "AUTO"
            yield container, stream
        finally:
            container.close()


# --- the index --------------------------------------------------------------------------------


def _index(container, stream) -> VideoIndex:
    keyframes: dict[int, int] = {}  # pts -> seek point
    first = last = None
    last_duration = count = 0
    try:
        for packet in container.demux(stream):
            pts = packet.pts if packet.pts is not None else packet.dts
            if pts is None:
                continue  # the flush packet at the end, or a container without timestamps
            count += 1
            if packet.is_keyframe:
                keyframes[pts] = min(pts, packet.dts if packet.dts is not None else pts)
            first = pts if first is None else min(first, pts)
            if last is None or pts >= last:
                last, last_duration = pts, packet.duration or 0
    except av.FFmpegError as exc:
        raise PreviewError(f"cannot read the video's packets: {explain(exc)}") from None
    if not count or not keyframes:
        raise PreviewError("the video stream has no frames" if not count else "the video has no keyframe")
    # Some muxers leave the last packet's duration at 0: assume it lasts an average frame.
    average = (last - first) // (count - 1) if count > 1 else 1
    ordered = sorted(keyframes)
    return VideoIndex(
        stream_index=stream.index,
        time_base=(stream.time_base.numerator, stream.time_base.denominator),
        start_pts=first,
        end_pts=last + (last_duration or average or 1),
        keyframes=tuple(ordered),
        seek_points=tuple(keyframes[pts] for pts in ordered),
    )


def _range_error(timestamp_ms: int, index: VideoIndex) -> Optional[PreviewError]:
    if timestamp_ms < 0:
        return PreviewError(f"timestamp {timestamp_ms} ms is before the start of the video")
    if timestamp_ms > index.duration_ms:
        return PreviewError(
            f"timestamp {timestamp_ms} ms is past the end of the video ({index.duration_ms} ms long)"
        )
    return None


# --- decoding ---------------------------------------------------------------------------------


_FILE_START = -1  # a "keyframe number" meaning: rewind to the first byte of the file
_SEEK_BY_DTS = {"mpegts", "mpeg", "mpegtsraw"}  # known up front; others are found out by landing late


class _OrderedPass:
    """Frames for sorted timestamps in one forward pass, seeking only to keyframes.

    Each round seeks to a keyframe and decodes forward, handing out each requested frame as it
    goes by. A round ends when a keyframe lies between the current frame and the next target
    (seeking there skips decoding the gap), when the first frame shows that the seek landed
    after the target, or at the end of the stream.

    Demuxers disagree on what a seek timestamp means: Matroska and MP4 find a keyframe by its
    pts, MPEG-TS by its dts and lands one keyframe late when given a pts. A late landing is
    detected (the first frame is already past the target) and retried by dts, then from the
    keyframe before, then from the first byte. Keyframes that landed late or behind the
    current position are never jumped to again, so the pass always ends.
    """

    def __init__(self, container, stream, index: VideoIndex, targets: list[int]):
        self.container, self.stream, self.index = container, stream, index
        self.pending = list(reversed(targets))  # pop() from the end gives the smallest
        self.seek_by_dts = container.format.name in _SEEK_BY_DTS
        self.avoid: set[int] = set()
        self.decoder = FrameDecoder(stream)

    def run(self):
        keyframe: Optional[int] = self.index.keyframe_for(self.pending[-1])
        resume_after: Optional[int] = None
        while keyframe is not None:
            self._seek(keyframe)
            keyframe, resume_after = yield from self._round(keyframe, resume_after)

    def _seek(self, keyframe: int) -> None:
        self.decoder.after_seek()
        if keyframe == _FILE_START:
            try:
                self.container.seek(0, unsupported_byte_offset=True)
                return
            except av.FFmpegError:  # no byte seeking (MP4): the earliest time will do
                keyframe = 0
        points = self.index.seek_points if self.seek_by_dts else self.index.keyframes
        self.container.seek(points[keyframe], stream=self.stream, backward=True)

    def _round(self, keyframe: int, resume_after: Optional[int]):
        """Decode forward; return (keyframe to seek to next or None, pts we jumped from)."""
        index, pending, previous = self.index, self.pending, None
        for frame in _decoded(self.container, self.decoder):
            pts = frame.pts
            if pts is None:
                continue
            if previous is None and resume_after is not None and pts <= resume_after:
                self.avoid.add(keyframe)  # that jump went backwards; carry on from here
            while pending and pts >= index.pts_after(pending[-1]):
                # This frame starts after the target, so the previous one was on screen at it.
                if previous is None and keyframe != _FILE_START:
                    return self._back_up(keyframe), None
                yield pending.pop(), self.decoder.shown(previous if previous is not None else frame)
            if not pending:
                return None, None
            ahead = index.keyframe_for(pending[-1])
            if ahead not in self.avoid and ahead != keyframe and index.keyframes[ahead] > pts + (frame.duration or 0):
                return ahead, pts  # a keyframe lies between here and the target: skip the gap
            previous = frame
        # End of stream: the last frame stays on screen until the video ends.
        if previous is None and keyframe != _FILE_START:
            return self._back_up(keyframe), None  # the seek went past the end: back up
        if previous is None:
            raise PreviewError("the video has no decodable frames")
        while pending:
            yield pending.pop(), self.decoder.shown(previous)
        return None, None

    def _back_up(self, keyframe: int) -> int:
        """The seek to ``keyframe`` landed after the target: where to try next."""
        if not self.seek_by_dts and self.index.seek_points[keyframe] < self.index.keyframes[keyframe]:
            self.seek_by_dts = True  # this demuxer seeks by dts (MPEG-TS): same keyframe, by dts
            return keyframe
        self.avoid.add(keyframe)
        return keyframe - 1 if keyframe > 0 else _FILE_START


def _decoded(container, decoder: FrameDecoder) -> Iterator[av.VideoFrame]:
    packets = container.demux(decoder.stream)
    while True:
        try:
            packet = next(packets)
        except StopIteration:
            return
        except av.FFmpegError as exc:
            raise PreviewError(f"the video is damaged: {explain(exc)}") from None
        try:
            yield from decoder.decode(packet)
        except av.FFmpegError:
            continue  # a damaged packet: skip it as players do, the next keyframe recovers


# --- turning a frame into pictures -------------------------------------------------------------


def _preview(shown_frame: ShownFrame, max_size: int, sar) -> Preview:
    frame, transform = shown_frame.frame, shown_frame.transform
    width, height = _display_size(frame, sar)
    # Scale in the stored orientation (swscale does it while converting to RGB), then turn the
    # small picture: fitting is symmetric in width and height, so the result is the same.
    scaled = fit_within(width, height, max_size)
    layout = "rgba" if shown_frame.has_alpha else "rgb24"  # encode() keeps alpha only where it is not opaque
    rgb = frame.reformat(width=scaled[0], height=scaled[1], format=layout, interpolation="AREA")
    picture = Image.fromarray(transform.apply(rgb.to_ndarray()))
    shown = (height, width) if transform.swaps else (width, height)
    return encode(picture, width=shown[0], height=shown[1])


def _display_size(frame: av.VideoFrame, sar) -> tuple[int, int]:
    """Coded size corrected by the pixel aspect ratio (anamorphic DV, some phone videos)."""
    if not sar or sar == 1:
        return frame.width, frame.height
    return max(1, round(frame.width * sar)), frame.height
