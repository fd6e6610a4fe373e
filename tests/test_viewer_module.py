"""The viewer module (static/js/viewer/) and the frame contract it reads.

- The module's pure functions (splitting polys, which ROIs belong to a source, label colours) run in Chromium:
  page.evaluate imports the ES modules from the live server, and their answers are compared with Python's.
- The frame contract (viewer/contract.py) embedded in the frame page is the REST API's frame, ETag and all, with
  the media URLs resolved: checked on the demo dataset, its previews and mask PNGs made by a real worker.
- The demo's street scene, FrameGroup and video film strip, drawn in the browser: each ROI's polygons where its
  coordinates say over the image, in its label's chip colour, on the sources it names. Screenshots go to
  test-artifacts/screenshots/viewer-*.png.
"""
from __future__ import annotations

import io
import json
import os
import re
import time
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pytest
from django.templatetags.static import static
from django.urls import reverse
from PIL import Image
from playwright.sync_api import expect

from frames import demo, selectors, services
from frames.models import DatasetVersion
from frames.schema import POLY_SEPARATOR, split_poly
from frames.selectors import SYSTEM
from viewer.tiles import LABEL_PALETTE, LABEL_SALT, label_colour

from .pages import html as page_html
from .viewer_canvas import assert_outlines_drawn, wait_for_viewer

SCREENSHOTS = Path(os.environ.get("HYPERDATA_SCREENSHOTS") or Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots")
PERSON = [230, 60, 250, 60, 255, 150, 225, 150, POLY_SEPARATOR, 262, 70, 280, 70, 282, 150, 260, 150]
LABELS = [
    "car", "person", "traffic sign", "road", "sky", "speed limit", "", " ", "Car", "car ", "Straße", "Strasse",
    "café", "cafe\u0301", "自転車", "보행자", "пешеход", "مشاة", "🚗", "🚗🚕", "a" * 255, "label:with/odd?chars&=#",
]
PREVIEWS_TIMEOUT = 180  # s: the demo's previews, on a loaded machine


# ------------------------------------------------------------------------------------------ the JS module


@pytest.fixture
def module_page(page, live_server):
    """A page of the live server's origin, so that the viewer modules can be imported into it."""
    page.goto(static("js/viewer/rois.js"))
    return page


def run_module(page, module: str, body: str, arg=None):
    """Evaluate `body` (an expression of `m`, the imported module, and `arg`) in the page."""
    url = static(f"js/viewer/{module}")
    return page.evaluate(f"async (arg) => {{ const m = await import({json.dumps(url)}); return {body}; }}", arg)


def test_js_label_colours_are_pythons(module_page):
    assert run_module(module_page, "colours.js", "[[...m.PALETTE], m.LABEL_SALT]") == [list(LABEL_PALETTE), LABEL_SALT]
    assert run_module(module_page, "colours.js", "arg.map(m.labelColour)", LABELS) == [label_colour(x) for x in LABELS]
    # Strings only JavaScript can hold as such: a surrogate pair made of two code units, a lone surrogate.
    built_in_js = run_module(module_page, "colours.js", "[m.labelColour('\\ud83d\\ude97'), m.labelColour('x\\ud800y')]")
    assert built_in_js == [label_colour("🚗"), label_colour("x\ud800y")]
    # The palette is used: 22 labels fall on many colours, not a few.
    assert len({label_colour(x) for x in LABELS}) >= 12


def test_js_splits_polys_as_python_does(module_page):
    polys = [PERSON, [1, 2, 3, 4, 5, 6], [1, 2, 3, 4, POLY_SEPARATOR], [POLY_SEPARATOR, 1, 2, 3, 4], [], [0.5, 1.25, 3, 4, 5, 6]]
    assert run_module(module_page, "rois.js", "arg.map(m.splitPoly)", polys) == [split_poly(p) for p in polys]
    shape = run_module(module_page, "rois.js", "m.roiShape(arg, 3)", {"labels": ["person"], "poly": PERSON, "confidence": 0.8})
    assert shape["polygons"] == [[[230, 60], [250, 60], [255, 150], [225, 150]], [[262, 70], [280, 70], [282, 150], [260, 150]]]
    assert (shape["index"], shape["text"], shape["colour"], shape["confidence"]) == (3, "person", label_colour("person"), 0.8)


def test_js_puts_each_roi_on_the_sources_it_names(module_page):
    rois = [
        {"labels": ["car"], "poly": [10, 10, 60, 10, 60, 40], "sources": ["front"]},
        {"labels": ["person"], "poly": [90, 20, 110, 20, 110, 80], "sources": ["rear"]},
        {"labels": ["truck", "vehicle"], "poly": [1, 1, 5, 1, 5, 5]},  # names no source: the first one's
        {"labels": ["sign"], "poly": [2, 2, 4, 2, 4, 4], "sources": ["front", "rear"]},
        {"labels": ["intersection"]},  # a frame label: nothing to draw
        {"labels": [], "poly": [3, 3, 6, 3, 6, 6], "sources": ["rear"]},  # no label: grey
    ]
    drawn = run_module(module_page, "rois.js", """Object.fromEntries(["front", "rear", "side"].map((id) =>
        [id, m.shapesOnSource(arg, id, ["front", "rear", "side"]).map((s) => [s.index, s.text, s.colour])]))""", rois)
    assert drawn == {
        "front": [[0, "car", label_colour("car")], [2, "truck, vehicle", label_colour("truck")], [3, "sign", label_colour("sign")]],
        "rear": [[1, "person", label_colour("person")], [3, "sign", label_colour("sign")], [5, "(no label)", "#808080"]],
        "side": [],
    }
    # A frame of one unnamed source ("default" in ClearML): every ROI that names no source is on it.
    single = [{"labels": ["car"], "poly": [1, 1, 5, 1, 5, 5]}, {"labels": ["person"], "poly": PERSON}, {"labels": ["sunny"]}]
    assert run_module(module_page, "rois.js", "m.shapesOnSource(arg, 'default', ['default']).map((s) => s.text)", single) == ["car", "person"]
    assert run_module(module_page, "rois.js", "arg.map(m.isFrameLabel)", rois) == [False] * 4 + [True, False]


# ------------------------------------------------------------------------------------------ the demo


@pytest.fixture
def demo_v1(transactional_db, admin_user, media_roots, celery_worker_process):
    """The demo dataset (owned by admin), with every preview and mask PNG made by the worker; its version v1."""
    frames = demo.build_media(media_roots / "demo")
    dataset = demo.create_demo_dataset(frames, owner=admin_user)
    version = DatasetVersion.objects.select_related("dataset").get(dataset=dataset, name="v1")
    deadline = time.monotonic() + PREVIEWS_TIMEOUT
    while (counts := selectors.previews_count(user=SYSTEM, version=version))["pending"] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert counts["pending"] == 0 == counts["failed"], (counts, celery_worker_process.log()[-3000:])
    return version, {frame["id"]: frame for frame in frames}


def contract_of(html: str) -> dict:
    return json.loads(re.search(r'<script id="frame-contract" type="application/json">(.*?)</script>', html, re.S).group(1))


def test_the_contract_is_the_api_frame_with_its_media_resolved(admin_client, demo_v1):
    version, frames = demo_v1
    for frame_id in ("street-01", "group-01", "video-0100"):
        contract = contract_of(page_html(admin_client.get(reverse("viewer:frame", args=[version.pk, frame_id]))))
        api = admin_client.get(f"/api/versions/{version.pk}/frames/{frame_id}/")
        assert contract["api_url"] == f"/api/versions/{version.pk}/frames/{frame_id}/"
        assert contract["frame"] == api.json() and contract["etag"] == api["ETag"]
        assert contract["mask_labels"] == demo.VERSION_METADATA["mask_labels"]
        assert [media["id"] for media in contract["sources"]] == [s["id"] for s in frames[frame_id]["sources"]]
        for media, sent in zip(contract["sources"], frames[frame_id]["sources"]):
            image = image_at(admin_client, media["image"])
            assert image.size == (sent["width"], sent["height"]) and media["reason"] == ""
            assert max(image_at(admin_client, media["preview"]).size) < max(image.size)  # the small preview
            for mask, sent_mask in zip(media["masks"], sent.get("masks") or [], strict=True):
                assert mask["id"] == sent_mask["id"] and mask["reason"] == ""
                original = np.asarray(Image.open(sent_mask["uri"].removeprefix("file://")).convert("RGB"))
                assert np.array_equal(np.asarray(image_at(admin_client, mask["image"]).convert("RGB")), original)


def image_at(client, url: str) -> Image.Image:
    response = client.get(url)
    assert response.status_code == 200, url
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return Image.open(io.BytesIO(body))


# -------------------------------------------------------------------------------------- drawn in Chromium

# Every polygon drawn in a figure: its ROI's label text, stroke colour, and its box in pixels of the shown image.
DRAWN = """(root) => {
    const image = root.querySelector("img").getBoundingClientRect();
    return [...root.querySelectorAll(".fv-overlay .roi")].map((g) => ({
        label: g.dataset.label,
        colour: getComputedStyle(g.querySelector("polygon, ellipse")).stroke,
        boxes: [...g.querySelectorAll("polygon, ellipse")].map((p) => {
            const r = p.getBoundingClientRect();
            return [r.left - image.left, r.top - image.top, r.right - image.left, r.bottom - image.top];
        }),
        image: [image.width, image.height],
    }));
}"""


def rgb(hex_colour: str) -> str:
    return "rgb({}, {}, {})".format(*(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)))


def expected_drawing(rois: list[dict], source_id: str, first_id: str, size: tuple[int, int], shown: tuple[float, float]) -> list[dict]:
    """What a user must see of `rois` on one source shown at `shown` pixels: computed from the ROIs alone."""
    scale_x, scale_y = shown[0] / size[0], shown[1] / size[1]
    drawn = []
    for roi in rois:
        if not roi.get("poly") or source_id not in (roi.get("sources") or [first_id]):
            continue
        boxes = []
        for part in split_poly(roi["poly"]):
            xs, ys = part[0::2], part[1::2]
            boxes.append([min(xs) * scale_x, min(ys) * scale_y, max(xs) * scale_x, max(ys) * scale_y])
        drawn.append({"label": ", ".join(roi["labels"]), "colour": rgb(label_colour(roi["labels"][0])), "boxes": boxes})
    return drawn


def assert_drawn(figure, rois: list[dict], source_id: str, first_id: str, size: tuple[int, int]) -> None:
    """The figure's polygons are the ROIs' of this source, in their label's colour, where their coordinates say
    over the shown image (within 1.5 screen pixels)."""
    expect(figure.locator(".fv-overlay .roi").first).to_be_attached()
    drawn = figure.evaluate(DRAWN)
    want = expected_drawing(rois, source_id, first_id, size, drawn[0]["image"])
    assert [(d["label"], d["colour"]) for d in drawn] == [(w["label"], w["colour"]) for w in want]
    for got, wanted in zip(drawn, want):
        assert len(got["boxes"]) == len(wanted["boxes"])
        for box, wanted_box in zip(got["boxes"], wanted["boxes"]):
            assert all(abs(a - b) <= 1.5 for a, b in zip(box, wanted_box)), (got["label"], box, wanted_box)


def chip_colours(page, selector: str) -> dict[str, str]:
    chips = page.locator(selector).evaluate_all("chips => chips.map((c) => [c.firstChild.textContent, getComputedStyle(c).getPropertyValue('--c').trim()])")
    return {label: rgb(colour) for label, colour in chips}


def loaded(image) -> None:
    expect(image).to_have_js_property("complete", True)
    assert image.evaluate("img => img.naturalWidth") > 0


@pytest.mark.django_db(transaction=True)
def test_demo_frames_are_drawn_in_their_label_colours(logged_in_page, demo_v1):
    page, (version, frames) = logged_in_page, demo_v1
    page.set_default_timeout(30_000)

    # A street scene: many polygons on one source, in the colours of the objects list.
    street = frames["street-01"]
    page.goto(f"/versions/{version.pk}/frame/street-01")
    assert wait_for_viewer(page) == ["default"]
    assert_outlines_drawn(page, street["rois"], "default", "default")
    rows = page.locator("#frame-objects .fv-obj").evaluate_all("rows => rows.map((r) => [r.querySelector('.fv-obj-text').textContent, r.style.getPropertyValue('--c')])")
    assert rows == [[", ".join(r["labels"]), label_colour(r["labels"][0])] for r in street["rois"] if r.get("poly")]
    page.screenshot(path=str(SCREENSHOTS / "viewer-street-scene.png"))

    # A FrameGroup: each source shows the ROIs that name it, and only those.
    page.goto(f"/versions/{version.pk}/frame/group-01")
    assert wait_for_viewer(page) == ["front", "rear"]
    page.click("#frame-all-sources")
    wait_for_viewer(page)
    for side in ("front", "rear"):
        assert_outlines_drawn(page, frames["group-01"]["rois"], side, "front")
    page.screenshot(path=str(SCREENSHOTS / "viewer-framegroup.png"))

    # The video's film strip: the selected frame's ROIs over the large image, moving with the frame.
    video = [frame for frame in frames.values() if frame["id"].startswith("video-")]
    page.goto(f"/versions/{version.pk}/context/?context={quote(video[0]['context_id'], safe='')}")
    expect(page.locator("#cx-strip .cx-cell")).to_have_count(len(video))
    for frame in video[:2]:
        expect(page.locator("#cx-time")).to_have_text(f"{frame['timestamp'] / 1000:.3f} s")
        loaded(page.locator("#cx-image"))
        assert_drawn(page.locator("#cx-canvas"), frame["rois"], "default", "default", (480, 272))
        assert chip_colours(page, "#cx-labels .chip") == {label: rgb(label_colour(label)) for roi in frame["rois"] for label in roi["labels"]}
        if frame is video[0]:
            expect(page.locator("#cx-strip .cx-cell img").nth(12)).to_have_js_property("complete", True)
            page.screenshot(path=str(SCREENSHOTS / "viewer-film-strip.png"))
            page.click("#cx-next")


@pytest.mark.django_db(transaction=True)
def test_a_failed_image_shows_its_preview_and_a_source_of_unknown_size_is_drawn_at_its_own(logged_in_page, settings, tmp_path, media_roots):
    settings.MEDIA_ROOT = str(tmp_path)  # Django's live server serves it at /media/
    settings.HYPERDATA_PREVIEWS_AUTO = False
    (tmp_path / "previews").mkdir()
    Image.new("RGB", (160, 100), (40, 90, 160)).save(tmp_path / "previews" / "small.jpg")
    Image.new("RGB", (300, 200), (90, 120, 60)).save(media_roots / "unsized.jpg")
    box = [30, 20, 120, 20, 120, 80, 30, 80, POLY_SEPARATOR, 200, 100, 280, 100, 240, 180]
    frames = [
        {"id": "unsized", "sources": [{"uri": (media_roots / "unsized.jpg").as_uri(), "content_type": "image/jpeg"}],
         "rois": [{"labels": ["car"], "poly": box}]},
        {"id": "missing", "sources": [{"uri": (media_roots / "missing.jpg").as_uri(), "content_type": "image/jpeg", "width": 320,
                                       "height": 200, "preview": {"uri": "/media/previews/small.jpg"}}],
         "rois": [{"labels": ["person"], "poly": box}]},
    ]
    version = services.dataset_create(user=SYSTEM, name="viewer-edges").versions.get()
    services.frames_add(user=SYSTEM, version=version, frames=frames)
    page = logged_in_page

    # No width/height in the frame and no worker to measure it: the overlay takes the image's own size.
    page.goto(f"/versions/{version.pk}/frame/unsized")
    wait_for_viewer(page)
    assert page.evaluate("window.hyperdataViewer.views[0].stage.size") == {"width": 300, "height": 200}
    assert_outlines_drawn(page, frames[0]["rois"], "default", "default")

    # The original cannot be read: its preview takes its place, the ROIs still where they belong.
    page.goto(f"/versions/{version.pk}/frame/missing")
    wait_for_viewer(page)
    expect(page.locator('.fv-source[data-shown="preview"]')).to_have_count(1)
    assert page.evaluate("window.hyperdataViewer.views[0].stage.size") == {"width": 320, "height": 200}
    assert_outlines_drawn(page, frames[1]["rois"], "default", "default")
