"""Lightly's metadata folder (seed 004): `.lightly/metadata/` inside a datasource folder.

The input is the datasource folder, its `.lightly` folder or the metadata folder itself (an uploaded zip of any of them
unpacks to one of these). In it:
- `schema.json`: a list of {name, path, defaultValue, valueDataType}; `path` is dotted (`weather.temperature`),
  valueDataType one of Lightly's five types. It becomes the version's typed metadata schema (VersionExtras.
  meta_schema, HyperData's type names) and fills a missing (or null) value with its default on every frame.
- one JSON per image, video or video frame: {file_name, type: image | video | frame, metadata}. A media file
  `sub/NAME.EXT` has its metadata in `sub/NAME.json`; frame X of video `sub/NAME.EXT` in `sub/NAME-X-EXT.json`,
  X zero-padded to the number of digits of the video's frame count (frame 99 of 200: `NAME-099-EXT.json`).

Frames: one per image (id = the image's path in the datasource), and one per video frame file (id = the frame
file's path without `.json`, context_id = the video's path, timestamp = frame number / fps, 0-based); a video's
metadata is the base of each of its frames' (a frame file overrides it key by key). A video with metadata but
no frame files, and media files in a local datasource with no metadata at all, become one frame each with the
defaults (a video at 0 ms). The frame rate comes from option `fps`, else from the local video file.

Values are checked against valueDataType (a Problem names the file, line and field); option `lenient=True`
accepts the trailing and missing commas of Lightly's published examples and lists what it fixed in the notes.
"""
from __future__ import annotations

import mimetypes
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath

import av

from .base import ImportSource, Item, Problem, Record, VersionExtras
from .lenient_json import JSONSyntaxError, Parsed, parse
from .lightly_schema import SCHEMA, Field, meta_with_defaults, schema_fields, value_problems

METADATA_DIR = Path(".lightly") / "metadata"
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}
VIDEO_SUFFIXES = {".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg"}
LENIENT_ON = (True, "true", "yes", "1")  # the option as JSON (true) or as form text
FRAME_FILE = re.compile(r"^(?P<name>.+)-(?P<number>[0-9]+)-(?P<ext>[A-Za-z0-9]+)$")  # a frame file's stem


@dataclass
class VideoFrame:
    number: int
    digits: int
    meta: dict
    file: str


@dataclass
class Video:
    meta: dict = field(default_factory=dict)
    frames: list[VideoFrame] = field(default_factory=list)


@dataclass
class _Folder:
    """What one import reads: the folders, the switches, the schema and what the reading found so far."""

    metadata: Path
    datasource: Path | None  # None when the metadata folder is not inside a datasource's .lightly/
    source: ImportSource
    lenient: bool
    fields: list[Field] = field(default_factory=list)
    videos: dict[str, Video] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def read(source: ImportSource) -> Iterator[Item]:
    folder = _open(source)
    if isinstance(folder, Problem):
        yield folder
        return
    yield from _read_schema(folder)
    for path in _metadata_files(folder.metadata):
        yield from _read_metadata_file(folder, path)
    yield from _unlisted_media(folder)
    for video_path in sorted(folder.videos):
        yield from _video_frames(folder, video_path)
    yield VersionExtras(meta_schema=[f.as_schema() for f in folder.fields], notes=folder.notes)


def _open(source: ImportSource) -> _Folder | Problem:
    path = source.path
    if (path / METADATA_DIR).is_dir():
        metadata, datasource = path / METADATA_DIR, path
    elif path.is_dir() and path.parts[-2:] == METADATA_DIR.parts:
        metadata, datasource = path, path.parent.parent
    elif path.name == METADATA_DIR.parts[0] and (path / METADATA_DIR.parts[1]).is_dir():  # a zip of .lightly/ alone
        metadata, datasource = path / METADATA_DIR.parts[1], path.parent
    elif path.is_dir() and (path / SCHEMA).is_file():
        metadata, datasource = path, None
    else:
        return Problem(file=path.name, field="", message=f"not a Lightly datasource: no {METADATA_DIR}/ folder and no {SCHEMA} in {path}")
    if datasource is not None and not source.media_root:
        source = replace(source, media_root=str(datasource))  # media paths are relative to the datasource
    return _Folder(metadata=metadata, datasource=datasource, source=source, lenient=source.option("lenient", False) in LENIENT_ON)


def _load(folder: _Folder, path: Path) -> Parsed | Problem:
    name = _relative(path, folder.metadata)
    try:
        parsed = parse(path.read_text(encoding="utf-8-sig"), file=name, lenient=folder.lenient)
    except JSONSyntaxError as exc:
        hint = "" if folder.lenient else " (importing leniently accepts trailing and missing commas: the Lenient box, or --lenient)"
        return Problem(file=name, field="", message=f"invalid JSON: {exc.message}{hint}", line=exc.line, column=exc.column)
    except (OSError, UnicodeDecodeError) as exc:
        return Problem(file=name, field="", message=f"cannot read: {exc}")
    folder.notes.extend(parsed.notes)
    return parsed


# ------------------------------------------------------------------------------------------------ schema
def _read_schema(folder: _Folder) -> Iterator[Problem]:
    path = folder.metadata / SCHEMA
    if not path.is_file():
        folder.notes.append(f"no {SCHEMA}: metadata imported as it is, untyped and without defaults")
        return
    parsed = _load(folder, path)
    if isinstance(parsed, Problem):
        yield parsed
        return
    for item in schema_fields(parsed):
        if isinstance(item, Problem):
            yield item
        else:
            folder.fields.append(item)


# -------------------------------------------------------------------------------------------- metadata
def _metadata_files(metadata: Path) -> Iterator[Path]:
    """Every .json under the metadata folder but the schema, in path order (sub-folders mirror the datasource)."""
    for root, dirs, files in os.walk(metadata):
        dirs.sort()
        for name in sorted(files):
            path = Path(root) / name
            if name.lower().endswith(".json") and path != metadata / SCHEMA:
                yield path


def _read_metadata_file(folder: _Folder, path: Path) -> Iterator[Item]:
    parsed = _load(folder, path)
    if isinstance(parsed, Problem):
        yield parsed
        return
    name = _relative(path, folder.metadata)
    problems = list(_file_problems(folder, parsed, name))
    if problems:
        yield from problems
        return
    kind, meta = parsed.value["type"], parsed.value["metadata"]
    subfolder = PurePosixPath(name).parent
    if kind == "frame":
        yield from _add_video_frame(folder, name, subfolder, meta)
        return
    media = _media_path(subfolder, parsed.value["file_name"])
    if _metadata_name(media) != name:
        yield Problem(file=name, field="file_name", line=parsed.line(("file_name",)),
                      message=f"{parsed.value['file_name']!r} does not match this file's name: the metadata of NAME.EXT is in NAME.json")
        return
    if kind == "video":
        folder.videos.setdefault(media, Video()).meta = meta
    else:
        yield _image_record(folder, media, meta, name, parsed.line(()))


def _file_problems(folder: _Folder, parsed: Parsed, name: str) -> Iterator[Problem]:
    value = parsed.value
    if not isinstance(value, dict):
        yield Problem(file=name, field="", message="expected an object with file_name, type and metadata", line=1)
        return
    for key, check, wanted in (("file_name", lambda v: isinstance(v, str) and v.strip(), "a file name"),
                               ("type", lambda v: v in ("image", "video", "frame"), "'image', 'video' or 'frame'"),
                               ("metadata", lambda v: isinstance(v, dict), "an object")):
        if key not in value:
            yield Problem(file=name, field=key, message="missing", line=parsed.line(()))
        elif not check(value[key]):
            yield Problem(file=name, field=key, message=f"expected {wanted}, got {value[key]!r}", line=parsed.line((key,)))
    if isinstance(value.get("metadata"), dict):
        yield from value_problems(folder.fields, parsed, name)


def _media_path(subfolder: PurePosixPath, file_name: str) -> str:
    """The media file's path in the datasource: file_name beside the metadata file, unless it names a path."""
    return file_name.lstrip("/") if "/" in file_name else str(subfolder / file_name)


def _relative(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


# ---------------------------------------------------------------------------------------------- frames
def _source(folder: _Folder, media: str, timestamp: int | None = None) -> dict:
    source = {"id": "default", "uri": folder.source.resolve(media)}
    content_type = mimetypes.guess_type(media)[0]
    if content_type:
        source["content_type"] = content_type
    if timestamp is not None:
        source["timestamp"] = timestamp
    return source


def _image_record(folder: _Folder, media: str, meta: dict, file: str, line: int | None) -> Record:
    return Record(frame={"id": media, "meta": meta_with_defaults(folder.fields, meta), "sources": [_source(folder, media)]}, file=file, line=line)


def _add_video_frame(folder: _Folder, name: str, subfolder: PurePosixPath, meta: dict) -> Iterator[Problem]:
    match = FRAME_FILE.match(PurePosixPath(name).stem)
    if match is None:
        yield Problem(file=name, field="type", line=1,
                      message="a frame's metadata file is named NAME-NUMBER-EXT.json (frame 99 of my_video.mp4: my_video-099-mp4.json)")
        return
    media = str(subfolder / f"{match['name']}.{match['ext']}")
    frame = VideoFrame(number=int(match["number"]), digits=len(match["number"]), meta=meta, file=name)
    folder.videos.setdefault(media, Video()).frames.append(frame)


def _unlisted_media(folder: _Folder) -> Iterator[Record]:
    """Media files of a local datasource that have no metadata file: frames with the schema's defaults."""
    if folder.datasource is None:
        return
    for root, dirs, files in os.walk(folder.datasource):
        dirs[:] = sorted(d for d in dirs if d != ".lightly")
        for file_name in sorted(files):
            media = _relative(Path(root) / file_name, folder.datasource)
            suffix = PurePosixPath(file_name).suffix.lower()
            if (folder.metadata / _metadata_name(media)).is_file():
                continue  # read (or refused) with its metadata
            if suffix in IMAGE_SUFFIXES:
                yield _image_record(folder, media, {}, media, None)
            elif suffix in VIDEO_SUFFIXES:
                folder.videos.setdefault(media, Video())


def _video_frames(folder: _Folder, media: str) -> Iterator[Item]:
    video = folder.videos[media]
    if not video.frames:
        folder.notes.append(f"{media}: no per-frame metadata files; imported as one frame at 0 ms")
        frame = {"id": media, "context_id": media, "timestamp": 0, "meta": meta_with_defaults(folder.fields, video.meta), "sources": [_source(folder, media, 0)]}
        yield Record(frame=frame, file=_metadata_name(media))
        return
    fps = _frame_rate(folder, media)
    if isinstance(fps, Problem):
        yield fps
        return
    digits = max(set(f.digits for f in video.frames), key=[f.digits for f in video.frames].count)
    for frame in sorted(video.frames, key=lambda f: f.number):
        if frame.digits != digits:
            yield Problem(file=frame.file, field="", message=f"frame numbers of {media} are padded to {digits} digits in its other frame files; Lightly pads to the number of digits of the frame count")
            continue
        timestamp = round(frame.number * 1000 / fps)
        yield Record(file=frame.file, line=1, frame={
            "id": frame.file.removesuffix(".json"), "context_id": media, "timestamp": timestamp,
            "meta": meta_with_defaults(folder.fields, video.meta, frame.meta), "sources": [_source(folder, media, timestamp)],
        })


def _metadata_name(media: str) -> str:
    return str(PurePosixPath(media).with_suffix(".json"))


def _frame_rate(folder: _Folder, media: str) -> float | Problem:
    option = folder.source.option("fps")
    if option is not None:
        if isinstance(option, (int, float, str)) and not isinstance(option, bool) and _positive(option):
            return float(option)
        return Problem(file=_metadata_name(media), field="fps", message=f"option fps must be a positive number, got {option!r}")
    local = folder.datasource / media if folder.datasource is not None else None
    if local is not None and local.is_file():
        try:
            with av.open(str(local)) as container:
                rate = container.streams.video[0].average_rate
            if rate:
                return float(rate)
        except (av.FFmpegError, IndexError, OSError):
            pass
    return Problem(file=_metadata_name(media), field="fps",
                   message=f"the frame rate of {media} is needed for the frames' timestamps: pass option fps (the video is not a readable local file)")


def _positive(value) -> bool:
    try:
        return 0 < float(value) < float("inf")
    except ValueError:
        return False
