"""Imports as jobs: the input (an uploaded file or zip, or a file or folder on the server inside
HYPERDATA_MEDIA_ROOTS) is checked and kept under HYPERDATA_IMPORTS_DIR, and a worker runs `import_frames`,
reporting frames read as progress. A dry run's job finishes with the report whether or not it found problems
(the problems are its answer); a real run with problems fails, nothing imported, the report kept as its result.
"""
from __future__ import annotations

import shutil
import uuid
import zipfile
from pathlib import Path

from django.conf import settings

from ..exceptions import ServiceError
from ..importers.base import ImportSource
from ..models import DatasetVersion, Job
from ..selectors.access import ANNOTATOR, require
from ..storage.local import media_roots
from .imports import ImportRefused, import_frames, import_output_dir, import_reader
from .job_kinds import register_job_kind
from .jobs import JobFailed, job_progress_outside, job_start
from .validation import safe_file_name
from .versions import refuse_published

UPLOAD_LIMIT = 2 * 1024**3  # bytes of an uploaded file, and of a zip once extracted
ZIP_MEMBERS_LIMIT = 1_000_000


def import_start(
    *, user, version: DatasetVersion, format: str, path: str = "", upload=None, media_root: str = "",
    options: dict | None = None, dry_run: bool = False, total: int | None = None,
) -> Job:
    """Queue an import (or its dry run) of `upload` (a Django UploadedFile) or the server path `path`."""
    require(user, version, ANNOTATOR)
    refuse_published(version)
    import_reader(format)  # an unknown format is refused before anything is kept
    if options is not None and not isinstance(options, dict):
        raise ServiceError("must be a JSON object of the format's options", field="options")
    if not isinstance(media_root, str):
        raise ServiceError("must be a folder or a cloud prefix such as s3://bucket/images/", field="media_root")
    key = uuid.uuid4().hex
    if upload is not None:
        input_path = _keep_upload(upload, key)
    elif path:
        input_path = server_input(path)
    else:
        raise ServiceError("give a file to upload, or a file or folder on the server", field="file")
    params = {
        "format": format, "path": str(input_path), "media_root": media_root, "options": options or {},
        "dry_run": bool(dry_run), "output_dir": str(import_output_dir(key)),
    }
    what = "dry run of " if dry_run else ""
    return job_start(
        user=user, kind="import", key=f"import:{key}", version=version, params=params, total=total,
        subject=f"{what}{format} import of {input_path.name} into {version.dataset.name} / {version.name}",
    )


def server_input(path: str) -> Path:
    """A file or folder on the server that imports may read: it must exist inside HYPERDATA_MEDIA_ROOTS."""
    if not isinstance(path, str) or not path.strip():
        raise ServiceError("must be a file or folder path on the server", field="path")
    resolved = Path(path.strip()).expanduser().resolve()
    if not any(resolved == root or root in resolved.parents for root in media_roots()):
        raise ServiceError("must lie inside one of the folders in HYPERDATA_MEDIA_ROOTS", field="path")
    if not resolved.exists():
        raise ServiceError(f"no file or folder {path!r} on the server", field="path")
    return resolved


def _keep_upload(upload, key: str) -> Path:
    if upload.size > UPLOAD_LIMIT:
        raise ServiceError(f"is larger than {UPLOAD_LIMIT // 1024**2} MiB", field="file")
    folder = Path(settings.HYPERDATA_IMPORTS_DIR) / "uploads" / key
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / safe_file_name(upload.name)
    with target.open("wb") as out:
        for piece in upload.chunks():
            out.write(piece)
    if target.suffix.lower() != ".zip":
        return target
    try:
        return _unzip(target, folder / target.stem)
    except (zipfile.BadZipFile, ServiceError) as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise exc if isinstance(exc, ServiceError) else ServiceError(f"is not a readable zip file ({exc})", field="file") from None


def _unzip(archive: Path, into: Path) -> Path:
    """Extract a zip, refusing members that would land outside `into` and archives that inflate too far."""
    with zipfile.ZipFile(archive) as opened:
        members = opened.infolist()
        if len(members) > ZIP_MEMBERS_LIMIT or sum(m.file_size for m in members) > UPLOAD_LIMIT:
            raise ServiceError(f"the zip holds more than {ZIP_MEMBERS_LIMIT:,} files or {UPLOAD_LIMIT // 1024**2} MiB", field="file")
        root = into.resolve()
        for member in members:
            if root not in (root / member.filename).resolve().parents and (root / member.filename).resolve() != root:
                raise ServiceError(f"the zip member {member.filename!r} points outside the archive", field="file")
        opened.extractall(root)
    archive.unlink()
    entries = list(root.iterdir())
    return entries[0] if len(entries) == 1 and entries[0].is_dir() else root  # a zip of one folder: that folder


def import_job_run(*, user, job: Job):
    """The worker's side of an import job."""
    params = job.params
    version = DatasetVersion.objects.select_related("dataset").get(pk=job.version_id)
    source = ImportSource(
        path=Path(params["path"]), media_root=params.get("media_root", ""), options=params.get("options") or {},
        output_dir=Path(params["output_dir"]),
    )

    def progress(frames: int) -> None:
        job_progress_outside(job=job, done=frames, message=f"{frames:,} frames read")

    try:
        result = import_frames(user=user, version=version, format=params["format"], source=source, dry_run=params.get("dry_run", False), progress=progress)
    except ImportRefused as exc:
        if params.get("dry_run"):
            return exc.result.as_dict()
        raise JobFailed(exc.message, result=exc.result.as_dict()) from None
    except ServiceError as exc:
        raise JobFailed(exc.message) from None
    return result.as_dict()


register_job_kind("import", import_job_run)
