"""Image and TIFF thumbnails on the shared real files and on files made here."""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest
import pyvips
from PIL import Image

from frames.media import JPEG, PNG, PreviewError, render_image_preview
from frames.media import vips as media_vips
from frames.media.tiff import read_pages
from tests.media_helpers import (
    OneWayStream,
    assert_fits,
    image_format,
    mean_diff,
    media_testdata,
    pixels,
    record_routes,
)

# Every TIFF in the shared data: displayed (oriented) full size of page 0, and the preview type.
TIFFS = {
    "filetype.py/sample.tif": ((9312, 6560), JPEG),
    "image-tiff/BigTIFF.tif": ((64, 64), JPEG),
    "image-tiff/cmyk-4c-8b.tiff": ((157, 151), PNG),  # 5th sample is unassociated alpha
    "image-tiff/minisblack-1c-16b.tiff": ((157, 151), JPEG),
    "image-tiff/palette-1c-8b.tiff": ((157, 151), JPEG),
    "image-tiff/predictor-3-rgb-f32.tif": ((200, 200), JPEG),
    "image-tiff/quad-tile.jpg.tiff": ((512, 384), JPEG),
    "image-tiff/rgb-3c-16b.tiff": ((157, 151), JPEG),
    "large_image/grey10kx5k.tif": ((10000, 5000), JPEG),
    "large_image/test_orient1.tif": ((120, 180), JPEG),
    "large_image/test_orient3.tif": ((120, 180), JPEG),
    "large_image/test_orient6.tif": ((180, 120), JPEG),
    "large_image/test_orient8.tif": ((180, 120), JPEG),
    "openslide-python/boxes.tiff": ((300, 250), JPEG),
    "pillow/16bit.cropped.tif": ((64, 64), JPEG),
    "pillow/g4-multi.tiff": ((3307, 4677), JPEG),
    "pillow/g4_orientation_6.tif": ((590, 88), JPEG),
    "pillow/hopper.Lab.tif": ((128, 128), JPEG),
    "pillow/hopper.iccprofile.tif": ((128, 128), JPEG),
    "pillow/hopper.tif": ((128, 128), JPEG),
    "pillow/hopper_bigtiff.tif": ((128, 128), JPEG),
    "pillow/hopper_lzw.tif": ((128, 128), JPEG),
    "pillow/multipage.tiff": ((10, 10), JPEG),
    "pillow/old-style-jpeg-compression.tif": ((4160, 870), JPEG),
    "pillow/tiff_16bit_RGB.tiff": ((100, 40), JPEG),
    "pillow/tiff_16bit_RGBa.tiff": ((100, 40), PNG),
    "pillow/tiff_strip_cmyk_16l_jpeg.tif": ((100, 100), JPEG),
    "pillow/tiff_strip_cmyk_jpeg.tif": ((100, 100), JPEG),
    "pillow/tiff_strip_planar_raw_with_overviews.tif": ((278, 374), JPEG),
    "pillow/tiff_tiled_cmyk_jpeg.tif": ((100, 100), JPEG),
}


def tiff(name: str):
    return media_testdata() / "tiff" / name


def test_every_shared_tiff_is_listed(testdata):
    found = {str(p.relative_to(testdata / "tiff")) for p in (testdata / "tiff").rglob("*.tif*")}
    assert found == set(TIFFS)


@pytest.mark.parametrize("name", sorted(TIFFS))
def test_shared_tiff_previews(name):
    size, content_type = TIFFS[name]
    preview = render_image_preview(tiff(name), max_size=128)
    assert (preview.width, preview.height) == size
    assert preview.content_type == content_type
    assert image_format(preview) == ("PNG" if content_type == PNG else "JPEG")
    assert_fits(preview, 128, size)
    picture = pixels(preview)
    assert picture.std() > 1, "the preview is a flat colour"


# --- orientation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "orientation, upright",
    [
        (3, lambda a: np.rot90(a, 2)),
        (6, lambda a: np.rot90(a, -1)),  # 90 degrees clockwise
        (8, lambda a: np.rot90(a, 1)),  # 90 degrees counter-clockwise
    ],
)
def test_tiff_orientation_matches_an_upright_rendering(orientation, upright):
    # The four files hold the same raster; only the Orientation tag differs.
    raster = pixels(render_image_preview(tiff("large_image/test_orient1.tif"), max_size=256))
    shown = pixels(render_image_preview(tiff(f"large_image/test_orient{orientation}.tif"), max_size=256))
    assert mean_diff(shown, upright(raster)) < 2


def test_pillow_route_orients_tiff_once():
    # Pillow 13 applies TIFF orientation while loading; the fallback must not apply it again.
    from frames.media.images import _tiff_with_pillow

    path = str(tiff("large_image/test_orient6.tif"))
    image, width, height = _tiff_with_pillow(path, fmt="tiff", max_size=256, page=0)
    by_vips = pixels(render_image_preview(path, max_size=256))
    assert (width, height) == (180, 120)
    assert mean_diff(np.asarray(image), by_vips) < 2


def test_jpeg_exif_orientation_is_applied(tmp_path):
    stored = np.zeros((300, 400, 3), np.uint8)
    stored[:150, :200] = (255, 0, 0)  # red block top-left as stored
    exif = Image.Exif()
    exif[0x0112] = 6  # display rotated 90 degrees clockwise
    path = tmp_path / "rotated.jpg"
    Image.fromarray(stored).save(path, quality=95, exif=exif)
    preview = render_image_preview(path, max_size=100)
    assert (preview.width, preview.height) == (300, 400)
    shown = pixels(preview)
    assert shown.shape[:2] == (100, 75)
    # After a clockwise turn the stored top-left corner is at the top-right.
    assert shown[10, -10, 0] > 200 and shown[10, 10, 0] < 60


# --- value ranges -----------------------------------------------------------------------------


def test_16bit_uses_its_real_range_not_pillows_clipping():
    path = tiff("pillow/16bit.cropped.tif")  # values 291..694
    naive = np.asarray(Image.open(path).convert("L"))
    assert naive.min() == naive.max() == 255, "Pillow's 16-bit conversion clips (why we avoid it)"
    shown = pixels(render_image_preview(path, max_size=64))
    assert shown.min() <= 10 and shown.max() >= 245


@pytest.mark.parametrize(
    "name", ["image-tiff/minisblack-1c-16b.tiff", "image-tiff/rgb-3c-16b.tiff", "image-tiff/predictor-3-rgb-f32.tif"]
)
def test_high_depth_tiffs_span_the_display_range(name):
    shown = pixels(render_image_preview(tiff(name), max_size=256))
    assert shown.min() <= 10 and shown.max() >= 245


def test_16bit_rgb_looks_like_the_8bit_palette_version():
    # Both libtiff pics are the same peppers photo; a broken 16-bit path would not match.
    sixteen = pixels(render_image_preview(tiff("image-tiff/rgb-3c-16b.tiff")))
    palette = pixels(render_image_preview(tiff("image-tiff/palette-1c-8b.tiff")))
    assert mean_diff(sixteen, palette) < 12


def test_12bit_data_in_a_16bit_png_is_stretched(tmp_path):
    ramp = np.tile(np.linspace(0, 4095, 300).astype(np.uint16), (200, 1))  # a 12-bit sensor
    path = tmp_path / "depth.png"
    pyvips.Image.new_from_array(ramp).cast("ushort").copy(interpretation="grey16").write_to_file(str(path))
    preview = render_image_preview(path, max_size=150)
    shown = pixels(preview)
    assert shown.shape == (100, 150)
    assert shown[:, :5].mean() < 10 and shown[:, -5:].mean() > 245


def test_float_tiff_with_nan_and_arbitrary_range(tmp_path):
    depth = np.tile(np.linspace(-5.0, 1000.0, 256, dtype=np.float32), (64, 1))
    depth[0, 0] = np.nan
    path = tmp_path / "depth.tif"
    pyvips.Image.new_from_array(depth).write_to_file(str(path))
    shown = pixels(render_image_preview(path, max_size=256))
    assert shown[:, 1:4].mean() < 10 and shown[:, -3:].mean() > 245


# --- colour spaces and encodings ----------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["pillow/hopper_lzw.tif", "pillow/hopper_bigtiff.tif", "pillow/hopper.iccprofile.tif", "pillow/hopper.Lab.tif"],
)
def test_hopper_variants_match_the_baseline(name):
    baseline = pixels(render_image_preview(tiff("pillow/hopper.tif")))
    assert mean_diff(pixels(render_image_preview(tiff(name))), baseline) < 8


@pytest.mark.parametrize(
    "name",
    ["pillow/tiff_strip_cmyk_jpeg.tif", "pillow/tiff_tiled_cmyk_jpeg.tif", "pillow/tiff_strip_cmyk_16l_jpeg.tif"],
)
def test_cmyk_is_converted_not_inverted(name):
    # The picture is red lettering on a dark ground: bright pixels must be red, the ground dark.
    shown = pixels(render_image_preview(tiff(name))).astype(int)
    bright = shown[shown.sum(axis=2) > 250]
    assert len(bright) > 50
    assert (bright[:, 0] > bright[:, 1] + 60).mean() > 0.8
    assert np.median(shown.sum(axis=2)) < 200


def test_cmyk_with_alpha_keeps_transparency():
    preview = render_image_preview(tiff("image-tiff/cmyk-4c-8b.tiff"))
    alpha = pixels(preview)[:, :, 3]
    assert alpha.min() == 0 and alpha.max() == 255


# --- pages and pyramids -------------------------------------------------------------------------


def test_multipage_pages_are_chosen_by_argument():
    path = tiff("pillow/multipage.tiff")  # pages of 10x10, 10x10, 20x20
    sizes = [(render_image_preview(path, page=p).width, render_image_preview(path, page=p).height) for p in range(3)]
    assert sizes == [(10, 10), (10, 10), (20, 20)]
    with pytest.raises(PreviewError, match="page 3 does not exist.*3 page"):
        render_image_preview(path, page=3)


def test_fax_pages_are_the_requested_pages():
    # The three pages differ only in a few hundred pixels of text: compare at full size.
    path = tiff("pillow/g4-multi.tiff")
    with Image.open(path) as fax:
        ink = []
        for number in range(3):
            fax.seek(number)
            ink.append(np.asarray(fax.convert("L")) < 128)
    for number in range(3):
        shown = pixels(render_image_preview(path, page=number, max_size=4677)) < 128
        mismatches = [int((shown != page).sum()) for page in ink]
        assert mismatches[number] < 50 and sorted(mismatches)[1] > 200, mismatches


def test_reduced_resolution_ifds_are_levels_not_pages():
    with open(tiff("filetype.py/sample.tif"), "rb") as fh:
        pages = read_pages(fh)
    assert len(pages) == 1
    assert [(lv.width, lv.height) for lv in pages[0].levels] == [(9312, 6560), (2328, 1640)]
    with pytest.raises(PreviewError, match="1 page"):
        render_image_preview(tiff("filetype.py/sample.tif"), page=1)


def test_pillow_route_reads_overviews_libvips_cannot(monkeypatch):
    # The overviews are tiled planar-separate, which libvips refuses; Pillow still uses them.
    from PIL import TiffImagePlugin

    seeks: list[int] = []
    real_tiff_seek = TiffImagePlugin.TiffImageFile.seek
    monkeypatch.setattr(
        TiffImagePlugin.TiffImageFile, "seek", lambda self, n: (seeks.append(n), real_tiff_seek(self, n))[1]
    )
    path = tiff("pillow/tiff_strip_planar_raw_with_overviews.tif")
    preview = render_image_preview(path, max_size=90)
    assert seeks and seeks[-1] == 2  # the 70x94 overview covers the 67x90 preview
    assert (preview.width, preview.height) == (278, 374)
    with Image.open(path) as image:
        full = np.asarray(image.convert("RGB").resize((67, 90), Image.Resampling.LANCZOS))
        image.seek(2)
        overview = np.asarray(image.convert("RGB").resize((67, 90), Image.Resampling.LANCZOS))
    # The overview was drawn from the full page, so both look alike; the preview is the overview.
    assert mean_diff(pixels(preview), overview) < 8
    assert mean_diff(pixels(preview), overview) < mean_diff(pixels(preview), full)


def spy_on_loads(monkeypatch) -> list[dict]:
    calls: list[dict] = []
    real = media_vips.load

    def recording(src, **options):
        calls.append(options)
        return real(src, **options)

    monkeypatch.setattr(media_vips, "load", recording)
    return calls


@pytest.mark.parametrize(
    "name, max_size, expected_page",
    [
        ("filetype.py/sample.tif", 256, 1),  # 2328x1640 copy instead of the 9312x6560 page
        ("filetype.py/sample.tif", 4000, 0),  # the copy is too small for this size
        ("openslide-python/boxes.tiff", 64, 2),  # 75x62 level covers 64x53
        ("image-tiff/quad-tile.jpg.tiff", 256, 0),  # no levels: the page itself
    ],
)
def test_smallest_sufficient_pyramid_level_is_decoded(monkeypatch, name, max_size, expected_page):
    calls = spy_on_loads(monkeypatch)
    render_image_preview(tiff(name), max_size=max_size)
    assert calls[0]["page"] == expected_page


def test_subifd_pyramid_level_is_used(tmp_path, monkeypatch):
    big = pyvips.Image.black(2048, 1536).draw_rect(255, 0, 0, 1024, 768, fill=True)
    path = tmp_path / "pyramid.tif"
    big.tiffsave(str(path), tile=True, pyramid=True, subifd=True, compression="deflate")
    calls = spy_on_loads(monkeypatch)
    preview = render_image_preview(path, max_size=200)
    assert calls[0] == {"access": "sequential", "page": 0, "subifd": 2}  # 256x192 level
    assert (preview.width, preview.height) == (2048, 1536)
    shown = pixels(preview)
    assert shown.shape == (150, 200) and shown[:70, :95].mean() > 240 and shown[80:, 105:].mean() < 15


# --- other formats --------------------------------------------------------------------------


def test_large_jpeg_fits_and_keeps_aspect(tmp_path):
    path = tmp_path / "big.jpg"
    Image.fromarray(np.random.default_rng(1).integers(0, 255, (1500, 2000, 3), np.uint8)).save(path)
    preview = render_image_preview(path, max_size=256)
    assert (preview.width, preview.height) == (2000, 1500) and preview.content_type == JPEG
    assert_fits(preview, 256, (2000, 1500))


def test_small_images_are_not_enlarged(tmp_path):
    path = tmp_path / "small.png"
    Image.new("RGB", (40, 30), (10, 200, 30)).save(path)
    preview = render_image_preview(path, max_size=256)
    assert pixels(preview).shape == (30, 40, 3)


def test_png_with_alpha_stays_png_and_opaque_alpha_becomes_jpeg(tmp_path):
    clear = np.zeros((50, 80, 4), np.uint8)
    clear[:, :40] = (255, 0, 0, 255)
    Image.fromarray(clear).save(tmp_path / "alpha.png")
    opaque = clear.copy()
    opaque[:, :, 3] = 255
    Image.fromarray(opaque).save(tmp_path / "opaque.png")
    assert render_image_preview(tmp_path / "alpha.png").content_type == PNG
    assert render_image_preview(tmp_path / "opaque.png").content_type == JPEG


def bmp_565(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A 16-bit BI_BITFIELDS (RGB565) BMP: an odd depth browsers and some tools mishandle."""
    r, g, b = rgb
    value = ((r >> 3) << 11) | ((g >> 2) << 5) | (b >> 3)
    row = struct.pack("<H", value) * width + b"\0" * ((4 - (width * 2) % 4) % 4)
    pixels_ = row * height
    header_size = 14 + 40 + 12
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 16, 3, len(pixels_), 2835, 2835, 0, 0)
    masks = struct.pack("<III", 0xF800, 0x07E0, 0x001F)
    file_header = struct.pack("<2sIHHI", b"BM", header_size + len(pixels_), 0, 0, header_size)
    return file_header + info + masks + pixels_


@pytest.mark.parametrize("mode", ["1", "P", "L", "RGB", "565"])
def test_odd_bmps(tmp_path, mode):
    path = tmp_path / f"{mode}.bmp"
    if mode == "565":
        path.write_bytes(bmp_565(33, 17, (200, 100, 40)))
    else:
        Image.new("RGB", (33, 17), (200, 100, 40)).convert(mode).save(path)
    preview = render_image_preview(path)
    assert (preview.width, preview.height) == (33, 17) and preview.content_type == JPEG
    assert pixels(preview).shape[:2] == (17, 33)
    if mode == "565":
        assert np.abs(pixels(preview).reshape(-1, 3).mean(axis=0) - (200, 100, 40)).max() < 10


@pytest.mark.parametrize("fmt", ["WEBP", "GIF"])
def test_webp_and_gif(tmp_path, fmt):
    path = tmp_path / f"picture.{fmt.lower()}"
    Image.new("RGB", (600, 300), (30, 60, 200)).save(path, fmt)
    preview = render_image_preview(path, max_size=120)
    assert (preview.width, preview.height) == (600, 300)
    assert pixels(preview).shape[:2] == (60, 120)


def test_real_coco_jpegs(testdata):
    for path in sorted((testdata / "coco" / "mmpose").glob("*.jpg")):
        with Image.open(path) as image:
            size = image.size
        preview = render_image_preview(path, max_size=200)
        assert (preview.width, preview.height) == size
        assert_fits(preview, 200, size)


@pytest.fixture
def routes_used(monkeypatch):
    """Record which route rendered each preview, and every route that failed first."""
    return record_routes(monkeypatch)


def ordinary_files(folder):
    rgb = np.random.default_rng(3).integers(0, 255, (300, 400, 3), np.uint8)
    files = {}
    for fmt, name in [("JPEG", "a.jpg"), ("PNG", "a.png"), ("WEBP", "a.webp"), ("GIF", "a.gif"), ("TIFF", "a.tif")]:
        Image.fromarray(rgb).save(folder / name, fmt)
        files[name] = folder / name
    deep = folder / "deep.png"
    pyvips.Image.new_from_array(rgb[:, :, 0].astype(np.uint16) * 200).cast("ushort").write_to_file(str(deep))
    files["deep.png"] = deep
    return files


@pytest.mark.parametrize("as_stream", [False, True])
def test_ordinary_files_take_their_fast_route_without_falling_back(tmp_path, routes_used, as_stream):
    expected = {"a.jpg": "_with_pillow", "a.tif": "_tiff_with_vips"}
    for name, path in ordinary_files(tmp_path).items():
        routes_used.clear()
        render_image_preview(io.BytesIO(path.read_bytes()) if as_stream else path, max_size=100)
        assert routes_used == [(expected.get(name, "_with_vips"), "ok")], name


def test_multipage_gif_and_webp_pages(tmp_path, routes_used):
    # Each page is its colour with a white stripe on the left: a page of one flat colour would be checked with
    # Pillow as well (flat thumbnails are suspects), and this test is about libvips choosing the page.
    colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255)]
    frames_ = [Image.new("RGB", (60, 40), colour) for colour in colours]
    for frame in frames_:
        frame.paste((255, 255, 255), (0, 0, 10, 40))
    for suffix in ("gif", "webp"):
        path = tmp_path / f"anim.{suffix}"
        frames_[0].save(path, save_all=True, append_images=frames_[1:], duration=100, lossless=True)
        for page, colour in enumerate(colours):
            for source in (path, io.BytesIO(path.read_bytes())):
                shown = pixels(render_image_preview(source, page=page))[:, 20:].reshape(-1, 3).mean(axis=0)
                assert np.abs(shown - colour).max() < 30, (suffix, page, shown)
        assert {route for route, _ in routes_used} == {"_with_vips"}
        assert all(outcome == "ok" for _, outcome in routes_used)
        with pytest.raises(PreviewError, match="page 3 does not exist"):
            render_image_preview(path, page=3)
        routes_used.clear()


# --- inputs and failures ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["pillow/hopper_lzw.tif", "openslide-python/boxes.tiff", "pillow/hopper.Lab.tif"])
def test_file_objects_give_the_same_preview_as_paths(name):
    path = tiff(name)
    by_path = render_image_preview(path, max_size=64)
    with open(path, "rb") as fh:
        assert render_image_preview(fh, max_size=64) == by_path
    assert render_image_preview(io.BytesIO(path.read_bytes()), max_size=64) == by_path
    assert render_image_preview(OneWayStream(path.read_bytes()), max_size=64) == by_path


def test_jpeg_from_a_stream(testdata):
    path = testdata / "coco" / "labelme" / "JPEGImages" / "2011_000003.jpg"
    assert render_image_preview(io.BytesIO(path.read_bytes())) == render_image_preview(path)


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "not a supported image format"),
        (b"hello, this is not an image at all", "not a supported image format"),
        (b"\xff\xd8\xff\xe0" + b"\0" * 100, "cannot decode this JPEG"),
        (b"II*\x00\x08\x00\x00\x00\xff\xff", "TIFF"),
    ],
)
def test_garbage_raises_a_readable_error(tmp_path, data, message):
    path = tmp_path / "bad.bin"
    path.write_bytes(data)
    with pytest.raises(PreviewError, match=message) as caught:
        render_image_preview(path)
    assert caught.value.reason and "\n" not in caught.value.reason


@pytest.mark.parametrize("name", ["pillow/hopper_lzw.tif", "image-tiff/quad-tile.jpg.tiff"])
def test_truncated_files_raise(tmp_path, name):
    data = tiff(name).read_bytes()
    path = tmp_path / "cut.tif"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(PreviewError, match="TIFF"):
        render_image_preview(path)


def test_truncated_jpeg_raises(tmp_path, testdata):
    data = (testdata / "coco" / "labelme" / "JPEGImages" / "2011_000003.jpg").read_bytes()
    path = tmp_path / "cut.jpg"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(PreviewError, match="JPEG"):
        render_image_preview(path)


def test_missing_file_and_bad_arguments(tmp_path):
    with pytest.raises(PreviewError, match="not found"):
        render_image_preview(tmp_path / "nope.jpg")
    with pytest.raises(PreviewError, match="page -1"):
        render_image_preview(tiff("pillow/hopper.tif"), page=-1)
    with pytest.raises(ValueError):
        render_image_preview(tiff("pillow/hopper.tif"), max_size=0)
