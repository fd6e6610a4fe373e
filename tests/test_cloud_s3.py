"""S3 and S3-compatible storage against real servers on loopback, started here.

- moto in server mode (``moto[server]``): the data of most tests. It checks neither signatures nor expiry by
  default; a second moto started with ``INITIAL_NO_AUTH_ACTION_COUNT`` does check SigV4 header signatures and
  IAM permissions, so the Test button's "wrong secret", "unknown key" and "access denied" are real answers.
- s3rver from npm (installed into ``HYPERDATA_TEST_NPM_CACHE`` when missing): it refuses expired presigned URLs
  and skewed clocks, but does not check SigV4 signatures; the presigned URL's signing is checked against AWS's
  published SigV4 query-string example instead (test_presigning_matches_aws_published_example).

Credentials come from CloudCredential rows made through the API, the way Settings makes them.
"""
from __future__ import annotations

import datetime
import io
import json
import os
import socket
import subprocess
import sys
import threading
import time
from unittest import mock

import boto3
import botocore.auth
import pytest
import pyvips
import requests
from django.contrib.auth.models import User
from django.core.files.storage import default_storage
from django.db import connection
from django.test import override_settings
from moto.server import ThreadedMotoServer
from PIL import Image

from frames import links, media, secrets, selectors, services
from frames.models import CloudCredential, MediaPreview
from frames.storage import LocationNotAllowedError, StorageNotFoundError, storage_for_uri
from frames.storage.cloud import RangedReader

from .clients import api_client
from .servers import free_port, npm_binary, stop, wait_for_port


JPEG = "coco/labelme/JPEGImages/2011_000003.jpg"
MASK = "masks/labelme-voc/SegmentationClass/2011_000003.png"
VIDEO = "video/nwb-video-widgets/stub_h264.mp4"
BIG_VIDEO = "video/mediabunny/rotate-buck-bunny.mp4"
WAIT_SECONDS = 180
SECRET = "s3cr3t-that-must-never-show-0123456789"


def admin_client(host: str, key: str = "test", secret: str = "test"):
    """A boto3 client straight to a test server (not through the storage under test), to set data up."""
    return boto3.client("s3", endpoint_url=f"http://{host}", region_name="us-east-1", aws_access_key_id=key,
                        aws_secret_access_key=secret)


@pytest.fixture(scope="module")
def moto(testdata):
    """moto's S3 in server mode on a free loopback port, with a bucket of a JPEG, a mask PNG and videos."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    wait_for_port(port)
    host = f"127.0.0.1:{port}"
    s3 = admin_client(host)
    s3.create_bucket(Bucket="frames")
    for name, content_type in ((JPEG, "image/jpeg"), (MASK, "image/png"), (VIDEO, "video/mp4"), (BIG_VIDEO, "video/mp4")):
        s3.put_object(Bucket="frames", Key=name, Body=(testdata / name).read_bytes(), ContentType=content_type)
    yield host
    server.stop()


@pytest.fixture(scope="module")
def moto_with_auth(tmp_path_factory):
    """A moto that checks signatures and IAM permissions after its first five (unauthenticated) calls, which
    make a user with an access key allowed to read S3, and a bucket with one object. Yields (host, key, secret)."""
    port, log = free_port(), tmp_path_factory.mktemp("moto-auth") / "moto.log"
    env = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": "5"}
    with log.open("w") as out:
        process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], env=env,
                                   stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for_port(port, process, log)
        endpoint = f"http://127.0.0.1:{port}"
        iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
        iam.create_user(UserName="reader")
        key = iam.create_access_key(UserName="reader")["AccessKey"]
        policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:*"], "Resource": "*"}]}
        iam.put_user_policy(UserName="reader", PolicyName="read", PolicyDocument=json.dumps(policy))
        s3 = admin_client(f"127.0.0.1:{port}", "x", "x")
        s3.create_bucket(Bucket="checked")
        s3.put_object(Bucket="checked", Key="first.jpg", Body=b"\xff\xd8\xff")
        yield f"127.0.0.1:{port}", key["AccessKeyId"], key["SecretAccessKey"]
    finally:
        stop(process)


@pytest.fixture(scope="module")
def s3rver(tmp_path_factory, testdata):
    """s3rver (checks presigned URL expiry and clock skew; its account is S3RVER/S3RVER) with bucket "pics"."""
    binary = npm_binary("s3rver", "s3rver")
    port, workdir = free_port(), tmp_path_factory.mktemp("s3rver")
    log = workdir / "s3rver.log"
    with log.open("w") as out:
        process = subprocess.Popen([str(binary), "-d", str(workdir / "data"), "-a", "127.0.0.1", "-p", str(port),
                                    "--configure-bucket", "pics"], stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for_port(port, process, log)
        host = f"127.0.0.1:{port}"
        admin_client(host, "S3RVER", "S3RVER").put_object(Bucket="pics", Key="photo.jpg", Body=(testdata / JPEG).read_bytes(),
                                                          ContentType="image/jpeg")
        yield host
    finally:
        stop(process)


class Listener:
    """A loopback TCP listener that records every connection made to it (and answers nothing)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.connections: list = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, address = self.sock.accept()
            except OSError:
                return
            self.connections.append(address)
            conn.close()


def staff_client(name: str, *, pages: bool = False):
    """A staff member: only staff add credentials for loopback and private addresses (the test servers')."""
    return api_client(User.objects.create_user(name, is_staff=True), pages=pages)


def s3_row(api, host: str, **fields) -> dict:
    body = {"provider": "s3", "name": f"test {host}", "host": host, "key": "test", "secret": SECRET, "use_tls": False,
            **fields}
    response = api.post("/api/cloud-credentials/", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


# ---------------------------------------------------------------------------------------- rows and the API
@pytest.mark.django_db
def test_the_api_never_returns_a_secret_and_the_database_holds_it_encrypted(moto):
    api = staff_client("owner")
    made = s3_row(api, moto, token="session-token-value")
    assert made["secret_set"] is True and made["token_set"] is True and made["shared"] is False
    for response in (api.get("/api/cloud-credentials/"), api.get(f"/api/cloud-credentials/{made['id']}/")):
        assert response.status_code == 200 and SECRET not in response.content.decode()
        assert "session-token-value" not in response.content.decode()
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret, token FROM frames_cloudcredential WHERE id = %s", [made["id"]])
        stored_secret, stored_token = cursor.fetchone()
    assert SECRET not in stored_secret and "session-token-value" not in stored_token
    assert secrets.decrypt(stored_secret) == SECRET

    # A change without the secret keeps it; "" clears it (and an S3 row with a key then needs one).
    changed = api.patch(f"/api/cloud-credentials/{made['id']}/", {"name": "renamed"}, format="json")
    assert changed.status_code == 200 and changed.json()["secret_set"] is True
    assert secrets.decrypt(CloudCredential.objects.get(pk=made["id"]).secret) == SECRET
    cleared = api.patch(f"/api/cloud-credentials/{made['id']}/", {"secret": ""}, format="json")
    assert cleared.status_code == 400 and cleared.json()["errors"][0]["field"] == "secret"


@pytest.mark.django_db
def test_bad_fields_are_named_and_only_staff_share(admin_user):
    api = api_client("someone")
    bad = api.post("/api/cloud-credentials/", {"provider": "s3", "name": "x", "host": "http://minio:9000/x",
                                               "key": "k", "secret": "s", "use_tls": "yes"}, format="json")
    assert bad.status_code == 400
    assert {e["field"] for e in bad.json()["errors"]} == {"use_tls"}
    bad = api.post("/api/cloud-credentials/", {"provider": "s3", "name": "x", "host": "http://minio:9000/x",
                                               "key": "k", "secret": "s"}, format="json")
    assert [e["field"] for e in bad.json()["errors"]] == ["host"]
    bad = api.post("/api/cloud-credentials/", {"provider": "ftp", "name": "x"}, format="json")
    assert [e["field"] for e in bad.json()["errors"]] == ["provider"]
    shared = api.post("/api/cloud-credentials/", {"provider": "s3", "name": "x", "anonymous": True, "shared": True}, format="json")
    assert shared.status_code == 400 and [e["field"] for e in shared.json()["errors"]] == ["shared"]
    assert CloudCredential.objects.count() == 0

    staff = api_client(admin_user)
    row = staff.post("/api/cloud-credentials/", {"provider": "s3", "name": "public", "anonymous": True, "shared": True}, format="json").json()
    assert row["shared"] is True
    assert api.get(f"/api/cloud-credentials/{row['id']}/").status_code == 200  # everyone uses shared rows
    assert api.patch(f"/api/cloud-credentials/{row['id']}/", {"name": "mine"}, format="json").status_code == 403
    own = api.post("/api/cloud-credentials/", {"provider": "s3", "name": "own", "anonymous": True}, format="json").json()
    other = api_client("other")
    assert other.get(f"/api/cloud-credentials/{own['id']}/").status_code == 404
    assert [r["id"] for r in other.get("/api/cloud-credentials/").json()["results"]] == [row["id"]]
    assert {r["id"] for r in staff.get("/api/cloud-credentials/").json()["results"]} == {row["id"], own["id"]}


@pytest.mark.django_db
def test_the_most_specific_row_is_chosen(admin_user):
    user = api_client("chooser").user
    staff = admin_user

    def make(actor, **fields):
        data = {"provider": "s3", "name": str(fields), "anonymous": True, **fields}
        return services.credential_create(user=actor, data=data)

    shared_host = make(staff, host="minio:9000", shared=True)
    own_host = make(user, host="minio:9000")
    shared_bucket = make(staff, host="minio:9000", bucket="cats", shared=True)
    aws_own = make(user, bucket="dogs")

    def chosen(host, bucket, actor=user):
        row = selectors.credential_for(user=actor, provider="s3", host=host, bucket=bucket)
        return row.pk if row else None

    assert chosen("minio:9000", "cats") == shared_bucket.pk  # the bucket's row beats the user's own host row
    assert chosen("MINIO:9000", "birds") == own_host.pk  # then the user's own row for the host
    assert chosen("minio:9000", "birds", actor=api_client("nobody").user) == shared_host.pk
    assert chosen("", "dogs") == aws_own.pk and chosen("", "cats") is None
    assert chosen("other:9000", "cats") is None


# ---------------------------------------------------------------------------------------- storage
@pytest.mark.django_db
def test_s3_storage_reads_stats_and_names_what_is_missing(moto, testdata):
    api = staff_client("reader")
    s3_row(api, moto)
    provider = selectors.credentials_provider(user=api.user)
    uri = f"s3://{moto}/frames/{JPEG}"
    store = storage_for_uri(uri, credentials_provider=provider)
    info = store.stat(uri)
    assert info.size == (testdata / JPEG).stat().st_size and info.content_type == "image/jpeg" and info.etag
    with store.open(uri) as handle:
        assert handle.read() == (testdata / JPEG).read_bytes()
    with store.open(uri, seekable=False) as stream:
        assert stream.read() == (testdata / JPEG).read_bytes()
    with pytest.raises(StorageNotFoundError, match="the object does not exist"):
        store.stat(f"s3://{moto}/frames/nothing.jpg")
    with pytest.raises(StorageNotFoundError, match="the bucket 'nobucket' does not exist"):
        store.open(f"s3://{moto}/nobucket/a.jpg")
    assert store.signed_url(uri) is None  # delivery "proxy": the media proxy streams it


@pytest.mark.django_db
def test_large_objects_are_read_through_ranged_requests(moto, testdata):
    """open(seekable=True) above HYPERDATA_FETCH_SPOOL_BYTES does not download the object: a read at the end
    is one ranged GET, and PyAV decodes a frame from the same file object."""
    api = staff_client("ranged")
    s3_row(api, moto)
    uri = f"s3://{moto}/frames/{BIG_VIDEO}"
    store = storage_for_uri(uri, credentials_provider=selectors.credentials_provider(user=api.user))
    original = (testdata / BIG_VIDEO).read_bytes()
    with override_settings(HYPERDATA_FETCH_SPOOL_BYTES=64 * 1024, HYPERDATA_FETCH_RANGE_BYTES=64 * 1024):
        with store.open(uri) as handle:
            handle.seek(-100, io.SEEK_END)
            assert handle.read() == original[-100:]
            assert handle.raw.requests == 1 and handle.raw.fetched == 100
            handle.seek(1000)
            assert handle.read(50) == original[1000:1050]
            assert handle.raw.fetched <= 100 + 64 * 1024 < len(original)
            got = media.render_video_preview(handle, timestamp_ms=500, max_size=128)
    want = media.render_video_preview(str(testdata / BIG_VIDEO), timestamp_ms=500, max_size=128)
    assert got.data == want.data

    # The workers' rendering reads it the same way (run here, with the settings above).
    row = MediaPreview.objects.create(key="ranged-video-500", kind=MediaPreview.SOURCE, uri=uri, media="video",
                                      timestamp=500, max_size=128, requested_by=api.user)
    opened = []
    real_init = RangedReader.__init__

    def spy(self, *args, **kwargs):
        opened.append(self)
        real_init(self, *args, **kwargs)

    with override_settings(HYPERDATA_FETCH_SPOOL_BYTES=64 * 1024, HYPERDATA_FETCH_RANGE_BYTES=64 * 1024), \
            mock.patch.object(RangedReader, "__init__", spy):
        assert services.render_previews(uri=uri, keys=[row.key]) == 1
    row.refresh_from_db()
    assert row.status == MediaPreview.DONE, row.error
    assert len(opened) == 1 and opened[0].requests > 1  # read in ranges, never downloaded whole
    with default_storage.open(row.file, "rb") as handle:
        assert handle.read() == want.data


@pytest.mark.django_db
def test_a_loopback_endpoint_no_row_names_is_refused_and_never_contacted(moto):
    listener = Listener()
    api = staff_client("guarded")
    s3_row(api, moto)  # a row for moto's port, not the listener's
    uri = f"s3://127.0.0.1:{listener.port}/frames/a.jpg"
    store = storage_for_uri(uri, credentials_provider=selectors.credentials_provider(user=api.user))
    for call in (store.stat, store.open, lambda u: store.open(u, seekable=False)):
        with pytest.raises(LocationNotAllowedError, match="loopback"):
            call(uri)
    assert listener.connections == []

    # A user's own row may name the listener, but only staff's rows unlock loopback and private addresses.
    user = api_client("not-staff")
    row = user.post("/api/cloud-credentials/", {"provider": "s3", "name": "sneaky", "host": f"localhost:{listener.port}",
                                                "key": "k", "secret": "s", "use_tls": False}, format="json")
    assert row.status_code == 201
    uri = f"s3://localhost:{listener.port}/frames/a.jpg"
    store = storage_for_uri(uri, credentials_provider=selectors.credentials_provider(user=user.user))
    with pytest.raises(LocationNotAllowedError, match="loopback"):
        store.open(uri)
    tested = user.post(f"/api/cloud-credentials/{row.json()['id']}/test/").json()
    assert tested["ok"] is False and "loopback" in tested["message"] and "when staff made it" in tested["message"]
    assert listener.connections == []
    listener.sock.close()


def test_a_named_endpoint_never_unlocks_the_metadata_service():
    """Even a staff row naming 169.254.169.254 is refused: link-local is the cloud metadata service."""
    row = {"id": "x", "provider": "s3", "host": "169.254.169.254:80", "bucket": "", "region": "", "key": "k",
           "secret": "s", "token": "", "use_tls": False, "anonymous": False, "delivery": "proxy", "allow_private": True}
    uri = "s3://169.254.169.254:80/latest/meta-data/iam/security-credentials/"
    with pytest.raises(LocationNotAllowedError, match="link-local"):
        storage_for_uri(uri, credentials_provider=lambda **_: row).open(uri)


# ---------------------------------------------------------------------------------------- worker and proxy
@pytest.mark.django_db(transaction=True)
def test_worker_previews_and_the_media_proxy_read_with_the_users_rows(moto, testdata, celery_worker_process):
    owner = staff_client("s3-owner", pages=True)
    s3_row(owner, moto)
    dataset = services.dataset_create(user=owner.user, name="on s3")
    version = dataset.versions.get()
    base = f"s3://{moto}/frames"
    frames = [
        {"id": "photo", "sources": [{"uri": f"{base}/{JPEG}", "masks": [{"id": "class", "uri": f"{base}/{MASK}", "content_type": "image/png"}]}]},
        {"id": "clip", "timestamp": 100, "sources": [{"uri": f"{base}/{VIDEO}", "content_type": "video/mp4", "timestamp": 100}]},
    ]
    services.frames_add(user=owner.user, version=version, frames=frames)
    deadline = time.monotonic() + WAIT_SECONDS
    while (progress := owner.get(f"/api/versions/{version.id}/previews/").json())["pending"]:
        assert time.monotonic() < deadline, f"previews still pending: {progress}"
        time.sleep(0.5)
    errors = list(MediaPreview.objects.values_list("uri", "error"))
    assert (progress["done"], progress["failed"]) == (3, 0), errors
    assert set(MediaPreview.objects.values_list("requested_by", flat=True)) == {owner.user.pk}

    shown = {f["id"]: f for f in owner.get(f"/api/versions/{version.id}/frames/").json()["results"]}
    photo = shown["photo"]["sources"][0]
    with Image.open(testdata / JPEG) as original:
        assert (photo["width"], photo["height"]) == original.size
    preview = owner.get(photo["preview"]["uri"])
    assert preview.status_code == 200
    assert max(Image.open(io.BytesIO(b"".join(preview.streaming_content))).size) <= 256
    mask = owner.get(photo["masks"][0]["preview"]["uri"])
    with Image.open(testdata / MASK) as original:
        assert Image.open(io.BytesIO(b"".join(mask.streaming_content))).convert("RGB").getcolors(1 << 16) \
            == original.convert("RGB").getcolors(1 << 16)
    clip = owner.get(shown["clip"]["sources"][0]["preview"]["uri"])
    assert clip.status_code == 200 and Image.open(io.BytesIO(b"".join(clip.streaming_content))).size[0] > 0

    # The media proxy: the member reads the original with their row; a non-member gets 404; a member without a
    # row for that host is refused by the address policy (nothing names the loopback endpoint for them).
    link = links.source_url(dataset.pk, f"{base}/{JPEG}")
    answer = owner.get(link)
    assert answer.status_code == 200 and b"".join(answer.streaming_content) == (testdata / JPEG).read_bytes()
    assert api_client("stranger", pages=True).get(link).status_code == 404
    colleague = api_client("colleague", pages=True)
    services.member_set(user=owner.user, dataset=dataset, username="colleague", role="viewer")
    refused = colleague.get(link)
    assert refused.status_code == 400 and "loopback" in refused.content.decode()


# ---------------------------------------------------------------------------------------- signed URLs
@pytest.mark.django_db
def test_signed_urls_work_until_they_expire(s3rver, testdata):
    api = staff_client("signer", pages=True)
    s3_row(api, s3rver, key="S3RVER", secret="S3RVER", delivery="signed")
    uri = f"s3://{s3rver}/pics/photo.jpg"
    store = storage_for_uri(uri, credentials_provider=selectors.credentials_provider(user=api.user))
    url = store.signed_url(uri, 60)
    assert "X-Amz-Expires=60" in url and "X-Amz-Signature=" in url and SECRET not in url
    fetched = requests.get(url, timeout=10)
    assert fetched.status_code == 200 and fetched.content == (testdata / JPEG).read_bytes()

    # Signed an hour ago for 60 s: s3rver refuses it as expired.
    an_hour_ago = datetime.datetime.utcnow() - datetime.timedelta(hours=1)
    with mock.patch.object(botocore.auth, "get_current_datetime", lambda *a, **k: an_hour_ago):
        old = store.signed_url(uri, 60)
    refused = requests.get(old, timeout=10)
    assert refused.status_code == 403 and "Request has expired" in refused.text

    # The media proxy sends a member of the dataset to a fresh signed URL instead of streaming.
    dataset = services.dataset_create(user=api.user, name="signed")
    redirect = api.get(links.source_url(dataset.pk, uri))
    assert redirect.status_code == 302 and "X-Amz-Signature=" in redirect["Location"]
    assert requests.get(redirect["Location"], timeout=10).content == (testdata / JPEG).read_bytes()


def test_presigning_matches_aws_published_example():
    """s3rver does not check SigV4 signatures: the presigned GET is checked against the example of AWS's
    "Authenticating Requests: Using Query Parameters (AWS Signature Version 4)" page instead."""
    row = {"id": "x", "provider": "s3", "host": "", "bucket": "", "region": "us-east-1", "key": "AKIAIOSFODNN7EXAMPLE",
           "secret": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "token": "", "use_tls": True, "anonymous": False,
           "delivery": "signed"}
    store = storage_for_uri("s3://examplebucket/test.txt", credentials_provider=lambda **_: row)
    with mock.patch.object(botocore.auth, "get_current_datetime", lambda *a, **k: datetime.datetime(2013, 5, 24)):
        url = store.signed_url("s3://examplebucket/test.txt", 86400)
    assert url.startswith("https://examplebucket.s3.amazonaws.com/test.txt?")
    assert "X-Amz-Date=20130524T000000Z" in url and "X-Amz-Expires=86400" in url
    assert url.endswith("X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")


# ---------------------------------------------------------------------------------------- the Test button
@pytest.mark.django_db
def test_the_test_button_says_plainly_what_failed(moto_with_auth, s3rver):
    host, key, secret = moto_with_auth
    api = staff_client("tester")

    def test(**fields):
        row = s3_row(api, fields.pop("host", host), **fields)
        answer = api.post(f"/api/cloud-credentials/{row['id']}/test/")
        assert answer.status_code == 200
        return answer.json()

    assert test(key=key, secret=secret, bucket="checked") == {
        "ok": True, "message": f"connected to {host}, bucket 'checked': the first object is 'first.jpg'"}
    assert test(key=key, secret="wrong" + secret, bucket="checked") == {
        "ok": False, "message": "access denied: the secret key is wrong (the request signature does not match)"}
    assert test(key="AKIANOBODYKNOWS00000", secret=secret, bucket="checked") == {
        "ok": False, "message": "access denied: the access key id is not known to the server"}
    assert test(key=key, secret=secret, bucket="nowhere") == {
        "ok": False, "message": f"the bucket 'nowhere' does not exist on {host}"}
    closed = free_port()
    assert test(host=f"127.0.0.1:{closed}", bucket="checked") == {
        "ok": False, "message": f"connection refused by 127.0.0.1:{closed} (is the server running on that port?)"}
    unknown = test(host="no-such-host.invalid:9000", bucket="checked")
    assert unknown["ok"] is False and unknown["message"].startswith("cannot resolve host no-such-host.invalid")
    # A clock an hour behind: s3rver refuses the request as RequestTimeTooSkewed.
    an_hour_ago = datetime.datetime.utcnow() - datetime.timedelta(hours=1)
    with mock.patch.object(botocore.auth, "get_current_datetime", lambda *a, **k: an_hour_ago):
        skewed = test(host=s3rver, key="S3RVER", secret="S3RVER", bucket="pics")
    assert skewed == {"ok": False, "message": "this server's clock differs too much from the storage server's "
                                              "(RequestTimeTooSkewed): set the clock right (NTP)"}


@pytest.mark.django_db
def test_a_tiled_tiff_preview_reads_a_small_part_of_the_object(moto):
    """A pyramidal tiled TIFF (5.9 MB) previewed by the workers' code: libvips reads the smallest fitting level,
    so through ranged GETs only a small part of the object crosses the network."""
    tiff = pyvips.Image.gaussnoise(4096, 4096).cast("uchar").tiffsave_buffer(
        tile=True, pyramid=True, compression="jpeg", Q=60, tile_width=256, tile_height=256)
    admin_client(moto).put_object(Bucket="frames", Key="big/pyramid.tif", Body=tiff, ContentType="image/tiff")
    api = staff_client("tiler")
    s3_row(api, moto)
    uri = f"s3://{moto}/frames/big/pyramid.tif"
    row = MediaPreview.objects.create(key="ranged-tiff", kind=MediaPreview.SOURCE, uri=uri, media="image", max_size=256,
                                      requested_by=api.user)
    opened = []
    real_init = RangedReader.__init__

    def spy(self, *args, **kwargs):
        opened.append(self)
        real_init(self, *args, **kwargs)

    with override_settings(HYPERDATA_FETCH_SPOOL_BYTES=64 * 1024, HYPERDATA_FETCH_RANGE_BYTES=64 * 1024), \
            mock.patch.object(RangedReader, "__init__", spy):
        assert services.render_previews(uri=uri, keys=[row.key]) == 1
    row.refresh_from_db()
    assert row.status == MediaPreview.DONE and (row.width, row.height) == (4096, 4096), row.error
    # About 15%: fourteen 64 KiB read-aheads around the IFDs and the small level's tiles.
    assert len(opened) == 1 and opened[0].fetched < len(tiff) / 5, (opened[0].fetched, len(tiff))
    with default_storage.open(row.file, "rb") as handle:
        assert max(Image.open(handle).size) == 256
