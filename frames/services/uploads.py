"""Media files uploaded by the SDK for frames whose source is a file on the user's machine. They are kept
content-addressed under HYPERDATA_IMPORTS_DIR/media/<dataset>/<sha256>/<name> (inside HYPERDATA_MEDIA_ROOTS, so
the workers and the media proxy read them): the same bytes uploaded twice, as a retry does, are one file."""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import NamedTuple

from django.conf import settings

from ..exceptions import ServiceError
from ..models import DatasetVersion
from ..selectors.access import ANNOTATOR, require
from .import_jobs import UPLOAD_LIMIT
from .validation import safe_file_name
from .versions import refuse_published


class StoredUpload(NamedTuple):
    uri: str
    size: int
    sha256: str


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
    folder = Path(settings.HYPERDATA_IMPORTS_DIR) / "media" / str(version.dataset_id)
    folder.mkdir(parents=True, exist_ok=True)
    digest, partial = _write_hashed(upload, folder)
    target = folder / digest / safe_file_name(upload.name)
    target.parent.mkdir(exist_ok=True)
    # A rename is atomic: two uploads of the same bytes at once both end with the one whole file.
    os.replace(partial, target)
    return StoredUpload(uri=str(target.resolve()), size=upload.size, sha256=digest)


def _write_hashed(upload, folder: Path) -> tuple[str, Path]:
    """Write the upload to a temporary file in `folder`, hashing it on the way (the name depends on the hash)."""
    digest = hashlib.sha256()
    handle, partial = tempfile.mkstemp(dir=folder, prefix=".partial-")
    with os.fdopen(handle, "wb") as out:
        for piece in upload.chunks():
            digest.update(piece)
            out.write(piece)
    os.chmod(partial, 0o644)  # mkstemp makes it private; workers and the media proxy may run as another user
    return digest.hexdigest(), Path(partial)

