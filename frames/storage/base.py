"""The storage base classes, the URI-scheme registry and the settings they read.

``MediaStorage`` is "a place media lives". A provider is one small subclass naming its URI ``schemes`` and
registered with :func:`register_storage`; :func:`storage_for_uri` picks it by scheme, so callers never branch on
the provider. Remote providers (http now; S3, GCS and Azure with the cloud-access issue) subclass
:class:`RemoteStorage` and implement only three things:

* ``_open_stream(uri)``: a forward-only binary stream of the object's bytes (optionally with a ``size``
  attribute when the provider knows it up front), raising :class:`StorageError` subclasses;
* ``stat(uri)``: size / etag / mtime / content type, cheaply (HEAD, HeadObject, get_blob_properties);
* optionally ``signed_url(uri, expires)``: a short-lived URL the browser can fetch directly.

``RemoteStorage`` turns the stream into a seekable ``open()`` (a SpooledTemporaryFile that spills to disk) and a
``local_path()`` (a temporary file), enforcing ``HYPERDATA_MAX_FETCH_BYTES`` and a total download time in one place.
Per-host credentials come from :meth:`MediaStorage.credentials_for`, which asks a provider callable (passed in,
or ``HYPERDATA_STORAGE_CREDENTIALS_PROVIDER`` from settings) with ``(scheme, host)``.
"""
from __future__ import annotations

import abc
import io
import re
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path, PurePosixPath
from typing import BinaryIO, ClassVar
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.module_loading import import_string

from .errors import InvalidURIError, PermanentStorageError, StorageError, StorageNotFoundError, TooLargeError, TransientStorageError

CredentialsProvider = Callable[..., Mapping | None]

MiB = 1024 * 1024
_CHUNK = MiB
_DEFAULTS = {
    "HYPERDATA_MAX_FETCH_BYTES": 2 * 1024 * MiB,
    "HYPERDATA_FETCH_CONNECT_TIMEOUT": 5.0,
    "HYPERDATA_FETCH_READ_TIMEOUT": 30.0,
    "HYPERDATA_FETCH_TOTAL_TIMEOUT": 900.0,
    "HYPERDATA_FETCH_SPOOL_BYTES": 32 * MiB,
    "HYPERDATA_FETCH_TMP_DIR": None,
    "HYPERDATA_FETCH_CA_BUNDLE": None,
    "HYPERDATA_STORAGE_CREDENTIALS_PROVIDER": None,
}


def setting(name: str):
    """A storage setting, read at call time (so ``override_settings`` applies), with the layer's default."""
    return getattr(settings, name, _DEFAULTS.get(name))


@dataclass(frozen=True)
class StorageStat:
    """What ``stat()`` knows about an object without reading it. Any field may be None when unknown."""

    size: int | None
    etag: str | None = None
    mtime: float | None = None  # seconds since the epoch
    content_type: str | None = None

    @property
    def fingerprint(self) -> str | None:
        """A string that changes when the object changes, for cache keys; None when nothing identifies it."""
        if self.etag:
            return f"etag:{self.etag}"
        if self.size is None and self.mtime is None:
            return None
        return f"size:{self.size}:mtime:{self.mtime}"


class MediaStorage(abc.ABC):
    """A place media lives. Methods take the full URI; instances are cheap and hold no connection."""

    schemes: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *, credentials_provider: CredentialsProvider | None = None):
        self._credentials_provider = credentials_provider

    def credentials_for(self, host: str, scheme: str | None = None, *, bucket: str | None = None) -> Mapping | None:
        """The credentials configured for ``host`` (e.g. an S3 endpoint; "" for the provider's own), or None.

        The provider is called as ``provider(scheme=..., host=...)`` (plus ``bucket=...`` when the storage names
        one: the S3 bucket, the Azure container) and returns a mapping whose keys each provider documents
        (HttpStorage: ``headers``; the cloud storages: frames.selectors.credentials.MAPPING_FIELDS), or None.
        """
        provider = self._credentials_provider or setting("HYPERDATA_STORAGE_CREDENTIALS_PROVIDER")
        if provider is None:
            return None
        if isinstance(provider, str):
            provider = import_string(provider)
        if bucket is None:
            return provider(scheme=scheme or self.schemes[0], host=host)
        return provider(scheme=scheme or self.schemes[0], host=host, bucket=bucket)

    def check_credential(self, credential: Mapping) -> str:
        """Settings' Test button: list one object (or the buckets) with ``credential``; a plain sentence saying
        what was found, or a StorageError whose ``reason`` says plainly what failed."""
        raise PermanentStorageError(f"testing is not supported for {self.schemes[0]}:// credentials")

    @abc.abstractmethod
    def open(self, uri: str, *, seekable: bool = True) -> BinaryIO:
        """A binary file-like object (also a context manager) positioned at the start.

        With ``seekable=True`` (the default, what Pillow and PyAV need) it supports ``seek``/``tell``; remote
        objects are downloaded first. ``seekable=False`` lets a remote provider stream instead (the media proxy).
        """

    @abc.abstractmethod
    def local_path(self, uri: str) -> AbstractContextManager[str]:
        """Context manager yielding a filesystem path with the object's bytes (the file itself for local storage,
        a temporary copy, deleted on exit, for remote storage)."""

    @abc.abstractmethod
    def stat(self, uri: str) -> StorageStat:
        """Size, etag, mtime and content type, without reading the object."""

    def exists(self, uri: str) -> bool:
        """True when the object exists, False when it definitely does not.

        Other failures (access denied, blocked address, outside the roots, timeouts) raise: they are not "absent".
        """
        try:
            self.stat(uri)
        except StorageNotFoundError:
            return False
        return True

    def signed_url(self, uri: str, expires: int | timedelta = 3600) -> str | None:
        """A short-lived URL the browser may fetch directly, or None when this provider cannot sign (the caller then
        serves the object through the media proxy)."""
        return None


class _LimitedReader(io.RawIOBase):
    """Reads a source stream, refusing more than ``limit`` bytes and (optionally) running past ``deadline``."""

    def __init__(self, source: BinaryIO, uri: str, *, limit: int, deadline: float | None = None):
        super().__init__()
        self._source, self._uri, self._limit, self._deadline = source, uri, limit, deadline
        self._count = 0
        size = getattr(source, "size", None)
        if size is not None and size > limit:
            source.close()
            raise TooLargeError(_too_large(size, limit), uri)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        try:
            data = self._source.read(len(buffer))
        except OSError as exc:  # a provider stream should translate its errors; this is the safety net
            raise TransientStorageError(f"read failed: {exc}", self._uri) from exc
        if not data:
            return 0
        self._count += len(data)
        if self._count > self._limit:
            raise TooLargeError(_too_large(None, self._limit), self._uri)
        if self._deadline is not None and time.monotonic() > self._deadline:
            raise TransientStorageError(
                f"download took longer than {setting('HYPERDATA_FETCH_TOTAL_TIMEOUT')} s", self._uri
            )
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            try:
                self._source.close()
            finally:
                super().close()


def _too_large(size: int | None, limit: int) -> str:
    what = f"{size} bytes" if size is not None else f"more than {limit} bytes"
    return f"object is too large: {what}, the limit (HYPERDATA_MAX_FETCH_BYTES) is {limit} bytes"


_SUFFIX = re.compile(r"^\.[A-Za-z0-9]{1,10}$")


def _suffix_of(uri: str) -> str:
    """The URI path's extension (``.tif``), kept on temporary copies because some decoders look at it."""
    suffix = PurePosixPath(urlsplit(uri).path).suffix
    return suffix if _SUFFIX.match(suffix) else ""


class RemoteStorage(MediaStorage):
    """A provider reached over the network: downloads are capped, timed and spooled here, once for all."""

    @abc.abstractmethod
    def _open_stream(self, uri: str) -> BinaryIO:
        """A forward-only stream of the object's bytes. May carry ``size`` (int) when known before reading; read
        errors must be raised as StorageError subclasses. Closing it releases the connection."""

    def _reader(self, uri: str, *, timed: bool) -> _LimitedReader:
        deadline = time.monotonic() + float(setting("HYPERDATA_FETCH_TOTAL_TIMEOUT")) if timed else None
        return _LimitedReader(
            self._open_stream(uri), uri, limit=int(setting("HYPERDATA_MAX_FETCH_BYTES")), deadline=deadline
        )

    def _download(self, uri: str, dest: BinaryIO) -> None:
        with self._reader(uri, timed=True) as reader:
            while chunk := reader.read(_CHUNK):
                try:
                    dest.write(chunk)
                except OSError as exc:
                    raise TransientStorageError(f"cannot write the temporary copy: {exc}", uri) from exc

    def open(self, uri: str, *, seekable: bool = True) -> BinaryIO:
        if not seekable:
            return io.BufferedReader(self._reader(uri, timed=False), buffer_size=_CHUNK)
        spool = tempfile.SpooledTemporaryFile(
            max_size=int(setting("HYPERDATA_FETCH_SPOOL_BYTES")), dir=setting("HYPERDATA_FETCH_TMP_DIR")
        )
        try:
            self._download(uri, spool)
            spool.seek(0)
        except BaseException:
            spool.close()
            raise
        return spool

    @contextmanager
    def local_path(self, uri: str) -> Iterator[str]:
        try:
            handle = tempfile.NamedTemporaryFile(
                prefix="hyperdata-", suffix=_suffix_of(uri), dir=setting("HYPERDATA_FETCH_TMP_DIR"), delete=False
            )
        except OSError as exc:
            raise TransientStorageError(f"cannot create a temporary file: {exc}", uri) from exc
        path = Path(handle.name)
        try:
            with handle:
                self._download(uri, handle)
            yield str(path)
        finally:
            path.unlink(missing_ok=True)


# --- the registry ---------------------------------------------------------------------------------------------

_REGISTRY: dict[str, type[MediaStorage]] = {}


def register_storage(cls: type[MediaStorage]) -> type[MediaStorage]:
    """Class decorator: make ``cls`` the storage for each of its ``schemes``."""
    for scheme in cls.schemes:
        _REGISTRY[scheme.lower()] = cls
    return cls


def registered_schemes() -> list[str]:
    return sorted(_REGISTRY)


def uri_scheme(uri: str) -> str:
    """The URI's scheme, lower-cased; ``file`` for a plain absolute path. Raises InvalidURIError."""
    if not isinstance(uri, str) or not uri:
        raise InvalidURIError("the URI is empty", uri if isinstance(uri, str) else repr(uri))
    if uri != uri.strip() or any(ord(ch) < 32 or ord(ch) == 127 for ch in uri):
        raise InvalidURIError("the URI has surrounding whitespace or control characters", repr(uri))
    if uri.startswith("//"):
        raise InvalidURIError("scheme-relative URIs are not supported; write the scheme", uri)
    if uri.startswith("/"):
        return "file"
    try:
        scheme = urlsplit(uri).scheme.lower()
    except ValueError as exc:
        raise InvalidURIError(f"malformed URI: {exc}", uri) from exc
    if not scheme:
        raise InvalidURIError(
            "relative path or URI without a scheme; use an absolute path or a "
            + ", ".join(f"{s}://" for s in registered_schemes())
            + " URI",
            uri,
        )
    return scheme


_URI_ROUTES: list[Callable[..., MediaStorage | None]] = []


def register_uri_route(route: Callable[..., MediaStorage | None]):
    """Decorator: `route(uri, credentials_provider=...)` may claim a URI before its scheme decides (an https URL of
    an Azure storage account is read with Azure credentials when a row names that account); None passes."""
    _URI_ROUTES.append(route)
    return route


def storage_for_uri(uri: str, *, credentials_provider: CredentialsProvider | None = None) -> MediaStorage:
    """The storage that reads ``uri``: one a route claims it for, else the one of its scheme. Raises
    InvalidURIError for unknown schemes."""
    scheme = uri_scheme(uri)
    for route in _URI_ROUTES:
        routed = route(uri, credentials_provider=credentials_provider)
        if routed is not None:
            return routed
    cls = _REGISTRY.get(scheme)
    if cls is None:
        supported = ", ".join(f"{s}://" for s in registered_schemes())
        raise InvalidURIError(f"unsupported URI scheme {scheme}:// (supported: {supported})", uri)
    return cls(credentials_provider=credentials_provider)


__all__ = [
    "MediaStorage",
    "RemoteStorage",
    "StorageError",
    "StorageStat",
    "register_storage",
    "register_uri_route",
    "registered_schemes",
    "setting",
    "storage_for_uri",
    "uri_scheme",
]
