"""The bucket settings' one form, s3://bucket/prefix (AWS) or s3://host:port/bucket/prefix (an S3-compatible
server, the port written out), read in one place for HYPERDATA_PREVIEWS_STORAGE and HYPERDATA_UPLOADS_STORAGE."""
from __future__ import annotations

from typing import NamedTuple
from urllib.parse import urlsplit


class BucketAddress(NamedTuple):
    netloc: str  # "host:port" of an S3-compatible server; "" for AWS
    bucket: str
    prefix: str


def bucket_address(uri: str, *, setting: str, error: type[ValueError]) -> BucketAddress:
    """Where `uri` (the value of `setting`) points; `error` naming the setting when it is not a bucket."""
    parts = urlsplit(uri)
    if parts.scheme != "s3" or parts.query or parts.fragment:
        raise error(f"{setting}: expected s3://bucket/prefix or s3://host:port/bucket/prefix, got {uri!r}")
    path = [part for part in parts.path.split("/") if part]
    if parts.port is not None:
        if not path:
            raise error(f"{setting}: the bucket is missing after host:port")
        return BucketAddress(parts.netloc, path[0], "/".join(path[1:]))
    if not parts.netloc:
        raise error(f"{setting}: the bucket is missing")
    return BucketAddress("", parts.netloc, "/".join(path))
