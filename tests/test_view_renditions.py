"""Large renditions for the film strip and the frame page: a video frame or TIFF page a browser cannot show is
rendered at HYPERDATA_VIEW_SIZE on first view by a worker (ahead of the thumbnail backlog; the web request waits
for it, it never decodes), kept, and served again from the file."""
import io

import numpy as np
import pytest
from django.conf import settings
from PIL import Image

from frames import media as frames_media
from frames import services
from frames.models import MediaPreview
from frames.selectors import SYSTEM
from viewer import media
from viewer.views import media as media_views

from .media_helpers import frame_number, make_video, naive_frame_at
from .pages import html as page_html

pytestmark = pytest.mark.django_db(transaction=True)

TIMES = [0, 40, 80, 120, 200, 230, 260, 300, 400, 433, 466, 500, 600, 700, 800, 900]  # uneven: VFR


@pytest.fixture
def video(media_roots):
    return make_video(media_roots / "wide.mp4", frame_times_ms=TIMES, size=(1600, 900), gop=8)


@pytest.fixture
def dataset_id():
    """The dataset the links are issued for (renditions are shown to its members)."""
    return services.dataset_create(user=SYSTEM, name="renditions").pk


@pytest.fixture
def original_image_url(dataset_id, celery_worker_process):
    return lambda source: media.original_image_url(dataset_id, source)


def image_of(response) -> Image.Image:
    image = Image.open(io.BytesIO(b"".join(response.streaming_content)))
    image.load()
    return image


@pytest.mark.parametrize("timestamp", [0, 250, 470, 899])
def test_video_frame_is_rendered_large_at_its_timestamp(admin_client, video, timestamp, original_image_url):
    source = {"id": "default", "uri": video.as_uri(), "content_type": "video/mp4", "timestamp": timestamp}
    url = original_image_url(source)
    assert url.startswith("/media/view/?")
    response = admin_client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    image = image_of(response)
    assert image.size == (settings.HYPERDATA_VIEW_SIZE, 720)  # 1600x900 fitted in 1280, never the 256 px tile
    expected_number, _ = naive_frame_at(video, timestamp)
    assert frame_number(np.asarray(image.convert("RGB"))) == expected_number


def test_a_rendition_is_made_once_and_served_again(admin_client, video, original_image_url):
    source = {"id": "default", "uri": video.as_uri(), "content_type": "video/mp4", "timestamp": 400}
    url = original_image_url(source)
    first = b"".join(admin_client.get(url).streaming_content)
    second = b"".join(admin_client.get(url).streaming_content)
    assert first == second
    row = MediaPreview.objects.get(max_size=settings.HYPERDATA_VIEW_SIZE)
    assert (row.status, row.timestamp, row.width, row.height) == (MediaPreview.DONE, 400, 1600, 900)


def test_tiff_page_is_rendered_large(admin_client, testdata, original_image_url):
    path = testdata / "tiff" / "pillow" / "multipage.tiff"
    assert path.exists(), f"missing test file {path}"
    for page in (0, 2):
        source = {"id": "default", "uri": path.as_uri(), "content_type": "image/tiff", "meta": {"page": page}}
        response = admin_client.get(original_image_url(source))
        assert response.status_code == 200
        assert max(image_of(response).size) <= settings.HYPERDATA_VIEW_SIZE
    assert MediaPreview.objects.filter(page=2, status=MediaPreview.DONE).count() == 1


def test_links_are_signed_and_failures_explained(admin_client, client, video, media_roots, original_image_url, django_user_model):
    source = {"id": "default", "uri": video.as_uri(), "content_type": "video/mp4", "timestamp": 0}
    url = original_image_url(source)
    assert admin_client.get(url.replace("t=0", "t=100")).status_code == 403  # the signature covers the timestamp
    assert admin_client.get(url.replace("wide.mp4", "other.mp4")).status_code == 403
    assert client.get(url).status_code == 302  # to the login page
    client.force_login(django_user_model.objects.create_user("outsider", password="pw-outsider-1"))
    assert client.get(url).status_code == 404  # not a member of the dataset the link was issued for
    (media_roots / "broken.mp4").write_bytes(b"not a video at all")
    broken = admin_client.get(original_image_url({**source, "uri": (media_roots / "broken.mp4").as_uri()}))
    assert broken.status_code == 422 and "no image" in page_html(broken)
    assert MediaPreview.objects.get(uri__endswith="broken.mp4").status == MediaPreview.FAILED


def test_the_web_request_never_decodes(admin_client, video, original_image_url, monkeypatch):
    """The decoders are broken in this (the web) process: the rendition still arrives, made by the worker."""
    def decoded_here(*args, **kwargs):
        raise AssertionError("media decoded in the web process")

    for name in ("render_video_previews", "render_image_preview", "render_mask_png", "build_video_index"):
        monkeypatch.setattr(frames_media, name, decoded_here)
    source = {"id": "default", "uri": video.as_uri(), "content_type": "video/mp4", "timestamp": 250}
    response = admin_client.get(original_image_url(source))
    assert response.status_code == 200 and image_of(response).size == (settings.HYPERDATA_VIEW_SIZE, 720)


def test_a_request_that_waited_long_enough_is_told_to_come_back(admin_client, video, dataset_id, monkeypatch):
    """A worker that has not finished within the wait: 503 with Retry-After (the viewer keeps the small
    preview and asks again), the rendition still on its way."""
    monkeypatch.setattr(media_views, "RENDITION_WAIT_SECONDS", 0)
    source = {"id": "default", "uri": video.as_uri(), "content_type": "video/mp4", "timestamp": 260}
    response = admin_client.get(media.original_image_url(dataset_id, source))
    assert response.status_code == 503 and response["Retry-After"] == "2"
