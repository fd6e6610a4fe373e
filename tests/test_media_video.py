"""Video frames at timestamps: the right frame, by seeking, in one pass for many, rotated upright."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

from frames.media import JPEG, PreviewError, VideoIndex, build_video_index, render_video_preview, render_video_previews
from frames.media import video as media_video
from frames.media.video_frames import DisplayTransform
from tests.media_helpers import (
    frame_number,
    make_video,
    mean_diff,
    naive_frame_at,
    pixels,
    resize_rgb,
)

# Uneven frame times (ms): bursts, long holds and near-duplicates, as phones record.
VFR_TIMES = [0, 40, 50, 200, 210, 700, 720, 1500, 1533, 1566, 2000, 2900, 2901, 3500]
# Timestamps to ask for, with the frame on screen at each.
VFR_CASES = [
    (0, 0),
    (39, 0),
    (40, 1),
    (49, 1),
    (50, 2),
    (199, 2),
    (205, 3),
    (699, 4),
    (700, 5),
    (1499, 6),
    (1534, 8),
    (2899, 10),
    (2900, 11),
    (2901, 12),
    (3500, 13),
]

FORMATS = {
    "mp4-h264": dict(codec="libx264", container="mp4", pix_fmt="yuv420p", suffix=".mp4"),
    "mov-h264": dict(codec="libx264", container="mov", pix_fmt="yuv420p", suffix=".mov"),
    "webm-vp9": dict(codec="libvpx-vp9", container="webm", pix_fmt="yuv420p", suffix=".webm"),
    "avi-mjpeg": dict(codec="mjpeg", container="avi", pix_fmt="yuvj420p", suffix=".avi"),
    # MPEG-TS starts at a non-zero time and seeks by dts, landing late if asked for a pts.
    "ts-h264": dict(codec="libx264", container="mpegts", pix_fmt="yuv420p", suffix=".ts"),
    "mkv-hevc": dict(codec="libx265", container="matroska", pix_fmt="yuv420p", suffix=".mkv"),
}


@pytest.fixture(params=sorted(FORMATS))
def vfr_video(request, tmp_path):
    spec = dict(FORMATS[request.param])
    path = tmp_path / f"vfr{spec.pop('suffix')}"
    return make_video(path, frame_times_ms=VFR_TIMES, gop=4, **spec)


def test_variable_frame_rate_lands_on_the_right_frame(vfr_video):
    index = build_video_index(vfr_video)
    for timestamp, expected in VFR_CASES:
        preview = render_video_preview(vfr_video, timestamp_ms=timestamp, index=index)
        assert preview.content_type == JPEG and (preview.width, preview.height) == (64, 48)
        assert frame_number(pixels(preview)) == expected, timestamp


def test_a_demuxer_that_seeks_by_dts_is_found_out(tmp_path, monkeypatch):
    # Pretend MPEG-TS were unknown: seeks by pts land a keyframe late and must be detected.
    monkeypatch.setattr(media_video, "_SEEK_BY_DTS", set())
    path = make_video(tmp_path / "v.ts", frame_times_ms=VFR_TIMES, gop=4, container="mpegts")
    outcomes = dict(render_video_previews(path, [t for t, _ in VFR_CASES]))
    assert [frame_number(pixels(outcomes[t])) for t, _ in VFR_CASES] == [n for _, n in VFR_CASES]


def test_frames_match_an_independent_decode_from_the_start(vfr_video):
    for timestamp, _ in VFR_CASES[::3]:
        _, reference = naive_frame_at(vfr_video, timestamp)
        shown = pixels(render_video_preview(vfr_video, timestamp_ms=timestamp))
        assert mean_diff(shown, reference) < 4, timestamp


def test_one_pass_gives_the_same_frames_as_one_seek_each(vfr_video):
    timestamps = [t for t, _ in VFR_CASES]
    one_pass = dict(render_video_previews(vfr_video, list(reversed(timestamps)) + timestamps[:3]))
    assert sorted(one_pass) == timestamps  # every timestamp once, duplicates folded
    for t in timestamps:
        assert one_pass[t] == render_video_preview(vfr_video, timestamp_ms=t)


# --- seeking, not decoding from the start --------------------------------------------------------


@pytest.fixture
def count_decoded(monkeypatch):
    counter = {"frames": 0, "seeks": 0}
    real_decoded = media_video._decoded

    def counting(container, decoder):
        for frame in real_decoded(container, decoder):
            counter["frames"] += 1
            yield frame

    monkeypatch.setattr(media_video, "_decoded", counting)
    real_seek = media_video._OrderedPass._seek

    def counting_seek(self, keyframe):
        counter["seeks"] += 1
        return real_seek(self, keyframe)

    monkeypatch.setattr(media_video._OrderedPass, "_seek", counting_seek)
    return counter


@pytest.fixture
def steady_video(tmp_path):
    # 10 s at 25 fps, a keyframe every 25 frames (1 s).
    return make_video(tmp_path / "steady.mp4", frame_times_ms=[i * 40 for i in range(250)], gop=25)


def test_a_late_frame_is_reached_by_seeking(steady_video, count_decoded):
    index = build_video_index(steady_video)
    assert index.keyframes[:3] == (0, index.keyframes[1], index.keyframes[2])
    assert len(index.keyframes) == 10
    preview = render_video_preview(steady_video, timestamp_ms=9_500, index=index)
    assert frame_number(pixels(preview)) == 237
    # From the keyframe at 9.0 s to 9.5 s is 13 frames (plus the decoder's look-ahead), not 238.
    assert count_decoded["frames"] <= 25 + 6


def test_many_frames_in_one_pass_decode_each_frame_once(steady_video, count_decoded):
    timestamps = [i * 40 for i in range(250)]
    outcomes = list(render_video_previews(steady_video, timestamps, max_size=32))
    assert [t for t, _ in outcomes] == timestamps
    assert count_decoded["seeks"] == 1
    assert count_decoded["frames"] <= 250 + 6
    for t, preview in outcomes[::50]:
        assert frame_number(pixels(preview)) == t // 40


def test_sparse_timestamps_jump_ahead_to_keyframes(steady_video, count_decoded):
    outcomes = list(render_video_previews(steady_video, [200, 5_040, 9_960]))
    assert [frame_number(pixels(p)) for _, p in outcomes] == [5, 126, 249]
    assert count_decoded["seeks"] == 3
    # Each target costs at most one keyframe interval: about 6 + 2 + 25 frames, never 250.
    assert count_decoded["frames"] <= 3 * 25


def test_close_timestamps_do_not_seek_again(steady_video, count_decoded):
    list(render_video_previews(steady_video, [1_000, 1_080, 1_200, 1_960]))
    assert count_decoded["seeks"] == 1


# --- the index ------------------------------------------------------------------------------------


def test_index_is_serialisable_and_reusable(steady_video, monkeypatch):
    index = build_video_index(steady_video)
    restored = VideoIndex.from_dict(json.loads(json.dumps(index.to_dict())))
    assert restored == index
    assert 9_960 < index.duration_ms <= 10_000  # the muxer shortens the last frame a little
    # With an index supplied, the video is not demuxed again to find keyframes.
    monkeypatch.setattr(media_video, "_index", lambda *a: pytest.fail("index rebuilt"))
    preview = render_video_preview(steady_video, timestamp_ms=4_000, index=restored)
    assert frame_number(pixels(preview)) == 100


def test_index_does_not_decode(steady_video, monkeypatch):
    import av

    def no_decode(*args, **kwargs):
        pytest.fail("building the index decoded a packet")

    monkeypatch.setattr(av.Packet, "decode", no_decode, raising=False)
    index = build_video_index(steady_video)
    assert len(index.keyframes) == 10


# --- real files made by others -------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, timestamps",
    [
        ("nwb-video-widgets/stub_mjpeg.avi", [0, 99, 100, 250]),
        ("nwb-video-widgets/stub_h264.mp4", [0, 150, 310, 499]),
        ("nwb-video-widgets/stub_mp4v.mp4", [0, 220, 450]),
        ("webgl/npot-video.mp4", [0, 7_000, 15_033, 29_900]),
        ("webgl/red-green.bt601.vp9.webm", [0, 1_000, 2_500, 4_900]),
        ("moviepy/big_buck_bunny_432_433.webm", [0, 500, 990]),
    ],
)
def test_real_videos_match_a_naive_decode(testdata, name, timestamps):
    path = testdata / "video" / name
    for t, preview in render_video_previews(path, timestamps, max_size=512):
        assert not isinstance(preview, PreviewError), preview
        _, reference = naive_frame_at(path, t)
        shown = pixels(preview)
        assert mean_diff(shown, resize_rgb(reference, (shown.shape[1], shown.shape[0]))) < 6, (name, t)


def test_red_green_vp9_has_the_right_colours(testdata):
    shown = pixels(render_video_preview(testdata / "video/webgl/red-green.bt601.vp9.webm", timestamp_ms=0)).astype(int)
    quarter = shown.shape[0] // 4
    top, bottom = shown[:quarter].reshape(-1, 3).mean(0), shown[-quarter:].reshape(-1, 3).mean(0)
    assert top[0] > 200 and top[1] < 60 and bottom[1] > 200 and bottom[0] < 60


def test_pixel_aspect_ratio_is_honoured(testdata):
    preview = render_video_preview(testdata / "video/nwb-video-widgets/stub_h264.mp4", timestamp_ms=0)
    assert (preview.width, preview.height) == (320, 120)  # 160x120 coded, 2:1 pixels
    assert pixels(preview).shape[:2] == (96, 256)


@pytest.mark.parametrize(
    "name", ["video-rotation-90.mp4", "video-rotation-180.mp4", "video-rotation-270.mp4", "video-rotation-90.vp9.mp4"]
)
def test_rotation_metadata_shows_the_picture_upright(testdata, name):
    # Each file stores the test pattern turned the other way and says so in its display matrix.
    upright = pixels(render_video_preview(testdata / "video/webgl/video-rotation-0.mp4", timestamp_ms=0))
    preview = render_video_preview(testdata / "video/webgl" / name, timestamp_ms=0)
    assert (preview.width, preview.height) == (128, 96)
    assert mean_diff(pixels(preview), upright) < 6


def test_portrait_phone_video(testdata):
    path = testdata / "video/mediabunny/rotate-buck-bunny.mp4"
    preview = render_video_preview(path, timestamp_ms=1_000, max_size=256)
    assert (preview.width, preview.height) == (1080, 1920)
    assert pixels(preview).shape[:2] == (256, 144)


def test_display_transform_flips_like_ffmpeg():
    picture = np.arange(6).reshape(2, 3)
    assert (DisplayTransform(3).apply(picture) == np.rot90(picture, -1)).all()  # transpose=clock
    assert (DisplayTransform(1, flip_vertical=True).apply(picture) == picture.T).all()  # cclock_flip
    assert (DisplayTransform(0, flip_horizontal=True).apply(picture) == picture[:, ::-1]).all()


# --- failures -----------------------------------------------------------------------------------


def test_out_of_range_timestamps_fail_alone(steady_video):
    outcomes = dict(render_video_previews(steady_video, [-5, 1_000, 10_500]))
    assert isinstance(outcomes[-5], PreviewError) and "before the start" in outcomes[-5].reason
    assert isinstance(outcomes[10_500], PreviewError) and "past the end" in outcomes[10_500].reason
    assert frame_number(pixels(outcomes[1_000])) == 25
    with pytest.raises(PreviewError, match="past the end of the video \\((99[6-9][0-9]|10000) ms long\\)"):
        render_video_preview(steady_video, timestamp_ms=12_000)


def test_the_last_frame_holds_until_the_end(steady_video):
    preview = render_video_preview(steady_video, timestamp_ms=build_video_index(steady_video).duration_ms)
    assert frame_number(pixels(preview)) == 249


def test_garbage_and_missing_files(tmp_path):
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\0\0\0\x18ftypmp42" + b"\x13" * 5000)
    with pytest.raises(PreviewError, match="not a readable video|no video stream|no frames"):
        render_video_preview(junk, timestamp_ms=0)
    with pytest.raises(PreviewError, match="not found"):
        render_video_preview(tmp_path / "missing.mp4", timestamp_ms=0)


def test_truncated_video_still_serves_what_it_has(steady_video, tmp_path):
    data = steady_video.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 3])
    with pytest.raises(PreviewError):
        render_video_preview(cut, timestamp_ms=0)


def test_streams_work_like_paths(steady_video):
    by_path = render_video_preview(steady_video, timestamp_ms=3_000)
    with open(steady_video, "rb") as fh:
        assert render_video_preview(fh, timestamp_ms=3_000) == by_path
    assert render_video_preview(io.BytesIO(steady_video.read_bytes()), timestamp_ms=3_000) == by_path
