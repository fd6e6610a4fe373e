"""Large compressed TIFFs decoded in bands on several cores (frames/media/tiff_bands.py): every band is exactly
its rows of the image, and a preview made from bands matches one made in one pass."""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest
import pyvips

from frames.media import images, render_image_preview
from frames.media.tiff_bands import SplicedFile, row_bands
from tests.media_helpers import media_testdata, mean_diff, pixels


def _photo(width: int, height: int, bands: int = 3, dtype=np.uint8) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = 0.5 + 0.4 * np.sin(x / 97) * np.cos(y / 61) + 0.1 * ((x // 50 + y // 40) % 2)
    peak = np.iinfo(dtype).max
    planes = [np.clip(base * (0.6 + 0.2 * i) * peak, 0, peak) for i in range(bands)]
    return np.dstack(planes).astype(dtype) if bands > 1 else planes[0].astype(dtype)


@pytest.fixture(scope="module")
def strip_tiffs(tmp_path_factory) -> dict[str, str]:
    """TIFFs made here: LZW strips with a predictor, Deflate 16-bit grey strips, BigTIFF, Deflate and JPEG tiles."""
    folder = tmp_path_factory.mktemp("strip-tiffs")
    rgb = pyvips.Image.new_from_array(_photo(1200, 900)).copy(interpretation="srgb")
    grey16 = pyvips.Image.new_from_array(_photo(1000, 700, 1, np.uint16)).copy(interpretation="grey16")
    files = {
        "lzw-rgb": (rgb, {"compression": "lzw", "predictor": "horizontal"}),
        "deflate-grey16": (grey16, {"compression": "deflate"}),
        "bigtiff-lzw": (rgb, {"compression": "lzw", "bigtiff": True}),
        "tiled-deflate": (rgb, {"compression": "deflate", "tile": True, "tile_width": 128, "tile_height": 64}),
        "tiled-jpeg": (rgb, {"compression": "jpeg", "Q": 90, "tile": True, "tile_width": 256, "tile_height": 128}),
    }
    made = {}
    for name, (image, options) in files.items():
        made[name] = str(folder / f"{name}.tif")
        image.tiffsave(made[name], **options)
    return made


def _rows(path: str) -> np.ndarray:
    return pyvips.Image.new_from_file(path).numpy()


def _band_rows(path: str, band) -> np.ndarray:
    with SplicedFile(path, band) as stream:
        return pyvips.Image.new_from_buffer(stream.read(), "").numpy()


@pytest.mark.parametrize("name", ["lzw-rgb", "deflate-grey16", "bigtiff-lzw", "tiled-deflate", "tiled-jpeg"])
@pytest.mark.parametrize("count", [2, 3])
def test_every_band_is_exactly_its_rows(strip_tiffs, name, count):
    path = strip_tiffs[name]
    with open(path, "rb") as fh:
        bands, shrink = row_bands(fh, 0, count=count, max_multiple=8)
    full = _rows(path)
    assert 4 <= shrink <= 8 and len(bands) == count
    assert [b.top for b in bands] == [0] + [b.top + b.rows for b in bands[:-1]]  # contiguous
    assert bands[-1].top + bands[-1].rows == full.shape[0]
    for band in bands[:-1]:
        assert band.rows % shrink == 0  # band edges fall between output rows
    for band in bands:
        assert np.array_equal(_band_rows(path, band), full[band.top : band.top + band.rows])


def test_a_real_large_strip_tiff_splits_exactly():
    path = str(media_testdata() / "tiff/large_image/grey10kx5k.tif")
    with open(path, "rb") as fh:
        bands, _ = row_bands(fh, 0, count=2, max_multiple=16)
    full = _rows(path)
    for band in bands:
        assert np.array_equal(_band_rows(path, band), full[band.top : band.top + band.rows])


def test_uncompressed_and_single_strip_images_are_not_split(tmp_path):
    raw = str(tmp_path / "raw.tif")
    pyvips.Image.new_from_array(_photo(600, 400)).tiffsave(raw, compression="none")
    for path in [raw] + [str(media_testdata() / "tiff" / name) for name in
                         ("image-tiff/quad-tile.jpg.tiff", "pillow/16bit.cropped.tif")]:
        with open(path, "rb") as fh:
            assert row_bands(fh, 0, count=2, max_multiple=4) is None, path


@pytest.fixture
def cores(monkeypatch):
    """Choose how many idle cores the renderer sees (it decodes in bands only with two or more)."""
    monkeypatch.setattr(images, "BANDS_MIN_PIXELS", 100_000)
    return lambda n: monkeypatch.setattr(images, "_spare_cores", lambda: n)


@pytest.mark.parametrize("name", ["lzw-rgb", "deflate-grey16", "bigtiff-lzw", "tiled-deflate", "tiled-jpeg"])
def test_previews_from_bands_match_one_pass(strip_tiffs, cores, name):
    path = strip_tiffs[name]
    cores(1)
    one_pass = render_image_preview(path)
    cores(3)
    in_bands = render_image_preview(path)
    assert (in_bands.width, in_bands.height, in_bands.content_type) == (one_pass.width, one_pass.height, one_pass.content_type)
    assert pixels(in_bands).shape == pixels(one_pass).shape
    assert mean_diff(pixels(in_bands), pixels(one_pass)) < 2.0


def test_real_files_give_the_same_previews_either_way(cores):
    for name in ("large_image/grey10kx5k.tif", "pillow/hopper_lzw.tif", "image-tiff/rgb-3c-16b.tiff",
                 "filetype.py/sample.tif", "large_image/test_orient6.tif", "openslide-python/boxes.tiff"):
        path = str(media_testdata() / "tiff" / name)
        cores(1)
        one_pass = pixels(render_image_preview(path))
        cores(2)
        assert mean_diff(pixels(render_image_preview(path)), one_pass) < 2.0, name


def test_streams_are_decoded_in_one_pass(strip_tiffs, cores, monkeypatch):
    cores(2)
    monkeypatch.setattr(images, "row_bands", lambda *a, **k: pytest.fail("a stream must not be split"))
    with open(strip_tiffs["lzw-rgb"], "rb") as fh:
        preview = render_image_preview(io.BytesIO(fh.read()))
    assert (preview.width, preview.height) == (1200, 900)


def test_tags_the_splitter_cannot_read_leave_the_file_to_the_one_pass_decoder(strip_tiffs, cores, monkeypatch):
    cores(2)
    for error in (struct.error("unpack requires a buffer of 8 bytes"), ValueError("TIFF tag 279 is not an integer field")):
        monkeypatch.setattr(images, "row_bands", lambda *a, error=error, **k: (_ for _ in ()).throw(error))
        preview = render_image_preview(strip_tiffs["lzw-rgb"])
        assert (preview.width, preview.height) == (1200, 900)
