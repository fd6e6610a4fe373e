"""The media layer's contract as callers (tasks, storage) see it: API, inputs, error kinds."""

from __future__ import annotations

import io

import pytest
from PIL import Image

import frames.media
from frames.media import JPEG, PNG, Preview, PreviewError, render_image_preview, render_mask_png, render_video_preview
from tests.media_helpers import OneWayStream, make_video, media_testdata


def test_public_api():
    assert set(frames.media.__all__) >= {
        "Preview",
        "PreviewError",
        "VideoIndex",
        "build_video_index",
        "render_image_preview",
        "render_mask_png",
        "render_video_preview",
        "render_video_previews",
    }
    preview = Preview(b"x", PNG, 3, 4)
    assert preview.extension == ".png" and Preview(b"x", JPEG, 1, 1).extension == ".jpg"
    with pytest.raises(Exception):
        preview.width = 5  # frozen: results can be cached and shared safely


def test_keyword_only_arguments():
    path = media_testdata() / "tiff/pillow/hopper.tif"
    with pytest.raises(TypeError):
        render_image_preview(path, 64)  # type: ignore[misc]
    with pytest.raises(TypeError):
        render_video_preview(path, 0)  # type: ignore[misc]


class FlakyStream(io.RawIOBase):
    """A seekable remote object whose connection drops after ``good_bytes`` have been read."""

    def __init__(self, data: bytes, good_bytes: int):
        self._inner, self._good = io.BytesIO(data), good_bytes

    def readable(self):
        return True

    def seekable(self):
        return True

    def seek(self, offset, whence=0):
        return self._inner.seek(offset, whence)

    def tell(self):
        return self._inner.tell()

    def readinto(self, buffer):
        if self._inner.tell() + len(buffer) > self._good:
            raise ConnectionResetError("connection reset by peer")
        chunk = self._inner.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


@pytest.mark.parametrize(
    "name",
    [
        "tiff/pillow/hopper_lzw.tif",
        "coco/labelme/JPEGImages/2011_000003.jpg",
        "masks/labelme-voc/SegmentationClass/2011_000003.png",
    ],
)
def test_read_failures_are_not_reported_as_bad_files(name):
    # A dropped connection must reach the task as an I/O error (retry), not as PreviewError
    # (recorded as a permanent failure).
    data = (media_testdata() / name).read_bytes()
    with pytest.raises(ConnectionResetError):
        render_image_preview(FlakyStream(data, len(data) // 2))


def test_video_read_failures_are_not_reported_as_bad_files(tmp_path):
    path = make_video(tmp_path / "v.mp4", frame_times_ms=[i * 40 for i in range(50)])
    data = path.read_bytes()
    with pytest.raises(ConnectionResetError):
        render_video_preview(FlakyStream(data, len(data) // 2), timestamp_ms=0)


def test_mask_read_failures_are_not_reported_as_bad_files():
    data = (media_testdata() / "masks/labelme-voc/SegmentationObject/2011_000003.png").read_bytes()
    with pytest.raises(ConnectionResetError):
        render_mask_png(FlakyStream(data, len(data) // 2))


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "GIF"])
def test_truncated_files_fail_cleanly(tmp_path, fmt):
    # Streams go through libvips callbacks; a failure half-way must be an error, not a crash
    # and not a half-grey preview.
    buffer = io.BytesIO()
    Image.effect_noise((300, 200), 40).convert("RGB").save(buffer, fmt)
    data = buffer.getvalue()[: len(buffer.getvalue()) // 2]
    path = tmp_path / f"cut.{fmt.lower()}"
    path.write_bytes(data)
    for _ in range(3):
        with pytest.raises(PreviewError, match=fmt):
            render_image_preview(io.BytesIO(data))
        with pytest.raises(PreviewError, match=fmt):
            render_image_preview(path)


def test_non_seekable_video_stream(tmp_path):
    path = make_video(tmp_path / "v.webm", frame_times_ms=[0, 40, 80], codec="libvpx-vp9", container="webm")

    by_path = render_video_preview(path, timestamp_ms=40)
    assert render_video_preview(OneWayStream(path.read_bytes()), timestamp_ms=40) == by_path


def test_preview_errors_are_one_readable_line(tmp_path):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0" + b"\0" * 64)
    for call in (
        lambda: render_image_preview(bad),
        lambda: render_video_preview(bad, timestamp_ms=0),
        lambda: render_mask_png(bad),
    ):
        with pytest.raises(PreviewError) as caught:
            call()
        reason = caught.value.reason
        assert reason and "\n" not in reason and " object at 0x" not in reason, reason
