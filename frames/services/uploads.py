"""Media files uploaded by the SDK for frames whose source (or mask) is a file on the user's machine. They are kept
content-addressed as <dataset>/<sha256>/<name> in the uploads store (frames.storage.uploads): under
HYPERDATA_IMPORTS_DIR/media (inside HYPERDATA_MEDIA_ROOTS, so the workers and the media proxy read them), or in
the bucket HYPERDATA_UPLOADS_STORAGE names. The same bytes uploaded twice, as a retry does, are one file.

Files no frame names any more (add_frames failed after the upload, the frames or the dataset were deleted) are
removed by uploads_clean once they are older than the grace period (HYPERDATA_UPLOADS_GRACE_HOURS): an upload is
made before the frames naming it, so a young one may be about to be named.
"""
from __future__ import annotations

import hashlib
import mimetypes
import os
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import NamedTuple

from django.conf import settings

from ..exceptions import Forbidden, ServiceError
from ..models import DatasetVersion
from ..selectors.access import ANNOTATOR, SYSTEM, require
from ..selectors.uploads import upload_uris_in_use
from ..storage import StorageError
from ..storage.uploads import LocalUploads, uploads_store
from .import_jobs import UPLOAD_LIMIT
from .validation import safe_file_name
from .versions import refuse_published


class UploadsStoreFailed(ServiceError):
    """The uploads bucket did not take the file: 503 when it may pass (the SDK sends the file again), else 502."""

    def __init__(self, error: StorageError):
        super().__init__(f"the uploads storage did not take the file: {error.reason}", field="file")
        self.status_code = 503 if error.transient else 502


class StoredUpload(NamedTuple):
    uri: str
    size: int
    sha256: str


class UploadsCleaned(NamedTuple):
    removed: list[str]  # the URIs of the files removed
    kept: int  # files still named by a frame, or younger than the grace period


def media_upload(*, user, version: DatasetVersion, upload) -> StoredUpload:
    """Keep `upload` (a Django UploadedFile) for frames of the version's dataset; answers where it lies."""
    require(user, version, ANNOTATOR)
    refuse_published(version)
    if upload is None:
        raise ServiceError("give the file to upload", field="file")
    if upload.size > UPLOAD_LIMIT:
        raise ServiceError(f"is larger than {UPLOAD_LIMIT // 1024**2} MiB", field="file")
    if not upload.size:
        raise ServiceError("is empty", field="file")
    store = uploads_store()
    digest, partial = _write_hashed(upload, store.scratch())
    name = safe_file_name(upload.name)
    try:
        uri = store.put(partial, f"{version.dataset_id}/{digest}/{name}", mimetypes.guess_type(name)[0] or "")
    except StorageError as exc:
        raise UploadsStoreFailed(exc) from exc
    return StoredUpload(uri=uri, size=upload.size, sha256=digest)


def _write_hashed(upload, folder: Path | None) -> tuple[str, Path]:
    """Write the upload to a temporary file, hashing it on the way (the name depends on the hash)."""
    digest = hashlib.sha256()
    handle, partial = tempfile.mkstemp(dir=folder, prefix=".partial-")
    with os.fdopen(handle, "wb") as out:
        for piece in upload.chunks():
            digest.update(piece)
            out.write(piece)
    return digest.hexdigest(), Path(partial)


def uploads_clean(*, user, grace_seconds: float | None = None, now: float | None = None) -> UploadsCleaned:
    """Remove the uploads that no frame names and that are older than the grace period (staff and the system)."""
    if not getattr(user, "is_staff", False):
        raise Forbidden("only staff may clean the uploads", field="user")
    grace = settings.HYPERDATA_UPLOADS_GRACE_HOURS * 3600 if grace_seconds is None else grace_seconds
    if grace < 0:
        raise ServiceError("must be 0 or more", field="grace")
    store = uploads_store()
    cutoff = (time.time() if now is None else now) - grace
    old = defaultdict(list)
    kept = 0
    for item in store.listing():
        if item.modified <= cutoff:
            old[item.dataset_id].append(item.uri)
        else:
            kept += 1
    removed = []
    for dataset_id, uris in old.items():
        used = upload_uris_in_use(user=user, dataset_id=dataset_id, prefixes=_prefixes(store, uris)) if dataset_id else set()
        for uri in uris:
            if uri in used or (isinstance(store, LocalUploads) and Path(uri).as_uri() in used):
                kept += 1
                continue
            store.delete(uri)
            removed.append(uri)
    return UploadsCleaned(removed, kept)


def _prefixes(store, uris: list[str]) -> tuple[str, ...]:
    """What the URIs of these uploads start with, as a frame may write them (local ones also as file:// URIs)."""
    common = os.path.commonprefix(uris)
    return (common, Path(common).as_uri()) if isinstance(store, LocalUploads) else (common,)


def uploads_clean_scheduled() -> UploadsCleaned:
    """The periodic clean-up (a Celery beat task): nobody asked in a request, so the system acts."""
    return uploads_clean(user=SYSTEM)
