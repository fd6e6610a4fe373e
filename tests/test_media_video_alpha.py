"""Videos with an alpha channel keep it: VP9 (and VP8) WebM with alpha, as browsers and After Effects export.

WebM keeps the alpha plane beside each frame (Matroska BlockAdditional) and marks the stream alpha_mode=1;
FFmpeg's own vp8/vp9 decoders ignore it, libvpx decodes it. A preview with transparency is a PNG, as for images.
"""

from __future__ import annotations

import numpy as np
import pytest

from frames.media import JPEG, PNG, PreviewError, render_mask_png, render_video_preview, render_video_previews
from tests.media_helpers import make_video, pixels

FRAME_TIMES_MS = [0, 100, 200, 300, 400, 500]
SIZE = (64, 48)
CODECS = {"vp9": "libvpx-vp9", "vp8": "libvpx"}


def half_transparent_picture(number: int, *, opaque: bool = False) -> np.ndarray:
    """RGBA: the left half blue and transparent, the right half opaque red with green = 30 + 40 x number (so
    the colour tells which frame is shown)."""
    width, height = SIZE
    rgba = np.empty((height, width, 4), np.uint8)
    rgba[:, : width // 2] = (40, 40, 220, 255 if opaque else 0)
    rgba[:, width // 2 :] = (220, 30 + 40 * number, 40, 255)
    return rgba


def make_alpha_webm(path, *, codec="libvpx-vp9", rotation=None, opaque=False, with_alpha=True):
    pictures = [half_transparent_picture(i, opaque=opaque) for i in range(len(FRAME_TIMES_MS))]
    return make_video(
        path,
        frame_times_ms=FRAME_TIMES_MS,
        codec=codec,
        container="webm",
        pix_fmt="yuva420p" if with_alpha else "yuv420p",
        size=SIZE,
        gop=3,
        pictures=pictures if with_alpha else [p[:, :, :3] for p in pictures],
        rotation=rotation,
        options={"auto-alt-ref": "0"} if codec == "libvpx" else None,  # libvpx VP8 refuses it with alpha
    )


def assert_half_transparent(rgba: np.ndarray, frame_number: int) -> None:
    width = rgba.shape[1]
    left, right = rgba[:, : width // 2 - 2], rgba[:, width // 2 + 2 :]
    assert left[:, :, 3].max() <= 8, "the transparent half is not transparent"
    assert right[:, :, 3].min() >= 247, "the opaque half is not opaque"
    red, green, blue = right[:, :, :3].reshape(-1, 3).mean(axis=0)
    assert abs(red - 220) < 12 and abs(green - (30 + 40 * frame_number)) < 12 and blue < 60, (red, green, blue)


@pytest.mark.parametrize("codec", sorted(CODECS))
def test_alpha_is_kept_in_the_preview_of_a_timestamp(tmp_path, codec):
    path = make_alpha_webm(tmp_path / "alpha.webm", codec=CODECS[codec])
    preview = render_video_preview(path, timestamp_ms=250, max_size=64)
    assert preview.content_type == PNG and (preview.width, preview.height) == SIZE
    shown = pixels(preview)
    assert shown.shape == (48, 64, 4)
    assert_half_transparent(shown, frame_number=2)


def test_one_pass_over_many_timestamps_keeps_alpha(tmp_path):
    path = make_alpha_webm(tmp_path / "alpha.webm")
    outcomes = dict(render_video_previews(path, [0, 150, 320, 500, 9_000], max_size=64))
    for timestamp, frame_number in [(0, 0), (150, 1), (320, 3), (500, 5)]:
        assert outcomes[timestamp].content_type == PNG, timestamp
        assert_half_transparent(pixels(outcomes[timestamp]), frame_number)
    assert isinstance(outcomes[9_000], PreviewError)


def test_video_mask_keeps_alpha_at_full_size(tmp_path):
    path = make_alpha_webm(tmp_path / "alpha.webm")
    mask = render_mask_png(path, timestamp_ms=420)
    shown = pixels(mask)
    assert mask.content_type == PNG and shown.shape == (48, 64, 4)
    assert_half_transparent(shown, frame_number=4)


def test_rotated_alpha_video_is_shown_upright(tmp_path):
    # The same frames without alpha take the native decoder, whose rotation is tested on real phone videos:
    # the alpha preview must show the same picture, transparent exactly where the blue half went.
    rotated = make_alpha_webm(tmp_path / "alpha.webm", rotation=90)
    reference = make_alpha_webm(tmp_path / "plain.webm", rotation=90, with_alpha=False)
    preview = render_video_preview(rotated, timestamp_ms=100, max_size=64)
    expected = pixels(render_video_preview(reference, timestamp_ms=100, max_size=64))
    shown = pixels(preview)
    assert (preview.width, preview.height) == (48, 64) and shown.shape == (64, 48, 4)
    assert np.abs(shown[:, :, :3].astype(int) - expected).mean() < 4
    blue_half = expected[:, :, 2] > 150
    assert 0.4 < blue_half.mean() < 0.6
    assert shown[:, :, 3][blue_half].mean() < 10 and shown[:, :, 3][~blue_half].mean() > 245


def test_opaque_frames_of_an_alpha_video_stay_jpeg(tmp_path):
    path = make_alpha_webm(tmp_path / "opaque.webm", opaque=True)
    preview = render_video_preview(path, timestamp_ms=0, max_size=64)
    assert preview.content_type == JPEG and pixels(preview).shape == (48, 64, 3)
