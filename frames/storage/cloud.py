"""What the cloud storages (S3, Azure, GCS) share: bucket URIs, the address policy of a cloud endpoint, and
seekable reads by byte range.

* :func:`parse_bucket_uri`: ``scheme://bucket/key`` or ``scheme://host:port/bucket/key`` (a first part with a port
  is a host: an S3-compatible server, an emulator).
* :func:`cloud_endpoint_policy`: the settings' policy, plus private and loopback addresses when a staff or shared
  credential row names the endpoint's host (:func:`row_opens_endpoint`: an emulator, a server on the LAN).
  Link-local stays refused even then: 169.254.169.254 is the cloud metadata service.
* :func:`open_seekable`: an object larger than ``HYPERDATA_FETCH_SPOOL_BYTES`` is not downloaded for a seekable
  ``open()``: it becomes a file whose reads are ranged GETs (1 MiB read-ahead), so PyAV and tiled-TIFF readers fetch
  only what they seek to. The storage provides ``open_range(uri, offset, length)``.
"""
from __future__ import annotations

import io
from collections.abc import Callable
from typing import BinaryIO

from urllib.parse import urlsplit

from .base import MiB, RemoteStorage, setting
from .errors import InvalidURIError
from .netguard import AddressPolicy

RANGE_CHUNK = MiB
OpenRange = Callable[[str, int, int], BinaryIO]


def parse_bucket_uri(uri: str, scheme: str, *, key_required: bool = False) -> tuple[str, str, str]:
    """(host, bucket, key): host is "" for ``scheme://bucket/key``, "host:port" for ``scheme://host:port/bucket/key``."""
    try:
        parts = urlsplit(uri)
    except ValueError as exc:
        raise InvalidURIError(f"malformed URI: {exc}", uri) from exc
    if parts.scheme.lower() != scheme or parts.query or parts.fragment or "@" in parts.netloc:
        raise InvalidURIError(f"expected {scheme}://bucket/key or {scheme}://host:port/bucket/key", uri)
    host, first, path = "", parts.netloc, parts.path.lstrip("/")
    if ":" in first:
        name, _, port = first.rpartition(":")
        if not (name and port.isdigit() and 0 < int(port) < 65536):
            raise InvalidURIError(f"{first!r} is neither a bucket nor host:port", uri)
        host, (first, _, path) = first.lower(), path.partition("/")
    if not first:
        raise InvalidURIError("the URI names no bucket", uri)
    if key_required and not path:
        raise InvalidURIError("the URI names no object after the bucket", uri)
    return host, first, path


class _NamedEndpointPolicy(AddressPolicy):
    _ALLOWED_KINDS = ("private", "loopback", "non-public", "site-local")

    def blocked_reason(self, address):
        reason = super().blocked_reason(address)
        return None if reason and reason.split(" ", 1)[0] in self._ALLOWED_KINDS else reason


def row_opens_endpoint(credentials, host: str) -> bool:
    """Whether a credential row lets the server reach `host` on a private or loopback address: the row names that
    host, and was made by staff or shared (`allow_private`): a user's own row never opens the server's network."""
    return bool(host and credentials and credentials.get("allow_private")
                and (credentials.get("host") or "").lower() == host.lower())


def cloud_endpoint_policy(named: bool) -> AddressPolicy:
    """The address policy for a cloud endpoint; ``named`` when a credential row names the endpoint's host."""
    base = AddressPolicy.from_settings()
    return _NamedEndpointPolicy(base.allowed_networks) if named else base


class RangedReader(io.RawIOBase):
    """A seekable view of a remote object of known ``size``; each read is one ranged GET. ``fetched`` counts the
    bytes received and ``requests`` the GETs (tests check that a seek does not download the object)."""

    def __init__(self, open_range: OpenRange, uri: str, size: int):
        super().__init__()
        self._open_range, self._uri, self.size = open_range, uri, size
        self._position = self.fetched = self.requests = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self.size}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self._position = base + offset
        return self._position

    def readinto(self, buffer) -> int:
        count = min(len(buffer), self.size - self._position)
        if count <= 0:
            return 0
        view, done = memoryview(buffer), 0
        with self._open_range(self._uri, self._position, count) as body:
            self.requests += 1
            while done < count and (read := body.readinto(view[done:count])):
                done += read
        self._position += done
        self.fetched += done
        return done


def open_seekable(storage: RemoteStorage, uri: str) -> BinaryIO | None:
    """A ranged seekable file when the object is larger than the spool, else None (download it as usual)."""
    size = storage.stat(uri).size
    if size is None or size <= int(setting("HYPERDATA_FETCH_SPOOL_BYTES")):
        return None
    chunk = int(setting("HYPERDATA_FETCH_RANGE_BYTES") or RANGE_CHUNK)  # the read-ahead of each ranged GET
    return io.BufferedReader(RangedReader(storage.open_range, uri, size), buffer_size=chunk)


__all__ = ["RANGE_CHUNK", "RangedReader", "cloud_endpoint_policy", "open_seekable", "parse_bucket_uri", "row_opens_endpoint"]
