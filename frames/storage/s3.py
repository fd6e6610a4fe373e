"""s3:// sources: Amazon S3 and S3-compatible servers (MinIO, Ceph, moto...), read with boto3.

URI forms: ``s3://bucket/key`` (AWS, or the endpoint of a credential row with an empty host) and
``s3://host:port/bucket/key`` (an S3-compatible server: a first part with a ``:port`` is a host). The credential
row (``credentials_for(host, "s3", bucket=...)``, see frames.selectors.credentials) gives the keys, region,
``use_tls`` (http or https to the row's host), ``anonymous`` (unsigned requests, public buckets) and ``delivery``
("signed": :meth:`S3Storage.signed_url` presigns a short GET; else None and the media proxy streams).

Every connection goes through the address policy (:mod:`.netguard`): an endpoint on a loopback or private
address is reached only because a credential row made by staff (``allow_private``: a shared row or a staff
member's own) names exactly that host:port; link-local (the metadata service) never. Without a row nothing is
signed (boto3 never looks for credentials in the environment or the instance metadata endpoint).

``open(seekable=True)`` of an object larger than ``HYPERDATA_FETCH_SPOOL_BYTES`` is not downloaded: it is a
seekable file whose reads are ranged GETs (``HYPERDATA_FETCH_RANGE_BYTES`` read-ahead, 1 MiB), so PyAV and TIFF
readers fetch only what they seek to. Smaller objects are downloaded once into memory, like any remote object.
"""
from __future__ import annotations

import io
import threading
from collections.abc import Mapping
from datetime import timedelta
from typing import BinaryIO

import boto3
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError, ClientError, ConnectTimeoutError, EndpointConnectionError, HTTPClientError, ReadTimeoutError,
)

from .base import RemoteStorage, StorageStat, register_storage, setting
from .cloud import open_seekable, parse_bucket_uri
from .errors import (
    InvalidURIError, LocationNotAllowedError, PermanentStorageError, StorageAccessDeniedError, StorageError,
    StorageNotFoundError, TransientStorageError,
)
from .netguard import AddressPolicy, vetting_pool_manager

MAX_SIGNED_SECONDS = 7 * 24 * 3600  # SigV4's limit
_TRANSIENT_CODES = {"SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout", "Throttling", "ThrottlingException"}
_DENIED = {
    "AccessDenied": "access denied",
    "AllAccessDisabled": "access denied (all access to this object is disabled)",
    "InvalidAccessKeyId": "access denied: the access key id is not known to the server",
    "SignatureDoesNotMatch": "access denied: the secret key is wrong (the request signature does not match)",
    "InvalidToken": "access denied: the session token is not valid",
    "ExpiredToken": "access denied: the session token has expired",
    "403": "access denied",
    "401": "access denied",
}


def parse_s3_uri(uri: str) -> tuple[str, str, str]:
    """(host, bucket, key): host is "" for ``s3://bucket/key``, "host:port" for ``s3://host:port/bucket/key``."""
    return parse_bucket_uri(uri, "s3")


def _endpoint(host: str, credential: Mapping | None) -> str | None:
    if not host:
        return None
    tls = credential.get("use_tls", True) if credential else True
    return f"{'https' if tls else 'http'}://{host}"


def _host_port(host: str, tls: bool) -> tuple[str, int]:
    name, _, port = host.rpartition(":")
    return (name, int(port)) if name and port.isdigit() else (host, 443 if tls else 80)


_local = threading.local()


def _session() -> boto3.session.Session:
    """This thread's boto3 session: creating one loads botocore's service models (~100 ms), a client from a warm
    session takes a few ms. Credentials are never the session's: each client gets the row's, or signs nothing."""
    if getattr(_local, "session", None) is None:
        _local.session = boto3.session.Session()
    return _local.session


def make_client(host: str, credential: Mapping | None):
    """A boto3 S3 client for ``host`` ("" = AWS) whose connections go through the address policy."""
    anonymous = credential is None or credential.get("anonymous") or not credential.get("key")
    config = Config(
        signature_version=UNSIGNED if anonymous else "s3v4",
        s3={"addressing_style": "path" if host else "auto"},
        connect_timeout=float(setting("HYPERDATA_FETCH_CONNECT_TIMEOUT")),
        read_timeout=float(setting("HYPERDATA_FETCH_READ_TIMEOUT")),
        retries={"total_max_attempts": 1},  # the tasks retry with back-off; a request must fail fast
        proxies={},  # never the environment's proxies: a proxy would resolve names past the address policy
    )
    keys = {} if anonymous else {  # UNSIGNED clients load no credentials at all (not the environment's)
        "aws_access_key_id": credential["key"], "aws_secret_access_key": credential.get("secret") or "",
        "aws_session_token": credential.get("token") or None,
    }
    client = _session().client(
        "s3", endpoint_url=_endpoint(host, credential), region_name=(credential or {}).get("region") or "us-east-1",
        config=config, verify=setting("HYPERDATA_FETCH_CA_BUNDLE") or True, **keys,
    )
    named = host and credential and credential.get("allow_private")  # a row made by staff: private hosts allowed
    named = [_host_port(host, bool(credential.get("use_tls", True)))] if named else []
    http = client._endpoint.http_session  # botocore's URLLib3Session: its pool manager is swapped for a vetting one
    manager = vetting_pool_manager(AddressPolicy.from_settings(named), **http._get_pool_manager_kwargs())
    manager.pool_classes_by_scheme = http._manager.pool_classes_by_scheme
    http._manager = manager
    return client


def _cause(exc: BaseException) -> BaseException:
    """The StorageError the address policy raised inside botocore, else the innermost cause (e.g. the
    ConnectionRefusedError)."""
    seen = set()
    while not isinstance(exc, StorageError) and id(exc) not in seen:
        seen.add(id(exc))
        inner = getattr(exc, "kwargs", {}).get("error") if isinstance(exc, BotoCoreError) else None
        if not isinstance(inner, BaseException):
            inner = getattr(exc, "reason", None) if isinstance(getattr(exc, "reason", None), BaseException) else None
        inner = inner or exc.__cause__ or exc.__context__
        if inner is None:
            break
        exc = inner
    return exc


def translate(exc: Exception, uri: str, *, bucket: str = "", host: str = "") -> StorageError:
    """A boto3/botocore exception as a StorageError with a plain reason."""
    where = host or "AWS S3"
    if isinstance(exc, StorageError):
        return exc
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        if code == "NoSuchBucket":
            return StorageNotFoundError(f"the bucket {bucket!r} does not exist on {where}", uri)
        if code in ("NoSuchKey", "404", "NotFound"):
            return StorageNotFoundError("the object does not exist", uri)
        if code in _DENIED:
            return StorageAccessDeniedError(_DENIED[code], uri)
        if code == "RequestTimeTooSkewed":
            return PermanentStorageError("this server's clock differs too much from the storage server's "
                                         "(RequestTimeTooSkewed): set the clock right (NTP)", uri)
        if code in _TRANSIENT_CODES or status >= 500 or status == 429:
            return TransientStorageError(f"the storage server is busy or failing ({code or status})", uri)
        return PermanentStorageError(f"{code or status}: {error.get('Message') or 'request refused'}", uri)
    if isinstance(exc, (ConnectTimeoutError, ReadTimeoutError)):
        return TransientStorageError(f"timed out talking to {where}", uri)
    cause = _cause(exc)
    if isinstance(cause, LocationNotAllowedError) and host:
        return LocationNotAllowedError(f"{cause.reason}; a credential row opens a private or loopback server only "
                                       "when staff made it (a shared row, or a staff member's own)", uri)
    if isinstance(cause, StorageError):
        return type(cause)(cause.reason, uri)
    if isinstance(cause, ConnectionRefusedError):
        return TransientStorageError(f"connection refused by {where} (is the server running on that port?)", uri)
    if isinstance(exc, (EndpointConnectionError, HTTPClientError)):
        text = getattr(cause, "strerror", None) or str(cause)
        return TransientStorageError(f"cannot connect to {where}: {text}", uri)
    return PermanentStorageError(f"S3 request failed: {exc}", uri)


class _Body(io.RawIOBase):
    """A GetObject body (all of it, or one range), its errors translated."""

    def __init__(self, body, uri: str, size: int | None):
        super().__init__()
        self._body, self._uri, self.size = body, uri, size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        try:
            data = self._body.read(len(buffer))
        except Exception as exc:  # noqa: BLE001 - urllib3/botocore read errors: the connection broke
            raise TransientStorageError(f"the connection broke while reading: {exc}", self._uri) from exc
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            try:
                self._body.close()
            finally:
                super().close()


@register_storage
class S3Storage(RemoteStorage):
    schemes = ("s3",)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._clients: dict[tuple[str, str], tuple] = {}  # (host, bucket) -> (client, credential): ranged reads reuse it

    def _client_for(self, uri: str):
        host, bucket, key = parse_s3_uri(uri)
        if not key:
            raise InvalidURIError("the URI names a bucket but no object", uri)
        if (host, bucket) not in self._clients:
            credential = self.credentials_for(host, "s3", bucket=bucket)
            self._clients[host, bucket] = (make_client(host, credential), credential)
        client, credential = self._clients[host, bucket]
        return client, credential, host, bucket, key

    def _call(self, uri: str, method: str, **kwargs):
        client, _credential, host, bucket, key = self._client_for(uri)
        try:
            return getattr(client, method)(Bucket=bucket, Key=key, **kwargs)
        except Exception as exc:  # noqa: BLE001 - every botocore failure becomes a StorageError
            error = translate(exc, uri, bucket=bucket, host=host)
            if isinstance(error, StorageNotFoundError) and method == "head_object":
                error = self._missing_bucket_or_object(client, uri, bucket, host) or error
            raise error from exc

    def _missing_bucket_or_object(self, client, uri: str, bucket: str, host: str) -> StorageError | None:
        """HeadObject's 404 does not say whether the bucket is missing: ask."""
        try:
            client.head_bucket(Bucket=bucket)
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code")) in ("404", "NoSuchBucket"):
                return StorageNotFoundError(f"the bucket {bucket!r} does not exist on {host or 'AWS S3'}", uri)
        except Exception:  # noqa: BLE001 - keep the first answer
            return None
        return None

    def _get(self, uri: str, byte_range: str | None = None) -> _Body:
        answer = self._call(uri, "get_object", **({"Range": byte_range} if byte_range else {}))
        return _Body(answer["Body"], uri, answer.get("ContentLength"))

    def _open_stream(self, uri: str) -> BinaryIO:
        return self._get(uri)

    def stat(self, uri: str) -> StorageStat:
        answer = self._call(uri, "head_object")
        modified = answer.get("LastModified")
        return StorageStat(size=answer.get("ContentLength"), etag=answer.get("ETag"),
                           mtime=modified.timestamp() if modified else None, content_type=answer.get("ContentType"))

    def open_range(self, uri: str, offset: int, length: int) -> _Body:
        return self._get(uri, f"bytes={offset}-{offset + length - 1}")

    def open(self, uri: str, *, seekable: bool = True) -> BinaryIO:
        return (seekable and open_seekable(self, uri)) or super().open(uri, seekable=seekable)

    def signed_url(self, uri: str, expires: int | timedelta = 900) -> str | None:
        """A presigned GET when the row's delivery is "signed" (anonymous rows: the plain object URL); else None."""
        client, credential, host, bucket, key = self._client_for(uri)
        if not credential or credential.get("delivery") != "signed":
            return None
        seconds = int(expires.total_seconds() if isinstance(expires, timedelta) else expires)
        seconds = max(1, min(seconds, MAX_SIGNED_SECONDS))
        return client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=seconds)

    def check_credential(self, credential: Mapping) -> str:
        host, bucket = credential.get("host", ""), credential.get("bucket", "")
        where = host or "AWS S3"
        client, uri = make_client(host, credential), f"s3://{host + '/' if host else ''}{bucket}"
        try:
            if not bucket:
                names = [b["Name"] for b in client.list_buckets().get("Buckets", [])]
                return f"connected to {where}: {len(names)} bucket(s)" + (f", e.g. {names[0]}" if names else "")
            answer = client.list_objects_v2(Bucket=bucket, MaxKeys=1)
        except Exception as exc:  # noqa: BLE001
            raise translate(exc, uri, bucket=bucket, host=host) from exc
        first = [item["Key"] for item in answer.get("Contents", [])]
        found = f"the first object is {first[0]!r}" if first else "the bucket is empty"
        return f"connected to {where}, bucket {bucket!r}: {found}"
