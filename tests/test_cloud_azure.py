"""Azure Blob storage against a real Azurite on loopback (it checks shared-key and SAS signatures and SAS expiry).

Azurite comes from npm: the tests install it into ``HYPERDATA_TEST_NPM_CACHE`` (default
``~/.cache/hyperdata-test-servers``) when it is missing, and fail with the reason when npm is absent. The storage is
given its credentials the way the Settings rows will: a provider callable returning the cloud-access mapping.
"""
from __future__ import annotations

import http.server
import os
import random
import subprocess
import threading
import time
from email.utils import formatdate
from pathlib import Path

import pytest
import requests

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hyperdata.settings")
import django  # noqa: E402
from django.apps import apps  # noqa: E402

if not apps.ready:
    django.setup()

from azure.storage.blob import BlobServiceClient, ContainerSasPermissions, generate_container_sas  # noqa: E402
from django.test import override_settings  # noqa: E402

from frames.selectors.credentials import credentials_provider  # noqa: E402
from frames.services.credentials import credential_create, credential_test  # noqa: E402
from frames.storage import (  # noqa: E402
    AzureBlobStorage,
    HttpStorage,
    InvalidURIError,
    LocationNotAllowedError,
    PermanentStorageError,
    StorageAccessDeniedError,
    StorageNotFoundError,
    TransientStorageError,
    azure_blob_location,
    azure_storage_for_url,
    storage_for_uri,
)

from .servers import free_port, npm_binary, wait_for_port  # noqa: E402

ACCOUNT = "devstoreaccount1"
# Azurite's documented development-account key (the same in every Azurite install; not a secret).
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
JPEG = "coco/labelme/JPEGImages/2011_000003.jpg"


@pytest.fixture(scope="session")
def azurite(tmp_path_factory):
    """A running Azurite blob service: yields its endpoint host ``127.0.0.1:<port>``."""
    binary = npm_binary("azurite", "azurite-blob")
    port, workdir = free_port(), tmp_path_factory.mktemp("azurite")
    log = workdir / "azurite.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(binary), "--blobHost", "127.0.0.1", "--blobPort", str(port), "--location", str(workdir / "data"),
             "--skipApiVersionCheck", "--loose"],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
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
def service(azurite) -> BlobServiceClient:
    """A client straight to Azurite (not through the storage under test), to set up containers and blobs."""
    return BlobServiceClient.from_connection_string(
        f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={KEY};"
        f"BlobEndpoint=http://{azurite}/{ACCOUNT};"
    )


@pytest.fixture(scope="session")
def photo(service, testdata) -> bytes:
    data = (testdata / JPEG).read_bytes()
    service.create_container("photos")
    service.get_blob_client("photos", "2011/000003 a.jpg").upload_blob(data, content_type="image/jpeg")
    public = service.create_container("public", public_access="blob")
    public.get_blob_client("open.jpg").upload_blob(data, content_type="image/jpeg")
    return data


def row(azurite, **fields) -> dict:
    """A credential mapping as the Settings rows give it (cloud-access interface), naming Azurite's host."""
    mapping = {"id": "a" * 32, "provider": "azure", "host": f"{azurite}/{ACCOUNT}", "bucket": "", "region": "",
               "key": ACCOUNT, "secret": KEY, "token": "", "azure_auth": "key", "use_tls": False,
               "anonymous": False, "delivery": "proxy",
               "allow_private": True}  # a staff or shared row: it may name a loopback server
    mapping.update(fields)
    return mapping


def provider_of(mapping, calls=None):
    def provider(*, scheme, host, bucket=""):
        if calls is not None:
            calls.append((scheme, host, bucket))
        return mapping if mapping and host == mapping["host"] else None
    return provider


def uri_of(azurite, path="photos/2011/000003%20a.jpg"):
    return f"azure://{azurite}/{ACCOUNT}/{path}"


def storage(mapping, calls=None):
    return AzureBlobStorage(credentials_provider=provider_of(mapping, calls))


# --- reading ---------------------------------------------------------------------------------------------------

def test_reads_a_jpeg_with_the_account_key(azurite, photo):
    calls = []
    store = storage_for_uri(uri_of(azurite), credentials_provider=provider_of(row(azurite), calls))
    assert isinstance(store, AzureBlobStorage)
    stat = store.stat(uri_of(azurite))
    assert (stat.size, stat.content_type) == (len(photo), "image/jpeg")
    assert stat.etag and stat.mtime and stat.fingerprint
    with store.open(uri_of(azurite)) as handle:
        assert handle.read() == photo
        handle.seek(2)
        assert handle.read(2) == photo[2:4]
    with store.local_path(uri_of(azurite)) as path:
        assert Path(path).read_bytes() == photo and path.endswith(".jpg")
    assert not Path(path).exists()
    assert ("azure", f"{azurite}/{ACCOUNT}", "photos") in calls


def test_streams_and_reads_byte_ranges(azurite, photo):
    store = storage(row(azurite))
    with store.open(uri_of(azurite), seekable=False) as stream:
        assert stream.read() == photo
    with store.open_range(uri_of(azurite), 100, 50) as part:
        assert part.read() == photo[100:150]
    with store.open_range(uri_of(azurite), len(photo) - 10) as tail:
        assert tail.read() == photo[-10:]


def test_large_blobs_open_seekable_by_ranges(azurite, service, photo):
    """Above the spool size a seekable open downloads nothing up front: each read is one ranged GET."""
    big = random.Random(7).randbytes(3 * 1024 * 1024 + 123)
    service.get_blob_client("photos", "big.bin").upload_blob(big, overwrite=True)
    uri = uri_of(azurite, "photos/big.bin")
    with override_settings(HYPERDATA_FETCH_SPOOL_BYTES=1024 * 1024):
        with storage(row(azurite)).open(uri) as handle:
            handle.seek(-10, os.SEEK_END)
            assert handle.read() == big[-10:]
            handle.seek(2)
            assert handle.read(2) == big[2:4]
            raw = handle.raw
    assert raw.requests == 2 and raw.fetched <= 1024 * 1024 + 10  # 10 bytes, then one 1 MiB read-ahead


def test_sas_token_and_connection_string_rows(azurite, photo, service):
    sas = generate_container_sas(ACCOUNT, "photos", account_key=KEY, permission=ContainerSasPermissions(read=True),
                                 expiry=time.time() + 3600)
    with storage(row(azurite, azure_auth="sas", secret="?" + sas)).open(uri_of(azurite)) as handle:
        assert handle.read() == photo
    connection = f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={KEY};"
    assert storage(row(azurite, azure_auth="connection_string", secret=connection)).stat(uri_of(azurite)).size == len(
        photo)


def test_public_container_reads_anonymously(azurite, photo):
    mapping = row(azurite, anonymous=True, secret="", key="")
    with storage(mapping).open(uri_of(azurite, "public/open.jpg")) as handle:
        assert handle.read() == photo
    # anonymous on a private container: Azurite refuses it, and the reason says so
    with pytest.raises((StorageAccessDeniedError, StorageNotFoundError)):
        storage(mapping).stat(uri_of(azurite))


# --- signed URLs ------------------------------------------------------------------------------------------------

def test_signed_url_is_a_read_sas_that_works_with_plain_requests(azurite, photo):
    store = storage(row(azurite, delivery="signed"))
    url = store.signed_url(uri_of(azurite), expires=300)
    assert url.startswith(f"http://{azurite}/{ACCOUNT}/photos/2011/000003%20a.jpg?") and "sp=r" in url
    assert KEY not in url
    response = requests.get(url, timeout=10)
    assert response.status_code == 200 and response.content == photo
    tampered = url.replace("sp=r", "sp=rw")
    assert requests.get(tampered, timeout=10).status_code == 403  # Azurite checks the signature


def test_expired_signed_url_is_refused(azurite, photo):
    url = storage(row(azurite, delivery="signed")).signed_url(uri_of(azurite), expires=-60)
    response = requests.get(url, timeout=10)
    assert response.status_code == 403, response.text


def test_signed_url_needs_signed_delivery_and_a_key_or_a_public_container(azurite, photo):
    assert storage(row(azurite)).signed_url(uri_of(azurite)) is None  # delivery "proxy"
    assert storage(row(azurite, delivery="signed", azure_auth="sas", secret="sv=x&sig=y")).signed_url(
        uri_of(azurite)) is None
    assert storage(None).signed_url(uri_of(azurite)) is None
    public = storage(row(azurite, anonymous=True, delivery="signed")).signed_url(uri_of(azurite, "public/open.jpg"))
    assert public == f"http://{azurite}/{ACCOUNT}/public/open.jpg"  # an anonymous row: the plain public URL
    assert requests.get(public, timeout=10).content == photo


# --- failures, with reasons a user can act on -------------------------------------------------------------------

def test_wrong_account_key_is_authentication_failed(azurite, photo):
    wrong = KEY[:-8] + "AAAAAAA="
    store = storage(row(azurite, secret=wrong))
    for read in (store.stat, lambda uri: store.open(uri)):
        with pytest.raises(StorageAccessDeniedError) as caught:
            read(uri_of(azurite))
        assert "authentication failed" in caught.value.reason and ACCOUNT in caught.value.reason
        assert wrong not in str(caught.value)


def test_missing_container_and_missing_blob(azurite, photo):
    store = storage(row(azurite))
    with pytest.raises(StorageNotFoundError) as caught:
        store.open(uri_of(azurite, "no-such-container/a.jpg"))
    assert "container 'no-such-container' does not exist" in caught.value.reason
    with pytest.raises(StorageNotFoundError) as caught:
        store.open(uri_of(azurite, "photos/missing.jpg"))
    assert "blob not found" in caught.value.reason
    assert store.exists(uri_of(azurite, "photos/missing.jpg")) is False
    assert store.exists(uri_of(azurite)) is True


def test_connection_refused_is_transient(azurite):
    port = free_port()  # nothing listens there
    mapping = row(azurite, host=f"127.0.0.1:{port}/{ACCOUNT}")
    with pytest.raises(TransientStorageError) as caught:
        storage(mapping).stat(f"azure://127.0.0.1:{port}/{ACCOUNT}/photos/a.jpg")
    assert "connection refused" in caught.value.reason


def test_unknown_host_is_permanent(azurite):
    mapping = row(azurite, host=f"no-such-host.invalid:10000/{ACCOUNT}")
    with pytest.raises(PermanentStorageError) as caught:
        storage(mapping).stat(f"azure://no-such-host.invalid:10000/{ACCOUNT}/photos/a.jpg")
    assert "resolve" in caught.value.reason and "no-such-host.invalid" in caught.value.reason


class _SkewedHandler(http.server.BaseHTTPRequestHandler):
    """Answers like Azure does to a request stamped too far from its clock (403, its own Date an hour ahead)."""

    def log_message(self, *args):
        pass

    def date_time_string(self, timestamp=None):  # the Date header send_response writes
        return formatdate(time.time() + 3600, usegmt=True)

    def do_HEAD(self):
        self.send_response(403, "Server failed to authenticate the request.")
        self.send_header("x-ms-error-code", "AuthenticationFailed")
        self.send_header("Content-Length", "0")
        self.end_headers()


def test_clock_skew_is_named():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _SkewedHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        host = f"127.0.0.1:{server.server_address[1]}"
        mapping = {"host": f"{host}/{ACCOUNT}", "key": ACCOUNT, "secret": KEY, "azure_auth": "key",
                   "use_tls": False, "anonymous": False, "delivery": "proxy", "allow_private": True}
        with pytest.raises(StorageAccessDeniedError) as caught:
            storage(mapping).stat(f"azure://{host}/{ACCOUNT}/photos/a.jpg")
        assert "clock skew" in caught.value.reason and "+60 min" in caught.value.reason
    finally:
        server.shutdown()
        server.server_close()


# --- the address policy -----------------------------------------------------------------------------------------

def test_loopback_endpoint_needs_a_row_naming_it(azurite, photo):
    """Without a credential row for the host, a loopback endpoint is refused before any connection."""
    with pytest.raises(LocationNotAllowedError) as caught:
        storage(None).stat(uri_of(azurite))
    assert "loopback" in caught.value.reason
    other = row(azurite, host=f"127.0.0.1:1/{ACCOUNT}")  # a row for another host does not open this one
    with pytest.raises(LocationNotAllowedError):
        AzureBlobStorage(credentials_provider=lambda **_: other).stat(uri_of(azurite))
    own = row(azurite, allow_private=False)  # a user's own row never opens the server's network
    with pytest.raises(LocationNotAllowedError):
        AzureBlobStorage(credentials_provider=lambda **_: own).stat(uri_of(azurite))


# --- the Test button --------------------------------------------------------------------------------------------

def test_check_credential_lists_one_blob_or_container(azurite, photo):
    store = storage_for_uri("azure://photos/", credentials_provider=lambda **_: None)  # as the service builds it
    assert store.check_credential(row(azurite, bucket="photos")) == (
        f"connected to {azurite}/{ACCOUNT}, container 'photos': the first blob is '2011/000003 a.jpg'")
    assert store.check_credential(row(azurite)).startswith(f"connected to {azurite}/{ACCOUNT}: the first container")
    with pytest.raises(StorageNotFoundError) as caught:
        store.check_credential(row(azurite, bucket="no-such-container"))
    assert "container 'no-such-container' does not exist" in caught.value.reason
    with pytest.raises(StorageAccessDeniedError) as caught:
        store.check_credential(row(azurite, bucket="photos", secret=KEY[:-8] + "AAAAAAA="))
    assert "authentication failed" in caught.value.reason


def test_a_named_host_still_cannot_reach_link_local():
    mapping = {"host": f"169.254.169.254:80/{ACCOUNT}", "key": ACCOUNT, "secret": KEY, "azure_auth": "key",
               "use_tls": False, "anonymous": False, "delivery": "proxy", "allow_private": True}
    with pytest.raises(LocationNotAllowedError) as caught:
        storage(mapping).stat(f"azure://169.254.169.254:80/{ACCOUNT}/c/b.jpg")
    assert "link-local" in caught.value.reason


# --- URI forms --------------------------------------------------------------------------------------------------

def test_uri_forms():
    location = AzureBlobStorage().location("azure://myacct.blob.core.windows.net/frames/a/b%20c.tif")
    assert (location.host, location.account, location.container, location.blob) == (
        "myacct.blob.core.windows.net", "myacct", "frames", "a/b c.tif")
    assert location.blob_url() == "https://myacct.blob.core.windows.net/frames/a/b%20c.tif"
    emulator = AzureBlobStorage().location("azure://127.0.0.1:10000/devstoreaccount1/frames/x.png")
    assert (emulator.host, emulator.account, emulator.container) == ("127.0.0.1:10000/devstoreaccount1",
                                                                      "devstoreaccount1", "frames")
    assert emulator.endpoint(use_tls=False) == "http://127.0.0.1:10000/devstoreaccount1"
    for bad in ("azure://myacct.blob.core.windows.net/frames", "azure://myacct.blob.core.windows.net/",
                "azure://127.0.0.1:10000/devstoreaccount1/frames", "azure://myacct.blob.core.windows.net/c/b?sig=x"):
        with pytest.raises(InvalidURIError):
            AzureBlobStorage().stat(bad)


def test_https_azure_urls_route_to_azure_only_with_a_row():
    url = "https://myacct.blob.core.windows.net/frames/a.jpg"
    location = azure_blob_location(url)
    assert (location.host, location.container, location.blob, location.scheme) == (
        "myacct.blob.core.windows.net", "frames", "a.jpg", "https")
    assert azure_blob_location("https://example.com/frames/a.jpg") is None
    assert azure_blob_location("https://myacct.blob.core.windows.net/frames") is None
    assert azure_storage_for_url(url, credentials_provider=lambda **_: None) is None
    assert isinstance(storage_for_uri(url), HttpStorage)  # no row names the account: a plain https URL
    mapping = {"host": "myacct.blob.core.windows.net", "secret": KEY, "azure_auth": "key", "delivery": "signed"}
    routed = azure_storage_for_url(url, credentials_provider=provider_of(mapping))
    assert isinstance(routed, AzureBlobStorage)
    assert isinstance(storage_for_uri(url, credentials_provider=provider_of(mapping)), AzureBlobStorage)  # routed
    assert isinstance(storage_for_uri("https://example.com/a.jpg", credentials_provider=provider_of(mapping)), HttpStorage)
    signed = routed.signed_url(url, expires=60)
    assert signed.startswith(url + "?") and "sig=" in signed
    # a row "by account": host "" and the account in ``key``
    by_account = {"host": "", "key": "myacct", "secret": KEY, "azure_auth": "key", "delivery": "signed"}
    assert isinstance(azure_storage_for_url(url, credentials_provider=provider_of(by_account)), AzureBlobStorage)
    other = dict(by_account, key="otheracct")
    assert azure_storage_for_url(url, credentials_provider=provider_of(other)) is None


# --- through a Settings row -------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_a_settings_row_reads_through_the_credentials_provider(azurite, photo, admin_user):
    """The whole path: a row saved by the service, chosen by the selectors' provider, read by the storage."""
    credential = credential_create(user=admin_user, data={
        "provider": "azure", "name": "Azurite", "host": f"{azurite}/{ACCOUNT}", "bucket": "photos", "key": ACCOUNT,
        "secret": KEY, "azure_auth": "key", "use_tls": False, "delivery": "signed"})
    assert credential_test(user=admin_user, credential=credential)["ok"]
    store = storage_for_uri(uri_of(azurite), credentials_provider=credentials_provider(user=admin_user))
    with store.open(uri_of(azurite)) as handle:
        assert handle.read() == photo
    assert requests.get(store.signed_url(uri_of(azurite), expires=60), timeout=10).content == photo
