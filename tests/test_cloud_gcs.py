"""Google Cloud Storage against a real gcp-storage-emulator on loopback, plus the V4 signing checked against Google's
published signing examples.

The emulator (pip package ``gcp-storage-emulator``, requirements-dev.txt; installed by the tests when missing) runs
in server mode on a free port. It checks neither OAuth tokens nor signed-URL signatures, so:

* tokens: a small OAuth token endpoint on loopback (the service account JSON's ``token_uri``) verifies each JWT
  assertion against the service account's public key and refuses unknown keys and skewed times, as Google does;
* signatures: :func:`sign_v4_url` must reproduce, bit for bit, the URLs of Google's V4 signing conformance tests
  (googleapis/conformance-tests, storage/v1/v4_signatures.json, signed with their published dummy service account,
  storage/v1/service-account, which Google marks as inactive and fine to be public).
"""
from __future__ import annotations

import http.server
import importlib.util
import json
import os
import random
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qs, quote

import pytest
import requests

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hyperdata.settings")
import django  # noqa: E402
from django.apps import apps  # noqa: E402

if not apps.ready:
    django.setup()

from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402
from django.test import override_settings  # noqa: E402
from google.auth import jwt  # noqa: E402

from frames.selectors.credentials import credentials_provider  # noqa: E402
from frames.services.credentials import credential_create, credential_test  # noqa: E402
from frames.storage import (  # noqa: E402
    InvalidURIError,
    LocationNotAllowedError,
    PermanentStorageError,
    StorageAccessDeniedError,
    StorageNotFoundError,
    TransientStorageError,
    storage_for_uri,
)
from frames.storage import gcs  # noqa: E402
from frames.storage.gcs import GcsStorage, parse_gs_uri, sign_v4_url  # noqa: E402

from .servers import free_port, wait_for_port  # noqa: E402

JPEG = "coco/labelme/JPEGImages/2011_000025.jpg"
EMULATOR_PIN = "gcp-storage-emulator==2026.7.19"  # as in requirements-dev.txt
LOOPBACK = ["127.0.0.0/8"]

# Google's published dummy service account (googleapis/conformance-tests storage/v1/service-account): "a dummy
# service account JSON file that is inactive. It's fine for it to be public."
CONFORMANCE_EMAIL = "test-iam-credentials@dummy-project-id.iam.gserviceaccount.com"
CONFORMANCE_KEY = (
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQCsPzMirIottfQ2\n"
    "ryjQmPWocSEeGo7f7Q4/tMQXHlXFzo93AGgU2t+clEj9L5loNhLVq+vk+qmnyDz5\n"
    "Q04y8jVWyMYzzGNNrGRW/yaYqnqlKZCy1O3bmnNjV7EDbC/jE1ZLBY0U3HaSHfn6\n"
    "S9ND8MXdgD0/ulRTWwq6vU8/w6i5tYsU7n2LLlQTl1fQ7/emO9nYcCFJezHZVa0H\n"
    "meWsdHwWsok0skwQYQNIzP3JF9BpR5gJT2gNge6KopDesJeLoLzaX7cUnDn+CAnn\n"
    "LuLDwwSsIVKyVxhBFsFXPplgpaQRwmGzwEbf/Xpt9qo26w2UMgn30jsOaKlSeAX8\n"
    "cS6ViF+tAgMBAAECggEACKRuJCP8leEOhQziUx8Nmls8wmYqO4WJJLyk5xUMUC22\n"
    "SI4CauN1e0V8aQmxnIc0CDkFT7qc9xBmsMoF+yvobbeKrFApvlyzNyM7tEa/exh8\n"
    "DGD/IzjbZ8VfWhDcUTwn5QE9DCoon9m1sG+MBNlokB3OVOt8LieAAREdEBG43kJu\n"
    "yQTOkY9BGR2AY1FnAl2VZ/jhNDyrme3tp1sW1BJrawzR7Ujo8DzlVcS2geKA9at7\n"
    "55ua5GbHz3hfzFgjVXDfnkWzId6aHypUyqHrSn1SqGEbyXTaleKTc6Pgv0PgkJjG\n"
    "hZazWWdSuf1T5Xbs0OhAK9qraoAzT6cXXvMEvvPt6QKBgQDXcZKqJAOnGEU4b9+v\n"
    "Odoh+nssdrIOBNMu1m8mYbUVYS1aakc1iDGIIWNM3qAwbG+yNEIi2xi80a2RMw2T\n"
    "9RyCNB7yqCXXVKLBiwg9FbKMai6Vpk2bWIrzahM9on7AhCax/X2AeOp+UyYhFEy6\n"
    "UFG4aHb8THscL7b515ukSuKb5QKBgQDMq+9PuaB0eHsrmL6q4vHNi3MLgijGg/zu\n"
    "AXaPygSYAwYW8KglcuLZPvWrL6OG0+CrfmaWTLsyIZO4Uhdj7MLvX6yK7IMnagvk\n"
    "L3xjgxSklEHJAwi5wFeJ8ai/1MIuCn8p2re3CbwISKpvf7Sgs/W4196P4vKvTiAz\n"
    "jcTiSYFIKQKBgCjMpkS4O0TakMlGTmsFnqyOneLmu4NyIHgfPb9cA4n/9DHKLKAT\n"
    "oaWxBPgatOVWs7RgtyGYsk+XubHkpC6f3X0+15mGhFwJ+CSE6tN+l2iF9zp52vqP\n"
    "Qwkjzm7+pdhZbmaIpcq9m1K+9lqPWJRz/3XXuqi+5xWIZ7NaxGvRjqaNAoGAdK2b\n"
    "utZ2y48XoI3uPFsuP+A8kJX+CtWZrlE1NtmS7tnicdd19AtfmTuUL6fz0FwfW4Su\n"
    "lQZfPT/5B339CaEiq/Xd1kDor+J7rvUHM2+5p+1A54gMRGCLRv92FQ4EON0RC1o9\n"
    "m2I4SHysdO3XmjmdXmfp4BsgAKJIJzutvtbqlakCgYB+Cb10z37NJJ+WgjDt+yT2\n"
    "yUNH17EAYgWXryfRgTyi2POHuJitd64Xzuy6oBVs3wVveYFM6PIKXlj8/DahYX5I\n"
    "R2WIzoCNLL3bEZ+nC6Jofpb4kspoAeRporj29SgesK6QBYWHWX2H645RkRGYGpDo\n"
    "51gjy9m/hSNqBbH2zmh04A==\n"
    "-----END PRIVATE KEY-----\n"
)
# (description, bucket, object, expiration, timestamp, expected signature) from storage/v1/v4_signatures.json
CONFORMANCE_GETS = [
    ("Simple GET", "test-bucket", "test-object", 10, "2019-02-01T09:00:00Z",
     "95e6a13d43a1d1962e667f17397f2b80ac9bdd1669210d5e08e0135df9dff4e56113485dbe429ca2266487b9d1796ebdee2d7cf682a6ef3bb9"
     "fbb4c351686fba90d7b621cf1c4eb1fdf126460dd25fa0837dfdde0a9fd98662ce60844c458448fb2b352c203d9969cb74efa4bdb74228774"
     "4a4f2308afa4af0e0773f55e32e92973619249214b97283b2daa14195244444e33f938138d1e5f561088ce8011f4986dda33a556412594db7c"
     "12fc40e1ff3f1bedeb7a42f5bcda0b9567f17f65855f65071fabb88ea12371877f3f77f10e1466fff6ff6973b74a933322ff0949ce357e20ab"
     "e96c3dd5cfab42c9c83e740a4d32b9e11e146f0eb3404d2e975896f74"),
    ("Vary expiration and timestamp", "test-bucket", "test-object", 20, "2019-03-01T09:00:00Z",
     "9669ed5b10664dc594c758296580662912cf4bcc5a4ba0b6bf055bcbf6f34eed7bdad664f534962174a924741a0c273a4f67bc1847cef2019"
     "2a6beab44223bd9d4fbbd749c407b79997598c30f82ddc269ff47ec09fa3afe74e00616d438df0d96a7d8ad0adacfad1dc3286f864d924fe9"
     "19fb0dce45d3d975c5afe8e13af2db9cc37ba77835f92f7669b61e94c6d562196c1274529e76cfff1564cc2cad7d5387dc8e12f7a5dfd92568"
     "5fe92c30b43709eee29fa2f66067472cee5423d1a3a4182fe8cea75c9329d181dc6acad7c393cd04f8bf5bc0515127d8ebd65d80c08e19ad03"
     "316053ea60033fd1b1fd85a69c576415da3bf0a3718d9ea6d03e0d66f0"),
    ("Vary bucket and object", "test-bucket2", "test-object2", 10, "2019-02-01T09:00:00Z",
     "36e3d58dfd3ec1d2dd2f24b5ee372a71e811ffaa2162a2b871d26728d0354270bc116face87127532969c4a3967ed05b7309af741e19c7202"
     "f3167aa8c2ac420b61417d6451442bb91d7c822cd17be8783f01e05372769c88913561d27e6660dd8259f0081a71f831be6c50283626cbf044"
     "94ac10c394b29bb3bce74ab91548f58a37118a452693cf0483d77561fc9cac8f1765d2c724994cca46a83517a10157ee0347a233a2aaeae6e6"
     "ab5e204ff8fc5f54f90a3efdb8301d9fff5475d58cd05b181affd657f48203f4fb133c3a3d355b8eefbd10d5a0a5fd70d06e9515460ad74e22"
     "334b2cba4b29cae4f6f285cdb92d8f3126d7a1479ca3bdb69c207d860"),
]


def ensure_emulator_installed() -> None:
    if importlib.util.find_spec("gcp_storage_emulator") is not None:
        return
    result = subprocess.run([sys.executable, "-m", "pip", "install", EMULATOR_PIN], capture_output=True, text=True,
                            timeout=600)
    if result.returncode != 0 or importlib.util.find_spec("gcp_storage_emulator") is None:
        pytest.fail(f"the GCS emulator is missing and `pip install {EMULATOR_PIN}` failed (install "
                    f"requirements-dev.txt):\n{result.stderr[-2000:]}", pytrace=False)


@pytest.fixture(scope="session")
def emulator(tmp_path_factory):
    """gcp-storage-emulator in server mode: yields ``127.0.0.1:<port>``."""
    ensure_emulator_installed()
    port, workdir = free_port(), tmp_path_factory.mktemp("gcs")
    log = workdir / "emulator.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "gcp_storage_emulator", "start", "--host", "127.0.0.1", "--port", str(port),
             "--in-memory"],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True, cwd=workdir,
        )
    try:
        wait_for_port(port, process, log)
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="session")
def photo(emulator, testdata) -> bytes:
    """A JPEG uploaded straight to the emulator (its JSON upload API), in bucket "frames"."""
    data = (testdata / JPEG).read_bytes()
    base = f"http://{emulator}"
    requests.post(f"{base}/storage/v1/b", params={"project": "test"}, json={"name": "frames"},
                  timeout=10).raise_for_status()
    requests.post(f"{base}/upload/storage/v1/b/frames/o", params={"uploadType": "media", "name": "2011/000025 b.jpg"},
                  data=data, headers={"Content-Type": "image/jpeg"}, timeout=10).raise_for_status()
    return data


# --- a service account and its token endpoint on loopback ---------------------------------------------------------

class TokenEndpoint(http.server.ThreadingHTTPServer):
    """Google's OAuth token endpoint for service accounts: a JWT-bearer assertion in, an access token out."""

    def __init__(self, public_pem: bytes):
        super().__init__(("127.0.0.1", 0), _TokenHandler)
        self.public_pem, self.clock_offset, self.issued = public_pem, 0.0, []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/token"


class _TokenHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        form = parse_qs(self.rfile.read(int(self.headers.get("Content-Length", 0))).decode())
        try:
            claims = jwt.decode(form["assertion"][0], certs=self.server.public_pem, verify=True)
        except (KeyError, ValueError) as exc:
            return self._answer(400, {"error": "invalid_grant", "error_description": f"Invalid JWT Signature. {exc}"})
        now = time.time() + self.server.clock_offset
        if abs(claims["iat"] - now) > 300:
            return self._answer(400, {"error": "invalid_grant", "error_description":
                                      "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable "
                                      "timeframe. Check your iat and exp values in the JWT claim."})
        token = f"token-{len(self.server.issued) + 1}"
        self.server.issued.append((claims["iss"], claims.get("scope")))
        return self._answer(200, {"access_token": token, "expires_in": 3600, "token_type": "Bearer"})

    def _answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def new_key():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, public


@pytest.fixture(scope="session")
def service_account():
    """(service account JSON text, its token endpoint) — the JSON a user pastes into Settings."""
    private, public = new_key()
    server = TokenEndpoint(public)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    info = {"type": "service_account", "project_id": "test", "private_key_id": "k1", "private_key": private,
            "client_email": "reader@test.iam.gserviceaccount.com", "client_id": "1", "token_uri": server.url}
    yield json.dumps(info), server
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def fresh_tokens():
    gcs._TOKENS.clear()
    yield
    gcs._TOKENS.clear()


def row(emulator, **fields) -> dict:
    """A credential mapping as the Settings rows give it (cloud-access interface), naming the emulator's host."""
    mapping = {"id": "b" * 32, "provider": "gcs", "host": emulator, "bucket": "", "region": "", "key": "",
               "secret": "", "token": "", "azure_auth": "", "use_tls": False, "anonymous": True, "delivery": "proxy",
               "allow_private": True}  # a staff or shared row: it may name a loopback server
    mapping.update(fields)
    return mapping


def provider_of(mapping, calls=None):
    def provider(*, scheme, host, bucket=""):
        if calls is not None:
            calls.append((scheme, host, bucket))
        return mapping if mapping and host == mapping["host"] else None
    return provider


def uri_of(emulator, key="2011/000025 b.jpg", bucket="frames"):
    return f"gs://{emulator}/{bucket}/{key}"


def storage(mapping):
    return GcsStorage(credentials_provider=provider_of(mapping))


# --- reading ---------------------------------------------------------------------------------------------------

def test_reads_a_jpeg_from_the_emulator(emulator, photo):
    calls = []
    store = storage_for_uri(uri_of(emulator), credentials_provider=provider_of(row(emulator), calls))
    assert isinstance(store, GcsStorage)
    stat = store.stat(uri_of(emulator))
    assert (stat.size, stat.content_type) == (len(photo), "image/jpeg") and stat.fingerprint
    with store.open(uri_of(emulator)) as handle:
        assert handle.read() == photo
    with store.local_path(uri_of(emulator)) as path:
        assert Path(path).read_bytes() == photo and path.endswith(".jpg")
    with store.open(uri_of(emulator), seekable=False) as stream:
        assert stream.read() == photo
    with store.open_range(uri_of(emulator), 100, 50) as part:
        assert part.read() == photo[100:150]
    assert ("gs", emulator, "frames") in calls


def test_large_blobs_open_seekable_by_ranges(emulator, photo):
    """Above the spool size a seekable open downloads nothing up front: each read is one ranged GET."""
    big = random.Random(7).randbytes(3 * 1024 * 1024 + 123)
    requests.post(f"http://{emulator}/upload/storage/v1/b/frames/o", params={"uploadType": "media", "name": "big.bin"},
                  data=big, timeout=30).raise_for_status()
    uri = uri_of(emulator, "big.bin")
    with override_settings(HYPERDATA_FETCH_SPOOL_BYTES=1024 * 1024):
        with storage(row(emulator)).open(uri) as handle:
            handle.seek(-10, os.SEEK_END)
            assert handle.read() == big[-10:]
            handle.seek(2)
            assert handle.read(2) == big[2:4]
            raw = handle.raw
    assert raw.requests == 2 and raw.fetched <= 1024 * 1024 + 10  # 10 bytes, then one 1 MiB read-ahead


def test_reads_with_a_service_account_token(emulator, photo, service_account):
    secret, tokens = service_account
    store = storage(row(emulator, anonymous=False, secret=secret))
    before = len(tokens.issued)
    with override_settings(HYPERDATA_ALLOWED_FETCH_NETWORKS=LOOPBACK):  # the token endpoint is on loopback here
        with store.open(uri_of(emulator)) as handle:
            assert handle.read() == photo
        assert store.stat(uri_of(emulator)).size == len(photo)
    # one verified JWT exchanged for one token (read-only scope), reused for the second request
    assert tokens.issued[before:] == [("reader@test.iam.gserviceaccount.com", gcs.READ_ONLY_SCOPE)]


def test_not_found_and_missing_bucket(emulator, photo):
    store = storage(row(emulator))
    with pytest.raises(StorageNotFoundError) as caught:
        store.open(uri_of(emulator, "missing.jpg"))
    assert caught.value.reason.startswith("object not found")
    assert store.exists(uri_of(emulator, "missing.jpg")) is False
    assert store.exists(uri_of(emulator)) is True
    for read in (store.stat, store.open):
        with pytest.raises(StorageNotFoundError) as caught:
            read(uri_of(emulator, "a.jpg", bucket="no-such-bucket"))
        assert caught.value.reason == f"bucket 'no-such-bucket' does not exist on {emulator}"


def test_wrong_service_account_key_is_authentication_failed(emulator, photo, service_account):
    secret, _tokens = service_account
    forged = json.loads(secret) | {"private_key": new_key()[0]}  # same account, a key Google does not know
    store = storage(row(emulator, anonymous=False, secret=json.dumps(forged)))
    with override_settings(HYPERDATA_ALLOWED_FETCH_NETWORKS=LOOPBACK):
        with pytest.raises(StorageAccessDeniedError) as caught:
            store.stat(uri_of(emulator))
    assert "authentication failed" in caught.value.reason and "invalid_grant" in caught.value.reason
    assert "PRIVATE KEY" not in str(caught.value)


def test_clock_skew_is_named(emulator, photo, service_account):
    secret, tokens = service_account
    tokens.clock_offset = 2 * 3600  # Google's clock two hours ahead of ours
    try:
        with override_settings(HYPERDATA_ALLOWED_FETCH_NETWORKS=LOOPBACK):
            with pytest.raises(StorageAccessDeniedError) as caught:
                storage(row(emulator, anonymous=False, secret=secret)).stat(uri_of(emulator))
    finally:
        tokens.clock_offset = 0.0
    assert caught.value.reason.startswith("clock skew")


def test_bad_service_account_json(emulator):
    with pytest.raises(PermanentStorageError) as caught:
        storage(row(emulator, anonymous=False, secret="{not json")).stat(uri_of(emulator))
    assert "not valid JSON" in caught.value.reason


def test_connection_refused_is_transient():
    host = f"127.0.0.1:{free_port()}"
    with pytest.raises(TransientStorageError) as caught:
        storage(row(host)).stat(f"gs://{host}/frames/a.jpg")
    assert "connection refused" in caught.value.reason


def test_unknown_host_is_permanent():
    host = "no-such-host.invalid:4443"
    with pytest.raises(PermanentStorageError) as caught:
        storage(row(host)).stat(f"gs://{host}/frames/a.jpg")
    assert "resolve" in caught.value.reason and "no-such-host.invalid" in caught.value.reason


# --- the address policy -----------------------------------------------------------------------------------------

def test_loopback_endpoint_needs_a_row_naming_it(emulator, photo):
    with pytest.raises(LocationNotAllowedError) as caught:
        storage(None).stat(uri_of(emulator))
    assert "loopback" in caught.value.reason
    with pytest.raises(LocationNotAllowedError):  # a user's own row never opens the server's network
        storage(row(emulator, allow_private=False)).stat(uri_of(emulator))


def test_a_token_uri_on_loopback_is_refused(emulator, photo, service_account):
    """A service account JSON cannot make the server post to a private address (its token_uri is vetted)."""
    secret, tokens = service_account
    before = len(tokens.issued)
    with pytest.raises(LocationNotAllowedError) as caught:
        storage(row(emulator, anonymous=False, secret=secret)).stat(uri_of(emulator))
    assert "access token" in caught.value.reason and "loopback" in caught.value.reason
    assert len(tokens.issued) == before


# --- signed URLs ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("description, bucket, key, expires, stamp, signature", CONFORMANCE_GETS,
                         ids=[case[0] for case in CONFORMANCE_GETS])
def test_v4_signing_matches_googles_published_examples(description, bucket, key, expires, stamp, signature):
    info = {"client_email": CONFORMANCE_EMAIL, "private_key": CONFORMANCE_KEY, "token_uri": "https://invalid/"}
    when = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    day = when.strftime("%Y%m%d")
    expected = (
        f"https://storage.googleapis.com/{bucket}/{key}?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Credential="
        f"{quote(CONFORMANCE_EMAIL, safe='')}%2F{day}%2Fauto%2Fstorage%2Fgoog4_request&X-Goog-Date="
        f"{when.strftime('%Y%m%dT%H%M%SZ')}&X-Goog-Expires={expires}&X-Goog-SignedHeaders=host"
        f"&X-Goog-Signature={signature}"
    )
    assert sign_v4_url(info, bucket, key, expires=expires, now=when) == expected


def test_signed_url_for_signed_rows_only(emulator, photo, service_account):
    secret, _tokens = service_account
    signed = storage(row(emulator, anonymous=False, secret=secret, delivery="signed"))
    url = signed.signed_url(uri_of(emulator), expires=300)
    assert url.startswith(f"http://{emulator}/frames/2011/000025%20b.jpg?X-Goog-Algorithm=GOOG4-RSA-SHA256&")
    assert "X-Goog-Expires=300&" in url and "PRIVATE" not in url
    # The emulator serves the signed path but does not check signatures (see the module docstring): this shows
    # the URL's shape reaches the object; the signature itself is proven by the published examples above.
    assert requests.get(url, timeout=10).content == photo
    assert storage(row(emulator, anonymous=False, secret=secret)).signed_url(uri_of(emulator)) is None  # proxy
    public = storage(row(emulator, delivery="signed")).signed_url(uri_of(emulator))  # anonymous: the plain URL
    assert public == f"http://{emulator}/frames/2011/000025%20b.jpg" and requests.get(public, timeout=10).content == photo
    week = signed.signed_url(uri_of(emulator), expires=30 * 24 * 3600)
    assert "X-Goog-Expires=604800&" in week  # capped at Google's 7 days


# --- the Test button --------------------------------------------------------------------------------------------

def test_check_credential_lists_one_object(emulator, photo):
    store = storage_for_uri("gs://frames/", credentials_provider=lambda **_: None)
    assert store.check_credential(row(emulator, bucket="frames")) == (
        f"connected to {emulator}, bucket 'frames': the first object is '2011/000025 b.jpg'")
    with pytest.raises(StorageNotFoundError) as caught:
        store.check_credential(row(emulator, bucket="no-such-bucket"))
    assert "bucket 'no-such-bucket' does not exist" in caught.value.reason
    with pytest.raises(PermanentStorageError) as caught:
        store.check_credential(row(emulator))
    assert "name a bucket" in caught.value.reason


# --- URI forms --------------------------------------------------------------------------------------------------

def test_uri_forms():
    assert parse_gs_uri("gs://my-bucket/a/b c%20d.tif") == ("", "my-bucket", "a/b c%20d.tif")
    assert parse_gs_uri("gs://127.0.0.1:4443/my-bucket/a.png") == ("127.0.0.1:4443", "my-bucket", "a.png")
    for bad in ("gs://my-bucket", "gs://my-bucket/", "gs:///a.png", "gs://host:99999/b/a.png", "gs://b/a.png?x=1"):
        with pytest.raises(InvalidURIError):
            parse_gs_uri(bad)


# --- through a Settings row -------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_a_settings_row_reads_through_the_credentials_provider(emulator, photo, admin_user):
    """The whole path: a row saved by the service, chosen by the selectors' provider, read by the storage."""
    credential = credential_create(user=admin_user, data={
        "provider": "gcs", "name": "emulator", "host": emulator, "bucket": "frames", "use_tls": False,
        "anonymous": True})
    assert credential_test(user=admin_user, credential=credential) == {
        "ok": True, "message": f"connected to {emulator}, bucket 'frames': the first object is '2011/000025 b.jpg'"}
    store = storage_for_uri(uri_of(emulator), credentials_provider=credentials_provider(user=admin_user))
    with store.open(uri_of(emulator)) as handle:
        assert handle.read() == photo
