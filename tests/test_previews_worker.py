"""Previews made by a real Celery worker process from real files (../shared/testdata and files made here)."""
import hashlib
import io
import time

import av
import numpy as np
import pytest
from celery.signals import before_task_publish
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.test import override_settings
from PIL import Image

from frames import services
from frames.models import MediaPreview
from frames.storage import storage_for_uri
from .clients import api_client

pytestmark = pytest.mark.django_db(transaction=True)
WAIT_SECONDS = 180


@pytest.fixture
def api():
    """A client signed in (API and pages) as a user without staff rights, owner of the datasets it makes."""
    return api_client("worker-user", pages=True)


def file_uri(path) -> str:
    return f"file://{path}"


def wait_for_previews(api, version_id):
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        progress = api.get(f"/api/versions/{version_id}/previews/").json()
        assert progress["counting"] is False and progress["as_of"]  # a small version is counted in the request
        if progress["pending"] == 0:
            return {k: progress[k] for k in ("total", "done", "failed", "pending")}
        assert time.monotonic() < deadline, f"previews still pending after {WAIT_SECONDS} s: {progress}"
        time.sleep(0.5)


def preview_image(source) -> Image.Image:
    """The preview file behind the link the API gave (the stored file: the link is checked on its own)."""
    uri = source["preview"]["uri"]
    assert uri.startswith("/media/previews/"), uri
    with default_storage.open(uri.split("?")[0].removeprefix("/media/"), "rb") as handle:
        image = Image.open(io.BytesIO(handle.read()))
        image.load()
    return image


def frames_by_id(api, version_id):
    return {f["id"]: f for f in api.get(f"/api/versions/{version_id}/frames/?limit=1000").json()["results"]}


def independent_video_frame(path, timestamp_ms):
    """The frame on screen at timestamp_ms, by decoding from the start (slow but obviously right)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        chosen = None
        for frame in container.decode(stream):
            if frame.pts is not None and float(frame.pts * stream.time_base) * 1000 <= timestamp_ms + 0.5:
                chosen = frame.to_image()
            else:
                break
        return chosen


def test_worker_makes_previews_for_tiff_video_and_masks(api, celery_worker_process, testdata, media_roots):
    corrupt = media_roots / "corrupt.tif"
    corrupt.write_bytes(b"II*\x00not really a tiff at all")
    not_a_video = media_roots / "broken.mp4"
    not_a_video.write_bytes(b"\x00\x00\x00\x18ftypmp42 but nothing after it")
    video = testdata / "video/nwb-video-widgets/stub_h264.mp4"
    mask = testdata / "masks/labelme-voc/SegmentationClass/2011_000003.png"
    dataset = services.dataset_create(user=api.user, name="previews")
    version = dataset.versions.get()
    frames = [
        {"id": "multipage-p1", "sources": [{"uri": file_uri(testdata / "tiff/pillow/multipage.tiff"), "content_type": "image/tiff", "meta": {"page": 1}}]},
        {"id": "16bit", "sources": [{"uri": file_uri(testdata / "tiff/pillow/tiff_16bit_RGB.tiff")}]},
        {"id": "bigtiff", "sources": [{"uri": file_uri(testdata / "tiff/pillow/hopper_bigtiff.tif")}]},
        {"id": "cmyk-tiled", "sources": [{"uri": file_uri(testdata / "tiff/pillow/tiff_tiled_cmyk_jpeg.tif")}]},
        {"id": "photo", "sources": [{"uri": file_uri(testdata / "masks/labelme-voc/JPEGImages/2011_000003.jpg"),
                                      "masks": [{"id": "class", "uri": file_uri(mask), "content_type": "image/png"}]}]},
        {"id": "own-preview", "sources": [{"uri": file_uri(testdata / "tiff/pillow/hopper.tif"),
                                            "preview": {"uri": "https://example.com/hopper.jpg", "content_type": "image/jpeg"}}]},
        {"id": "missing", "sources": [{"uri": file_uri(media_roots / "nowhere.tif")}]},
        {"id": "corrupt", "sources": [{"uri": file_uri(corrupt)}]},
        {"id": "broken-video", "sources": [{"uri": file_uri(not_a_video), "content_type": "video/mp4", "timestamp": 40}]},
    ] + [
        {"id": f"video-{t}", "context_id": "stub", "timestamp": t,
         "sources": [{"uri": file_uri(video), "content_type": "video/mp4", "timestamp": t}]}
        for t in (0, 100, 300, 450)
    ]
    services.frames_add(user=api.user, version=version, frames=frames)
    progress = wait_for_previews(api, version.id)
    failures = {r.uri.rsplit("/", 1)[-1]: r.error for r in MediaPreview.objects.filter(status="failed")}
    assert progress == {"total": 13, "done": 10, "failed": 3, "pending": 0}, failures

    shown = frames_by_id(api, version.id)
    for frame_id in ("multipage-p1", "16bit", "bigtiff", "cmyk-tiled", "photo"):
        source = shown[frame_id]["sources"][0]
        image = preview_image(source)
        assert max(image.size) <= 256 and image.format in ("JPEG", "PNG"), (frame_id, image.size)
        assert source["width"] and source["height"], "the worker records sizes of sources that had none"
        assert abs(image.size[0] / image.size[1] - source["width"] / source["height"]) < 0.05
        if frame_id != "multipage-p1":  # its pages are single colours
            assert np.asarray(image.convert("L")).std() > 5, f"{frame_id}: the preview is flat"

    # The 16-bit TIFF is scaled by its real value range: the preview uses most of 0..255.
    sixteen = np.asarray(preview_image(shown["16bit"]["sources"][0]).convert("L"))
    assert sixteen.max() - sixteen.min() > 150

    # Page 1 of the multipage TIFF, not page 0.
    with Image.open(testdata / "tiff/pillow/multipage.tiff") as tiff:
        tiff.seek(1)
        page1 = tiff.convert("RGB").resize(preview_image(shown["multipage-p1"]["sources"][0]).size)
        tiff.seek(0)
        page0 = tiff.convert("RGB").resize(page1.size)
    got = np.asarray(preview_image(shown["multipage-p1"]["sources"][0]).convert("RGB"), dtype=float)
    assert np.abs(got - np.asarray(page1, dtype=float)).mean() < np.abs(got - np.asarray(page0, dtype=float)).mean()

    # Mask: a lossless PNG with exactly the mask's colours.
    mask_shown = shown["photo"]["sources"][0]["masks"][0]
    mask_png = preview_image(mask_shown)
    assert mask_png.format == "PNG"
    with Image.open(mask) as original:
        expected = {tuple(c) for c in np.asarray(original.convert("RGB")).reshape(-1, 3)}
    assert {tuple(c) for c in np.asarray(mask_png.convert("RGB")).reshape(-1, 3)} == expected

    # Video frames: each preview is the frame on screen at its timestamp.
    for t in (0, 100, 300, 450):
        got = preview_image(shown[f"video-{t}"]["sources"][0]).convert("RGB")
        want = independent_video_frame(video, t).convert("RGB").resize(got.size)
        assert np.abs(np.asarray(got, dtype=float) - np.asarray(want, dtype=float)).mean() < 8, t

    # The keyframe index was computed once and kept for later jobs on the same video.
    uri = file_uri(video)
    fingerprint = storage_for_uri(uri).stat(uri).fingerprint
    assert cache.get("video-index:" + hashlib.sha256(f"{uri}|{fingerprint}".encode()).hexdigest())["keyframes"]

    # The user's own preview is kept and nothing is generated for it.
    assert shown["own-preview"]["sources"][0]["preview"] == {"uri": "https://example.com/hopper.jpg", "content_type": "image/jpeg"}

    # Failures are recorded with a reason a user can read.
    assert shown["missing"]["sources"][0]["preview_status"] == "failed"
    assert "not" in shown["missing"]["sources"][0]["preview_error"].lower()
    assert shown["corrupt"]["sources"][0]["preview_status"] == "failed" and shown["corrupt"]["sources"][0]["preview_error"]
    assert shown["broken-video"]["sources"][0]["preview_status"] == "failed"

    # Idempotent: the same sources in a child version queue nothing new and write no new files.
    rows, files = MediaPreview.objects.count(), sorted(r.file for r in MediaPreview.objects.exclude(file=""))
    published, child = services.version_snapshot(user=api.user, version=version)
    services.frames_add(user=api.user, version=child, frames=frames)
    assert MediaPreview.objects.count() == rows
    assert sorted(r.file for r in MediaPreview.objects.exclude(file="")) == files

    # Regenerate: once the missing file exists, its preview is made.
    Image.new("RGB", (640, 480), (200, 30, 30)).save(media_roots / "nowhere.tif")
    response = api.post(f"/api/versions/{published.id}/previews/regenerate/")
    assert response.status_code == 202 and response.json() == {"queued": 3, "in_worker": False}  # the three failed ones
    assert wait_for_previews(api, published.id)["done"] == 11
    fixed = frames_by_id(api, published.id)["missing"]["sources"][0]
    assert preview_image(fixed).size == (256, 192) and (fixed["width"], fixed["height"]) == (640, 480)


def test_previews_are_served_to_the_dataset_members_only(api, client, celery_worker_process, testdata, django_user_model):
    dataset = services.dataset_create(user=api.user, name="served")
    version = dataset.versions.get()
    services.frames_add(user=api.user, version=version, frames=[{"id": "h", "sources": [{"uri": file_uri(testdata / "tiff/pillow/hopper.tif")}]}])
    deadline = time.monotonic() + WAIT_SECONDS
    while not MediaPreview.objects.filter(status="done").exists():
        assert time.monotonic() < deadline
        time.sleep(0.3)
    url = frames_by_id(api, version.id)["h"]["sources"][0]["preview"]["uri"]
    response = api.get(url)  # the owner
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert Image.open(io.BytesIO(b"".join(response.streaming_content))).size == (128, 128)
    assert client.get(url).status_code == 302  # signed out: to the login page
    client.force_login(django_user_model.objects.create_user("stranger", password="pw-stranger-1"))
    assert client.get(url).status_code == 404  # not a member of the dataset, whoever gave them the link
    assert api.get(url.replace("sig=", "sig=x")).status_code == 403  # a link the server did not issue


class FlakyImageServer:
    """A loopback HTTP server that answers 503 to the first `failures` requests for a path, then the file."""

    def __init__(self, payload: bytes, failures: int):
        import http.server
        import threading

        self.requests = 0
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests += 1
                if server.requests <= failures:
                    self.send_response(503)
                    self.send_header("Retry-After", "1")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/flaky.png"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_transient_storage_errors_are_retried_with_back_off(api, celery_worker_process):
    buffer = io.BytesIO()
    Image.new("RGB", (512, 256), (10, 120, 200)).save(buffer, "PNG")
    server = FlakyImageServer(buffer.getvalue(), failures=2)
    try:
        version = services.dataset_create(user=api.user, name="flaky").versions.get()
        services.frames_add(user=api.user, version=version, frames=[{"id": "remote", "sources": [{"uri": server.url}]}])
        assert wait_for_previews(api, version.id) == {"total": 1, "done": 1, "failed": 0, "pending": 0}
    finally:
        server.close()
    row = MediaPreview.objects.get(uri=server.url)
    assert row.attempts == 3 and server.requests == 3  # two 503s, then success
    source = frames_by_id(api, version.id)["remote"]["sources"][0]
    assert preview_image(source).size == (256, 128) and (source["width"], source["height"]) == (512, 256)


@override_settings(HYPERDATA_PROGRESS_SYNC_FRAMES=2)
def test_progress_of_large_versions_is_counted_by_a_worker(api, celery_worker_process, testdata):
    version = services.dataset_create(user=api.user, name="progress-later").versions.get()
    names = ("hopper.tif", "hopper_lzw.tif", "hopper_bigtiff.tif")
    services.frames_add(user=api.user, version=version, frames=[
        {"id": name, "sources": [{"uri": file_uri(testdata / "tiff/pillow" / name)}]} for name in names
    ])
    first = api.get(f"/api/versions/{version.id}/previews/").json()
    assert first["counting"] is True and first["total"] is None  # answered at once; a worker counts
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        progress = api.get(f"/api/versions/{version.id}/previews/").json()
        if progress["as_of"] and progress["pending"] == 0:
            break
        assert time.monotonic() < deadline, f"no count from the worker: {progress}\n{celery_worker_process.log()[-2000:]}"
        time.sleep(0.5)
    assert (progress["total"], progress["done"], progress["failed"]) == (3, 3, 0)


@override_settings(HYPERDATA_PROGRESS_SYNC_FRAMES=2)
def test_large_versions_regenerate_in_a_worker(api, celery_worker_process, media_roots):
    version = services.dataset_create(user=api.user, name="regenerate-later").versions.get()
    names = [f"later-{i}.png" for i in range(3)]
    services.frames_add(user=api.user, version=version, frames=[{"id": n, "sources": [{"uri": file_uri(media_roots / n)}]} for n in names])
    deadline = time.monotonic() + WAIT_SECONDS
    while MediaPreview.objects.filter(uri__endswith="png", uri__contains="later-", status="failed").count() < 3:
        assert time.monotonic() < deadline, celery_worker_process.log()[-2000:]
        time.sleep(0.3)
    for n in names:  # the files arrive; the failed previews are queued again by a worker, then rendered
        Image.new("RGB", (300, 200), (20, 200, 90)).save(media_roots / n)
    response = api.post(f"/api/versions/{version.id}/previews/regenerate/")
    body = response.json()
    assert response.status_code == 202 and (body["queued"], body["in_worker"], body["job"]["kind"]) == (None, True, "previews_regenerate")
    while MediaPreview.objects.filter(uri__contains="later-", status="done").count() < 3:
        assert time.monotonic() < deadline, celery_worker_process.log()[-2000:]
        time.sleep(0.3)


def test_a_write_of_many_files_sends_a_render_task_per_ten_files_and_each_preview_is_made_once(api, celery_worker_process, media_roots):
    """Sending a task costs its sender about a millisecond: an import of many files sends one per ten."""
    sent = []

    def count(sender=None, **_):
        sent.append(sender)

    before_task_publish.connect(count)
    try:
        for i in range(25):
            Image.new("RGB", (64, 48), (i * 9, 100, 200)).save(media_roots / f"many-{i}.png")
        version = services.dataset_create(user=api.user, name="many-files").versions.get()
        frames = [{"id": f"m{i}", "sources": [{"uri": file_uri(media_roots / f"many-{i}.png")}]} for i in range(25)]
        assert api.post(f"/api/versions/{version.pk}/frames/", frames, format="json").status_code in (200, 201)
    finally:
        before_task_publish.disconnect(count)
    assert sorted(sent) == ["frames.tasks.generate_previews_many"] * 3  # 10 + 10 + 5 files
    assert wait_for_previews(api, version.pk) == {"total": 25, "done": 25, "failed": 0, "pending": 0}
    rows = MediaPreview.objects.filter(uri__contains="/many-")
    assert rows.count() == 25 and set(rows.values_list("status", flat=True)) == {MediaPreview.DONE}
    for i, frame in sorted(frames_by_id(api, version.pk).items()):
        assert preview_image(frame["sources"][0]).getpixel((5, 5))[0] == pytest.approx(int(i[1:]) * 9, abs=4)
