"""http(s):// sources, fetched with requests through the address policy of :mod:`.netguard`.

Redirects are followed by hand (at most ``MAX_REDIRECTS``), each hop re-checked (scheme, and the address at
connect time); responses are streamed, never loaded whole into memory. Per-host credentials: when the credentials
provider returns ``{"headers": {...}}`` for a host, those headers are sent to that host only (each redirect hop
asks for its own host's headers, so a redirect never carries one host's credentials to another).
"""
from __future__ import annotations

import io
import re
import time
from email.utils import parsedate_to_datetime
from typing import BinaryIO
from urllib.parse import urljoin, urlsplit

import requests
from urllib3.exceptions import DecodeError, HTTPError as Urllib3HTTPError, MaxRetryError, ReadTimeoutError

from .base import RemoteStorage, StorageStat, register_storage, setting
from .errors import (
    InvalidURIError,
    LocationNotAllowedError,
    PermanentStorageError,
    StorageAccessDeniedError,
    StorageError,
    StorageNotFoundError,
    TransientStorageError,
    redact_uri,
)
from .netguard import vetted_session

MAX_REDIRECTS = 5
USER_AGENT = "HyperData-media-fetcher/1"
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_TRANSIENT_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504, 507, 509, 520, 521, 522, 523, 524, 598, 599})
_CONTENT_RANGE = re.compile(r"^\s*bytes\s+\d+-\d+/(\d+)\s*$", re.IGNORECASE)


def _root_cause(exc: BaseException) -> BaseException:
    """The innermost cause of a requests/urllib3 exception (e.g. the ConnectionRefusedError)."""
    current, seen = exc, set()
    while id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, MaxRetryError) and current.reason is not None:
            nxt = current.reason
        elif current.args and isinstance(current.args[0], BaseException):
            nxt = current.args[0]
        else:
            nxt = current.__cause__
        if nxt is None:
            break
        current = nxt
    return current


def _describe(exc: BaseException) -> str:
    cause = _root_cause(exc)
    if isinstance(cause, OSError) and cause.strerror:
        return cause.strerror
    text = str(cause)
    return text.split(": ", 1)[1] if text.startswith(("HTTPConnection(", "HTTPSConnection(")) else text


def _translate(exc: requests.RequestException, uri: str) -> StorageError:
    """A requests exception as a StorageError of the right kind."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return TransientStorageError("timed out connecting to the server", uri)
    if isinstance(exc, requests.exceptions.Timeout):
        return TransientStorageError("timed out waiting for the server", uri)
    if isinstance(exc, requests.exceptions.SSLError):
        text = _describe(exc)
        if "certificate" in text.lower() or "hostname" in text.lower():
            return PermanentStorageError(f"TLS certificate not accepted: {text}", uri)
        return TransientStorageError(f"TLS error: {text}", uri)
    if isinstance(exc, (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema,
                        requests.exceptions.InvalidSchema, requests.exceptions.URLRequired,
                        requests.exceptions.InvalidHeader)):
        return InvalidURIError(f"invalid URL: {_describe(exc)}", uri)
    if isinstance(exc, requests.exceptions.ContentDecodingError):
        return PermanentStorageError("the response body cannot be decoded", uri)
    return TransientStorageError(f"connection failed: {_describe(exc)}", uri)


def _retry_after(response: requests.Response) -> float | None:
    value = (response.headers.get("Retry-After") or "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _raise_for_status(response: requests.Response, uri: str) -> None:
    code = response.status_code
    if 200 <= code < 300:
        return
    text = f"HTTP {code} {response.reason or ''}".strip()
    response.close()
    if code in (404, 410):
        raise StorageNotFoundError(text, uri)
    if code in (401, 403):
        raise StorageAccessDeniedError(text, uri)
    if code in _TRANSIENT_STATUSES:
        raise TransientStorageError(text, uri, retry_after=_retry_after(response))
    raise PermanentStorageError(text, uri)


def _known_length(response: requests.Response) -> int | None:
    length = response.headers.get("Content-Length", "")
    encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
    return int(length) if length.isdigit() and encoding in ("", "identity") else None


class _HttpBody(io.RawIOBase):
    """The body of a streamed response; closing it closes the response and its session."""

    def __init__(self, session: requests.Session, response: requests.Response, uri: str):
        super().__init__()
        self._session, self._response, self._uri = session, response, uri
        self.size = _known_length(response)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        try:
            data = self._response.raw.read(len(buffer), decode_content=True)
        except ReadTimeoutError as exc:
            raise TransientStorageError("timed out reading the response", self._uri) from exc
        except DecodeError as exc:
            raise PermanentStorageError("the response body cannot be decoded", self._uri) from exc
        except (Urllib3HTTPError, OSError) as exc:
            raise TransientStorageError(f"the connection broke while reading: {_describe(exc)}", self._uri) from exc
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            try:
                self._response.close()
                self._session.close()
            finally:
                super().close()


@register_storage
class HttpStorage(RemoteStorage):
    schemes = ("http", "https")

    def _check_url(self, url: str, uri: str, *, redirected: bool) -> None:
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 - raises ValueError for a bad port
        except ValueError as exc:
            raise InvalidURIError(f"malformed URL: {exc}", uri) from exc
        if parts.scheme.lower() not in self.schemes:
            if redirected:
                raise LocationNotAllowedError(f"redirected to a non-http(s) URL {redact_uri(url)}", uri)
            raise InvalidURIError("not an http(s) URL", uri)
        if not parts.hostname:
            raise InvalidURIError("the URL has no host", uri)

    def _headers(self, url: str, extra: dict | None) -> dict:
        parts = urlsplit(url)
        headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
        credentials = self.credentials_for(parts.hostname or "", parts.scheme.lower())
        if credentials and credentials.get("headers"):
            headers.update(credentials["headers"])
        headers.update(extra or {})
        return headers

    def _send(self, method: str, uri: str, *, headers: dict | None = None, check_status: bool = True):
        """(session, response) for ``uri`` after following redirects; the caller closes both."""
        session = vetted_session()
        session.verify = setting("HYPERDATA_FETCH_CA_BUNDLE") or True
        timeout = (float(setting("HYPERDATA_FETCH_CONNECT_TIMEOUT")), float(setting("HYPERDATA_FETCH_READ_TIMEOUT")))
        try:
            url = uri
            for hop in range(MAX_REDIRECTS + 1):
                self._check_url(url, uri, redirected=hop > 0)
                try:
                    response = session.request(
                        method, url, headers=self._headers(url, headers), allow_redirects=False, stream=True,
                        timeout=timeout,
                    )
                except requests.RequestException as exc:
                    raise _translate(exc, uri) from exc
                except StorageError as exc:  # refused by the address policy while connecting
                    reason = exc.reason if hop == 0 else f"{exc.reason} (after a redirect to {redact_uri(url)})"
                    raise type(exc)(reason, uri) from exc
                if response.status_code in _REDIRECT_STATUSES and response.headers.get("Location"):
                    target = session.get_redirect_target(response)
                    response.close()
                    url = urljoin(url, target)
                    continue
                if check_status:
                    _raise_for_status(response, uri)
                return session, response
            raise PermanentStorageError(f"too many redirects (more than {MAX_REDIRECTS})", uri)
        except BaseException:
            session.close()
            raise

    def _open_stream(self, uri: str) -> BinaryIO:
        session, response = self._send("GET", uri)
        return _HttpBody(session, response, uri)

    def stat(self, uri: str) -> StorageStat:
        session, response = self._send("HEAD", uri, check_status=False)
        try:
            if response.status_code in (403, 405, 501):  # HEAD refused (e.g. GET-only signed URLs): ask for 1 byte
                response.close()
                session.close()
                session, response = self._send("GET", uri, headers={"Range": "bytes=0-0"})
            else:
                _raise_for_status(response, uri)
            headers = response.headers
            size = _known_length(response)
            if response.status_code == 206:
                match = _CONTENT_RANGE.match(headers.get("Content-Range", ""))
                size = int(match.group(1)) if match else None
            mtime = None
            if headers.get("Last-Modified"):
                try:
                    mtime = parsedate_to_datetime(headers["Last-Modified"]).timestamp()
                except (TypeError, ValueError):
                    mtime = None
            content_type = (headers.get("Content-Type") or "").split(";", 1)[0].strip() or None
            return StorageStat(size=size, etag=headers.get("ETag"), mtime=mtime, content_type=content_type)
        finally:
            response.close()
            session.close()
