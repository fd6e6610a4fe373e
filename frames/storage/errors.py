"""Errors raised by the storage layer.

Every failure to reach a source or mask URI is a :class:`StorageError`, split by what the caller should do:

* :class:`TransientStorageError`: worth retrying with back-off (timeouts, connection errors, HTTP 5xx and 429,
  a temporary DNS failure, an unavailable media volume). ``retry_after`` carries the server's hint in seconds.
* :class:`PermanentStorageError`: retrying will not help (not found, access denied, outside the media roots,
  bad URI, blocked address, too large). Its ``reason`` is short and readable, meant to be recorded on the source.

The narrower permanent classes let callers react without parsing messages (``exists()`` answers False only on
:class:`StorageNotFoundError`).
"""
from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit


def redact_uri(uri: object) -> str:
    """The URI for messages: a password in its user-info part is replaced by ``***``."""
    text = str(uri)
    try:
        parts = urlsplit(text)
        if parts.password is None:
            return text
        netloc = f"{parts.username or ''}:***@{parts.netloc.rpartition('@')[2]}"
        return urlunsplit(parts._replace(netloc=netloc))
    except ValueError:
        return text


class StorageError(Exception):
    """A URI could not be read. ``reason`` is a short human sentence; ``uri`` the (redacted) URI."""

    transient = False

    def __init__(self, reason: str, uri: object = None):
        self.reason = reason
        self.uri = redact_uri(uri) if uri is not None else None
        super().__init__(f"{reason} ({self.uri})" if self.uri else reason)


class TransientStorageError(StorageError):
    """Temporary failure: retry later with back-off."""

    transient = True

    def __init__(self, reason: str, uri: object = None, *, retry_after: float | None = None):
        super().__init__(reason, uri)
        self.retry_after = retry_after


class PermanentStorageError(StorageError):
    """Retrying will not help: record ``reason`` on the source."""


class StorageNotFoundError(PermanentStorageError):
    """The object does not exist (HTTP 404/410, no such file)."""


class StorageAccessDeniedError(PermanentStorageError):
    """The provider refused access (HTTP 401/403, file permissions)."""


class InvalidURIError(PermanentStorageError):
    """The URI is malformed or uses a scheme no storage handles."""


class LocationNotAllowedError(PermanentStorageError):
    """The URI points somewhere the operator did not allow: outside the media roots, or a blocked address."""


class TooLargeError(PermanentStorageError):
    """The object is larger than ``HYPERDATA_MAX_FETCH_BYTES``."""
