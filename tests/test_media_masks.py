"""Mask PNGs keep every pixel's exact RGB value, for image masks and video masks."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from frames.media import PNG, PreviewError, build_video_index, render_mask_png
from tests.media_helpers import make_video, media_testdata, pixels


def colours(array: np.ndarray) -> set[tuple[int, ...]]:
    return {tuple(int(v) for v in row) for row in np.unique(array.reshape(-1, array.shape[-1]), axis=0)}


def voc_masks():
    base = media_testdata() / "masks" / "labelme-voc"
    return sorted((base / "SegmentationClass").glob("*.png")) + sorted((base / "SegmentationObject").glob("*.png"))


@pytest.mark.parametrize("path", voc_masks(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_voc_palette_masks_keep_exact_rgb(path):
    with Image.open(path) as source:
        assert source.mode == "P"
        indices = np.asarray(source)
        palette = np.array(source.getpalette(), np.uint8).reshape(-1, 3)
    expected = palette[indices]  # the palette lookup done by hand, not by the code under test
    mask = render_mask_png(path)
    assert mask.content_type == PNG and (mask.width, mask.height) == (expected.shape[1], expected.shape[0])
    shown = pixels(mask)
    assert shown.shape == expected.shape
    assert (shown == expected).all()
    assert colours(shown) == {tuple(int(v) for v in palette[i]) for i in np.unique(indices)}


def test_rgba_mask_keeps_alpha_and_colours(tmp_path):
    rng = np.random.default_rng(7)
    palette = np.array([[0, 0, 0, 0], [210, 210, 120, 255], [1, 2, 3, 255], [255, 0, 7, 128]], np.uint8)
    values = rng.choice(palette, (37, 51))
    path = tmp_path / "mask.png"
    Image.fromarray(values, "RGBA").save(path)
    shown = pixels(render_mask_png(path))
    assert (shown == values).all()


def test_grey_and_16bit_class_id_masks(tmp_path):
    ids = np.arange(64, dtype=np.uint16).reshape(8, 8) * 4
    path = tmp_path / "ids.png"
    Image.fromarray(ids.astype(np.uint16)).save(path)
    shown = pixels(render_mask_png(path))
    assert (shown[:, :, 0] == ids).all() and (shown[:, :, 1] == ids).all()
    too_big = tmp_path / "too_big.png"
    Image.fromarray((ids * 100).astype(np.uint16)).save(too_big)
    with pytest.raises(PreviewError, match="outside 0..255"):
        render_mask_png(too_big)


def test_mask_from_a_stream_is_never_resized(testdata):
    path = voc_masks()[0]
    big = render_mask_png(io.BytesIO(path.read_bytes()))
    assert big == render_mask_png(path)


def label_pictures(count: int, size=(96, 64)) -> list[np.ndarray]:
    """Mask frames: blocks of label colours that move from frame to frame."""
    palette = np.array([[0, 0, 0], [210, 210, 120], [128, 0, 0], [0, 128, 64], [255, 255, 255]], np.uint8)
    frames = []
    for i in range(count):
        labels = np.zeros((size[1], size[0]), np.int64)
        labels[8:40, (i * 3) % 60 : (i * 3) % 60 + 30] = 1 + i % 4
        labels[44:60, 10:20] = 1 + (i + 1) % 4
        frames.append(palette[labels])
    return frames


@pytest.mark.parametrize(
    "codec, container, pix_fmt, suffix",
    [("ffv1", "matroska", "bgr0", ".mkv"), ("png", "mov", "rgb24", ".mov"), ("libx264rgb", "mp4", "rgb24", ".mp4")],
)
def test_video_mask_frame_at_timestamp_is_exact(tmp_path, codec, container, pix_fmt, suffix):
    times = [0, 33, 70, 100, 400, 433, 1000]
    pictures = label_pictures(len(times))
    path = make_video(
        tmp_path / f"mask{suffix}",
        frame_times_ms=times,
        codec=codec,
        container=container,
        pix_fmt=pix_fmt,
        size=(96, 64),
        gop=3,
        options={"qp": "0"} if codec == "libx264rgb" else None,
        pictures=pictures,
    )
    index = build_video_index(path)
    for timestamp, expected in [(0, 0), (35, 1), (399, 3), (433, 5), (999, 5), (1000, 6)]:
        mask = render_mask_png(path, timestamp_ms=timestamp, index=index)
        shown = pixels(mask)
        assert mask.content_type == PNG and shown.shape == (64, 96, 3)
        assert (shown == pictures[expected]).all(), (timestamp, expected)


def test_video_mask_needs_a_timestamp(tmp_path):
    path = make_video(tmp_path / "m.mkv", frame_times_ms=[0, 40], codec="ffv1", container="matroska", pix_fmt="bgr0")
    with pytest.raises(PreviewError, match="timestamp"):
        render_mask_png(path)


def test_corrupt_mask_raises(tmp_path):
    path = tmp_path / "bad.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)
    with pytest.raises(PreviewError, match="mask"):
        render_mask_png(path)
