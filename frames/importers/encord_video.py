"""Which frames of an Encord video become HyperData frames, and at which timestamps (milliseconds, as every
frame and source timestamp in HyperData).

Encord's rule (seed 003, "Videos"): with no `config` a video is sampled at one frame per second and key frames
are frame numbers (`keyframe_mode: "frame"`); `sampling_rate: 0` imports only the first frame and the key
frames; `keyframe_mode: "seconds"` gives key frames in seconds. Frame numbers become milliseconds through the
video's frame rate and sampling needs its duration: both come from `videoMetadata` when the JSON has it, else
from the file itself when it is local (PyAV reads the container's header, never a frame), else they are unknown
and the reader imports what the JSON states (the first frame and key frames given in seconds) and says so.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

import av

DEFAULT_SAMPLING_RATE = 1.0  # frames per second, Encord's default
KEYFRAME_MODES = ("frame", "seconds")


@dataclass(frozen=True)
class VideoFacts:
    """What is known of a video; None where nothing said."""

    fps: float | None = None
    duration_s: float | None = None
    width: int | None = None
    height: int | None = None
    origin: str = ""  # "videoMetadata", "file" or "" (unknown)


def local_path(uri: str) -> Path | None:
    """The local file a source URI names (a path or file://), if it is one that exists."""
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        path = Path(unquote(parsed.path))
    elif "://" in uri:
        return None
    else:
        path = Path(uri)
    return path if path.is_file() else None


def facts_from_metadata(metadata: dict) -> VideoFacts:
    """Encord's `videoMetadata` ({fps, duration, width, height, ...}); values of the wrong type are left out."""
    return VideoFacts(
        fps=_positive(metadata.get("fps")),
        duration_s=_positive(metadata.get("duration")),
        width=metadata.get("width") if isinstance(metadata.get("width"), int) else None,
        height=metadata.get("height") if isinstance(metadata.get("height"), int) else None,
        origin="videoMetadata",
    )


def probe(path: Path) -> VideoFacts | None:
    """Frame rate, duration and size of a local video from its container (no decoding); None if unreadable."""
    try:
        with av.open(str(path)) as container:
            stream = next(s for s in container.streams if s.type == "video")
            fps = float(stream.average_rate) if stream.average_rate else None
            if stream.duration is not None and stream.time_base is not None:
                duration = float(stream.duration * stream.time_base)
            elif container.duration is not None:
                duration = container.duration / av.time_base
            else:
                duration = None
            return VideoFacts(fps=fps, duration_s=duration, width=stream.codec_context.width or None,
                              height=stream.codec_context.height or None, origin="file")
    except (av.FFmpegError, StopIteration, OSError, ValueError):
        return None


def merged(first: VideoFacts, second: VideoFacts | None) -> VideoFacts:
    """`first` completed with what `second` knows."""
    if second is None:
        return first
    return VideoFacts(
        fps=first.fps or second.fps, duration_s=first.duration_s or second.duration_s,
        width=first.width or second.width, height=first.height or second.height,
        origin=first.origin or second.origin,
    )


def frame_ms(frame_number: float, fps: float) -> int:
    """The timestamp of frame `frame_number` (0-based) at `fps` frames per second, in whole milliseconds."""
    return int(round(frame_number * 1000 / fps))


def sampled_ms(sampling_rate: float, duration_s: float) -> list[int]:
    """Timestamps of `sampling_rate` frames per second over the video, from 0."""
    if sampling_rate <= 0:
        return [0]
    count = max(1, math.ceil(duration_s * sampling_rate - 1e-9))
    return [int(round(i * 1000 / sampling_rate)) for i in range(count)]


def _positive(value) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0 else None
