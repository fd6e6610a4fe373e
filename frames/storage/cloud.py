"""What the Azure and GCS storages share: the address policy of a cloud endpoint, and seekable reads by byte range.

* :func:`cloud_endpoint_policy`: the settings' policy, plus private and loopback addresses when a credential row
  names the endpoint's host (an emulator, a server on the LAN). Link-local stays refused even then: 169.254.169.254
  is the cloud metadata service.
* :func:`open_seekable`: an object larger than ``HYPERDATA_FETCH_SPOOL_BYTES`` is not downloaded for a seekable
  ``open()``: it becomes a file whose reads are ranged GETs (1 MiB read-ahead), so PyAV and tiled-TIFF readers fetch
  only what they seek to. The storage provides ``open_range(uri, offset, length)``.
"""
from __future__ import annotations

import io
from collections.abc import Callable
from typing import BinaryIO

from .base import MiB, RemoteStorage, setting
from .netguard import AddressPolicy

RANGE_CHUNK = MiB
OpenRange = Callable[[str, int, int], BinaryIO]


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


__all__ = ["RANGE_CHUNK", "RangedReader", "cloud_endpoint_policy", "open_seekable", "row_opens_endpoint"]
