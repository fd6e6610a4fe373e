"""The one layer through which every source and mask URI is read.

    storage = storage_for_uri(uri)          # chosen by scheme: file:// or /abs/path, http(s)://, s3:// ...
    with storage.open(uri) as f: ...        # seekable binary file (remote objects are downloaded first)
    with storage.local_path(uri) as path:   # a filesystem path (the file itself, or a temporary copy)
    storage.stat(uri)                       # StorageStat(size, etag, mtime, content_type), cheap
    storage.exists(uri)
    storage.signed_url(uri, expires)        # a URL for the browser, or None: serve through the media proxy

Failures raise TransientStorageError (retry with back-off) or PermanentStorageError (record ``reason`` on the
source), both StorageError. See base.py for how a provider (S3, GCS, Azure) slots in.
"""
from .base import (
    MediaStorage,
    RemoteStorage,
    StorageStat,
    register_storage,
    registered_schemes,
    storage_for_uri,
    uri_scheme,
)
from .errors import (
    InvalidURIError,
    LocationNotAllowedError,
    PermanentStorageError,
    StorageAccessDeniedError,
    StorageError,
    StorageNotFoundError,
    TooLargeError,
    TransientStorageError,
)
from .azure import AzureBlobStorage, azure_blob_location, azure_storage_for_url
from .gcs import GcsStorage
from .http import HttpStorage
from .local import LocalStorage, media_roots
from .netguard import AddressPolicy, vetted_session
from .s3 import S3Storage

__all__ = [
    "AddressPolicy",
    "AzureBlobStorage",
    "GcsStorage",
    "HttpStorage",
    "InvalidURIError",
    "LocalStorage",
    "LocationNotAllowedError",
    "MediaStorage",
    "PermanentStorageError",
    "RemoteStorage",
    "S3Storage",
    "StorageAccessDeniedError",
    "StorageError",
    "StorageNotFoundError",
    "StorageStat",
    "TooLargeError",
    "TransientStorageError",
    "azure_blob_location",
    "azure_storage_for_url",
    "media_roots",
    "register_storage",
    "registered_schemes",
    "storage_for_uri",
    "uri_scheme",
    "vetted_session",
]
