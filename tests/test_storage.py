"""frames.storage: the one layer that reads source and mask URIs.

DB-free. HTTP tests run a real http.server on loopback in a thread; loopback is allowed through
HYPERDATA_ALLOWED_FETCH_NETWORKS only where a test says so. Real files come from ../shared/testdata.
"""
from __future__ import annotations

import hashlib
import http.server
import io
import os
import shutil
import socket
import threading
import time
from email.utils import formatdate
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import pytest

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hyperdata.settings")
import django  # noqa: E402
from django.apps import apps  # noqa: E402

if not apps.ready:
    django.setup()

from django.core.exceptions import ImproperlyConfigured  # noqa: E402
from django.test import override_settings  # noqa: E402

from frames import storage  # noqa: E402
from frames.storage import (  # noqa: E402
    AddressPolicy,
    HttpStorage,
    InvalidURIError,
    LocalStorage,
    LocationNotAllowedError,
    PermanentStorageError,
    RemoteStorage,
    StorageAccessDeniedError,
    StorageError,
    StorageNotFoundError,
    StorageStat,
    TooLargeError,
    TransientStorageError,
    register_storage,
    storage_for_uri,
)
from frames.storage import base as storage_base  # noqa: E402

TESTDATA = Path(__file__).resolve().parents[2] / "shared" / "testdata"
HOPPER = "tiff/pillow/hopper.tif"
MASK = "masks/labelme-voc/SegmentationClass/2011_000003.png"
LOOPBACK = ["127.0.0.0/8"]


@pytest.fixture(scope="session")
def testdata() -> Path:
    if not (TESTDATA / HOPPER).is_file() or not (TESTDATA / MASK).is_file():
        pytest.fail(f"shared test data is missing: expected {TESTDATA / HOPPER} and {TESTDATA / MASK} "
                    "(the shared/ folder beside the repository)")
    return TESTDATA


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- a real HTTP server on loopback ---------------------------------------------------------------------------

class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "TestMedia/1"

    def log_message(self, *args):  # keep pytest output clean
        pass

    def do_GET(self):
        self._route(body=True)

    def do_HEAD(self):
        self._route(body=False)

    def _send(self, code, data=b"", headers=None, body=True):
        self.send_response(code)
        headers = {"Content-Length": str(len(data)), **(headers or {})}
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if body and data:
            self.wfile.write(data)

    def _file(self, rel, body):
        path = TESTDATA / rel
        if not path.is_file():
            return self._send(404, b"no such file", body=body)
        data = path.read_bytes()
        headers = {"ETag": f'"{sha(data)[:16]}"', "Last-Modified": formatdate(path.stat().st_mtime, usegmt=True),
                   "Content-Type": "image/tiff" if rel.endswith(".tif") else "application/octet-stream",
                   "Accept-Ranges": "bytes"}
        wanted = self.headers.get("Range", "")
        if wanted.startswith("bytes="):
            first, _, last = wanted[6:].partition("-")
            first, last = int(first), min(int(last or len(data) - 1), len(data) - 1)
            headers["Content-Range"] = f"bytes {first}-{last}/{len(data)}"
            return self._send(206, data[first:last + 1], headers, body)
        return self._send(200, data, headers, body)

    def _route(self, body):
        self.server.seen.append((self.command, self.path, dict(self.headers)))
        parts = urlsplit(self.path)
        path, query = parts.path, parse_qs(parts.query)
        if path.startswith("/files/"):
            return self._file(path[len("/files/"):], body)
        if path.startswith("/nohead/"):
            if self.command == "HEAD":
                return self._send(405, headers={"Allow": "GET"}, body=False)
            return self._file(path[len("/nohead/"):], body)
        if path.startswith("/status/"):
            code = int(path.rsplit("/", 1)[1])
            return self._send(code, b"status", {"Retry-After": "7"} if code == 503 else {}, body)
        if path == "/redirect":
            return self._send(302, headers={"Location": query["to"][0]}, body=body)
        if path.startswith("/chain/"):
            _, _, count, rest = path.split("/", 3)
            if int(count) == 0:
                return self._file(rest, body)
            return self._send(302, headers={"Location": f"/chain/{int(count) - 1}/{rest}"}, body=body)
        if path == "/stall-headers":
            time.sleep(float(query.get("s", ["2"])[0]))
            return self._send(200, b"late", body=body)
        if path == "/stall-body":
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.write(b"x" * 10)
            self.wfile.flush()
            time.sleep(2)
            self.close_connection = True
            return None
        if path.startswith("/stream/"):  # no Content-Length: the body ends when the connection closes
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            if body:
                self.wfile.write(b"\0" * int(path.rsplit("/", 1)[1]))
            self.close_connection = True
            return None
        if path == "/echo":
            data = f"{self.headers.get('Host')}|{self.headers.get('Authorization', '')}".encode()
            return self._send(200, data, body=body)
        return self._send(404, b"unknown route", body=body)


class _QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):  # clients hanging up early (size cap, timeouts) are expected
        pass


class _Server:
    def __init__(self):
        self.httpd = _QuietServer(("127.0.0.1", 0), _Handler)
        self.httpd.seen = []
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def seen(self):
        return self.httpd.seen

    def url(self, path, host="127.0.0.1"):
        return f"http://{host}:{self.port}{path}"


@pytest.fixture(scope="module")
def http_server(testdata):
    server = _Server()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


@pytest.fixture
def server(http_server):
    http_server.seen.clear()
    return http_server


@pytest.fixture
def allow_loopback():
    with override_settings(HYPERDATA_ALLOWED_FETCH_NETWORKS=LOOPBACK):
        yield


@pytest.fixture
def allow_nothing():
    with override_settings(HYPERDATA_ALLOWED_FETCH_NETWORKS=[]):
        yield


# --- registry and URIs ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("uri", "cls"),
    [
        ("file:///data/a.jpg", LocalStorage),
        ("FILE:///data/a.jpg", LocalStorage),
        ("/data/a b.jpg", LocalStorage),
        ("http://example.com/a.jpg", HttpStorage),
        ("HTTPS://example.com/a.jpg", HttpStorage),
    ],
)
def test_storage_is_chosen_by_scheme(uri, cls):
    assert type(storage_for_uri(uri)) is cls


@pytest.mark.parametrize(
    ("uri", "words"),
    [
        ("", "empty"),
        ("images/a.jpg", "without a scheme"),
        (" /data/a.jpg", "whitespace"),
        ("/data/a\n.jpg", "control"),
        ("//host/a.jpg", "scheme-relative"),
        ("ftp://host/a.jpg", "unsupported URI scheme ftp://"),
        (None, "empty"),
    ],
)
def test_bad_uris_are_permanent_errors(uri, words):
    with pytest.raises(InvalidURIError) as caught:
        storage_for_uri(uri)
    assert isinstance(caught.value, PermanentStorageError)
    assert words in caught.value.reason


def test_error_hierarchy_and_redaction():
    assert issubclass(TransientStorageError, StorageError) and issubclass(PermanentStorageError, StorageError)
    for cls in (StorageNotFoundError, StorageAccessDeniedError, InvalidURIError, LocationNotAllowedError,
                TooLargeError):
        assert issubclass(cls, PermanentStorageError)
    err = PermanentStorageError("HTTP 404 Not Found", "https://bob:secret@example.com/a.jpg")
    assert "secret" not in str(err) and "bob:***@example.com" in str(err)
    assert err.reason == "HTTP 404 Not Found" and not err.transient
    assert TransientStorageError("x", retry_after=3).retry_after == 3


class _MemoryStorage(RemoteStorage):
    """What a cloud provider (S3, GCS, Azure) has to write: a stream, a stat and optionally a signed URL."""

    schemes = ("mem",)
    objects = {"mem://bucket/a.bin": b"0123456789" * 100}

    def _key(self, uri):
        if uri not in self.objects:
            raise StorageNotFoundError("no such object", uri)
        return uri

    def _open_stream(self, uri):
        stream = io.BytesIO(self.objects[self._key(uri)])
        stream.size = None  # pretend the provider does not know the size up front
        return stream

    def stat(self, uri):
        return StorageStat(size=len(self.objects[self._key(uri)]), etag="e1")

    def signed_url(self, uri, expires=3600):
        creds = self.credentials_for(urlsplit(uri).hostname)
        return f"https://signed.example/{urlsplit(uri).path}?key={creds['key']}&expires={expires}"


def test_a_new_provider_slots_into_the_registry(monkeypatch, tmp_path):
    monkeypatch.setattr(storage_base, "_REGISTRY", dict(storage_base._REGISTRY))
    register_storage(_MemoryStorage)
    calls = []

    def provider(*, scheme, host):
        calls.append((scheme, host))
        return {"key": "k1"}

    uri = "mem://bucket/a.bin"
    store = storage_for_uri(uri, credentials_provider=provider)
    assert isinstance(store, _MemoryStorage)
    with store.open(uri) as handle:
        assert handle.read(4) == b"0123"
        handle.seek(0)
        assert handle.read() == _MemoryStorage.objects[uri]
    with override_settings(HYPERDATA_FETCH_TMP_DIR=str(tmp_path)):
        with store.local_path(uri) as path:
            assert path.endswith(".bin") and Path(path).read_bytes() == _MemoryStorage.objects[uri]
        assert not Path(path).exists() and not any(tmp_path.iterdir())
    assert store.exists(uri) and not store.exists("mem://bucket/missing")
    assert store.stat(uri).fingerprint == "etag:e1"
    assert store.signed_url(uri, expires=60) == "https://signed.example//a.bin?key=k1&expires=60"
    assert calls == [("mem", "bucket")]
    with override_settings(HYPERDATA_MAX_FETCH_BYTES=999), pytest.raises(TooLargeError):
        store.open(uri)
    # a provider that cannot sign answers None, and callers fall back to the media proxy
    assert storage_for_uri("/data/a.jpg").signed_url("/data/a.jpg") is None
    assert storage_for_uri("http://example.com/a").signed_url("http://example.com/a") is None


def test_credentials_provider_from_settings():
    with override_settings(HYPERDATA_STORAGE_CREDENTIALS_PROVIDER=lambda *, scheme, host: {"host": host}):
        assert storage_for_uri("http://example.com/x").credentials_for("example.com") == {"host": "example.com"}
    with override_settings(HYPERDATA_STORAGE_CREDENTIALS_PROVIDER=None):
        assert storage_for_uri("http://example.com/x").credentials_for("example.com") is None


# --- the address policy ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("fc00::1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("100.64.0.1", "non-public"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:10.0.0.1", "private"),
        ("::ffff:169.254.169.254", "link-local"),
        ("64:ff9b::a00:1", "private"),
        ("2002:a00:1::", "private"),
    ],
)
def test_policy_refuses_non_public_addresses(address, kind):
    assert kind in AddressPolicy().blocked_reason(address)


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"])
def test_policy_allows_public_addresses(address):
    assert AddressPolicy().blocked_reason(address) is None


def test_policy_allowlist_covers_mapped_addresses_and_parses_settings():
    policy = AddressPolicy(["127.0.0.0/8", "fd00::/8"])
    assert policy.blocked_reason("127.0.0.1") is None
    assert policy.blocked_reason("::ffff:127.0.0.1") is None
    assert policy.blocked_reason("fd12::1") is None
    assert policy.blocked_reason("::1") == "loopback"
    assert policy.blocked_reason("10.0.0.1") == "private"
    with override_settings(HYPERDATA_ALLOWED_FETCH_NETWORKS="10.0.0.0/8, 192.168.0.0/16"):
        assert AddressPolicy.from_settings().blocked_reason("192.168.3.4") is None
    with pytest.raises(ImproperlyConfigured, match="not-a-network"):
        AddressPolicy(["not-a-network"])


# --- http(s) --------------------------------------------------------------------------------------------------

def test_http_refuses_loopback_unless_allowed(server, allow_nothing):
    url = server.url(f"/files/{HOPPER}")
    store = storage_for_uri(url)
    for call in (lambda: store.open(url), lambda: store.stat(url), lambda: store.exists(url)):
        with pytest.raises(LocationNotAllowedError) as caught:
            call()
        assert "loopback" in caught.value.reason and "HYPERDATA_ALLOWED_FETCH_NETWORKS" in caught.value.reason
    with pytest.raises(LocationNotAllowedError, match="localhost: it resolves to"):
        store.open(server.url(f"/files/{HOPPER}", host="localhost"))
    with pytest.raises(LocationNotAllowedError):
        store.open(f"http://[::ffff:127.0.0.1]:{server.port}/files/{HOPPER}")
    with pytest.raises(LocationNotAllowedError):  # 127.1 and decimal forms resolve to loopback too
        store.open(f"http://2130706433:{server.port}/files/{HOPPER}")
    assert server.seen == []  # the server was never contacted


def test_http_open_reads_a_real_file_seekably(server, allow_loopback, testdata):
    from PIL import Image

    url = server.url(f"/files/{MASK}")
    with Image.open(testdata / MASK) as original:
        expected_size = original.size
    with storage_for_uri(url).open(url) as handle:
        assert handle.seekable()
        data = handle.read()
        handle.seek(0)
        with Image.open(handle) as image:  # Pillow needs seek
            image.load()
            assert image.size == expected_size
    assert data == (testdata / MASK).read_bytes()
    assert server.seen[0][2]["Accept-Encoding"] == "identity"


def test_http_open_spills_large_bodies_to_disk(server, allow_loopback, testdata, tmp_path):
    url = server.url(f"/files/{HOPPER}")
    with override_settings(HYPERDATA_FETCH_SPOOL_BYTES=4096, HYPERDATA_FETCH_TMP_DIR=str(tmp_path)):
        with storage_for_uri(url).open(url) as handle:
            assert handle._rolled  # past the spool size the SpooledTemporaryFile is a real file
            assert sha(handle.read()) == sha((testdata / HOPPER).read_bytes())


def test_http_stream_without_seeking(server, allow_loopback, testdata):
    url = server.url(f"/files/{HOPPER}")
    with storage_for_uri(url).open(url, seekable=False) as handle:
        assert handle.read(8) == (testdata / HOPPER).read_bytes()[:8]
        assert handle.read() == (testdata / HOPPER).read_bytes()[8:]


def test_http_local_path_is_a_temporary_copy(server, allow_loopback, testdata, tmp_path):
    url = server.url(f"/files/{HOPPER}")
    with override_settings(HYPERDATA_FETCH_TMP_DIR=str(tmp_path)):
        with storage_for_uri(url).local_path(url) as path:
            assert path.endswith(".tif") and Path(path).parent == tmp_path
            assert Path(path).read_bytes() == (testdata / HOPPER).read_bytes()
    assert not Path(path).exists()


def test_http_stat_and_exists(server, allow_loopback, testdata):
    url = server.url(f"/files/{HOPPER}")
    store = storage_for_uri(url)
    info = store.stat(url)
    assert info.size == (testdata / HOPPER).stat().st_size
    assert info.etag and info.etag.startswith('"') and info.content_type == "image/tiff"
    assert abs(info.mtime - (testdata / HOPPER).stat().st_mtime) < 1
    assert info.fingerprint == f"etag:{info.etag}"
    assert [method for method, *_ in server.seen] == ["HEAD"]  # cheap: no body transferred
    assert store.exists(url)
    assert not store.exists(server.url("/files/missing.tif"))


def test_http_stat_falls_back_to_a_one_byte_get_when_head_is_refused(server, allow_loopback, testdata):
    url = server.url(f"/nohead/{HOPPER}")
    info = storage_for_uri(url).stat(url)
    assert info.size == (testdata / HOPPER).stat().st_size
    assert [(method, headers.get("Range")) for method, _, headers in server.seen] == [
        ("HEAD", None), ("GET", "bytes=0-0")]


@pytest.mark.parametrize(
    ("code", "error"),
    [
        (404, StorageNotFoundError),
        (410, StorageNotFoundError),
        (403, StorageAccessDeniedError),
        (401, StorageAccessDeniedError),
        (400, PermanentStorageError),
        (429, TransientStorageError),
        (500, TransientStorageError),
        (502, TransientStorageError),
        (503, TransientStorageError),
        (504, TransientStorageError),
    ],
)
def test_http_status_classification(server, allow_loopback, code, error):
    url = server.url(f"/status/{code}")
    with pytest.raises(error) as caught:
        storage_for_uri(url).open(url)
    assert caught.value.reason.startswith(f"HTTP {code}")
    assert caught.value.transient is (error is TransientStorageError)
    if code == 503:
        assert caught.value.retry_after == 7


def test_http_redirects_are_followed_up_to_five(server, allow_loopback, testdata):
    expected = (testdata / HOPPER).read_bytes()
    url = server.url(f"/chain/5/{HOPPER}")
    with storage_for_uri(url).open(url) as handle:
        assert handle.read() == expected
    assert len(server.seen) == 6
    url = server.url(f"/chain/6/{HOPPER}")
    with pytest.raises(PermanentStorageError, match="too many redirects"):
        storage_for_uri(url).open(url)


@pytest.mark.parametrize(
    "target",
    ["http://10.0.0.1/x.jpg", "http://169.254.169.254/latest/meta-data/", "http://[::1]:{port}/files/" + HOPPER,
     "http://[::ffff:a00:1]/x", "http://0.0.0.0:{port}/files/" + HOPPER, "http://192.168.0.1/x"],
)
def test_http_redirect_to_a_private_address_is_refused(server, allow_loopback, target):
    """Loopback is allowed for the first hop only; every hop is checked on its own."""
    target = target.format(port=server.port)
    url = server.url("/redirect?to=" + quote(target, safe=""))
    for call in (storage_for_uri(url).open, storage_for_uri(url).stat):
        with pytest.raises(LocationNotAllowedError, match="after a redirect") as caught:
            call(url)
        assert "HYPERDATA_ALLOWED_FETCH_NETWORKS" in caught.value.reason
    assert [path for _, path, _ in server.seen] == [urlsplit(url).path + "?" + urlsplit(url).query] * 2


def test_http_redirect_to_another_scheme_is_refused(server, allow_loopback):
    url = server.url("/redirect?to=" + quote("file:///etc/passwd", safe=""))
    with pytest.raises(LocationNotAllowedError, match="non-http"):
        storage_for_uri(url).open(url)


def test_http_connection_is_pinned_to_the_vetted_address(server, allow_loopback, monkeypatch):
    """One DNS answer is checked and connected to; a second (rebinding) answer is never used."""
    real_getaddrinfo = socket.getaddrinfo
    answers = {"media.rebind.test": ["127.0.0.1", "10.0.0.1"]}
    lookups = []

    def fake_getaddrinfo(host, port, *args, **kwargs):
        if host in answers:
            lookups.append(host)
            address = answers[host][min(len(lookups), 2) - 1]
            return real_getaddrinfo(address, port, *args, **kwargs)
        return real_getaddrinfo(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    url = server.url("/echo", host="media.rebind.test")
    with storage_for_uri(url).open(url) as handle:
        assert handle.read() == f"media.rebind.test:{server.port}|".encode()  # Host header kept
    assert lookups == ["media.rebind.test"]
    # the next connection gets the rebound (private) answer and is refused
    with pytest.raises(LocationNotAllowedError, match=r"media\.rebind\.test: it resolves to 10\.0\.0\.1 \(private\)"):
        storage_for_uri(url).open(url)


def test_http_credentials_go_only_to_their_host(server, allow_loopback):
    def provider(*, scheme, host):
        return {"headers": {"Authorization": "Bearer s3cr3t"}} if host == "127.0.0.1" else None

    with override_settings(HYPERDATA_STORAGE_CREDENTIALS_PROVIDER=provider):
        url = server.url("/echo")
        with storage_for_uri(url).open(url) as handle:
            assert handle.read().endswith(b"|Bearer s3cr3t")
        server.seen.clear()
        url = server.url("/redirect?to=" + quote(server.url("/echo", host="localhost"), safe=""))
        with storage_for_uri(url).open(url) as handle:
            assert handle.read() == f"localhost:{server.port}|".encode()
    assert server.seen[0][2].get("Authorization") == "Bearer s3cr3t"
    assert "Authorization" not in server.seen[1][2]


def test_http_timeouts_are_transient(server, allow_loopback):
    with override_settings(HYPERDATA_FETCH_READ_TIMEOUT=0.3):
        url = server.url("/stall-headers?s=1.5")
        started = time.monotonic()
        with pytest.raises(TransientStorageError, match="timed out"):
            storage_for_uri(url).open(url)
        assert time.monotonic() - started < 1.4
        url = server.url("/stall-body")
        with pytest.raises(TransientStorageError, match="timed out"):
            storage_for_uri(url).open(url)


def test_http_connection_refused_is_transient(allow_loopback):
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now
    url = f"http://127.0.0.1:{port}/a.jpg"
    with pytest.raises(TransientStorageError, match="refused"):
        storage_for_uri(url).open(url)


@pytest.mark.parametrize(
    ("code", "error", "words"),
    [(socket.EAI_NONAME, PermanentStorageError, "cannot resolve host"),
     (socket.EAI_AGAIN, TransientStorageError, "temporary DNS failure")],
)
def test_http_dns_failures(allow_nothing, monkeypatch, code, error, words):
    def failing_getaddrinfo(*args, **kwargs):
        raise socket.gaierror(code, "lookup failed")

    monkeypatch.setattr(socket, "getaddrinfo", failing_getaddrinfo)
    url = "http://media.example.test/a.jpg"
    with pytest.raises(error, match=words):
        storage_for_uri(url).open(url)


def test_http_size_cap(server, allow_loopback, tmp_path):
    with override_settings(HYPERDATA_MAX_FETCH_BYTES=1000, HYPERDATA_FETCH_TMP_DIR=str(tmp_path)):
        url = server.url(f"/files/{HOPPER}")  # announced by Content-Length: refused before reading
        with pytest.raises(TooLargeError, match="49597 bytes"):
            storage_for_uri(url).open(url)
        url = server.url("/stream/5000")  # no Content-Length: refused once past the cap
        with pytest.raises(TooLargeError, match="more than 1000 bytes"):
            storage_for_uri(url).open(url)
        with pytest.raises(TooLargeError):
            with storage_for_uri(url).local_path(url):
                pass
        with pytest.raises(TooLargeError), storage_for_uri(url).open(url, seekable=False) as stream:
            stream.read()
        assert not any(tmp_path.iterdir())  # no temporary file left behind
        url = server.url("/stream/1000")
        with storage_for_uri(url).open(url) as handle:
            assert len(handle.read()) == 1000


def test_http_total_download_time_is_capped(server, allow_loopback):
    with override_settings(HYPERDATA_FETCH_TOTAL_TIMEOUT=0):
        url = server.url(f"/files/{HOPPER}")
        with pytest.raises(TransientStorageError, match="longer than"):
            storage_for_uri(url).open(url)


@pytest.fixture(scope="module")
def tls_server(testdata, tmp_path_factory):
    """An https server on 127.0.0.1 whose self-signed certificate names media.test only."""
    import ssl
    import subprocess

    openssl = shutil.which("openssl")
    if not openssl:
        pytest.fail("the openssl command (Debian package openssl) is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=media.test",
         "-addext", "subjectAltName=DNS:media.test", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    server = _Server()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.httpd.socket = context.wrap_socket(server.httpd.socket, server_side=True)
    server.cert = str(cert)
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


def test_https_keeps_sni_and_verification_on_the_pinned_address(tls_server, allow_loopback, monkeypatch):
    real_getaddrinfo = socket.getaddrinfo

    def fake_getaddrinfo(host, port, *args, **kwargs):
        return real_getaddrinfo("127.0.0.1" if host == "media.test" else host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    url = f"https://media.test:{tls_server.port}/echo"
    with override_settings(HYPERDATA_FETCH_CA_BUNDLE=tls_server.cert):
        with storage_for_uri(url).open(url) as handle:  # the certificate is checked against media.test
            assert handle.read() == f"media.test:{tls_server.port}|".encode()
        by_address = f"https://127.0.0.1:{tls_server.port}/echo"
        with pytest.raises(PermanentStorageError, match="TLS certificate"):  # the name does not match
            storage_for_uri(by_address).open(by_address)
    with pytest.raises(PermanentStorageError, match="TLS certificate"):  # unknown CA
        storage_for_uri(url).open(url)


def test_ipv6_loopback(testdata):
    class _V6(_QuietServer):
        address_family = socket.AF_INET6

    try:
        httpd = _V6(("::1", 0), _Handler)
    except OSError:  # a host without IPv6: the refusal below needs no server (it happens before connecting)
        httpd = None
    port = httpd.server_address[1] if httpd else 8080
    url = f"http://[::1]:{port}/files/{HOPPER}"
    with override_settings(HYPERDATA_ALLOWED_FETCH_NETWORKS=LOOPBACK):  # IPv4 loopback only
        with pytest.raises(LocationNotAllowedError, match="::1, a loopback address"):
            storage_for_uri(url).open(url)
    if httpd is None:
        return
    httpd.seen = []
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        with override_settings(HYPERDATA_ALLOWED_FETCH_NETWORKS=["::1/128"]):
            assert storage_for_uri(url).stat(url).size == (testdata / HOPPER).stat().st_size
        assert [method for method, *_ in httpd.seen] == ["HEAD"]
    finally:
        httpd.shutdown()
        httpd.server_close()


# --- local files ----------------------------------------------------------------------------------------------

@pytest.fixture
def tiff_root(testdata):
    with override_settings(HYPERDATA_MEDIA_ROOTS=[str(testdata / "tiff")]):
        yield testdata / "tiff"


def test_local_files_inside_the_roots(tiff_root, testdata):
    path = testdata / HOPPER
    for uri in (f"file://{path}", f"file://localhost{path}", str(path)):
        store = storage_for_uri(uri)
        with store.open(uri) as handle:
            assert handle.seekable() and handle.read() == path.read_bytes()
        with store.local_path(uri) as local:
            assert local == str(path.resolve())  # the file itself, no copy
        info = store.stat(uri)
        assert info.size == path.stat().st_size and info.content_type == "image/tiff"
        assert info.fingerprint and store.exists(uri)
    assert not storage_for_uri(f"{tiff_root}/missing.tif").exists(f"{tiff_root}/missing.tif")


def test_local_percent_encoded_names(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    (root / "a b#1.png").write_bytes(b"png")
    with override_settings(HYPERDATA_MEDIA_ROOTS=[str(root)]):
        uri = f"file://{quote(str(root / 'a b#1.png'))}"
        assert "%20" in uri and "%23" in uri
        with storage_for_uri(uri).open(uri) as handle:
            assert handle.read() == b"png"
        plain = str(root / "a b#1.png")  # plain paths are taken literally
        assert storage_for_uri(plain).stat(plain).size == 3
        with pytest.raises(InvalidURIError, match="query or fragment"):
            storage_for_uri(f"file://{root}/a b#1.png").open(f"file://{root}/a b#1.png")


@pytest.mark.parametrize(
    "make_uri",
    [
        lambda data: "file:///etc/passwd",
        lambda data: "/etc/passwd",
        lambda data: f"file://{data}/tiff/../video/webgl/video-rotation-0.mp4",
        lambda data: f"{data}/tiff/pillow/../../video/webgl/video-rotation-0.mp4",
        lambda data: f"file://{data}/tiff/%2e%2e/video/webgl/video-rotation-0.mp4",
        lambda data: f"file://{data}/tiff/pillow/%2E%2E%2F%2E%2E%2Fvideo/webgl/video-rotation-0.mp4",
        lambda data: f"file://{data}/tiff-evil/x.tif",  # a sibling that shares the root's prefix
    ],
)
def test_local_outside_the_roots_is_refused(tiff_root, testdata, make_uri):
    uri = make_uri(testdata)
    store = storage_for_uri(uri)
    for call in (store.open, store.stat, store.exists, lambda u: store.local_path(u).__enter__()):
        with pytest.raises(LocationNotAllowedError, match="outside the media roots"):
            call(uri)


def test_local_symlinks_are_resolved_before_the_check(tmp_path, testdata):
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    shutil.copy(testdata / MASK, root / "sub" / "mask.png")
    (root / "inside.png").symlink_to(root / "sub" / "mask.png")
    (root / "outside.tif").symlink_to(testdata / HOPPER)
    (root / "outdir").symlink_to(testdata / "tiff")
    (root / "loop").symlink_to(root / "loop")
    with override_settings(HYPERDATA_MEDIA_ROOTS=[str(root)]):
        uri = f"file://{root}/inside.png"
        with storage_for_uri(uri).open(uri) as handle:
            assert handle.read() == (testdata / MASK).read_bytes()
        for uri in (f"file://{root}/outside.tif", f"{root}/outdir/pillow/hopper.tif"):
            with pytest.raises(LocationNotAllowedError, match="symlinks"):
                storage_for_uri(uri).open(uri)
        with pytest.raises(PermanentStorageError):
            storage_for_uri(f"{root}/loop").open(f"{root}/loop")


def test_local_root_given_through_a_symlink(tmp_path, testdata):
    (tmp_path / "link").symlink_to(testdata / "tiff")
    with override_settings(HYPERDATA_MEDIA_ROOTS=[str(tmp_path / "link")]):
        uri = f"file://{tmp_path}/link/pillow/hopper.tif"
        assert storage_for_uri(uri).stat(uri).size == (testdata / HOPPER).stat().st_size


def test_local_errors_are_classified(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    (root / "dir").mkdir()
    os.mkfifo(root / "fifo")
    with override_settings(HYPERDATA_MEDIA_ROOTS=[str(root)]):
        with pytest.raises(StorageNotFoundError, match="no such file"):
            storage_for_uri(f"{root}/missing.jpg").open(f"{root}/missing.jpg")
        with pytest.raises(PermanentStorageError, match="directory"):
            storage_for_uri(f"{root}/dir").open(f"{root}/dir")
        with pytest.raises(PermanentStorageError, match="not a regular file"):  # and it does not hang
            storage_for_uri(f"{root}/fifo").open(f"{root}/fifo")
        with pytest.raises(InvalidURIError, match="must not name a host"):
            storage_for_uri("file://server/share/a.jpg").open("file://server/share/a.jpg")
        with pytest.raises(InvalidURIError, match="NUL"):
            storage_for_uri(f"file://{root}/a%00.jpg").open(f"file://{root}/a%00.jpg")
    with override_settings(HYPERDATA_MEDIA_ROOTS=[str(tmp_path / "unmounted")]):
        uri = f"{tmp_path}/unmounted/a.jpg"
        with pytest.raises(TransientStorageError, match="not available"):
            storage_for_uri(uri).open(uri)
    with override_settings(HYPERDATA_MEDIA_ROOTS=[]):
        with pytest.raises(LocationNotAllowedError, match="HYPERDATA_MEDIA_ROOTS is empty"):
            storage_for_uri(f"{root}/dir").open(f"{root}/dir")


def test_local_permission_denied_is_permanent(tmp_path, monkeypatch):
    (tmp_path / "secret.jpg").write_bytes(b"x")
    (tmp_path / "secret.jpg").chmod(0)
    if os.geteuid() == 0:  # root reads files whatever their mode: make the kernel's answer explicit

        real_open = os.open

        def denied(path, *args, **kwargs):
            if str(path).endswith("secret.jpg"):
                raise PermissionError(13, "Permission denied", str(path))
            return real_open(path, *args, **kwargs)

        monkeypatch.setattr(os, "open", denied)
    with override_settings(HYPERDATA_MEDIA_ROOTS=[str(tmp_path)]):
        with pytest.raises(StorageAccessDeniedError, match="permission denied"):
            storage_for_uri(f"{tmp_path}/secret.jpg").open(f"{tmp_path}/secret.jpg")


def test_public_api_is_exported():
    for name in ("storage_for_uri", "MediaStorage", "RemoteStorage", "LocalStorage", "HttpStorage", "StorageStat",
                 "StorageError", "TransientStorageError", "PermanentStorageError", "register_storage"):
        assert hasattr(storage, name), name
