"""Where the SDK's uploads land and how they go: with HYPERDATA_UPLOADS_STORAGE the files a frame names on the
user's machine (source, mask_source, masks_source) are put in that bucket (a real S3 server on loopback: moto in
server mode) and the frame names s3:// copies the server reads back; masks are uploaded like sources and the
frame page's viewer JSON resolves them; uploads no frame names are removed after the grace period."""
from __future__ import annotations

import io
import json
import os
import re
import time
from pathlib import Path

import boto3
import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from moto.server import ThreadedMotoServer
from PIL import Image

from frames import links, services, tasks
from frames.exceptions import Forbidden
from frames.models import Dataset as DatasetRow
from frames.models import MediaPreview
from frames.selectors import SYSTEM
from hyperdata.uploads_storage import UploadsStorageError, uploads_bucket
from hyperdata_client import Dataset, DatasetVersion, SingleFrame
from hyperdata_client.api import api
from tests.sdk_live import sdk_user  # noqa: F401 (fixture)

from .servers import free_port, wait_for_port

DAY = 24 * 3600


@pytest.fixture(scope="module")
def moto():
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    wait_for_port(port)
    client = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", aws_access_key_id="test",
                          aws_secret_access_key="test", region_name="us-east-1")
    yield f"127.0.0.1:{port}", client
    server.stop()


@pytest.fixture
def bucket(moto, settings):
    """A fresh bucket configured as the uploads storage (the way HYPERDATA_UPLOADS_STORAGE etc. configure it)."""
    host, client = moto
    name = f"uploads-{time.monotonic_ns()}"
    client.create_bucket(Bucket=name)
    settings.HYPERDATA_UPLOADS_BUCKET = uploads_bucket(f"s3://{host}/{name}/hd", access_key="test", secret_key="test",
                                                       region="us-east-1", tls=False)
    yield host, name, client


@pytest.fixture
def own_uploads_dir(settings, tmp_path):
    """The local uploads folder in this test's own HYPERDATA_IMPORTS_DIR (the clean-up must not see others' files)."""
    settings.HYPERDATA_IMPORTS_DIR = tmp_path / "imports"
    settings.HYPERDATA_MEDIA_ROOTS = [*settings.HYPERDATA_MEDIA_ROOTS, str(tmp_path / "imports")]
    return tmp_path / "imports" / "media"


def keys(client, name) -> list[str]:
    return sorted(item["Key"] for item in client.list_objects_v2(Bucket=name).get("Contents", []))


def png(path: Path, colour=(200, 30, 30), size=(8, 6)) -> Path:
    Image.new("RGB", size, colour).save(path)
    return path


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def served(user, dataset_name: str, uri: str) -> bytes:
    answer = browser(user).get(links.source_url(DatasetRow.objects.get(name=dataset_name).pk, uri))
    assert answer.status_code == 200, answer
    return b"".join(answer.streaming_content)


def test_the_setting_names_aws_or_an_s3_compatible_server():
    assert uploads_bucket(None) is None
    aws = uploads_bucket("s3://my-uploads/hd", access_key="k", secret_key="s", region="eu-west-1")
    assert (aws["host"], aws["bucket"], aws["prefix"], aws["use_tls"]) == ("", "my-uploads", "hd", True)
    minio = uploads_bucket("s3://MinIO.lan:9000/uploads", tls=False)
    assert (minio["host"], minio["bucket"], minio["prefix"], minio["use_tls"]) == ("minio.lan:9000", "uploads", "", False)
    for bad in ("gs://b/p", "s3://minio.lan:9000/", "s3:///prefix", "/var/uploads"):
        with pytest.raises(UploadsStorageError, match="HYPERDATA_UPLOADS_STORAGE"):
            uploads_bucket(bad)


def test_a_local_source_goes_to_the_configured_bucket_and_is_read_back(sdk_user, bucket, own_uploads_dir, tmp_path):
    host, name, client = bucket
    Dataset.create(dataset_name="bucketed")
    draft = DatasetVersion.get_current(dataset_name="bucketed")
    image = png(tmp_path / "red car.png")
    assert draft.add_frames([SingleFrame(id="red", source=str(image)), SingleFrame(id="again", source=str(image))]) == []

    stored = {f.id: f.source for f in draft.get_iterator()}
    dataset_id = DatasetRow.objects.get(name="bucketed").pk
    assert stored["red"] == stored["again"]
    assert re.fullmatch(rf"s3://{host}/{name}/hd/media/{dataset_id}/[0-9a-f]{{64}}/red_car\.png", stored["red"]), stored
    assert keys(client, name) == [stored["red"].split(f"{name}/", 1)[1]], "one object for the same bytes"
    assert client.get_object(Bucket=name, Key=keys(client, name)[0])["Body"].read() == image.read_bytes()
    assert not own_uploads_dir.exists() or not any(own_uploads_dir.rglob("*.png")), "nothing kept on local disk"
    assert served(sdk_user, "bucketed", stored["red"]) == image.read_bytes(), "the media proxy reads the bucket's copy"


@pytest.mark.parametrize("where", ["local", "bucket"])
def test_mask_files_are_uploaded_and_the_viewer_json_resolves_them(where, request, sdk_user, own_uploads_dir, tmp_path):
    prefix = "s3://{}/{}/hd/media/".format(*request.getfixturevalue("bucket")[:2]) if where == "bucket" else None
    Dataset.create(dataset_name=f"masked-{where}")
    draft = DatasetVersion.get_current(dataset_name=f"masked-{where}")
    image = png(tmp_path / "photo.png", (90, 90, 90), (16, 12))
    mask = Image.new("RGB", (16, 12), (0, 0, 0))
    mask.paste((255, 0, 0), (0, 0, 8, 12))
    mask.save(tmp_path / "semantic.png")
    instances = png(tmp_path / "instances.png", (0, 0, 255), (16, 12))
    frame = SingleFrame(id="m", source=str(image), mask_source=str(tmp_path / "semantic.png"),
                        masks_source={"inst": str(instances)})
    assert draft.add_frames([frame]) == []

    back = draft.get_single_frame("m")
    uris = [m["uri"] for m in back.masks]
    assert [m["id"] for m in back.masks] == ["default", "inst"]
    assert all(uri != str(path) for uri, path in zip(uris, (tmp_path / "semantic.png", instances))), uris
    assert all(uri.startswith(prefix) if prefix else Path(uri).is_relative_to(own_uploads_dir) for uri in uris), uris
    assert served(sdk_user, f"masked-{where}", uris[0]) == (tmp_path / "semantic.png").read_bytes()

    for row in MediaPreview.objects.filter(uri__in=uris):  # what a worker does for the frame's masks
        assert services.render_previews(uri=row.uri, keys=[row.key]) == 1
    page = browser(sdk_user).get(reverse("viewer:frame", args=[draft.id, "m"]))
    contract = json.loads(re.search(r'<script id="frame-contract" type="application/json">(.*?)</script>', page.content.decode(), re.S).group(1))
    assert [m["uri"] for m in contract["frame"]["sources"][0]["masks"]] == uris
    masks = contract["sources"][0]["masks"]
    assert [m["id"] for m in masks] == ["default", "inst"] and all(m["image"] and not m["reason"] for m in masks), masks
    answer = browser(sdk_user).get(masks[0]["image"])
    assert answer.status_code == 200
    drawn = Image.open(io.BytesIO(b"".join(answer.streaming_content))).convert("RGB")
    assert drawn.getpixel((2, 5)) == (255, 0, 0) and drawn.getpixel((12, 5)) == (0, 0, 0), "the mask's own pixels"


def _age(path: str, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_uploads_no_frame_names_go_after_the_grace_period(sdk_user, own_uploads_dir, tmp_path, settings):
    Dataset.create(dataset_name="tidy")
    draft = DatasetVersion.get_current(dataset_name="tidy")
    kept = png(tmp_path / "kept.png", (1, 1, 1))
    dropped = png(tmp_path / "dropped.png", (2, 2, 2))
    assert draft.add_frames([SingleFrame(id="kept", source=str(kept)), SingleFrame(id="dropped", source=str(dropped))]) == []
    uris = {f.id: f.source for f in draft.get_iterator()}
    orphan = api().upload(f"versions/{draft.id}/uploads/", str(png(tmp_path / "orphan.png", (3, 3, 3))))["uri"]  # add_frames never came
    fresh = api().upload(f"versions/{draft.id}/uploads/", str(png(tmp_path / "fresh.png", (4, 4, 4))))["uri"]
    draft.delete_frames(["dropped"])
    for uri in (uris["kept"], uris["dropped"], orphan):
        _age(uri, DAY + 60)  # older than the default grace period; `fresh` was just uploaded

    out = io.StringIO()
    call_command("clean_uploads", stdout=out)
    assert f"removed {orphan}" in out.getvalue() and "removed 2 unused upload(s); kept 2" in out.getvalue(), out.getvalue()
    assert [Path(u).exists() for u in (uris["kept"], uris["dropped"], orphan, fresh)] == [True, False, False, True]
    assert not Path(orphan).parent.exists(), "the emptied folder of its digest goes too"
    assert served(sdk_user, "tidy", uris["kept"]) == kept.read_bytes()

    settings.HYPERDATA_UPLOADS_GRACE_HOURS = 0  # the periodic task, as Celery beat runs it
    assert tasks.clean_uploads.apply().get() == 1 and not Path(fresh).exists() and Path(uris["kept"]).exists()
    assert settings.CELERY_BEAT_SCHEDULE["clean-uploads"]["task"] == "frames.tasks.clean_uploads"


def test_a_published_versions_upload_is_kept_when_its_child_deletes_the_frame(sdk_user, bucket, tmp_path):
    _host, name, client = bucket
    Dataset.create(dataset_name="lineage")
    draft = DatasetVersion.get_current(dataset_name="lineage")
    assert draft.add_frames([SingleFrame(id="old", source=str(png(tmp_path / "old.png")))]) == []
    orphan = api().upload(f"versions/{draft.id}/uploads/", str(png(tmp_path / "orphan.png", (9, 9, 9))))["uri"]
    child = DatasetVersion.create_snapshot(dataset_name="lineage")
    child.delete_frames(["old"])
    assert len(keys(client, name)) == 2

    cleaned = services.uploads_clean(user=SYSTEM, grace_seconds=0)
    assert cleaned.removed == [orphan] and cleaned.kept == 1, cleaned
    assert [k.rsplit("/", 1)[1] for k in keys(client, name)] == ["old.png"], "the published version still shows it"
    with pytest.raises(Forbidden):  # a user who is not staff would read every dataset's frames
        services.uploads_clean(user=sdk_user, grace_seconds=0)


def test_a_bucket_that_is_down_answers_503_which_the_sdk_retries_and_a_missing_one_502(sdk_user, moto, settings, tmp_path):
    Dataset.create(dataset_name="down")
    draft = DatasetVersion.get_current(dataset_name="down")
    image = str(png(tmp_path / "x.png"))
    settings.HYPERDATA_UPLOADS_BUCKET = uploads_bucket(f"s3://127.0.0.1:{free_port()}/gone", access_key="k", secret_key="s", tls=False)
    failed = draft.add_frames([SingleFrame(id="x", source=image)], upload_retries=1)
    assert [f.frame.id for f in failed] == ["x"] and "HTTP 503" in failed[0].reason and "connection refused" in failed[0].reason, failed

    settings.HYPERDATA_UPLOADS_BUCKET = uploads_bucket(f"s3://{moto[0]}/no-such-bucket", access_key="k", secret_key="s", tls=False)
    failed = draft.add_frames([SingleFrame(id="x", source=image)], upload_retries=1)
    assert "HTTP 502" in failed[0].reason and "'no-such-bucket' does not exist" in failed[0].reason, failed
    assert list(draft.get_iterator()) == [], "no frame names a file the server could not keep"
