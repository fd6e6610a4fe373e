"""The frame page as a ClearML WebApp user expects it (issue 13): a video source plays in the browser's own player
from the frame's timestamp (the media proxy answers byte ranges, so the player can seek), TIFF frames are labelled
by their page (on the frame page and in the film strip), and Copy ID copies the frame's id."""
from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest
from django.urls import reverse
from PIL import Image
from playwright.sync_api import expect

from frames import links
from viewer.ranges import Unsatisfiable, byte_range

from .media_helpers import make_video
from .test_viewer_page import open_frame, shot, version_with

pytestmark = pytest.mark.django_db(transaction=True)


def test_byte_ranges_as_rfc_9110_reads_them():
    assert byte_range(None, 100) is None
    assert byte_range("bytes=0-9", 100) == (0, 9)
    assert byte_range("bytes=90-", 100) == (90, 99)
    assert byte_range("bytes=95-200", 100) == (95, 99)  # the end is cut to the file
    assert byte_range("bytes=-10", 100) == (90, 99)  # the last ten bytes
    assert byte_range("bytes=-500", 100) == (0, 99)
    assert byte_range("bytes=0-1,5-6", 100) is None  # several ranges: the whole file, as a server may answer
    assert byte_range("items=0-1", 100) is None
    for unsatisfiable in ("bytes=100-", "bytes=7-3", "bytes=-0"):
        with pytest.raises(Unsatisfiable):
            byte_range(unsatisfiable, 100)


def test_the_media_proxy_answers_the_ranges_a_player_asks_for(admin_client, admin_user, testdata, media_roots):
    path = testdata / "video" / "webgl" / "npot-video.mp4"
    data = path.read_bytes()
    version = version_with("ranges", [{"id": "v", "sources": [{"id": "default", "uri": path.as_uri(), "content_type": "video/mp4"}]}])
    url = links.source_url(version.dataset_id, path.as_uri())

    whole = admin_client.get(url)
    assert whole.status_code == 200 and whole["Accept-Ranges"] == "bytes"
    assert b"".join(whole.streaming_content) == data
    part = admin_client.get(url, HTTP_RANGE="bytes=1000-1999")
    assert part.status_code == 206 and part["Content-Range"] == f"bytes 1000-1999/{len(data)}" and part["Content-Length"] == "1000"
    assert b"".join(part.streaming_content) == data[1000:2000]
    tail = admin_client.get(url, HTTP_RANGE="bytes=-100")
    assert b"".join(tail.streaming_content) == data[-100:]
    beyond = admin_client.get(url, HTTP_RANGE=f"bytes={len(data)}-")
    assert beyond.status_code == 416 and beyond["Content-Range"] == f"bytes */{len(data)}"
    forged = admin_client.get(url.replace("sig=", "sig=x"), HTTP_RANGE="bytes=0-9")
    assert forged.status_code == 403  # a range is no way around the signature


def test_a_video_source_plays_from_the_frames_timestamp(logged_in_page, media_roots, celery_worker_process):
    page = logged_in_page
    video = make_video(media_roots / "road.mp4", frame_times_ms=list(range(0, 3000, 40)), size=(320, 240), gop=12)
    version = version_with("video", [{
        "id": "road-1720", "context_id": "road", "timestamp": 1720, "rois": [{"labels": ["car"], "poly": [10, 10, 100, 10, 100, 90]}],
        "sources": [{"id": "default", "uri": video.as_uri(), "content_type": "video/mp4", "timestamp": 1720, "width": 320, "height": 240}],
    }])
    open_frame(page, version, "road-1720")
    figure = page.locator(".fv-source")
    play = figure.locator("[data-play-video]")
    expect(play).to_have_text("▶ Play video")
    play.click()
    expect(figure).to_have_attribute("data-seeked-to", re.compile(r"^1\.(6[89]|7\d)"))  # it started at the frame (1.72 s)
    player = figure.locator("video.fv-video")
    expect(player).to_be_visible()
    src = player.get_attribute("src")
    assert urlparse(src).path == reverse("viewer:source-media")  # the original, through the signed proxy
    page.wait_for_function("document.querySelector('video.fv-video').currentTime > 1.9")  # and it plays on from there
    shot(page, "video-playing")
    play.click()
    expect(play).to_have_text("▶ Play video")
    expect(player).to_be_hidden()
    assert page.evaluate("document.querySelector('video.fv-video').paused")
    expect(page.locator(".fv-overlay-canvas")).to_be_visible()  # back to the frame with its ROIs


def test_tiff_frames_are_labelled_by_their_page(logged_in_page, media_roots, celery_worker_process):
    page = logged_in_page
    path = media_roots / "pages.tif"
    pages = [Image.new("RGB", (120, 80), colour) for colour in ("red", "green", "blue")]
    pages[0].save(path, save_all=True, append_images=pages[1:])
    version = version_with("tiff pages", [
        {"id": f"page-{n}", "context_id": "scan", "timestamp": n,
         "sources": [{"id": "default", "uri": path.as_uri(), "content_type": "image/tiff", "width": 120, "height": 80, "meta": {"page": n}}]}
        for n in range(3)
    ])
    open_frame(page, version, "page-2")
    expect(page.locator(".fv-source .fv-page")).to_have_text("page 3")
    details = page.locator(".fv-source-details")
    expect(details).to_contain_text("Page3 (meta.page 2; 0 is the first)")
    expect(details).not_to_contain_text("Timestamp")
    page.goto(reverse("viewer:context", args=[version.pk]) + "?context=scan")
    expect(page.locator(".cx-cell-ts")).to_have_text(["page 1", "page 2", "page 3"])
    expect(page.locator("#cx-time")).to_have_text("page 1")
    shot(page, "tiff-pages-strip")


def test_copy_id_copies_the_frame_id_and_keeps_its_label(logged_in_page, media_roots):
    """Issue 13 item 2 on the frame page: Copy ID beside the frame's name, and the project in the breadcrumb."""
    page = logged_in_page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    path = media_roots / "copy.png"
    Image.new("RGB", (64, 48), "grey").save(path)
    version = version_with("copy id", [{"id": "cam/0042.png", "sources": [{"id": "default", "uri": path.as_uri(), "width": 64, "height": 48}]}])
    open_frame(page, version, "cam/0042.png")
    expect(page.locator(".crumb").nth(1)).to_have_text(version.dataset.project.name)
    button = page.locator("#copy-frame-id")
    button.click()
    expect(button).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == "cam/0042.png"
    expect(button).to_have_text("Copy ID")  # back to its own label, not another
