"""Where previews, renditions and deep-zoom tiles are written: local disk (MEDIA_ROOT) by default, or a bucket
named by HYPERDATA_PREVIEWS_STORAGE, so that several web and worker machines share them (django-storages).

    HYPERDATA_PREVIEWS_STORAGE=s3://bucket/prefix              AWS S3
    HYPERDATA_PREVIEWS_STORAGE=s3://minio.lan:9000/bucket/prefix  an S3-compatible server (the port written out)
    HYPERDATA_PREVIEWS_ACCESS_KEY / _SECRET_KEY / _REGION       the bucket's credentials (or the AWS defaults)
    HYPERDATA_PREVIEWS_TLS=false                                 http to an S3-compatible server

The browser never reads the bucket: previews reach it through the signed media links of frames.links, served
by the web process from this storage.
"""
from __future__ import annotations

from hyperdata.bucket_uri import bucket_address

FILESYSTEM = {"BACKEND": "hyperdata.atomic_storage.AtomicFileSystemStorage"}  # whole files or none


class PreviewsStorageError(ValueError):
    """HYPERDATA_PREVIEWS_STORAGE cannot be used; the message says why."""


def previews_storage(uri: str | None, *, access_key=None, secret_key=None, region=None, tls: bool = True) -> dict:
    """The STORAGES["default"] entry for HYPERDATA_PREVIEWS_STORAGE (`None`: local disk)."""
    if not uri:
        return FILESYSTEM
    netloc, bucket, prefix = bucket_address(uri, setting="HYPERDATA_PREVIEWS_STORAGE", error=PreviewsStorageError)
    endpoint = f"{'https' if tls else 'http'}://{netloc}" if netloc else None
    options = {
        "bucket_name": bucket,
        "location": prefix,
        "endpoint_url": endpoint,
        "access_key": access_key,
        "secret_key": secret_key,
        "region_name": region,
        "use_ssl": tls,
        "addressing_style": "path" if endpoint else None,
        "file_overwrite": True,  # a preview's name is its content key: the same name is the same bytes
        "querystring_auth": False,  # never handed to a browser
    }
    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {k: v for k, v in options.items() if v is not None}}
