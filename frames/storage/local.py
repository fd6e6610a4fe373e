"""Local files: ``file://`` URIs and plain absolute paths, confined to ``HYPERDATA_MEDIA_ROOTS``.

The path is percent-decoded (file:// only), then resolved (symlinks and ``..``) and must lie inside one of the
resolved roots. The file is opened with O_NOFOLLOW and, where /proc is available, the opened descriptor's real
path is checked again, so a symlink swapped in after the check cannot lead outside the roots. Only regular files
are read (a FIFO or device inside a root would hang or flood a worker).
"""
from __future__ import annotations

import errno
import mimetypes
import os
import stat as statmod
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote, urlsplit

from .base import MediaStorage, StorageStat, register_storage, setting
from .errors import (
    InvalidURIError,
    LocationNotAllowedError,
    PermanentStorageError,
    StorageAccessDeniedError,
    StorageError,
    StorageNotFoundError,
    TransientStorageError,
)

_ROOTS_SETTING = "HYPERDATA_MEDIA_ROOTS"
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)


def media_roots() -> list[Path]:
    """The configured roots, resolved."""
    value = setting(_ROOTS_SETTING) or []
    if isinstance(value, (str, Path)):
        value = [item for item in str(value).split(",") if item.strip()]
    return [Path(str(item).strip()).expanduser().resolve() for item in value]


def _root_of(path: Path, roots: list[Path]) -> Path | None:
    return next((root for root in roots if path.is_relative_to(root)), None)


def _fd_real_path(fd: int) -> Path | None:
    try:
        return Path(os.readlink(f"/proc/self/fd/{fd}"))
    except OSError:
        return None


def _require_regular(info: os.stat_result, uri: str) -> None:
    if statmod.S_ISDIR(info.st_mode):
        raise PermanentStorageError("the path is a directory, not a file", uri)
    if not statmod.S_ISREG(info.st_mode):
        raise PermanentStorageError("not a regular file", uri)


@register_storage
class LocalStorage(MediaStorage):
    schemes = ("file",)

    # --- URI → checked path ---------------------------------------------------------------------------------

    @staticmethod
    def _raw_path(uri: str) -> str:
        if uri.startswith("/"):
            raw = uri
        else:
            parts = urlsplit(uri)
            if parts.scheme.lower() != "file":
                raise InvalidURIError("not a file:// URI", uri)
            if parts.netloc not in ("", "localhost"):
                raise InvalidURIError(
                    f"file:// URIs must not name a host ({parts.netloc!r}); write file:///absolute/path", uri
                )
            if parts.query or parts.fragment or uri.endswith(("?", "#")):
                raise InvalidURIError("file:// URIs take no query or fragment; percent-encode '?' and '#'", uri)
            raw = unquote(parts.path, errors="strict")
        if not raw.startswith("/") or raw.startswith("//"):
            raise InvalidURIError("the path is not absolute", uri)
        if "\x00" in raw:
            raise InvalidURIError("the path contains a NUL byte", uri)
        return raw

    def _checked_path(self, uri: str) -> tuple[Path, Path]:
        """(resolved path, its root); raises when the URI is bad or leads outside the roots."""
        try:
            raw = self._raw_path(uri)
        except UnicodeDecodeError as exc:
            raise InvalidURIError("the path is not valid UTF-8 after percent-decoding", uri) from exc
        roots = media_roots()
        if not roots:
            raise LocationNotAllowedError(f"local files are disabled: {_ROOTS_SETTING} is empty", uri)
        try:
            resolved = Path(raw).resolve()
        except RuntimeError as exc:  # symlink loop
            raise LocationNotAllowedError(f"the path cannot be resolved: {exc}", uri) from exc
        except OSError as exc:
            raise self._os_error(exc, uri, None) from exc
        root = _root_of(resolved, roots)
        if root is None:
            how = "" if str(resolved) == os.path.normpath(raw) else " once symlinks and '..' are resolved"
            raise LocationNotAllowedError(f"the path lies outside the media roots ({_ROOTS_SETTING}){how}", uri)
        return resolved, root

    @staticmethod
    def _os_error(exc: OSError, uri: str, root: Path | None) -> StorageError:
        code = exc.errno
        if code in (errno.ENOENT, errno.ENOTDIR):
            if root is not None and not root.is_dir():
                return TransientStorageError(f"the media root {root} is not available (unmounted?)", uri)
            return StorageNotFoundError("no such file", uri)
        if code in (errno.EACCES, errno.EPERM):
            return StorageAccessDeniedError("permission denied", uri)
        if code == errno.EISDIR:
            return PermanentStorageError("the path is a directory, not a file", uri)
        if code == errno.ELOOP:
            return LocationNotAllowedError("the path turned into a symbolic link while being opened", uri)
        if code == errno.ENAMETOOLONG:
            return InvalidURIError("the path is too long", uri)
        return TransientStorageError(f"cannot read the file: {exc.strerror or exc}", uri)

    def _open_fd(self, uri: str) -> tuple[int, Path]:
        path, root = self._checked_path(uri)
        try:
            fd = os.open(path, _OPEN_FLAGS)
        except OSError as exc:
            raise self._os_error(exc, uri, root) from exc
        try:
            _require_regular(os.fstat(fd), uri)
            real = _fd_real_path(fd)
            if real is not None and _root_of(real, media_roots()) is None:
                raise LocationNotAllowedError(
                    "the file changed while being opened and lies outside the media roots", uri
                )
            os.set_blocking(fd, True)
        except BaseException:
            os.close(fd)
            raise
        return fd, path

    # --- the API ------------------------------------------------------------------------------------------

    def open(self, uri: str, *, seekable: bool = True) -> BinaryIO:
        fd, _path = self._open_fd(uri)
        return os.fdopen(fd, "rb")

    @contextmanager
    def local_path(self, uri: str) -> Iterator[str]:
        fd, path = self._open_fd(uri)  # same checks and errors as open()
        os.close(fd)
        yield str(path)

    def stat(self, uri: str) -> StorageStat:
        path, root = self._checked_path(uri)
        try:
            info = os.stat(path)
        except OSError as exc:
            raise self._os_error(exc, uri, root) from exc
        _require_regular(info, uri)
        return StorageStat(
            size=info.st_size,
            etag=f"{info.st_mtime_ns:x}-{info.st_size:x}-{info.st_ino:x}",
            mtime=info.st_mtime,
            content_type=mimetypes.guess_type(path.name)[0],
        )
