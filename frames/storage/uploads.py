"""Where the media files the SDK uploads are kept: one small class per place, chosen by the settings, so the
uploads service never branches on it (as frames.storage's readers are chosen by scheme).

    store = uploads_store()                    # HYPERDATA_UPLOADS_BUCKET set: a bucket; else a local folder
    uri = store.put(path, key)                 # key: "<dataset>/<sha256>/<name>"; the URI frames will name
    for item in store.listing(): ...           # every kept upload: StoredObject(uri, dataset_id, modified)
    store.delete(uri)

Uploads are content-addressed (the key holds the bytes' SHA-256), so putting the same key again rewrites the same
bytes and only refreshes the modification time, which the clean-up's grace period counts from.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from django.conf import settings

from .s3 import make_client, parse_s3_uri, translate

FOLDER = "media"  # under HYPERDATA_IMPORTS_DIR, and under the bucket's prefix


class StoredObject(NamedTuple):
    uri: str
    dataset_id: str
    modified: float  # seconds since the epoch


def uploads_store() -> "LocalUploads | BucketUploads":
    bucket = getattr(settings, "HYPERDATA_UPLOADS_BUCKET", None)
    return BucketUploads(bucket) if bucket else LocalUploads((Path(settings.HYPERDATA_IMPORTS_DIR) / FOLDER).resolve())


def bucket_credential(bucket: dict) -> dict:
    """The credential mapping frames.storage.s3 reads the uploads bucket with: the operator configured it, so a
    server on a loopback or private address is allowed (as for a credential row made by staff)."""
    return {"id": None, "provider": "s3", "host": bucket["host"], "bucket": bucket["bucket"], "region": bucket["region"],
            "key": bucket["key"], "secret": bucket["secret"], "token": "", "use_tls": bucket["use_tls"],
            "anonymous": not bucket["key"], "delivery": None, "azure_auth": "", "allow_private": True}


class LocalUploads:
    """HYPERDATA_IMPORTS_DIR/media/<dataset>/<sha256>/<name>: inside HYPERDATA_MEDIA_ROOTS, so the workers and the
    media proxy read the plain path a frame names."""

    def __init__(self, folder: Path):
        self.folder = folder

    def scratch(self) -> Path:
        """Where an upload is written while it is hashed: beside its target, so the final rename is atomic.
        Listed with the uploads (no dataset, no frame names it), so a crash's leftovers go after the grace period."""
        folder = self.folder / ".incoming"
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def put(self, path: Path, key: str, content_type: str = "") -> str:
        target = self.folder / key
        target.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(path, 0o644)  # a temporary file is private; workers and the media proxy may run as another user
        # A rename is atomic: two uploads of the same bytes at once both end with the one whole file.
        os.replace(path, target)
        return str(target.resolve())

    def listing(self) -> Iterator[StoredObject]:
        if not self.folder.is_dir():
            return
        for dataset in self.folder.iterdir():
            pattern = "*" if dataset.name == ".incoming" else "*/*"
            for path in dataset.glob(pattern) if dataset.is_dir() else []:
                if path.is_file():
                    yield StoredObject(str(path.resolve()), "" if dataset.name.startswith(".") else dataset.name, path.stat().st_mtime)

    def delete(self, uri: str) -> None:
        path = Path(uri)
        path.unlink(missing_ok=True)
        for folder in (path.parent, path.parent.parent):  # the digest's folder, then the dataset's, once empty
            if folder.parent != self.folder and folder.parent.parent != self.folder or folder.name.startswith("."):
                break
            try:
                folder.rmdir()
            except OSError:
                break


class BucketUploads:
    """s3://[host:port/]bucket/prefix/media/<dataset>/<sha256>/<name>, written and listed with boto3."""

    def __init__(self, bucket: dict):
        self.host, self.bucket = bucket["host"], bucket["bucket"]
        self.root = "/".join(part for part in (bucket["prefix"].strip("/"), FOLDER) if part) + "/"
        self.client = make_client(self.host, bucket_credential(bucket))

    def uri(self, key: str) -> str:
        return f"s3://{self.host + '/' if self.host else ''}{self.bucket}/{key}"

    def scratch(self) -> None:
        return None  # the system's temporary folder

    def put(self, path: Path, key: str, content_type: str = "") -> str:
        uri = self.uri(self.root + key)
        try:
            with open(path, "rb") as body:
                self.client.put_object(Bucket=self.bucket, Key=self.root + key, Body=body,
                                       **({"ContentType": content_type} if content_type else {}))
        except Exception as exc:  # noqa: BLE001 - every botocore failure becomes a StorageError
            raise translate(exc, uri, bucket=self.bucket, host=self.host) from exc
        finally:
            Path(path).unlink(missing_ok=True)
        return uri

    def listing(self) -> Iterator[StoredObject]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.root)
        try:
            for page in pages:
                for item in page.get("Contents", []):
                    dataset_id = item["Key"][len(self.root):].split("/", 1)[0]
                    yield StoredObject(self.uri(item["Key"]), dataset_id, item["LastModified"].timestamp())
        except Exception as exc:  # noqa: BLE001
            raise translate(exc, self.uri(self.root), bucket=self.bucket, host=self.host) from exc

    def delete(self, uri: str) -> None:
        key = parse_s3_uri(uri)[2]
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key)
        except Exception as exc:  # noqa: BLE001
            raise translate(exc, uri, bucket=self.bucket, host=self.host) from exc
