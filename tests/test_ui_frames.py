"""The Frames tab (grid, table, filters, sort, keyset paging, export), Group by URL with the context film strip,
and the frame page: server side with Django's test client, and end to end in Debian's Chromium (Playwright),
with a screenshot of every page in test-artifacts/screenshots/ (frames-*.png).

The test version has 30 street scenes (originals on disk, previews of their own, labels, frame labels, metadata),
two of them without a preview (one pending, one whose preview failed), a FrameGroup context of two frames with
`front` and `rear` sources, and a 300-frame video context at 30 fps with a preview per frame.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path
from urllib.parse import parse_qs, quote, urlencode, urlparse

import pytest
from django.urls import reverse
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from frames import selectors, services
from frames.filters import parse_filters
from frames.models import DatasetVersion, MediaPreview
from frames.selectors import SYSTEM as ACTOR
from frames.selectors import FrameQuery
from frames.selectors.previews import source_request
from viewer import media
from viewer import tiles as frame_views

from .pages import html as page_html
from .test_viewer_module import assert_drawn, contract_of
from .viewer_canvas import assert_outlines_drawn, drawn_on, wait_for_viewer

SCREENSHOTS = Path(os.environ.get("HYPERDATA_SCREENSHOTS") or Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots")
WEATHER = ["sunny", "rain", "fog"]
STREETS = 30
VIDEO_FRAMES = 300
VIDEO_CONTEXT = "s3://ui-bucket/videos/drive-0007.mp4"
GROUP_CONTEXT = "drive-0042"
CAR = [60, 120, 150, 120, 150, 180, 60, 180]
PERSON = [230, 60, 250, 60, 255, 150, 225, 150, -999999999, 262, 70, 280, 70, 282, 150, 260, 150]


# ------------------------------------------------------------------------------------------------ test data


@pytest.fixture(scope="session")
def media_dirs(tmp_path_factory):
    """Originals (a file:// media root) and previews (MEDIA_ROOT/previews/ui), drawn once per session."""
    base = tmp_path_factory.mktemp("ui-frames")
    originals, media_root = base / "originals", base / "media"
    previews = media_root / "previews" / "ui"
    originals.mkdir()
    previews.mkdir(parents=True)
    for i in range(STREETS):
        image = Image.new("RGB", (320, 240), (90 + 5 * i, 110, 140))
        draw = ImageDraw.Draw(image)
        draw.polygon([(0, 240), (130, 100), (190, 100), (320, 240)], fill=(70, 70, 76))
        if i % 2:
            draw.rectangle([60, 120, 150, 180], fill=(200, 40, 40))
        image.save(originals / f"street-{i:02d}.jpg", quality=85)
        image.resize((160, 120)).save(previews / f"street-{i:02d}.jpg", quality=80)
    for i in range(VIDEO_FRAMES):
        image = Image.new("RGB", (160, 90), (20, 24, 30))
        draw = ImageDraw.Draw(image)
        x = 10 + (i * 140) // VIDEO_FRAMES
        draw.rectangle([x, 40, x + 20, 60], fill=(240, 180, 40))
        draw.text((4, 4), f"{i:03d}", fill=(255, 255, 255))
        image.save(previews / f"video-{i:03d}.jpg", quality=70)
    for side in ("front", "rear"):
        Image.new("RGB", (160, 100), (40, 90, 160) if side == "front" else (160, 90, 40)).save(previews / f"group-{side}.jpg")
    return {"originals": originals, "media_root": media_root}


@pytest.fixture
def media_settings(settings, media_dirs):
    settings.MEDIA_ROOT = str(media_dirs["media_root"])
    settings.HYPERDATA_MEDIA_ROOTS = [str(media_dirs["originals"])]
    settings.HYPERDATA_PREVIEWS_AUTO = False  # no worker: previews that are not given stay pending
    return media_dirs


def street_frame(i: int, originals: Path) -> dict:
    rois = []
    if i % 2:
        rois.append({"labels": ["car"], "poly": CAR, "confidence": round(0.5 + i / 100, 2), "sources": ["default"]})
    if i % 3 == 0:
        rois.append({"labels": ["person"], "poly": PERSON, "confidence": 0.8, "sources": ["default"]})
    if i % 5 == 0:
        rois.append({"labels": ["truck", "vehicle"], "poly": [170, 90, 230, 90, 230, 130, 170, 130], "confidence": 0.3})
    rois.append({"labels": [WEATHER[i % 3]]})  # a frame label
    source = {"id": "default", "uri": (originals / f"street-{i:02d}.jpg").as_uri(), "content_type": "image/jpeg",
              "width": 320, "height": 240, "preview": {"uri": f"/media/previews/ui/street-{i:02d}.jpg"}}
    if i >= STREETS - 2:
        source.pop("preview")  # street-28: pending; street-29: failed (see make_version)
        source["uri"] = f"file:///nonexistent/street-{i:02d}.jpg"
    meta = {"speed": (i * 7) % 120, "weather": WEATHER[i % 3], "city": ["Berlin", "Paris", "Rome"][i % 3]}
    if i % 10 == 9:
        del meta["speed"]  # frames without the key sort last
    return {"id": f"street-{i:02d}", "timestamp": 0, "sources": [source], "rois": rois, "meta": meta}


def video_frame(i: int) -> dict:
    x = 10 + (i * 140) // VIDEO_FRAMES
    return {
        "id": f"video-{i:03d}",
        "context_id": VIDEO_CONTEXT,
        "timestamp": round(i * 1000 / 30),
        "sources": [{"id": "default", "uri": VIDEO_CONTEXT, "content_type": "video/mp4", "width": 160, "height": 90,
                     "timestamp": round(i * 1000 / 30), "preview": {"uri": f"/media/previews/ui/video-{i:03d}.jpg"}}],
        "rois": [{"labels": ["car"], "poly": [x, 40, x + 20, 40, x + 20, 60, x, 60], "confidence": 1}],
        "meta": {"speed": 50, "weather": "sunny", "video": True},
    }


def group_frame(i: int) -> dict:
    sources = [{"id": side, "uri": f"s3://ui-bucket/group/{side}-{i}.jpg", "content_type": "image/jpeg", "width": 160,
                "height": 100, "preview": {"uri": f"/media/previews/ui/group-{side}.jpg"}} for side in ("front", "rear")]
    rois = [{"labels": ["car"], "poly": [10, 10, 60, 10, 60, 40, 10, 40], "sources": ["front"]},
            {"labels": ["person"], "poly": [90, 20, 110, 20, 110, 80, 90, 80], "sources": ["rear"]},
            {"labels": ["intersection"]}]
    return {"id": f"group-{i:02d}", "context_id": GROUP_CONTEXT, "timestamp": i * 1000, "sources": sources,
            "rois": rois, "meta": {"speed": 30 + i, "weather": "rain"}}


def make_version(originals: Path, *, publish=True) -> tuple[DatasetVersion, list[dict]]:
    dataset = services.dataset_create(user=ACTOR, name="frames-ui", description="Frames tab tests")
    version = dataset.versions.get()
    data = [street_frame(i, originals) for i in range(STREETS)] + [video_frame(i) for i in range(VIDEO_FRAMES)]
    data += [group_frame(i) for i in range(2)]
    services.frames_add(user=ACTOR, version=version, frames=data)
    failed = source_request(data[STREETS - 1]["sources"][0])
    MediaPreview.objects.filter(key=failed.key).update(status=MediaPreview.FAILED, error="could not read the source: no such file")
    if publish:
        version = services.version_publish(user=ACTOR, version=version, name="v1")
    return DatasetVersion.objects.select_related("dataset").get(pk=version.pk), data


@pytest.fixture
def version_data(db, media_settings):
    return make_version(media_settings["originals"])


def shot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"frames-{name}.png"), full_page=False)


def ids_in(html: str) -> list[str]:
    return re.findall(r'<li class="tile[^"]*" data-frame-id="([^"]+)"', html)


def expected_ids(version, raw_filters=None, sort="context", descending=False) -> list[str]:
    query = FrameQuery(filters=tuple(parse_filters(raw_filters)), sort=sort, descending=descending, limit=1000)
    return [r.frame_id for page in selectors.frame_pages(user=ACTOR, version=version, query=query) for r in page]


# ---------------------------------------------------------------------------------------------- unit level


def test_tile_image_url_prefers_previews_and_explains_placeholders(db):
    tile_url = lambda source: media.tile_image_url("d1", source)  # noqa: E731 - for dataset d1
    assert tile_url({"uri": "s3://b/k.tif", "preview": {"uri": "https://cdn.example.com/p.jpg"}}) == "https://cdn.example.com/p.jpg"
    assert tile_url({"uri": "s3://b/k.tif", "preview": {"uri": "/media/previews/ab.jpg"}}) == "/media/previews/ab.jpg"
    proxied = tile_url({"uri": "s3://b/k.tif", "preview": {"uri": "s3://b/previews/k.jpg"}})
    assert proxied.startswith(reverse("viewer:source-media") + "?") and "uri=s3%3A%2F%2Fb%2Fpreviews%2Fk.jpg" in proxied and "sig=" in proxied
    assert "d=d1" in proxied  # the link is signed for the dataset
    # No preview and none on its way: an image a browser shows is used as it is (through the proxy).
    assert tile_url({"uri": "file:///data/a.jpg", "content_type": "image/jpeg"}).startswith("/media/source/?")
    assert tile_url({"uri": "https://example.com/a.png"}) == "https://example.com/a.png"
    # Pending, failed, or a format browsers cannot show: a placeholder with the reason.
    for source, reason in [
        ({"uri": "file:///data/a.jpg", "content_type": "image/jpeg", "preview_status": "pending"}, "preview pending"),
        ({"uri": "s3://b/clip.mp4", "content_type": "video/mp4"}, "preview pending"),
        ({"uri": "s3://b/scan.tif"}, "preview pending"),
        ({"uri": "s3://b/a.jpg", "preview_status": "failed", "preview_error": "not an image"}, "preview failed: not an image"),
        ({"uri": "s3://b/a.jpg", "preview_status": "failed"}, "preview failed"),
    ]:
        assert tile_url(source) is None
        assert media.placeholder_reason(source) == reason
    assert tile_url({}) is None and tile_url(None) is None
    # An http(s) image the server could not read is shown by the browser itself, with why it has no preview.
    unreachable = {"uri": "https://intranet.example/a.jpg", "preview_status": "failed", "preview_error": "address not allowed"}
    assert tile_url(unreachable) == media.original_image_url("d1", unreachable) == "https://intranet.example/a.jpg"
    assert media.source_image("d1", unreachable)["note"] == "preview failed: address not allowed"
    assert tile_url({**unreachable, "uri": "https://intranet.example/a.tif"}) is None  # not a browser format


def test_label_colours_are_stable_and_chips_separate_frame_labels():
    assert frame_views.label_colour("car") == frame_views.label_colour("car")
    assert len({frame_views.label_colour(x) for x in ["car", "person", "road", "truck", "bike", "sunny", "rain"]}) >= 6
    chips = frame_views.label_chips([{"labels": ["car"], "poly": [1, 1, 2, 2]}, {"label": "car", "poly": [3, 3, 4, 4]}, {"labels": ["sunny"]}])
    assert [(c["label"], c["frame_label"], c["count"]) for c in chips] == [("sunny", True, 1), ("car", False, 2)]


@pytest.mark.django_db
def test_context_frames_pages_in_timestamp_order(media_settings):
    version, data = make_version(media_settings["originals"], publish=False)
    seen, cursor = [], None
    while True:
        page = selectors.context_frames(user=ACTOR, version=version, context_id=VIDEO_CONTEXT, query=FrameQuery(cursor=cursor, limit=64))
        seen += [(r.timestamp, r.frame_id) for r in page.frames]
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert seen == sorted((f["timestamp"], f["id"]) for f in data if f.get("context_id") == VIDEO_CONTEXT)
    assert len(seen) == VIDEO_FRAMES
    cars = parse_filters([{"frame_query": "meta.weather:rain"}])
    rainy = selectors.context_frames(user=ACTOR, version=version, context_id=GROUP_CONTEXT, query=FrameQuery(filters=tuple(cars)))
    assert [r.frame_id for r in rainy.frames] == ["group-00", "group-01"]


# ------------------------------------------------------------------------------------------------ server side


def test_frames_tab_grid_table_and_groups_render(admin_client, version_data, django_assert_max_num_queries):
    version, data = version_data
    url = reverse("viewer:version", args=[version.pk])
    with django_assert_max_num_queries(12):  # independent of the page size and of the version's size
        response = admin_client.get(url)
    html = page_html(response)
    assert response.status_code == 200
    assert ids_in(html) == expected_ids(version)[:100]
    assert 'loading="lazy"' in html and "/media/previews/ui/street-01.jpg" in html
    assert f"<strong data-count-value=\"{len(data)}\">{len(data):,}</strong> frames" in html
    assert 'data-pager="next"' in html and 'data-pager="previous"' not in html

    table = page_html(admin_client.get(url, {"view": "table", "cols": "speed,city"}))
    assert 'id="fb-table"' in table and "meta.speed" in table and "meta.city" in table and "Berlin" in table

    groups = page_html(admin_client.get(url, {"group": "context"}))
    contexts = re.findall(r'data-context-id="([^"]+)"', groups)
    assert len(contexts) == STREETS + 2 and VIDEO_CONTEXT in contexts and GROUP_CONTEXT in contexts
    assert f'data-frame-count="{VIDEO_FRAMES}"' in groups and 'data-frame-count="2"' in groups

    every_source = page_html(admin_client.get(url, {"source": "all", "frame_query": "id:group-00"}))
    assert "group-front.jpg" in every_source and "group-rear.jpg" in every_source
    rear_only = page_html(admin_client.get(url, {"source": "rear", "frame_query": "id:group-00"}))
    assert "group-rear.jpg" in rear_only and "group-front.jpg" not in rear_only


def test_placeholders_say_why(admin_client, version_data):
    version, _ = version_data
    html = page_html(admin_client.get(reverse("viewer:version", args=[version.pk]), {"sort": "id", "order": "desc", "frame_query": "NOT meta.video:true"}))
    tiles = dict(re.findall(r'data-frame-id="(street-2[89])".*?class="tile-ph-reason">([^<]+)<', html, re.S))
    assert tiles == {"street-28": "preview pending", "street-29": "preview failed: could not read the source: no such file"}


@pytest.mark.parametrize("sort,order,raw", [
    ("context", "asc", None),
    ("id", "desc", None),
    ("timestamp", "asc", [{"rois": [{"labels": ["car"]}]}]),
    ("meta.speed", "asc", None),  # frames without meta.speed come last, in either direction
    ("meta.speed", "desc", [{"frame_query": "NOT meta.video:true"}]),
])
def test_next_and_previous_walk_every_frame_once(admin_client, version_data, sort, order, raw):
    version, _ = version_data
    params = {"sort": sort, "order": order, "limit": 23}
    if raw:
        params["filters"] = json.dumps(raw)
    url = reverse("viewer:version", args=[version.pk]) + "?" + urlencode(params)
    pages = []
    while url:
        html = page_html(admin_client.get(url))
        pages.append(ids_in(html))
        match = re.search(r'href="([^"]+)" data-pager="next"', html)
        url = match.group(1).replace("&amp;", "&") if match else None
    walked = [i for page in pages for i in page]
    assert walked == expected_ids(version, raw, sort, order == "desc")
    assert all(len(page) == 23 for page in pages[:-1])
    # ... and back: every Previous lands on the page before, up to the first (which has no Previous).
    for expected in reversed(pages[:-1]):
        match = re.search(r'href="([^"]+)" data-pager="previous"', html)
        html = page_html(admin_client.get(match.group(1).replace("&amp;", "&")))
        assert ids_in(html) == expected
    assert 'data-pager="previous"' not in html


def test_filters_from_the_url(admin_client, version_data):
    version, data = version_data
    url = reverse("viewer:version", args=[version.pk])
    count_url = reverse("viewer:version-count", args=[version.pk])

    def count(params):
        response = admin_client.get(count_url, params)
        assert response.status_code == 200, page_html(response)
        return response.json()["count"]

    cars = [f for f in data if any("car" in r["labels"] for r in f["rois"])]
    assert count({"label": "car"}) == len(cars)
    # Quick labels are AND-ed with each advanced filter; advanced filters are OR-ed.
    rain_or_fog = json.dumps([{"frame_query": "meta.weather:rain"}, {"frame_query": "meta.weather:fog"}])
    expected = [f for f in cars if f["meta"]["weather"] in ("rain", "fog")]
    assert count({"label": "car", "filters": rain_or_fog}) == len(expected)
    exclude = json.dumps([{"rois": [{"labels": ["person"], "logic": "exclude"}], "frame_query": "meta.speed:[10 TO 60]"}])
    expected = [f for f in data if 10 <= f["meta"].get("speed", -1) <= 60 and not any("person" in r["labels"] for r in f["rois"])]
    assert count({"filters": exclude}) == len(expected)
    confident = json.dumps([{"rois": [{"labels": ["car"], "conf_range": [0.6, 0.7]}]}])
    assert count({"filters": confident}) == len([f for f in cars if any(0.6 <= (r.get("confidence") or 0) <= 0.7 and "car" in r["labels"] for r in f["rois"])])
    both_labels_one_roi = json.dumps([{"rois": [{"labels": ["truck", "vehicle"]}]}])
    assert count({"filters": both_labels_one_roi}) == len([i for i in range(STREETS) if i % 5 == 0])
    videos = json.dumps([{"sources_query": "sources.content_type:video*"}])
    assert count({"filters": videos}) == VIDEO_FRAMES

    page = page_html(admin_client.get(url, {"label": "car", "filters": rain_or_fog}))
    assert ids_in(page) and all(i in {f["id"] for f in cars} for i in ids_in(page))
    assert 'data-quick-label="car"' in page and 'id="fb-count"' in page


def test_invalid_lucene_is_reported_where_it_fails(admin_client, version_data):
    version, _ = version_data
    bad = json.dumps([{"frame_query": "meta.weather:sunny"}, {"frame_query": "meta.speed:[10 TO"}])
    response = admin_client.get(reverse("viewer:version", args=[version.pk]), {"filters": bad})
    html = page_html(response)
    assert response.status_code == 200 and 'id="fb-errors"' in html
    assert "<code>filters[1].frame_query</code>" in html and "end of expression" in html
    assert json.loads(re.search(r'<script id="fb-error-fields" type="application/json">(.*?)</script>', html).group(1)) == {
        "filters[1].frame_query": re.search(r"</code> ([^<]+)</li>", html).group(1).replace("&#x27;", "'")}
    assert admin_client.get(reverse("viewer:version-count", args=[version.pk]), {"filters": bad}).status_code == 400
    assert admin_client.get(reverse("viewer:version-export", args=[version.pk]), {"filters": bad}).status_code == 400
    unknown = admin_client.get(reverse("viewer:version", args=[version.pk]), {"filters": json.dumps([{"frame_query": "weather:x"}])})
    assert "unknown field" in page_html(unknown)
    not_json = admin_client.get(reverse("viewer:version", args=[version.pk]), {"filters": "[{"})
    assert "not valid JSON" in page_html(not_json)


def test_export_streams_the_filtered_frames_as_clearml_json(admin_client, version_data, monkeypatch):
    version, data = version_data
    monkeypatch.setattr("frames.selectors.exports.EXPORT_PAGE_SIZE", 7)  # many keyset pages, joined into one array
    raw = [{"rois": [{"labels": ["car"]}], "frame_query": "NOT meta.video:true"}, {"frame_query": "meta.weather:rain"}]
    response = admin_client.get(reverse("viewer:version-export", args=[version.pk]), {"filters": json.dumps(raw), "sort": "id"})
    assert response.status_code == 200 and response.streaming
    assert response["Content-Disposition"] == 'attachment; filename="frames-ui_v1_frames.json"'
    exported = json.loads(b"".join(response.streaming_content))
    # The oracle is the test's own data: (a car and not a video) or rain, in id order, each as it was posted.
    wanted = sorted((f for f in data if (has_label(f, "car") and not f["meta"].get("video")) or f["meta"].get("weather") == "rain"),
                    key=lambda f: f["id"])
    assert [f["id"] for f in exported] == [f["id"] for f in wanted] and len(exported) > 7
    for sent, got in zip(wanted, exported):
        assert_posted_frame(sent, got, version)
    everything = json.loads(b"".join(admin_client.get(reverse("viewer:version-export", args=[version.pk])).streaming_content))
    assert sorted(f["id"] for f in everything) == sorted(f["id"] for f in data)
    assert all("preview_status" not in s for f in everything for s in f["sources"])  # as stored: ClearML JSON
    empty = admin_client.get(reverse("viewer:version-export", args=[version.pk]), {"label": "no-such-label"})
    assert json.loads(b"".join(empty.streaming_content)) == []


def has_label(frame: dict, label: str) -> bool:
    return any(label in roi["labels"] for roi in frame["rois"])


def assert_posted_frame(sent: dict, got: dict, version) -> None:
    """An exported frame is the frame as it was posted (ROIs get ids), plus the server's fields."""
    for key, value in sent.items():
        if key == "rois":
            assert [{k: v for k, v in roi.items() if k != "id"} for roi in got["rois"]] == value
        else:
            assert got[key] == value, (sent["id"], key)
    assert got["context_id"] == sent.get("context_id", sent["sources"][0]["uri"])
    assert got["dataset"] == {"id": version.dataset_id, "version": version.pk} and got["saved"] > 0


def test_frame_page_neighbours_follow_the_filter(admin_client, version_data):
    version, data = version_data
    query = {"label": "car", "sort": "id"}
    cars = sorted(f["id"] for f in data if any("car" in r["labels"] for r in f["rois"]))
    at = cars.index("street-03")
    html = page_html(admin_client.get(reverse("viewer:frame", args=[version.pk, "street-03"]), query))
    prev_id = re.search(r'href="/versions/[^/]+/frame/([^?"]+)\?[^"]*" data-nav="previous"', html).group(1)
    next_id = re.search(r'href="/versions/[^/]+/frame/([^?"]+)\?[^"]*" data-nav="next"', html).group(1)
    assert (prev_id, next_id) == (cars[at - 1], cars[at + 1]) == ("street-01", "street-05")
    contract = contract_of(html)  # what static/js/viewer/ draws the ROIs from
    sent = next(f for f in data if f["id"] == "street-03")
    assert [{k: v for k, v in roi.items() if k != "id"} for roi in contract["frame"]["rois"]] == sent["rois"]
    assert "&quot;id&quot;: &quot;street-03&quot;" in html  # the raw JSON
    first = page_html(admin_client.get(reverse("viewer:frame", args=[version.pk, cars[0]]), query))
    assert 'data-nav="previous"' not in first and 'data-nav="next"' in first
    assert admin_client.get(reverse("viewer:frame", args=[version.pk, "no-such-frame"])).status_code == 404


def test_the_frame_contract_says_which_image_to_show_or_why_none(admin_client, version_data):
    version, _ = version_data
    shown = contract_of(page_html(admin_client.get(reverse("viewer:frame", args=[version.pk, "street-03"]))))
    source = shown["sources"][0]
    assert source["image"].startswith("/media/source/?") and "street-03.jpg" in source["image"]  # the original
    assert (source["preview"], source["reason"], source["masks"]) == ("/media/previews/ui/street-03.jpg", "", [])
    assert shown["mask_labels"] == {}  # the version has none
    failed = contract_of(page_html(admin_client.get(reverse("viewer:frame", args=[version.pk, "street-29"]))))
    assert failed["sources"] == [
        {"id": "default", "image": None, "preview": None, "reason": "preview failed: could not read the source: no such file", "note": "",
         "masks": [], "pyramid": None, "video": None, "page": None},
    ]


def test_context_view_and_its_pages(admin_client, version_data):
    version, _ = version_data
    response = admin_client.get(reverse("viewer:context", args=[version.pk]), {"context": VIDEO_CONTEXT})
    payload = json.loads(re.search(r'<script id="cx-data" type="application/json">(.*?)</script>', page_html(response), re.S).group(1))
    assert payload["total"] == VIDEO_FRAMES and len(payload["frames"]) == VIDEO_FRAMES and payload["next"] is None
    assert [f["timestamp"] for f in payload["frames"]] == sorted(f["timestamp"] for f in payload["frames"])
    fifth = payload["frames"][5]
    assert fifth["thumb"] == "/media/previews/ui/video-005.jpg" and fifth["source_ids"] == ["default"]
    assert [{k: v for k, v in roi.items() if k != "id"} for roi in fifth["rois"]] == video_frame(5)["rois"]
    more = admin_client.get(reverse("viewer:context-frames", args=[version.pk]), {"context": VIDEO_CONTEXT}).json()
    assert len(more["frames"]) == VIDEO_FRAMES
    assert admin_client.get(reverse("viewer:context", args=[version.pk]), {"context": "nope"}).status_code == 404


# ---------------------------------------------------------------------------------------------- in Chromium


@pytest.fixture
def ui_page(logged_in_page):
    """The signed-in page, with patience for a loaded CI machine."""
    logged_in_page.set_default_timeout(30_000)
    logged_in_page.set_default_navigation_timeout(30_000)
    return logged_in_page


def count_text(page) -> str:
    node = page.locator("#fb-count strong")
    expect(node).not_to_have_text("counting…")
    return node.get_attribute("data-count-value")


@pytest.mark.django_db(transaction=True)
def test_browser_filters_count_url_and_inline_errors(ui_page, live_server, media_settings):
    page = ui_page
    version, data = make_version(media_settings["originals"])
    page.goto(f"/versions/{version.pk}/")
    expect(page.locator("#fb-grid .tile")).to_have_count(100)
    assert count_text(page) == str(len(data))
    expect(page.locator('.tile[data-frame-id="street-01"] img')).to_have_js_property("complete", True)
    shot(page, "01-grid")

    # Quick label filter: the count changes and the URL says so.
    trucks = [f for f in data if any("truck" in r["labels"] for r in f["rois"])]
    page.select_option("#fb-label-pick", "truck")
    page.wait_for_url(re.compile(r"label=truck"))
    assert count_text(page) == str(len(trucks))
    expect(page.locator("#fb-grid .tile")).to_have_count(len(trucks))
    expect(page.locator('[data-quick-label="truck"]')).to_be_visible()
    shot(page, "02-label-filter")

    # An advanced filter: a Lucene frame rule on metadata, and a second filter OR-ed.
    page.click("#fb-filters-toggle")
    page.fill("#fb-frame_query-0", "meta.speed:[0 TO 40]")
    page.click("#fb-add-filter")
    page.fill("#fb-frame_query-1", "meta.city:Rome")
    page.click("#fb-apply-filters")
    page.wait_for_url(re.compile(r"filters="))
    expected = [f for f in trucks if 0 <= f["meta"].get("speed", -1) <= 40 or f["meta"]["city"] == "Rome"]
    assert count_text(page) == str(len(expected)) and 0 < len(expected) < len(trucks)
    filters = json.loads(parse_qs(urlparse(page.url).query)["filters"][0])
    assert filters == [{"frame_query": "meta.speed:[0 TO 40]"}, {"frame_query": "meta.city:Rome"}]
    shot(page, "03-advanced-filter")

    # Reloading (or sharing the URL) keeps everything.
    page.reload()
    assert count_text(page) == str(len(expected))
    expect(page.locator("#fb-frame_query-0")).to_have_value("meta.speed:[0 TO 40]")
    expect(page.locator("#fb-frame_query-1")).to_have_value("meta.city:Rome")

    # An ROI rule picked from the label picker (with counts), exclude logic.
    page.click("#fb-filters-toggle") if page.locator("#fb-advanced").is_hidden() else None
    page.locator('[aria-label="Remove filter 2"]').click()
    block = page.locator('[data-block="0"]')
    block.locator("text=+ ROI rule").click()
    block.locator(".fb-logic").select_option("exclude")
    block.locator(".fb-label-input").fill("person")
    block.locator(".fb-label-input").press("Enter")
    expect(block.locator(".fb-chip", has_text="person")).to_contain_text(str(len([f for f in data if any("person" in r["labels"] for r in f["rois"])])))
    shot(page, "04-roi-rule")
    page.click("#fb-apply-filters")
    page.wait_for_url(re.compile(r"exclude"))
    expected = [f for f in trucks if 0 <= f["meta"].get("speed", -1) <= 40 and not any("person" in r["labels"] for r in f["rois"])]
    assert count_text(page) == str(len(expected))

    # Invalid Lucene: an inline message under the input, saying where it fails.
    page.fill("#fb-frame_query-0", "meta.speed:[0 TO")
    page.press("#fb-frame_query-0", "Enter")
    page.wait_for_url(re.compile(r"TO%22"))
    error = page.locator('.fb-field-error[data-field="filters[0].frame_query"]')
    expect(error).to_be_visible()
    expect(error).to_contain_text("end of expression")
    expect(page.locator("#fb-frame_query-0")).to_have_class(re.compile("invalid"))
    expect(page.locator("#fb-errors")).to_contain_text("filters[0].frame_query")
    shot(page, "05-invalid-lucene")

    # Sort by a metadata key, descending: the URL carries it, frames without the key come last.
    page.goto(f"/versions/{version.pk}/?frame_query=NOT+meta.video:true")
    page.select_option("#fb-sort", "meta.speed")
    page.wait_for_url(re.compile(r"sort=meta.speed"))
    page.select_option("select[name=order]", "desc")
    page.wait_for_url(re.compile(r"order=desc"))
    ids = page.locator("#fb-grid .tile").evaluate_all("tiles => tiles.map(t => t.dataset.frameId)")
    speeds = [next(f for f in data if f["id"] == i)["meta"].get("speed") for i in ids]
    assert speeds[: speeds.index(None)] == sorted([s for s in speeds if s is not None], reverse=True)
    assert all(s is None for s in speeds[speeds.index(None):])


@pytest.mark.django_db(transaction=True)
def test_browser_paging_table_view_and_tile_size(ui_page, live_server, media_settings):
    page = ui_page
    version, data = make_version(media_settings["originals"])
    page.goto(f"/versions/{version.pk}/?sort=id")
    first = page.locator("#fb-grid .tile").first.get_attribute("data-frame-id")
    page.locator('[data-pager="next"]').first.click()
    page.wait_for_url(re.compile(r"cursor="))
    expect(page.locator(".fb-page").first).to_have_text("page 2")
    second = page.locator("#fb-grid .tile").first.get_attribute("data-frame-id")
    assert second == sorted(f["id"] for f in data)[100]
    page.locator('[data-pager="previous"]').first.click()
    expect(page.locator(".fb-page").first).to_have_text("page 1")
    assert page.locator("#fb-grid .tile").first.get_attribute("data-frame-id") == first

    # The tile size slider is remembered.
    slider = page.locator("#fb-tile-size")
    slider.fill("260")
    slider.dispatch_event("change")
    width = page.locator("#fb-grid .tile").first.bounding_box()["width"]
    assert width >= 250
    page.reload()
    expect(page.locator("#fb-tile-size")).to_have_value("260")
    assert page.locator("#fb-grid .tile").first.bounding_box()["width"] >= 250
    shot(page, "06-big-tiles")
    slider = page.locator("#fb-tile-size")
    slider.fill("140")
    slider.dispatch_event("change")

    # Table view with chosen metadata columns.
    page.click("#fb-view-table")
    page.wait_for_url(re.compile(r"view=table"))
    page.click("#fb-cols summary")
    page.check('#fb-cols input[value="speed"]')
    page.check('#fb-cols input[value="city"]')
    page.click("#fb-cols-apply")
    page.wait_for_url(re.compile(r"cols=city%2Cspeed|cols=speed%2Ccity"))
    header = page.locator("#fb-table thead th").all_inner_texts()
    assert any("META.SPEED" in h.upper() for h in header) and any("META.CITY" in h.upper() for h in header)
    expect(page.locator("#fb-table tbody tr")).to_have_count(100)
    shot(page, "07-table")

    # FrameGroups: every source side by side.
    page.goto(f"/versions/{version.pk}/?" + urlencode({"frame_query": f'context_id:"{GROUP_CONTEXT}"', "source": "all"}))
    expect(page.locator('.tile[data-frame-id="group-00"] .tile-src')).to_have_count(2)
    expect(page.locator('.tile[data-frame-id="group-00"] figcaption')).to_have_text(["front", "rear"])
    shot(page, "08-framegroup-all-sources")
    page.select_option("#fb-source", "rear")
    page.wait_for_url(re.compile(r"source=rear"))
    expect(page.locator('.tile[data-frame-id="group-00"] img')).to_have_attribute("src", "/media/previews/ui/group-rear.jpg")


@pytest.mark.django_db(transaction=True)
def test_browser_group_by_url_and_context_playback(ui_page, live_server, media_settings):
    page = ui_page
    version, data = make_version(media_settings["originals"])
    page.goto(f"/versions/{version.pk}/")
    page.click("#fb-group-toggle")
    page.wait_for_url(re.compile(r"group=context"))
    expect(page.locator("#fb-contexts .tile")).to_have_count(STREETS + 2)
    video_tile = page.locator(f'.tile[data-context-id="{VIDEO_CONTEXT}"]')
    expect(video_tile.locator(".tile-badge")).to_contain_text("300")
    expect(video_tile.locator("img")).to_have_attribute("src", "/media/previews/ui/video-000.jpg")
    shot(page, "09-group-by-url")

    video_tile.locator("a").click()
    page.wait_for_url(re.compile(r"/context/\?"))
    expect(page.locator("#cx-strip .cx-cell")).to_have_count(VIDEO_FRAMES)
    expect(page.locator("#cx-time")).to_have_text("0.000 s")
    expect(page.locator("#cx-index")).to_have_text(f"frame 1 / {VIDEO_FRAMES}")
    expect(page.locator("#cx-overlay polygon")).to_have_count(1)
    assert_drawn(page.locator("#cx-canvas"), video_frame(0)["rois"], "default", "default", (160, 90))
    shot(page, "10-context")

    # Step: arrow keys and buttons; the readout follows the frames' timestamps.
    page.keyboard.press("ArrowRight")
    expect(page.locator("#cx-time")).to_have_text("0.033 s")
    page.click("#cx-next")
    expect(page.locator("#cx-time")).to_have_text("0.067 s")
    page.keyboard.press("ArrowLeft")
    expect(page.locator("#cx-index")).to_have_text(f"frame 2 / {VIDEO_FRAMES}")
    page.click("#cx-last")
    expect(page.locator("#cx-time")).to_have_text("9.967 s")
    assert_drawn(page.locator("#cx-canvas"), video_frame(VIDEO_FRAMES - 1)["rois"], "default", "default", (160, 90))  # the car moved right
    page.click("#cx-first")
    expect(page.locator("#cx-time")).to_have_text("0.000 s")

    # Play: 30 fps from the timestamps. With the first two seconds of previews in the browser's cache (the
    # player preloads one second ahead; a loaded test server may not keep up), playback keeps the video's pace
    # and never waits for an image.
    root = page.locator("#context-view")
    page.evaluate("""async () => Promise.all([...Array(60).keys()].map((i) => {
        const img = new Image(); img.src = `/media/previews/ui/video-${String(i).padStart(3, "0")}.jpg`; return img.decode();
    }))""")
    # Every change of the shown frame is noted with the page's clock: playback may fall behind the video's
    # timeline on a busy machine, but never runs ahead of it (frame k is shown at least k gaps after frame 0).
    page.evaluate("""() => {
        window.shownAt = [];
        new MutationObserver(() => window.shownAt.push([performance.now(), Number(document.getElementById("context-view").dataset.index)]))
            .observe(document.getElementById("context-view"), {attributes: true, attributeFilter: ["data-index"]});
    }""")
    page.click("#cx-play")
    expect(page.locator("#cx-play")).to_have_attribute("aria-pressed", "true")
    page.wait_for_function("window.shownAt.length >= 20", timeout=30_000)
    shown = page.evaluate("window.shownAt")
    (t0, k0) = shown[0]
    for t, k in shown[1:]:
        assert k > k0 and t - t0 >= (k - k0) * 1000 / 30 - 17, (t - t0, k - k0)  # one 60 Hz frame of slack
    assert int(root.get_attribute("data-stalls") or 0) == 0
    shot(page, "11-context-playing")
    page.keyboard.press(" ")
    expect(page.locator("#cx-play")).to_have_attribute("aria-pressed", "false")
    paused_at = root.get_attribute("data-index")
    page.wait_for_timeout(300)
    assert root.get_attribute("data-index") == paused_at
    assert f"frame=video-{int(paused_at):03d}" in page.url  # the selection is in the URL

    # Clicking a cell selects it; "Open frame" opens the frame page.
    page.locator('#cx-strip .cx-cell[data-index="120"]').click()
    expect(page.locator("#cx-time")).to_have_text("4.000 s")
    page.click("#cx-open")
    page.wait_for_url(re.compile(r"/frame/video-120"))
    expect(page.locator("#frame-title")).to_have_text("video-120")


@pytest.mark.django_db(transaction=True)
def test_browser_export_downloads_the_filtered_frames(ui_page, live_server, media_settings):
    page = ui_page
    version, data = make_version(media_settings["originals"])
    raw = [{"rois": [{"labels": ["car"]}], "frame_query": "meta.weather:rain"}]
    page.goto(f"/versions/{version.pk}/?filters={quote(json.dumps(raw))}&sort=id")
    with page.expect_download() as download_info:
        page.click("#fb-export")
    download = download_info.value
    assert download.suggested_filename == "frames-ui_v1_frames.json"
    exported = json.loads(Path(download.path()).read_text())
    wanted = sorted((f for f in data if f["meta"]["weather"] == "rain" and has_label(f, "car")), key=lambda f: f["id"])
    assert [f["id"] for f in exported] == [f["id"] for f in wanted]
    for sent, got in zip(wanted, exported):
        assert_posted_frame(sent, got, version)


@pytest.mark.django_db(transaction=True)
def test_browser_frame_page_polygons_json_and_neighbours(ui_page, live_server, media_settings):
    page = ui_page
    version, data = make_version(media_settings["originals"])
    page.goto(f"/versions/{version.pk}/?sort=id&label=person")
    page.locator('.tile[data-frame-id="street-03"] a').click()
    page.wait_for_url(re.compile(r"/frame/street-03\?"))
    assert wait_for_viewer(page) == ["default"]
    figure = page.locator(".fv-source")
    expect(figure).to_have_attribute("data-shown", "image")  # the original, through the media proxy
    assert page.evaluate("window.hyperdataViewer.views[0].stage.viewer.world.getItemAt(0).getContentSize().x") == 320
    sent = next(f for f in data if f["id"] == "street-03")
    assert [d["text"] for d in drawn_on(page, "default")] == ["car", "person"]  # a car box, the person's two polygons
    assert_outlines_drawn(page, sent["rois"], "default", "default")
    rows = page.locator("#frame-objects .fv-obj").evaluate_all("rows => rows.map((r) => r.style.getPropertyValue('--c'))")
    assert rows == [frame_views.label_colour("car"), frame_views.label_colour("person")]  # drawn in these colours
    page.click("#frame-json-panel summary h2")
    raw = json.loads(page.locator("#frame-json").inner_text())
    assert raw["id"] == "street-03" and raw["dataset"] == {"id": version.dataset_id, "version": version.pk}
    assert [{k: v for k, v in roi.items() if k != "id"} for roi in raw["rois"]] == next(f for f in data if f["id"] == "street-03")["rois"]
    expect(page.locator("#frame-meta-tree")).to_contain_text("Berlin")
    shot(page, "12-frame")

    # Next / previous within the filter (persons, by id), from the links and the arrow keys.
    persons = sorted(f["id"] for f in data if any("person" in r["labels"] for r in f["rois"]))
    page.keyboard.press("ArrowRight")
    page.wait_for_url(re.compile(rf"/frame/{persons[persons.index('street-03') + 1]}\?"))
    page.click('[data-nav="previous"]')
    page.wait_for_url(re.compile(r"/frame/street-03\?"))
    page.click("text=← Frames")
    page.wait_for_url(re.compile(r"label=person"))

    # A FrameGroup: both sources side by side, each with its own ROIs.
    page.goto(f"/versions/{version.pk}/frame/group-00")
    expect(page.locator(".fv-source")).to_have_count(2)
    assert wait_for_viewer(page) == ["front", "rear"]
    page.click("#frame-all-sources")
    wait_for_viewer(page)
    assert [d["text"] for d in drawn_on(page, "front")] == ["car"]
    assert [d["text"] for d in drawn_on(page, "rear")] == ["person"]
    for side in ("front", "rear"):
        assert_outlines_drawn(page, group_frame(0)["rois"], side, "front")
    shot(page, "13-framegroup")
    # A preview that failed: the placeholder says why.
    page.goto(f"/versions/{version.pk}/frame/street-29")
    expect(page.locator(".fv-viewport .tile-ph-reason")).to_have_text("preview failed: could not read the source: no such file")
