"""The data units of Encord's import JSON as frames: `videos`, `images`, `image_groups` (a FrameGroup, or with
`createVideo` an image sequence) and `dicom_series`. See frames.importers.encord for the whole format."""
from __future__ import annotations

import re
from collections.abc import Iterator

from . import encord_frames as parts
from . import encord_video as video
from .base import Item, Problem
from .encord_frames import ImportState
from .encord_labels import LabelRow

OBJECT_URL = re.compile(r"^objectUrl_(\d+)$")


class ItemReader:
    """Reads the data units of one import JSON file."""

    def __init__(self, state: ImportState, file: str):
        self.state, self.file = state, file

    def problem(self, where: str, message: str, line: int | None) -> Problem:
        return Problem(self.file, where, message, line)

    # -- videos ---------------------------------------------------------------------------------------------------

    def video(self, item: dict, where: str, line: int | None) -> Iterator[Item]:
        url = item.get("objectUrl")
        if not isinstance(url, str) or not url:
            yield self.problem(f"{where}.objectUrl", "a video needs objectUrl, the URL of the video file", line)
            return
        if self.state.seen(url, where, self.file):
            return
        meta, frame_meta, problem = parts.client_metadata(item, where, self.file, line)
        rate, mode, problems = self.video_config(item, where, line)
        if problem or problems:
            yield from [problem] if problem else []
            yield from problems
            return
        uri = self.state.source.resolve(url)
        labels = self.state.take_labels(str(item.get("title") or ""), parts.title_of(url))
        facts = self.facts(item, uri, labels)
        times, problems = self.video_times(item, frame_meta, rate, mode, facts, where, line)
        rois_at = self.label_times(labels, facts, where, line, problems)
        if problems:
            yield from problems
            return
        kind = parts.content_type(url, item.get("videoMetadata", {}).get("mime_type"), "video/mp4")
        occurrence = self.state.occurrence(uri)
        for ms in sorted(set(times) | set(rois_at)):
            source = parts.source(uri, kind=kind, width=facts.width, height=facts.height, timestamp=ms)
            built = parts.frame(context=uri, timestamp=ms, sources=[source], meta={**meta, **times.get(ms, {})},
                                rois=rois_at.get(ms, []), occurrence=occurrence)
            yield parts.record(built, self.file, line)

    def video_config(self, item: dict, where: str, line: int | None) -> tuple[float, str, list[Problem]]:
        """(sampling rate, key frame mode, problems) from the video's `config` (Encord's defaults: 1, frame)."""
        problems = [self.problem(f"{where}.{key}", "expected an object", line)
                    for key in ("config", "videoMetadata") if not isinstance(item.get(key, {}), dict)]
        config = item.get("config") if isinstance(item.get("config"), dict) else {}
        rate = _number(config.get("sampling_rate", video.DEFAULT_SAMPLING_RATE))
        mode = config.get("keyframe_mode", "frame")
        if rate is None or rate < 0:
            problems.append(self.problem(f"{where}.config.sampling_rate", "expected a number of frames per second "
                                                                          "(0: the first frame and the key frames only)", line))
        if mode not in video.KEYFRAME_MODES:
            problems.append(self.problem(f"{where}.config.keyframe_mode", f"expected 'frame' or 'seconds', got {mode!r}", line))
        return rate, mode, problems

    def video_times(self, item, frame_meta: dict, rate: float, mode: str, facts, where: str, line) -> tuple[dict[int, dict], list]:
        """{timestamp ms: that frame's own metadata} of the frames to import: the first, the sampled ones, the key
        frames and the frames with metadata of their own; and the problems met."""
        times: dict[int, dict] = {0: {}}
        problems: list[Problem] = []
        if rate > 0 and facts.duration_s:
            times.update({ms: {} for ms in video.sampled_ms(rate, facts.duration_s)})
        elif rate > 0:
            self.state.notes.append(
                f"{self.file}: {where} ({item.get('title') or item['objectUrl']}): its duration is not in the JSON "
                "(videoMetadata) and the video is not a local file, so the first frame and the key frames were "
                f"imported, not {rate:g} frame(s) per second")
        keyframes_at = "keyframes" if "keyframes" in item else "clientMetadata.keyframes"
        keyframes = item.get("keyframes", item.get("clientMetadata", {}).get("keyframes", []))
        if not isinstance(keyframes, list):
            return times, [self.problem(f"{where}.{keyframes_at}", "expected a list of key frames", line)]
        for index, number in enumerate(keyframes):
            ms = self.to_ms(number, mode, facts, f"{where}.{keyframes_at}[{index}]", line)
            if isinstance(ms, Problem):
                problems.append(ms)
            else:
                times.setdefault(ms, {})
        for key, value in frame_meta.items():
            at = f"{where}.clientMetadata.$encord.frame_metadata.{key}"
            ms = self.to_ms(_number(key), mode, facts, at, line)
            if isinstance(ms, Problem) or not isinstance(value, dict):
                problems.append(ms if isinstance(ms, Problem) else self.problem(at, "expected an object (the frame's metadata)", line))
            else:
                times.setdefault(ms, {}).update(value)
        return times, problems

    def facts(self, item: dict, uri: str, labels: LabelRow | None) -> video.VideoFacts:
        metadata = item.get("videoMetadata")
        facts = video.facts_from_metadata(metadata) if isinstance(metadata, dict) else video.VideoFacts()
        if labels and labels.units:
            unit = labels.units[0]
            facts = video.merged(facts, video.VideoFacts(fps=unit.fps, width=unit.width, height=unit.height))
        if facts.fps is None or facts.duration_s is None:
            path = video.local_path(uri)
            facts = video.merged(facts, video.probe(path) if path else None)
        return facts

    def to_ms(self, number, mode: str, facts: video.VideoFacts, where: str, line: int | None) -> int | Problem:
        value = _number(number)
        if value is None or value < 0:
            return self.problem(where, f"expected a frame number or a time in seconds, got {number!r}", line)
        if mode == "seconds":
            return int(round(value * 1000))
        if facts.fps is None:
            return self.problem(where, "a frame number needs the video's frame rate: give videoMetadata.fps, "
                                       "or key frames in seconds (config.keyframe_mode: seconds)", line)
        return video.frame_ms(value, facts.fps)

    def label_times(self, labels: LabelRow | None, facts, where: str, line, problems: list) -> dict[int, list[dict]]:
        if labels is None:
            return {}
        unit = labels.units[0]
        fps = unit.fps or facts.fps
        if fps is None and set(unit.rois) - {0}:
            problems.append(self.problem(where, f"label row {labels.title!r} ({labels.file}) labels frame numbers, and "
                                                "the video's frame rate is unknown (videoMetadata.fps or data_fps)", line))
            return {}
        return {video.frame_ms(number, fps) if number else 0: rois for number, rois in unit.rois.items()}

    # -- images, image groups, image sequences, DICOM series ----------------------------------------------------------

    def image(self, item: dict, where: str, line: int | None) -> Iterator[Item]:
        url = item.get("objectUrl")
        if not isinstance(url, str) or not url:
            yield self.problem(f"{where}.objectUrl", "an image needs objectUrl, the URL of the image file", line)
            return
        if self.state.seen(url, where, self.file):
            return
        meta, _, problem = parts.client_metadata(item, where, self.file, line)
        if problem:
            yield problem
            return
        metadata = item.get("imageMetadata") if isinstance(item.get("imageMetadata"), dict) else {}
        labels = self.state.take_labels(str(item.get("title") or ""), parts.title_of(url))
        unit = labels.units[0] if labels else None
        uri = self.state.source.resolve(url)
        source = parts.source(uri, kind=parts.content_type(url, metadata.get("mime_type")),
                              width=metadata.get("width") or (unit.width if unit else None),
                              height=metadata.get("height") or (unit.height if unit else None))
        built = parts.frame(context=None, timestamp=0, sources=[source], meta=meta,
                            rois=unit.rois.get(0, []) if unit else [], occurrence=self.state.occurrence(uri))
        yield parts.record(built, self.file, line)

    def urls(self, item: dict, where: str, line: int | None) -> list[str] | Problem:
        """objectUrl_0, objectUrl_1, ... in position order."""
        numbered = sorted((int(m.group(1)), value) for key, value in item.items() if (m := OBJECT_URL.match(key)))
        bad = next((n for n, value in numbered if not isinstance(value, str) or not value), None)
        if bad is not None:
            return self.problem(f"{where}.objectUrl_{bad}", "expected the URL of a file", line)
        if not numbered:
            return self.problem(where, "no objectUrl_0, objectUrl_1, ... (the URLs of its files, in order)", line)
        return [value for _, value in numbered]

    def image_group(self, item: dict, where: str, line: int | None) -> Iterator[Item]:
        urls = self.urls(item, where, line)
        meta, _, problem = parts.client_metadata(item, where, self.file, line)
        if isinstance(urls, Problem) or problem:
            yield from (p for p in (urls, problem) if isinstance(p, Problem))
            return
        if self.state.seen(tuple(urls), where, self.file):
            return
        title = str(item.get("title") or parts.title_of(urls[0]))
        labels = self.state.take_labels(title)
        if item.get("createVideo") is True:
            yield from self.sequence(urls, title, meta, labels, line, kind=None)
            return
        units = {unit.sequence: unit for unit in labels.units} if labels else {}
        sources, rois = [], []
        for position, url in enumerate(urls):
            unit = units.get(position)
            sources.append(parts.source(self.state.source.resolve(url), id=str(position), kind=parts.content_type(url),
                                        width=unit.width if unit else None, height=unit.height if unit else None))
            rois += parts.with_sources(unit.rois.get(0, []), str(position)) if unit else []
        built = parts.frame(context=title, timestamp=0, sources=sources, meta=meta, rois=rois,
                            occurrence=self.state.occurrence(title))
        yield parts.record(built, self.file, line)

    def dicom_series(self, item: dict, where: str, line: int | None) -> Iterator[Item]:
        urls = self.urls(item, where, line)
        meta, _, problem = parts.client_metadata(item, where, self.file, line)
        if isinstance(urls, Problem) or problem:
            yield from (p for p in (urls, problem) if isinstance(p, Problem))
            return
        kept = [url for position, url in enumerate(urls) if not self.state.seen(url, f"{where}.objectUrl_{position}", self.file)]
        if not kept:
            return
        title = str(item.get("title") or parts.title_of(urls[0]))
        yield from self.sequence(kept, title, meta, self.state.take_labels(title), line, kind=parts.DICOM)

    def sequence(self, urls: list[str], title: str, meta: dict, labels: LabelRow | None, line, *, kind) -> Iterator[Item]:
        """One frame per file in the context `title`, its timestamp the position (which orders the context)."""
        rois_at = _rois_by_position(labels)
        occurrence = self.state.occurrence(title)
        for position, url in enumerate(urls):
            source = parts.source(self.state.source.resolve(url), kind=kind or parts.content_type(url))
            built = parts.frame(context=title, timestamp=position, sources=[source], meta=dict(meta),
                                rois=rois_at.get(position, []), occurrence=occurrence)
            yield parts.record(built, self.file, line)


def _rois_by_position(labels: LabelRow | None) -> dict[int, list[dict]]:
    """A sequence's ROIs by position: one unit labelled per frame (a video Encord made, a DICOM series), or one
    unit per image."""
    if labels is None:
        return {}
    if len(labels.units) == 1:
        return dict(labels.units[0].rois)
    return {unit.sequence: unit.rois.get(0, []) for unit in labels.units}


def _number(value) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(value) if isinstance(value, str) else None
    except ValueError:
        return None
