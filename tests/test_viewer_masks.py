"""Mask overlays of the frame viewer (static/js/viewer/masks.js, mask-worker.js, mask-layer.js, mask-panel.js).

- The pure functions run in Chromium (page.evaluate imports the modules from the live server): the lookup of RGB
  values to labels (mask_labels with `_all_` and per-mask entries, the deprecated per-ROI `mask.value` with -1),
  colouring in label and alpha mode, the value counts, the PNG decoder for masks with transparency.
- End to end: the VOC masks of the shared test data made into the lossless PNG a worker makes
  (frames.media.render_mask_png), written under MEDIA_ROOT as worker-made previews (the test server serves MEDIA_ROOT), loaded by
  MaskLayer in the page (its worker fetches, decodes and colours them), drawn on a canvas and read back: every
  pixel compared with what Python computes from the mask, the mask labels and viewer.tiles.label_colour.
- The masks panel, used as a user would (eye, slider, mode, label colour and visibility) with a screenshot in
  test-artifacts/screenshots/viewer-masks-panel.png.
"""
from __future__ import annotations

import base64
import io
import json
import os
import re
from pathlib import Path

import numpy as np
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.templatetags.static import static
from PIL import Image
from playwright.sync_api import expect

from frames import links, services
from frames.media import render_mask_png
from viewer.tiles import label_colour

from .media_helpers import pixels

SCREENSHOTS = Path(os.environ.get("HYPERDATA_SCREENSHOTS") or Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots")
NEUTRAL = "#808080"  # colours.js UNLABELLED


def voc_colour(index: int) -> list[int]:
    """The PASCAL VOC colour map, computed as the VOC devkit does (bits of the class index spread over RGB)."""
    rgb = [0, 0, 0]
    for shift in range(8):
        for channel in range(3):
            rgb[channel] |= ((index >> channel) & 1) << (7 - shift)
        index >>= 3
    return rgb


def hex_rgb(colour: str) -> list[int]:
    return [int(colour[i : i + 2], 16) for i in (1, 3, 5)]


@pytest.fixture(scope="module")
def voc(testdata):
    base = testdata / "masks" / "labelme-voc"
    names = (base / "class_names.txt").read_text().split("\n")
    return {"base": base, "names": [n for n in names if n]}


# ------------------------------------------------------------------------------------------ pure functions


@pytest.fixture
def module_page(page, live_server):
    page.goto(static("js/viewer/masks.js"))
    return page


def run(page, body: str, arg=None):
    """Evaluate `body` with `m` = masks.js and `arg` in the page."""
    url = static("js/viewer/masks.js")
    return page.evaluate(f"async (arg) => {{ const m = await import({json.dumps(url)}); return {body}; }}", arg)


RESOLVE = "((r) => arg.values.map((v) => r(m.packRgb(v))))(m.labelResolver(m.maskLookup(arg.inputs)))"


def test_lookup_from_mask_labels_the_masks_own_entries_win(module_page):
    mask_labels = {
        "_all_": [{"value": [10, 20, 30], "labels": ["car"]}, {"value": [1, 1, 1], "labels": ["road"]},
                  {"value": [-1, -1, 9], "labels": ["blue-ish"]}, {"value": "bad", "labels": ["x"]}, {"labels": ["y"]}],
        "seg": [{"value": [10, 20, 30], "labels": ["truck", "vehicle"]}, {"value": [5, 5, 5], "labels": "sign"}],
        "other": [{"value": [2, 2, 2], "labels": ["elsewhere"]}],
    }
    values = [[10, 20, 30], [1, 1, 1], [5, 5, 5], [2, 2, 2], [0, 0, 9], [7, 7, 7]]
    got = run(module_page, RESOLVE, {"inputs": {"maskId": "seg", "maskLabels": mask_labels}, "values": values})
    assert got == [["truck", "vehicle"], ["road"], ["sign"], [], ["blue-ish"], []]
    # Another mask sees only `_all_`; the lookup says where it came from.
    got = run(module_page, RESOLVE, {"inputs": {"maskId": "inst", "maskLabels": mask_labels}, "values": values})
    assert got == [["car"], ["road"], [], [], ["blue-ish"], []]
    assert run(module_page, "m.maskLookup(arg).from", {"maskId": "seg", "maskLabels": mask_labels}) == "mask_labels"


def test_lookup_from_the_deprecated_per_roi_mask_value(module_page):
    rois = [
        {"sources": ["front"], "label": ["right_lane"], "mask": {"id": "seg", "value": [-1, 1, 255]}},
        {"sources": ["front"], "labels": ["car"], "mask": {"id": "seg", "value": [210, 210, 120]}},
        {"sources": ["front"], "labels": ["vehicle"], "mask": {"id": "seg", "value": [210, 210, 120]}},
        {"sources": ["front"], "labels": ["lane"], "mask": {"id": "seg", "value": [-1, -1, 255]}},
        {"sources": ["rear"], "labels": ["rear-car"], "mask": {"id": "seg", "value": [3, 3, 3]}},
        {"labels": ["default-source"], "mask": {"id": "seg", "value": [4, 4, 4]}},  # names none: the first source's
        {"sources": ["front"], "labels": ["other-mask"], "mask": {"id": "instances", "value": [5, 5, 5]}},
        {"sources": ["front"], "labels": ["bike"], "poly": [30, 50, 50, 50, 100, 50]},
    ]
    inputs = {"maskId": "seg", "maskLabels": {}, "rois": rois, "sourceId": "front", "sourceIds": ["front", "rear"]}
    values = [[0, 1, 255], [200, 1, 255], [0, 2, 255], [210, 210, 120], [3, 3, 3], [4, 4, 4], [5, 5, 5], [0, 1, 254]]
    got = run(module_page, RESOLVE, {"inputs": inputs, "values": values})
    # -1 matches any value of its channel; two rules that match equally well join their labels; an exact value
    # wins over rules with -1; ROIs of another source or another mask do not count.
    assert got == [["right_lane", "lane"], ["right_lane", "lane"], ["lane"], ["car", "vehicle"], [], ["default-source"], [], []]
    assert run(module_page, "m.maskLookup(arg).from", inputs) == "rois"
    # The version's map, when it has entries for the mask, is used instead of the deprecated form.
    with_map = {**inputs, "maskLabels": {"_all_": [{"value": [3, 3, 3], "labels": ["from-map"]}]}}
    assert run(module_page, RESOLVE, {"inputs": with_map, "values": values})[3:5] == [[], ["from-map"]]
    assert run(module_page, "m.maskLookup(arg).from", {"maskId": "seg"}) == "none"


def test_colouring_in_label_and_alpha_mode_and_the_counts(module_page):
    # Four pixels per row: car, person, an unlabelled value, road; the second row has partial alpha in one pixel.
    rgba = [[10, 20, 30, 255], [40, 50, 60, 255], [7, 7, 7, 255], [1, 1, 1, 255],
            [10, 20, 30, 255], [10, 20, 30, 255], [7, 7, 7, 255], [200, 100, 50, 128]]
    lookup = {"maskId": "seg", "maskLabels": {"_all_": [
        {"value": [10, 20, 30], "labels": ["car"]}, {"value": [40, 50, 60], "labels": ["person", "human"]},
        {"value": [1, 1, 1], "labels": ["road"]}, {"value": [200, 100, 50], "labels": ["sign"]}]}}
    colour = """(() => {
        const px = new Uint8ClampedArray(arg.rgba.flat()), analysis = m.analyseMask(px);
        const out = new Uint8ClampedArray(px.length);
        m.colourize(px, out, analysis, m.labelResolver(m.maskLookup(arg.lookup)), arg.options);
        return [...out];
    })()"""
    pick = lambda options: np.array(run(module_page, colour, {"rgba": rgba, "lookup": lookup, "options": options})).reshape(-1, 4).tolist()
    car, person, road, sign = (hex_rgb(label_colour(x)) + [255] for x in ("car", "person", "road", "sign"))
    clear = [0, 0, 0, 0]
    assert pick({"mode": "labels"}) == [car, person, clear, road, car, car, clear, sign]
    # Hidden labels fall through to the next visible one, or nothing; overrides; unlabelled values shown in grey.
    options = {"mode": "labels", "hidden": ["person", "road"], "colours": {"car": "#010203"}, "showUnlabelled": True, "neutral": NEUTRAL}
    human, grey = hex_rgb(label_colour("human")) + [255], hex_rgb(NEUTRAL) + [255]
    assert pick(options) == [[1, 2, 3, 255], human, grey, clear, [1, 2, 3, 255], [1, 2, 3, 255], grey, sign]
    # Alpha mode: a mask with an alpha channel gives its alpha; an opaque one its luma (grey v is opacity v).
    tint = [255, 0, 128]
    assert pick({"mode": "alpha", "tint": "#ff0080"}) == [tint + [a] for a in (255, 255, 255, 255, 255, 255, 255, 128)]
    opaque = [[v, v, v, 255] for v in (0, 1, 128, 255)] + [[255, 0, 0, 255], [0, 255, 0, 255], [0, 0, 255, 255], [10, 20, 30, 255]]
    got = np.array(run(module_page, colour, {"rgba": opaque, "lookup": lookup, "options": {"mode": "alpha", "tint": "#ff0080"}})).reshape(-1, 4)
    luma = [(r * 77 + g * 150 + b * 29 + 128) >> 8 for r, g, b, _ in opaque]
    assert got[:, 3].tolist() == luma == [0, 1, 128, 255, 77, 149, 29, 18] and (got[:, :3] == tint).all()

    counts = run(module_page, """(() => {
        const a = m.analyseMask(new Uint8ClampedArray(arg.rgba.flat()));
        const stats = m.maskStats(a, m.labelResolver(m.maskLookup(arg.lookup)), {hidden: ["road"], colours: {car: "#010203"}});
        return {values: [...a.values].map(m.unpackRgb), counts: [...a.counts], hasAlpha: a.hasAlpha, stats};
    })()""", {"rgba": rgba, "lookup": lookup})
    assert counts["values"] == [[10, 20, 30], [40, 50, 60], [7, 7, 7], [1, 1, 1], [200, 100, 50]]
    assert counts["counts"] == [3, 1, 2, 1, 1] and counts["hasAlpha"] is True
    stats = counts["stats"]
    assert stats["total"] == 8
    assert [(e["label"], e["count"], e["share"], e["colour"], e["visible"]) for e in stats["labels"]] == [
        ("car", 3, 3 / 8, "#010203", True), ("human", 1, 1 / 8, label_colour("human"), True),
        ("person", 1, 1 / 8, label_colour("person"), True), ("road", 1, 1 / 8, label_colour("road"), False),
        ("sign", 1, 1 / 8, label_colour("sign"), True)]
    assert stats["unlabelled"] == [{"value": [7, 7, 7], "rgb": "rgb(7, 7, 7)", "count": 2, "share": 0.25}]


def png_bytes(rows: np.ndarray, colour_type: int, filters: list[int], palette=None, trns=None) -> bytes:
    """A PNG written by hand with the given filter type per row (Pillow chooses its own), 8 bits per sample."""
    import struct
    import zlib

    height, width = rows.shape[:2]
    bpp = rows.shape[2] if rows.ndim == 3 else 1
    flat = rows.reshape(height, width * bpp).astype(np.int32)
    encoded = b""
    for y in range(height):
        line, up = flat[y], flat[y - 1] if y else np.zeros_like(flat[0])
        left = np.concatenate([np.zeros(bpp, np.int32), line[:-bpp]])
        upleft = np.concatenate([np.zeros(bpp, np.int32), up[:-bpp]])
        p = left + up - upleft
        pa, pb, pc = abs(p - left), abs(p - up), abs(p - upleft)
        paeth = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, up, upleft))
        predicted = [0, left, up, (left + up) // 2, paeth][filters[y % len(filters)]]
        encoded += bytes([filters[y % len(filters)]]) + ((line - predicted) % 256).astype(np.uint8).tobytes()

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    body = chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0))
    body += chunk(b"PLTE", palette) if palette else b""
    body += chunk(b"tRNS", trns) if trns else b""
    return b"\x89PNG\r\n\x1a\n" + body + chunk(b"IDAT", zlib.compress(encoded)) + chunk(b"IEND", b"")


def test_png_decoder_gives_exact_values_for_every_filter_and_colour_type(module_page):
    rng = np.random.default_rng(3)
    filters = [0, 1, 2, 3, 4, 4, 3, 2, 1]
    palette = rng.integers(0, 256, 8 * 3, dtype=np.uint8)
    cases = {
        "RGBA": (6, rng.integers(0, 256, (9, 13, 4), dtype=np.uint8), {}),
        "LA": (4, rng.integers(0, 256, (9, 13, 2), dtype=np.uint8), {}),
        "RGB+tRNS": (2, rng.integers(0, 3, (9, 13, 3), dtype=np.uint8) * 100, {"trns": bytes([0, 100, 0, 0, 0, 200])}),
        "P+tRNS": (3, rng.integers(0, 8, (9, 13), dtype=np.uint8), {"palette": palette.tobytes(), "trns": bytes([0, 77, 255])}),
    }
    for name, (colour_type, rows, extra) in cases.items():
        data = png_bytes(rows, colour_type, filters, **extra)
        got = run(module_page, """(async () => {
            const bytes = Uint8Array.from(atob(arg), (c) => c.charCodeAt(0));
            const header = m.pngHeader(bytes), png = await m.decodePng(bytes);
            return {transparency: header.hasTransparency, size: [png.width, png.height], data: [...png.data]};
        })()""", base64.b64encode(data).decode())
        expected = np.asarray(Image.open(io.BytesIO(data)).convert("RGBA"))
        assert got["transparency"] and got["size"] == [13, 9], name
        assert (np.array(got["data"], np.uint8).reshape(9, 13, 4) == expected).all(), name


# ------------------------------------------------------------------------------------ end to end, in a page


@pytest.fixture
def served(transactional_db, admin_user, settings, tmp_path):
    """serve(data, "name.png") -> the URL of `data` stored as a worker-made preview (its signed link, as pages give it)."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    dataset = services.dataset_create(user=admin_user, name="masks in the viewer")

    def serve(data: bytes, name: str) -> str:
        return links.preview_url(dataset.id, default_storage.save(f"previews/mk/{name}", ContentFile(data)))

    return serve


OPEN = """async (arg) => {
    const {MaskLayer} = await import(arg.module);
    const layer = new MaskLayer(arg.inputs);
    window.layers = {...window.layers, [arg.name]: layer};
    await layer.load();
    return {error: layer.error, decoder: layer.decoder, width: layer.width, height: layer.height, stats: layer.stats};
}"""

# Bytes to base64 in the page (a JSON array of a million numbers would be slow).
B64 = "const b64 = (bytes) => { let t = ''; for (let i = 0; i < bytes.length; i += 32768) t += String.fromCharCode(...bytes.subarray(i, i + 32768)); return btoa(t); };"

# The layer after `settings` (its setters; a new bitmap awaited when they recolour), drawn as the stage draws it
# on a canvas of the source's size over an opaque background (or none).
READ = """async ({name, settings, background, view}) => { %s
    const layer = window.layers[name];
    for (const [method, value] of settings) layer[method](...value);
    if (settings.some(([m]) => !["setOpacity", "setVisible"].includes(m))) await new Promise((ok) => layer.addEventListener(
        "change", function wait(e) { if (e.detail.what === "bitmap" && !layer.colouring) { layer.removeEventListener("change", wait); ok(); } }));
    const {width, height, transform} = view || {width: layer.width, height: layer.height, transform: [1, 0, 0, 1, 0, 0]};
    const canvas = new OffscreenCanvas(width, height), ctx = canvas.getContext("2d");
    if (background) { ctx.fillStyle = background; ctx.fillRect(0, 0, width, height); }
    ctx.setTransform(...transform);
    layer.draw(ctx);
    return b64(ctx.getImageData(0, 0, width, height).data);
}""" % B64

PIXELS = "async (name) => { %s return b64((await window.layers[name].pixels()).data); }" % B64


def open_layer(page, name: str, url: str, mask_id: str, mask_labels: dict, **extra) -> dict:
    inputs = {"media": {"id": mask_id, "image": url, "reason": ""}, "maskLabels": mask_labels, **extra}
    info = page.evaluate(OPEN, {"module": static("js/viewer/mask-layer.js"), "name": name, "inputs": inputs})
    assert info["error"] == "", info
    return info


def read(page, name: str, shape, settings=(), background=None, view=None) -> np.ndarray:
    data = page.evaluate(READ, {"name": name, "settings": [list(s) for s in settings], "background": background, "view": view})
    return np.frombuffer(base64.b64decode(data), np.uint8).reshape(shape[0], shape[1], 4).astype(int)


def decoded(page, name: str, shape) -> np.ndarray:
    return np.frombuffer(base64.b64decode(page.evaluate(PIXELS, name)), np.uint8).reshape(shape[0], shape[1], 4)


def expected_labels(rgb: np.ndarray, mask_labels: dict, mask_id: str, hidden=(), colours=None) -> np.ndarray:
    """RGBA of each pixel in label mode, from the map alone: the mask's own entries, then `_all_`."""
    groups = [{tuple(e["value"]): e["labels"] for e in mask_labels.get(key, [])} for key in (mask_id, "_all_")]
    out = np.zeros(rgb.shape[:2] + (4,), int)
    for value in {tuple(int(c) for c in v) for v in np.unique(rgb.reshape(-1, 3), axis=0)}:
        labels = next((g[value] for g in groups if value in g), [])
        shown = [label for label in labels if label not in hidden]
        if shown:
            out[(rgb == value).all(axis=2)] = hex_rgb((colours or {}).get(shown[0]) or label_colour(shown[0])) + [255]
    return out


def composite(rgba: np.ndarray, opacity: float, background: list[int]) -> np.ndarray:
    alpha = rgba[:, :, 3:] / 255 * opacity
    return np.rint(rgba[:, :, :3] * alpha + np.array(background) * (1 - alpha))


def voc_map(names: list[str], mask_id: str) -> dict:
    """VOC's classes 1..20 for every mask, `person` called `human` in mask `mask_id` (background and the 255
    `void` border have no label)."""
    return {"_all_": [{"value": voc_colour(i), "labels": [n]} for i, n in enumerate(names) if i],
            mask_id: [{"value": voc_colour(names.index("person")), "labels": ["human"]}]}


def test_voc_palette_mask_coloured_pixel_by_pixel_in_both_modes(logged_in_page, served, voc):
    page = logged_in_page
    page.goto(static("js/viewer/masks.js"))
    path = voc["base"] / "SegmentationClass" / "2011_000003.png"
    png = render_mask_png(path).data
    rgb = pixels(render_mask_png(path))
    mask_labels = voc_map(voc["names"], "class")
    info = open_layer(page, "voc", served(png, "voc-class.png"), "class", mask_labels)
    shape = rgb.shape[:2]
    assert (info["width"], info["height"], info["decoder"]) == (shape[1], shape[0], "browser")

    # Decoded exactly: the palette's colours as the VOC map says them, with nothing blended at edges.
    with Image.open(path) as original:
        by_hand = np.array([voc_colour(i) for i in range(256)], np.uint8)[np.asarray(original)]
    got = decoded(page, "voc", shape)
    assert (got[:, :, :3] == by_hand).all() and (got[:, :, 3] == 255).all()

    # What the legend says: the labels present with their pixel counts, and the values no label names.
    present = {tuple(v): int(n) for v, n in zip(*np.unique(rgb.reshape(-1, 3), axis=0, return_counts=True))}
    total = shape[0] * shape[1]
    bottle = voc_colour(voc["names"].index("bottle"))
    assert {(e["label"], e["count"], e["colour"]) for e in info["stats"]["labels"]} == {
        ("human", present[tuple(voc_colour(15))], label_colour("human")), ("bottle", present[tuple(bottle)], label_colour("bottle"))}
    assert [(u["rgb"], u["count"]) for u in info["stats"]["unlabelled"]] == sorted(
        [("rgb(0, 0, 0)", present[(0, 0, 0)]), ("rgb(224, 224, 192)", present[(224, 224, 192)])], key=lambda u: -u[1])
    assert sum(e["count"] for e in info["stats"]["labels"]) + sum(present[v] for v in [(0, 0, 0), (224, 224, 192)]) == total

    # Label mode, every pixel; zoomed in 4x on a part (the stage's transform), each mask pixel a 4x4 block where it
    # belongs; then a hidden label and a changed colour.
    shown = expected_labels(rgb, mask_labels, "class")
    assert (read(page, "voc", shape, [("setOpacity", [1])]) == shown).all()
    zoomed = read(page, "voc", (150, 200), view={"width": 200, "height": 150, "transform": [4, 0, 0, 4, -4 * 190, -4 * 120]})
    assert (zoomed == shown[120:158, 190:240].repeat(4, axis=0).repeat(4, axis=1)[:150]).all()
    assert len(np.unique(zoomed.reshape(-1, 4), axis=0)) == 2  # the person's edge, and the background
    settings = [("setLabelVisible", ["human", False]), ("setLabelColour", ["bottle", "#123456"])]
    want = expected_labels(rgb, mask_labels, "class", hidden={"human"}, colours={"bottle": "#123456"})
    assert (read(page, "voc", shape, settings) == want).all()

    # Two opacities over a known background: what the user sees is the colour blended by the slider's opacity.
    background = [32, 200, 90]
    for opacity in (0.35, 0.8):
        seen = read(page, "voc", shape, [("setOpacity", [opacity])], background="rgb(32, 200, 90)")
        assert np.abs(seen[:, :, :3] - composite(want, opacity, background)).max() <= 1, opacity

    # Alpha mode: an opaque mask's luma is its opacity, in the tint.
    wide = rgb.astype(int)
    luma = (wide[:, :, 0] * 77 + wide[:, :, 1] * 150 + wide[:, :, 2] * 29 + 128) >> 8
    tinted = np.dstack([np.broadcast_to(np.array([255, 0, 128]), rgb.shape), luma])
    for opacity in (1, 0.5):
        seen = read(page, "voc", shape, [("setMode", ["alpha"]), ("setTint", ["#ff0080"]), ("setOpacity", [opacity])], background="rgb(32, 200, 90)")
        assert np.abs(seen[:, :, :3] - composite(tinted, opacity, background)).max() <= 1, opacity
    assert (read(page, "voc", shape, [("setVisible", [False])], background="rgb(32, 200, 90)")[:, :, :3] == background).all()


def test_16bit_class_id_mask_and_an_rgba_mask(logged_in_page, served, voc, tmp_path):
    page = logged_in_page
    page.goto(static("js/viewer/masks.js"))
    with Image.open(voc["base"] / "SegmentationClass" / "2011_000006.png") as original:
        ids = np.asarray(original).astype(np.uint16)
    ids = np.where(ids == 255, 0, ids)
    Image.fromarray(ids).save(tmp_path / "ids.png")
    assert Image.open(tmp_path / "ids.png").mode == "I;16"
    rgb = pixels(render_mask_png(tmp_path / "ids.png"))
    mask_labels = {"_all_": [{"value": [i, i, i], "labels": [n]} for i, n in enumerate(voc["names"]) if i]}
    open_layer(page, "ids", served(render_mask_png(tmp_path / "ids.png").data, "ids.png"), "ids", mask_labels)
    assert (decoded(page, "ids", ids.shape)[:, :, :3] == ids[:, :, None]).all()
    drawn = read(page, "ids", ids.shape, [("setOpacity", [1])])
    assert (drawn == expected_labels(rgb, mask_labels, "ids.png")).all()
    assert {label_colour(n) for n in ("chair", "person", "sofa")} <= {"#%02x%02x%02x" % tuple(p[:3]) for p in drawn.reshape(-1, 4) if p[3]}

    # A mask with partial alpha keeps its exact RGB (a canvas would premultiply it away) and gives its opacity.
    values = np.random.default_rng(5).integers(0, 256, (48, 64, 4), dtype=np.uint8)
    Image.fromarray(values, "RGBA").save(tmp_path / "alpha.png")
    info = open_layer(page, "alpha", served(render_mask_png(tmp_path / "alpha.png").data, "alpha.png"), "alpha", {})
    distinct = len(np.unique(values[:, :, :3].reshape(-1, 3), axis=0))
    assert info["decoder"] == "png" and info["stats"]["hasAlpha"] and len(info["stats"]["unlabelled"]) == distinct
    assert (decoded(page, "alpha", values.shape) == values).all()
    seen = read(page, "alpha", values.shape, [("setMode", ["alpha"]), ("setTint", ["#00ff00"]), ("setOpacity", [1])], background="#000000")
    assert np.abs(seen[:, :, 1] - values[:, :, 3]).max() <= 1 and (seen[:, :, [0, 2]] == 0).all()


PANEL_PAGE = """<html><head>{css}</head><body style="margin:0;padding:16px;display:flex;gap:16px;align-items:flex-start">
<canvas id="stage" width="500" height="375" style="border-radius:6px"></canvas>
<section class="fv-panel" data-panel="masks" style="width:340px"></section></body></html>"""

# A stand-in for the lead's stage: the photo, then every layer's draw(ctx), redrawn whenever a layer changes.
PANEL_SCRIPT = """async (arg) => {
    const {MaskLayer} = await import(arg.layer), {renderMaskPanel} = await import(arg.panel);
    const media = [...arg.urls, ["video-seg", null, "preview pending"], ["broken", "/media/previews/mk/missing.png", ""]];
    const layers = media.map(([id, image, reason]) => new MaskLayer({media: {id, image, reason}, maskLabels: arg.labels, width: 500, height: 375}));
    const photo = new Image(); photo.src = arg.photo; await photo.decode();
    const ctx = document.getElementById("stage").getContext("2d");
    const redraw = () => { ctx.drawImage(photo, 0, 0); for (const layer of layers) layer.draw(ctx); };
    for (const layer of layers) layer.onchange = redraw;
    window.layers = Object.fromEntries(layers.map((l) => [l.id, l]));
    window.changes = [];
    await Promise.all(layers.map((l) => l.load()));
    renderMaskPanel(document.querySelector('[data-panel="masks"]'), layers, {onChange: (c) => window.changes.push(c.what)});
    redraw();
}"""


def test_the_masks_panel(logged_in_page, served, voc):
    page = logged_in_page
    page.goto(static("js/viewer/masks.js"))
    base = voc["base"]
    urls = [[kind, served(render_mask_png(base / f"Segmentation{kind.title()}" / "2011_000025.png").data, f"{kind}.png")] for kind in ("class", "object")]
    css = "".join(f'<link rel="stylesheet" href="{static(f"css/{name}.css")}">' for name in ("app", "frames", "viewer-masks"))
    page.set_content(PANEL_PAGE.format(css=css))
    page.evaluate(PANEL_SCRIPT, {"layer": static("js/viewer/mask-layer.js"), "panel": static("js/viewer/mask-panel.js"), "urls": urls,
                                 "labels": voc_map(voc["names"], "class"), "photo": served((base / "JPEGImages" / "2011_000025.jpg").read_bytes(), "photo.jpg")})
    panel = page.locator('[data-panel="masks"]')
    mask = panel.get_by_role("group", name="Mask class")
    legend = mask.get_by_role("list", name="Labels in mask class")
    expect(legend.get_by_role("listitem")).to_have_count(2)
    expect(legend).to_contain_text("bus")
    expect(legend).to_contain_text("car")
    # The background has no label: listed as a value without one, with its pixels.
    expect(mask.get_by_role("list", name="Values without a label in mask class")).to_have_text(re.compile(r"rgb\(0, 0, 0\)\s*[\d,]+ px"))
    expect(panel.get_by_role("group", name="Mask video-seg").get_by_role("status")).to_have_text("preview pending")
    expect(panel.get_by_role("group", name="Mask broken").get_by_role("status")).to_have_text(re.compile(r"^the mask image answered 40\d$"))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "viewer-masks-labels.png"), full_page=True)

    eye = mask.get_by_role("button", name="Show mask class")
    eye.click()
    expect(eye).to_have_attribute("aria-pressed", "false")
    assert page.evaluate("window.layers.class.visible") is False
    eye.click()
    mask.get_by_role("slider", name="Opacity of mask class").evaluate("(s) => { s.value = '25'; s.dispatchEvent(new Event('input')); }")
    expect(mask.locator("output")).to_have_text("25%")
    assert page.evaluate("window.layers.class.opacity") == 0.25
    mask.get_by_role("checkbox", name="Show label car in mask class").uncheck()
    mask.get_by_label("Colour of label bus in mask class").fill("#00aa55")
    assert page.evaluate("[window.layers.class.hidden, window.layers.class.colours]") == [["car"], {"bus": "#00aa55"}]
    panel.get_by_role("group", name="Mask object").get_by_role("radio", name="Alpha").check()
    expect(panel.get_by_label("Tint of mask object")).to_be_visible()
    expect(mask.get_by_label("Tint of mask class")).to_be_hidden()
    assert page.evaluate("window.layers.object.mode") == "alpha"
    assert page.evaluate("window.changes") == ["visible", "visible", "opacity", "label", "colour", "mode"]
    page.screenshot(path=str(SCREENSHOTS / "viewer-masks-edited.png"), full_page=True)


def test_a_full_hd_mask_is_coloured_in_the_worker(logged_in_page, served, voc, capsys):
    """A 1920x1080 mask (VOC classes in blocks) loads and recolours; the worker's times are printed, not judged."""
    page = logged_in_page
    page.goto(static("js/viewer/masks.js"))
    ids = (np.arange(1920)[None, :] // 97 + np.arange(1080)[:, None] // 61) % 21
    Image.fromarray(np.array([voc_colour(i) for i in range(21)], np.uint8)[ids]).save(buffer := io.BytesIO(), "PNG")
    mask_labels = voc_map(voc["names"], "hd.png")
    open_layer(page, "hd", served(render_mask_png(io.BytesIO(buffer.getvalue())).data, "hd.png"), "hd", mask_labels)
    times = [page.evaluate(READ.replace("return b64(", "return layer.timings; ("),
                           {"name": "hd", "settings": [["setLabelColour", ["cat", f"#0000{i:02x}"]]], "background": None}) for i in range(12)]
    colour = sorted(t["colour"] for t in times)
    with capsys.disabled():
        print(f"\n1920x1080 mask: decode {times[0]['decode']:.1f} ms, count {times[0]['count']:.1f} ms, "
              f"colour median {colour[6]:.2f} ms (max {colour[-1]:.2f}), bitmap {sorted(t['bitmap'] for t in times)[6]:.2f} ms")
    drawn = read(page, "hd", ids.shape, [("setOpacity", [1])])
    expected = expected_labels(np.array([voc_colour(i) for i in range(21)], np.uint8)[ids], mask_labels, "hd", colours={"cat": "#00000b"})
    assert (drawn == expected).all()
