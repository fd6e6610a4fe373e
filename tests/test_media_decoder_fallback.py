"""A decoder that gets a file wrong without raising does not have the last word.

The libvips bundled with pyvips-binary has no ZSTD, JPEG 2000, JPEG XL or LERC codec for TIFF: it decodes
tiled files compressed that way as black, without an error. So a thumbnail that is one flat colour, or one
whose decoding made libvips log a warning, is not the answer: the next decoder is asked (Pillow, then
tifffile with imagecodecs for TIFF), and the preview fails only when no decoder can give a picture.
"""

from __future__ import annotations

import io
import logging
from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image

from frames.media import JPEG, PNG, PreviewError, images, render_image_preview
from tests.media_helpers import mean_diff, pixels, record_routes


def gradient_picture(width: int, height: int) -> np.ndarray:
    """Red ramps left to right, green top to bottom, blue in large blocks: clearly not one colour, and alike
    after any decent downscale."""
    y, x = np.mgrid[0:height, 0:width]
    red = x * 255 // (width - 1)
    green = y * 255 // (height - 1)
    blue = 40 + 160 * ((x * 4 // width + y * 2 // height) % 2)
    return np.dstack([red, green, blue]).astype(np.uint8)


def write_tiled_pyramid(path: Path, picture: np.ndarray, *, compression: str, levels_in_subifds: bool) -> Path:
    """A tiled pyramid as GDAL or tifffile write one: the full picture, then halved copies marked reduced,
    in the main IFD chain or in SubIFDs of the full picture."""
    levels = [picture]
    while max(levels[-1].shape[:2]) > 256:
        levels.append(levels[-1][::2, ::2])
    options = {"photometric": "rgb", "compression": compression, "tile": (256, 256)}
    with tifffile.TiffWriter(path) as tiff:
        tiff.write(levels[0], subifds=len(levels) - 1 if levels_in_subifds else None, **options)
        for level in levels[1:]:
            tiff.write(level, subfiletype=1, **options)
    return path


def downscaled(picture: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return np.asarray(Image.fromarray(picture).resize(size, Image.Resampling.BOX))


# --- a flat thumbnail is a suspect ------------------------------------------------------------------


@pytest.mark.parametrize("levels_in_subifds", [False, True], ids=["levels-in-main-chain", "levels-in-subifds"])
@pytest.mark.parametrize("as_stream", [False, True], ids=["path", "stream"])
def test_zstd_pyramid_tiff_shows_its_picture_not_black(tmp_path, levels_in_subifds, as_stream):
    # 2048x1024 with levels down to 256x128 fails like the reported 10000x5000 file: libvips decodes every
    # ZSTD tile as black (checked at both sizes), whatever the size.
    picture = gradient_picture(2048, 1024)
    path = write_tiled_pyramid(tmp_path / "zstd.tif", picture, compression="zstd", levels_in_subifds=levels_in_subifds)
    preview = render_image_preview(io.BytesIO(path.read_bytes()) if as_stream else path, max_size=256)
    assert (preview.width, preview.height, preview.content_type) == (2048, 1024, JPEG)
    shown = pixels(preview)
    assert shown.shape == (128, 256, 3)
    assert mean_diff(shown, downscaled(picture, (256, 128))) < 6


@pytest.mark.parametrize("compression", ["jpeg2000", "jpegxl", "lerc"])
@pytest.mark.parametrize("as_stream", [False, True], ids=["path", "stream"])
def test_tiff_codecs_only_tifffile_decodes(tmp_path, compression, as_stream):
    # libvips renders these black and Pillow cannot open them: tifffile with imagecodecs is the decoder.
    picture = gradient_picture(1024, 512)
    path = write_tiled_pyramid(tmp_path / "codec.tif", picture, compression=compression, levels_in_subifds=True)
    shown = pixels(render_image_preview(io.BytesIO(path.read_bytes()) if as_stream else path, max_size=200))
    assert shown.shape == (100, 200, 3)
    assert mean_diff(shown, downscaled(picture, (200, 100))) < 6


def test_a_flat_zstd_tiff_shows_its_own_colour(tmp_path):
    # libvips' black and the real colour are both flat: the second decoder's picture is the one shown.
    picture = np.full((600, 800, 3), (90, 140, 200), np.uint8)
    path = write_tiled_pyramid(tmp_path / "flat.tif", picture, compression="zstd", levels_in_subifds=False)
    shown = pixels(render_image_preview(path, max_size=100)).reshape(-1, 3).mean(axis=0)
    assert np.abs(shown - (90, 140, 200)).max() < 3


def test_a_flat_picture_is_confirmed_by_the_next_decoder_and_kept(tmp_path, monkeypatch):
    routes = record_routes(monkeypatch)
    path = tmp_path / "flat.png"
    Image.new("RGB", (300, 200), (30, 60, 200)).save(path)
    shown = pixels(render_image_preview(path, max_size=150))
    assert shown.shape == (100, 150, 3) and (np.abs(shown.astype(int) - (30, 60, 200)).max() <= 2)
    assert routes == [("_with_vips", "ok"), ("_with_pillow", "ok")]


def test_pictures_with_detail_are_not_decoded_twice(tmp_path, monkeypatch):
    routes = record_routes(monkeypatch)
    path = tmp_path / "ramp.png"
    Image.fromarray(gradient_picture(300, 200)).save(path)
    render_image_preview(path, max_size=150)
    assert routes == [("_with_vips", "ok")]


def test_a_spot_away_from_the_probed_pixels_is_detail(tmp_path, monkeypatch):
    # The flatness check looks at nine scattered pixels first; a spot between them must still count.
    routes = record_routes(monkeypatch)
    picture = Image.new("RGB", (300, 200), (30, 60, 200))
    picture.paste((250, 250, 250), (40, 30, 70, 60))
    picture.save(tmp_path / "spot.png")
    render_image_preview(tmp_path / "spot.png", max_size=150)
    assert routes == [("_with_vips", "ok")]


def test_when_no_decoder_gives_a_picture_the_reason_says_why(tmp_path):
    # Zeroed tile data: libvips (no ZSTD at all) renders black, Pillow and tifffile refuse the damaged tiles.
    path = write_tiled_pyramid(tmp_path / "broken.tif", gradient_picture(512, 256), compression="zstd",
                               levels_in_subifds=False)
    data = bytearray(path.read_bytes())
    with tifffile.TiffFile(path) as tiff:
        for page in tiff.pages:
            for offset, count in zip(page.dataoffsets, page.databytecounts):
                data[offset: offset + count] = bytes(count)
    path.write_bytes(bytes(data))
    with pytest.raises(PreviewError) as caught:
        render_image_preview(path, max_size=100)
    reason = caught.value.reason
    assert reason.startswith("cannot decode this TIFF file:")
    assert "one flat colour" in reason and "\n" not in reason


# --- a libvips warning is a failure of libvips ----------------------------------------------------


def damaged_packbits_tiff(path: Path, *, size=(600, 400)) -> Path:
    """PackBits strips, one of them overwritten with noise: libvips logs "Discarding N bytes to avoid buffer
    overrun" and still returns a picture, with that strip garbled."""
    picture = gradient_picture(*size)
    tifffile.imwrite(path, picture, photometric="rgb", compression="packbits", rowsperstrip=16)
    data = bytearray(path.read_bytes())
    with tifffile.TiffFile(path) as tiff:
        offset, count = tiff.pages[0].dataoffsets[5], tiff.pages[0].databytecounts[5]
    noise = np.random.default_rng(7).integers(0, 256, count // 2, np.uint8).tobytes()
    data[offset + count // 4: offset + count // 4 + len(noise)] = noise
    path.write_bytes(bytes(data))
    return path


def test_a_libvips_warning_hands_the_file_to_the_next_decoder(tmp_path, monkeypatch):
    routes = record_routes(monkeypatch)
    path = damaged_packbits_tiff(tmp_path / "damaged.tif")
    preview = render_image_preview(path, max_size=300)
    assert [route for route, _ in routes] == ["_tiff_with_vips", "_tiff_with_pillow"]
    with Image.open(path) as image:
        by_pillow = np.asarray(image.convert("RGB").resize((300, 200), Image.Resampling.BICUBIC))
    assert mean_diff(pixels(preview), by_pillow) < 3


def test_warnings_from_band_decoding_threads_are_caught(tmp_path, monkeypatch):
    # Large enough to be decoded in bands on worker threads, where libvips logs the warning.
    monkeypatch.setattr(images, "BANDS_MIN_PIXELS", 100_000)
    monkeypatch.setattr(images, "_spare_cores", lambda: 2)
    split_calls = []
    real_row_bands = images.row_bands
    monkeypatch.setattr(images, "row_bands", lambda *a, **k: split_calls.append(1) or real_row_bands(*a, **k))
    routes = record_routes(monkeypatch)
    render_image_preview(damaged_packbits_tiff(tmp_path / "damaged.tif", size=(1200, 800)), max_size=200)
    assert split_calls, "the file was not decoded in bands"
    assert [route for route, _ in routes] == ["_tiff_with_vips", "_tiff_with_pillow"]


@pytest.fixture
def log_levels():
    """Set loggers' levels for one test; they are restored afterwards."""
    saved: dict[str, int] = {}

    def set_level(name: str, level: int) -> None:
        logger = logging.getLogger(name)
        saved.setdefault(name, logger.level)
        logger.setLevel(level)

    yield set_level
    for name, level in saved.items():
        logging.getLogger(name).setLevel(level)


def test_a_worker_logging_only_errors_still_notices_libvips_warnings(tmp_path, monkeypatch, log_levels):
    # As `celery worker -l error` configures it: warnings are below the log's level, yet still a failure.
    log_levels("", logging.ERROR)
    log_levels("pyvips", logging.NOTSET)
    routes = record_routes(monkeypatch)
    render_image_preview(damaged_packbits_tiff(tmp_path / "damaged.tif"), max_size=300)
    assert [route for route, _ in routes] == ["_tiff_with_vips", "_tiff_with_pillow"]


# --- tifffile renders what it decodes like the ordinary route renders the same pixels ----------------


def _grey12(width, height):
    return gradient_picture(width, height)[:, :, 0].astype(np.uint16) * 16  # a 12-bit sensor in 16 bits


def _left_half_transparent(width, height):
    alpha = np.full((height, width, 1), 255, np.uint8)
    alpha[:, : width // 2] = 0
    return np.dstack([gradient_picture(width, height), alpha])


TIFFFILE_CASES = {
    "rgb": (lambda w, h: gradient_picture(w, h), {"photometric": "rgb"}),
    "rgba": (_left_half_transparent, {"photometric": "rgb", "extrasamples": [2]}),
    "grey-12-bit": (_grey12, {"photometric": "minisblack"}),
    "min-is-white": (lambda w, h: gradient_picture(w, h)[:, :, 1], {"photometric": "miniswhite"}),
    "palette": (
        lambda w, h: gradient_picture(w, h)[:, :, 0],  # indexes 0..255 into a red ramp, green falling
        {"photometric": "palette", "colormap": np.array([np.arange(256) * 257, (255 - np.arange(256)) * 257,
                                                         np.full(256, 128 * 257)], np.uint16)},
    ),
    "planar-separate": (lambda w, h: gradient_picture(w, h), {"photometric": "rgb", "planarconfig": "separate"}),
    "orientation-6": (
        lambda w, h: gradient_picture(w, h),
        {"photometric": "rgb", "extratags": [(274, "H", 1, 6, True)]},
    ),
}


@pytest.mark.parametrize("case", sorted(TIFFFILE_CASES))
def test_tifffile_route_renders_like_the_ordinary_route(tmp_path, monkeypatch, case):
    make, options = TIFFFILE_CASES[case]
    samples = make(320, 200)
    if options.get("planarconfig") == "separate":
        samples = np.ascontiguousarray(np.moveaxis(samples, -1, 0))
    plain, lerc = tmp_path / "plain.tif", tmp_path / "lerc.tif"
    tifffile.imwrite(plain, samples, **options)  # uncompressed: libvips reads it
    tifffile.imwrite(lerc, samples, compression="lerc", tile=(64, 64), **options)  # only tifffile reads it
    expected = render_image_preview(plain, max_size=160)
    routes = record_routes(monkeypatch)
    shown = render_image_preview(lerc, max_size=160)
    assert routes[-1] == ("_tiff_with_tifffile", "ok")
    assert (shown.width, shown.height, shown.content_type) == (expected.width, expected.height, expected.content_type)
    assert pixels(expected).std() > 20, "the reference itself is nearly flat: the case proves nothing"
    assert mean_diff(pixels(shown), pixels(expected)) < 4
    if case == "rgba":
        assert expected.content_type == PNG
