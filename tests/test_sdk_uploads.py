"""A frame whose source is a file on the user's machine: add_frames uploads it (content-addressed, retried) and
the frame names the server's copy, which the media proxy serves byte for byte."""
from __future__ import annotations

from io import BytesIO
from pathlib import Path

from django.contrib.auth.models import User
from django.test import Client
from PIL import Image
from rest_framework.authtoken.models import Token

from frames import links
from frames.models import Dataset as DatasetRow
from hyperdata_client import Dataset, DatasetVersion, SingleFrame
from tests.sdk_live import sdk_user  # noqa: F401 (fixture)
from tests.test_sdk_versions import flaky_server  # noqa: F401 (fixture)


def png(path: Path, colour=(200, 30, 30)) -> Path:
    Image.new("RGB", (8, 6), colour).save(path)
    return path


def test_a_local_source_is_uploaded_and_the_frame_names_the_servers_copy(sdk_user, tmp_path):
    Dataset.create(dataset_name="local files")
    draft = DatasetVersion.get_current(dataset_name="local files")
    image = png(tmp_path / "red car.png")

    assert draft.add_frames([SingleFrame(id="red", source=str(image))]) == []
    assert draft.add_frames([SingleFrame(id="again", source=str(image))]) == []

    stored = {f.id: f.source for f in draft.get_iterator()}
    assert stored["red"] == stored["again"] != str(image), "the same bytes are one file on the server"
    assert Path(stored["red"]).name == "red_car.png"
    assert list(Path(stored["red"]).parent.parent.glob("*/*")) == [Path(stored["red"])]
    browser = Client()
    browser.force_login(sdk_user)
    dataset_id = DatasetRow.objects.get(name="local files").pk
    served = browser.get(links.source_url(dataset_id, stored["red"]))
    assert served.status_code == 200
    assert b"".join(served.streaming_content) == image.read_bytes()


def test_local_uploads_are_retried_and_a_file_that_still_fails_is_listed(flaky_server, tmp_path):
    Dataset.create(dataset_name="flaky files")
    draft = DatasetVersion.get_current(dataset_name="flaky files")
    flaky_server.failures, flaky_server.seen = 2, 0
    assert draft.add_frames([SingleFrame(id="ok", source=str(png(tmp_path / "ok.png")))], upload_retries=2) == []
    assert flaky_server.seen == 4, "the upload was refused twice, then went through, then the frame"

    flaky_server.failures = 3
    lost = png(tmp_path / "lost.png", colour=(0, 0, 255))
    failed = draft.add_frames([SingleFrame(id="lost", source=str(lost))], upload_retries=2)
    assert [(f.frame.id, f.reason) for f in failed] == [("lost", f"source {str(lost)!r} could not be uploaded: HTTP 503: Service Unavailable")]
    assert [f.id for f in draft.get_iterator()] == ["ok"]


def test_an_empty_upload_is_refused_naming_the_file_and_a_viewer_may_not_upload(sdk_user, live_server):
    Dataset.create(dataset_name="guarded")
    draft = DatasetVersion.get_current(dataset_name="guarded")
    api = Client(HTTP_AUTHORIZATION=f"Token {Token.objects.get(user=sdk_user).key}")
    url = f"/api/versions/{draft.id}/uploads/"
    empty = api.post(url, {"file": _named(b"", "empty.png")})
    assert empty.status_code == 400 and "file" in empty.json()["errors"][0]["field"], empty.content

    viewer = User.objects.create_user("looker")
    DatasetRow.objects.get(name="guarded").members.create(user=viewer, role="viewer")
    looker = Client(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=viewer).key}")
    assert looker.post(url, {"file": _named(b"\x89PNG", "a.png")}).status_code == 403


def _named(content: bytes, name: str) -> BytesIO:
    upload = BytesIO(content)
    upload.name = name
    return upload
