"""Google Cloud Storage: ``gs://bucket/key``, and ``gs://host:port/bucket/key`` for a GCS-compatible server or an
emulator (a first path part with a ``:port`` is a host, as for S3).

Objects are read through the JSON API (``/storage/v1/b/<bucket>/o/<object>``, ``alt=media`` with a ``Range`` header
for partial reads) with ``requests`` on a :mod:`.netguard` session, so every address is vetted; a private or loopback
endpoint is allowed only when the credential row names that host (:mod:`.cloud`); a seekable ``open()`` of a large
object reads by ranges. The key is the object name as written (not
percent-decoded, as gsutil reads it).

Credentials: ``credentials_for(host, "gs", bucket=...)`` with host "" for Google. Keys read: ``secret`` (the service
account's JSON key file), ``anonymous`` (public bucket: no token), ``use_tls`` (http or https to the row's host),
``delivery`` ("signed": :meth:`GcsStorage.signed_url` makes a V4 signed URL with the service account's key, see
:func:`sign_v4_url`) and ``host``. An OAuth token is fetched from the JSON's ``token_uri`` (vetted like any other
address) and reused until shortly before it expires.
"""
from __future__ import annotations

import binascii
import hashlib
import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import BinaryIO
from urllib.parse import quote, urlsplit

import google.auth.exceptions
import google.auth.transport.requests
import requests
from google.oauth2 import service_account

from .base import RemoteStorage, StorageStat, register_storage, setting
from .cloud import cloud_endpoint_policy, open_seekable, parse_bucket_uri, row_opens_endpoint
from .errors import (
    PermanentStorageError,
    StorageAccessDeniedError,
    StorageError,
    StorageNotFoundError,
    TransientStorageError,
)
from .http import _HttpBody, _translate as _translate_request
from .netguard import AddressPolicy, vetted_session

GOOGLE_ENDPOINT = "https://storage.googleapis.com"
READ_ONLY_SCOPE = "https://www.googleapis.com/auth/devstorage.read_only"
MAX_SIGNED_SECONDS = 7 * 24 * 3600  # the longest a V4 signed URL may live
_TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
_SKEW_WORDS = ("reasonable timeframe", "iat", "exp values", "clock")
_TOKENS: dict[tuple, tuple[str, float]] = {}  # (client_email, key id, token_uri) -> (token, expires at)
_TOKENS_LOCK = threading.Lock()


@dataclass(frozen=True)
class _Target:
    host: str  # "" for Google, "host:port" for another server
    bucket: str
    key: str
    credentials: Mapping | None

    @property
    def named(self) -> bool:
        """The credential row opens this endpoint's private or loopback address (cloud.row_opens_endpoint)."""
        return row_opens_endpoint(self.credentials, self.host)

    @property
    def endpoint(self) -> str:
        if not self.host:
            return GOOGLE_ENDPOINT
        tls = self.credentials.get("use_tls", True) if self.credentials else True
        return f"{'https' if tls else 'http'}://{self.host}"

    @property
    def where(self) -> str:
        return self.host or "Google Cloud Storage"

    def object_url(self) -> str:
        return f"{self.endpoint}/storage/v1/b/{quote(self.bucket, safe='')}/o/{quote(self.key, safe='')}"


def parse_gs_uri(uri: str) -> tuple[str, str, str]:
    """(host, bucket, key): host is "" for ``gs://bucket/key``, "host:port" for ``gs://host:port/bucket/key``."""
    return parse_bucket_uri(uri, "gs", key_required=True)


def _service_account_info(credentials: Mapping | None, uri: str) -> dict | None:
    """The service account's JSON key as a dict, or None for anonymous access."""
    if not credentials or credentials.get("anonymous") or not credentials.get("secret"):
        return None
    try:
        info = json.loads(credentials["secret"])
    except ValueError as exc:
        raise PermanentStorageError("the service account key is not valid JSON", uri) from exc
    if not isinstance(info, dict) or not info.get("client_email") or not info.get("private_key"):
        raise PermanentStorageError("the service account key has no client_email or private_key", uri)
    return info


def _token(info: dict, uri: str) -> str:
    """An OAuth access token for ``info``, from the cache while it has more than a minute left."""
    cache_key = (info["client_email"], info.get("private_key_id"), info.get("token_uri"))
    with _TOKENS_LOCK:
        token, expires_at = _TOKENS.get(cache_key, ("", 0.0))
    if token and expires_at - time.time() > 60:
        return token
    session = vetted_session(AddressPolicy.from_settings())
    try:
        creds = service_account.Credentials.from_service_account_info(info, scopes=[READ_ONLY_SCOPE])
        creds.refresh(google.auth.transport.requests.Request(session=session))
    except StorageError as exc:  # the token_uri's address was refused or does not resolve
        raise type(exc)(f"getting an access token: {exc.reason}", uri) from exc
    except google.auth.exceptions.RefreshError as exc:
        text = str(exc.args[0] if exc.args else exc)
        if any(word in text.lower() for word in _SKEW_WORDS):
            raise StorageAccessDeniedError("clock skew: Google refused the token request's time; check this "
                                           f"machine's clock ({text})", uri) from exc
        raise StorageAccessDeniedError(f"authentication failed: Google refused the service account key ({text})",
                                       uri) from exc
    except google.auth.exceptions.TransportError as exc:
        raise TransientStorageError(f"cannot reach the token endpoint: {exc}", uri) from exc
    except ValueError as exc:  # a malformed private key
        raise PermanentStorageError(f"the service account key cannot be used: {exc}", uri) from exc
    finally:
        session.close()
    expiry = creds.expiry.replace(tzinfo=timezone.utc).timestamp() if creds.expiry else time.time() + 300
    with _TOKENS_LOCK:
        _TOKENS[cache_key] = (creds.token, expiry)
    return creds.token


def _error_message(response: requests.Response) -> str:
    try:
        return str(response.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return ""


def _raise_for_status(response: requests.Response, target: _Target, uri: str) -> None:
    code = response.status_code
    if 200 <= code < 300:
        return
    message = _error_message(response) if code in (401, 403, 404) else ""
    response.close()
    if code == 404:
        if "bucket" in message.lower():
            raise StorageNotFoundError(f"bucket {target.bucket!r} does not exist on {target.where}", uri)
        raise StorageNotFoundError("object not found" + (f" ({message})" if message else ""), uri)
    if code == 401:
        raise StorageAccessDeniedError("authentication failed: the service account's token was not accepted"
                                       + (f" ({message})" if message else ""), uri)
    if code == 403:
        raise StorageAccessDeniedError("access denied" + (f": {message}" if message else ""), uri)
    if code in _TRANSIENT_STATUSES or code >= 500:
        raise TransientStorageError(f"{target.where} answered HTTP {code}", uri)
    raise PermanentStorageError(f"{target.where} refused the request: HTTP {code} {message}".strip(), uri)


def _describe_failure(exc: requests.RequestException, target: _Target, uri: str) -> StorageError:
    error = _translate_request(exc, uri)
    if "refused" in error.reason.lower():
        return TransientStorageError(f"connection refused by {target.where}", uri)
    return error


def sign_v4_url(info: Mapping, bucket: str, key: str, *, expires: int, endpoint: str = GOOGLE_ENDPOINT,
                method: str = "GET", now: datetime | None = None) -> str:
    """A V4 signed URL (Google's "GOOG4-RSA-SHA256" query-string signing, host the only signed header) for
    ``bucket``/``key``, valid ``expires`` seconds from ``now``, signed with the service account's private key."""
    now = now or datetime.now(timezone.utc)
    stamp, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    scope = f"{day}/auto/storage/goog4_request"
    parts = urlsplit(endpoint)
    path = f"{parts.path.rstrip('/')}/{quote(bucket, safe='')}/{quote(key, safe='/~')}"
    query = {
        "X-Goog-Algorithm": "GOOG4-RSA-SHA256",
        "X-Goog-Credential": f"{info['client_email']}/{scope}",
        "X-Goog-Date": stamp,
        "X-Goog-Expires": str(int(expires)),
        "X-Goog-SignedHeaders": "host",
    }
    canonical_query = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(query.items()))
    canonical_request = "\n".join(
        [method, path, canonical_query, f"host:{parts.netloc.lower()}", "", "host", "UNSIGNED-PAYLOAD"]
    )
    string_to_sign = "\n".join(
        ["GOOG4-RSA-SHA256", stamp, scope, hashlib.sha256(canonical_request.encode()).hexdigest()]
    )
    signer = service_account.Credentials.from_service_account_info(dict(info))
    signature = binascii.hexlify(signer.sign_bytes(string_to_sign.encode())).decode()
    return f"{parts.scheme}://{parts.netloc}{path}?{canonical_query}&X-Goog-Signature={signature}"


@register_storage
class GcsStorage(RemoteStorage):
    """Objects in Google Cloud Storage (or an emulator), with a service account's key or anonymously.
    ``open_range`` streams a byte range (video, tiled TIFF) without downloading the whole object."""

    schemes = ("gs",)

    def _target(self, uri: str) -> _Target:
        host, bucket, key = parse_gs_uri(uri)
        return _Target(host, bucket, key, self.credentials_for(host, "gs", bucket=bucket))

    def _get(self, url: str, target: _Target, uri: str, *, params=None, headers=None):
        """(session, response) for a GET on the endpoint, status checked; the caller closes both."""
        info = _service_account_info(target.credentials, uri)
        headers = {"User-Agent": "HyperData-media-fetcher/1", "Accept-Encoding": "identity", **(headers or {})}
        if info is not None:
            headers["Authorization"] = f"Bearer {_token(info, uri)}"
        session = vetted_session(cloud_endpoint_policy(target.named))
        session.verify = setting("HYPERDATA_FETCH_CA_BUNDLE") or True
        timeout = (float(setting("HYPERDATA_FETCH_CONNECT_TIMEOUT")), float(setting("HYPERDATA_FETCH_READ_TIMEOUT")))
        try:
            try:
                response = session.get(url, params=params, headers=headers, timeout=timeout, stream=True,
                                       allow_redirects=False)
            except requests.RequestException as exc:
                raise _describe_failure(exc, target, uri) from exc
            except StorageError as exc:  # refused by the address policy, or the name does not resolve
                raise type(exc)(exc.reason, uri) from exc
            try:
                _raise_for_status(response, target, uri)
            except StorageNotFoundError as exc:
                if "does not exist" in exc.reason or not self._bucket_missing(session, target, headers, timeout):
                    raise
                raise StorageNotFoundError(f"bucket {target.bucket!r} does not exist on {target.where}", uri) from exc
            return session, response
        except BaseException:
            session.close()
            raise

    @staticmethod
    def _bucket_missing(session, target: _Target, headers: dict, timeout) -> bool:
        """After a 404 (an emulator does not say why): does the bucket itself exist? One more small request."""
        if not target.key:
            return True  # a bucket listing answered 404: the bucket is missing
        url = f"{target.endpoint}/storage/v1/b/{quote(target.bucket, safe='')}"
        try:
            with session.get(url, headers=headers, timeout=timeout, allow_redirects=False) as response:
                return response.status_code == 404
        except (requests.RequestException, StorageError):
            return False

    def open_range(self, uri: str, offset: int = 0, length: int | None = None) -> BinaryIO:
        """A forward-only stream of ``length`` bytes (to the end when None) from ``offset``; close it after use."""
        target = self._target(uri)
        headers = {}
        if offset or length is not None:
            end = "" if length is None else str(offset + length - 1)
            headers["Range"] = f"bytes={offset}-{end}"
        session, response = self._get(target.object_url(), target, uri, params={"alt": "media"}, headers=headers)
        if headers and response.status_code != 206:
            response.close()
            session.close()
            raise PermanentStorageError(f"{target.where} ignored the byte range", uri)
        return _HttpBody(session, response, uri)

    def _open_stream(self, uri: str) -> BinaryIO:
        return self.open_range(uri)

    def open(self, uri: str, *, seekable: bool = True) -> BinaryIO:
        return (seekable and open_seekable(self, uri)) or super().open(uri, seekable=seekable)

    def stat(self, uri: str) -> StorageStat:
        target = self._target(uri)
        session, response = self._get(target.object_url(), target, uri)
        try:
            meta = response.json()
        except ValueError as exc:
            raise TransientStorageError(f"{target.where} answered with something that is not JSON", uri) from exc
        finally:
            response.close()
            session.close()
        updated = meta.get("updated")
        try:
            mtime = datetime.fromisoformat(updated.replace("Z", "+00:00")).timestamp() if updated else None
        except ValueError:
            mtime = None
        size = meta.get("size")
        return StorageStat(size=int(size) if size is not None else None, etag=meta.get("etag") or meta.get("md5Hash"),
                           mtime=mtime, content_type=meta.get("contentType") or None)

    def signed_url(self, uri: str, expires: int | timedelta = 3600) -> str | None:
        """A V4 signed GET URL when the row's delivery is "signed" and it holds a service account key (an anonymous
        row: the plain public URL); else None (the object is then served through the media proxy)."""
        target = self._target(uri)
        if not target.credentials or target.credentials.get("delivery") != "signed":
            return None
        info = _service_account_info(target.credentials, uri)
        if info is None:
            return f"{target.endpoint}/{quote(target.bucket, safe='')}/{quote(target.key, safe='/~')}"
        seconds = int(expires.total_seconds() if isinstance(expires, timedelta) else expires)
        return sign_v4_url(info, target.bucket, target.key, expires=max(1, min(seconds, MAX_SIGNED_SECONDS)),
                           endpoint=target.endpoint)

    def check_credential(self, credential: Mapping) -> str:
        """Settings' Test button: list one object of the row's bucket (or one bucket of the project)."""
        host, bucket = (credential.get("host") or "").lower(), credential.get("bucket") or ""
        target = _Target(host, bucket, "", credential)
        uri = f"gs://{host + '/' if host else ''}{bucket}"
        if bucket:
            url, params = f"{target.endpoint}/storage/v1/b/{quote(bucket, safe='')}/o", {"maxResults": "1"}
        else:
            info = _service_account_info(credential, uri)
            if info is None or not info.get("project_id"):
                raise PermanentStorageError("name a bucket to test anonymous access (or give a service account key "
                                            "with its project_id to list the project's buckets)", uri)
            url, params = f"{target.endpoint}/storage/v1/b", {"project": info["project_id"], "maxResults": "1"}
        session, response = self._get(url, target, uri, params=params)
        try:
            items = [item.get("name") for item in response.json().get("items", [])]
        except ValueError as exc:
            raise TransientStorageError(f"{target.where} answered with something that is not JSON", uri) from exc
        finally:
            response.close()
            session.close()
        if not bucket:
            return f"connected to {target.where}: " + (f"the first bucket is {items[0]!r}" if items else "no buckets")
        found = f"the first object is {items[0]!r}" if items else "the bucket is empty"
        return f"connected to {target.where}, bucket {bucket!r}: {found}"


__all__ = ["GcsStorage", "parse_gs_uri", "sign_v4_url"]
