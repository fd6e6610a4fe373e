"""Where media files the SDK uploads (a frame's local source, mask_source and masks_source files) are kept:
HYPERDATA_IMPORTS_DIR/media by default, or a bucket named by HYPERDATA_UPLOADS_STORAGE, so that several web and
worker machines read them. Written like HYPERDATA_PREVIEWS_STORAGE (hyperdata/previews_storage.py):

    HYPERDATA_UPLOADS_STORAGE=s3://bucket/prefix                 AWS S3
    HYPERDATA_UPLOADS_STORAGE=s3://minio.lan:9000/bucket/prefix  an S3-compatible server (the port written out)
    HYPERDATA_UPLOADS_ACCESS_KEY / _SECRET_KEY / _REGION          the bucket's credentials
    HYPERDATA_UPLOADS_TLS=false                                   http to an S3-compatible server

A frame then names its upload as s3://[host:port/]bucket/prefix/media/<dataset>/<sha256>/<name>, and the server
reads it back like any s3:// source, with these credentials (frames.selectors.credentials: the operator's bucket,
so a loopback or private server is allowed, as for a credential row staff made).
"""
from __future__ import annotations

from hyperdata.bucket_uri import bucket_address


class UploadsStorageError(ValueError):
    """HYPERDATA_UPLOADS_STORAGE cannot be used; the message says why."""


def uploads_bucket(uri: str | None, *, access_key=None, secret_key=None, region=None, tls: bool = True) -> dict | None:
    """The HYPERDATA_UPLOADS_BUCKET setting for HYPERDATA_UPLOADS_STORAGE (`None`: local disk): host ("" for
    AWS), bucket, prefix and the credential mapping the S3 storage reads it with."""
    if not uri:
        return None
    address = bucket_address(uri, setting="HYPERDATA_UPLOADS_STORAGE", error=UploadsStorageError)
    host, bucket, prefix = address.netloc.lower(), address.bucket, address.prefix
    return {"host": host, "bucket": bucket, "prefix": prefix, "key": access_key or "", "secret": secret_key or "",
            "region": region or "", "use_tls": tls}
