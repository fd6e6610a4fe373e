"""Azure Blob Storage: ``azure://`` URIs and Azure's own ``https://<account>.blob.core.windows.net/...`` URLs.

URI forms (the blob path is percent-decoded):

* ``azure://<account>.blob.core.windows.net/<container>/<blob path>`` (any ``<account>.blob.<cloud suffix>`` host);
* ``azure://<host>:<port>/<account>/<container>/<blob path>``: path-style, for an emulator such as Azurite (any
  host that is not ``<account>.blob.…``); the endpoint is http when the credential row's ``use_tls`` is false;
* ``https://<account>.blob.core.windows.net/<container>/<blob path>``: read by this storage only when a credential
  row names that host (:func:`azure_storage_for_url`), otherwise it stays a plain https URL for HttpStorage.

Credentials are the mapping of the cloud-access interface, looked up with ``credentials_for(host, "azure",
bucket=<container>)`` where ``host`` is ``<account>.blob.core.windows.net`` or, path-style, ``<host>:<port>/<account>``
(then host "" with ``key`` = the account, a row "by account"). Keys read: ``secret``
and ``azure_auth`` ("key": account key; "sas": SAS token; "connection_string"), ``key`` (account name, defaulting to
the URI's), ``anonymous``, ``use_tls``, ``delivery`` and ``host``. No row (or ``anonymous``) reads a public
container without signing. Every connection goes through :mod:`.netguard`; a private or loopback endpoint is allowed
only when the row names that host (:mod:`.cloud`). A seekable ``open()`` of a large blob reads by ranges.
"""
from __future__ import annotations

import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import BinaryIO
from urllib.parse import quote, unquote, urlsplit

from azure.core.exceptions import (
    AzureError,
    ClientAuthenticationError,
    HttpResponseError,
    ServiceRequestError,
    ServiceRequestTimeoutError,
    ServiceResponseError,
    ServiceResponseTimeoutError,
)
from azure.core.pipeline.transport import RequestsTransport
from azure.storage.blob import BlobSasPermissions, BlobServiceClient, generate_blob_sas

from .base import RemoteStorage, StorageStat, register_storage, register_uri_route, setting
from .errors import (
    InvalidURIError,
    PermanentStorageError,
    StorageAccessDeniedError,
    StorageError,
    StorageNotFoundError,
    TransientStorageError,
)
from .http import _describe
from .cloud import cloud_endpoint_policy, open_seekable, row_opens_endpoint
from .netguard import vetted_session

# The storage account host of Azure's public and sovereign clouds: <account>.blob.<suffix>.
_ACCOUNT_HOST = re.compile(
    r"^(?P<account>[a-z0-9]{3,24})\.blob\.core\.(windows\.net|chinacloudapi\.cn|usgovcloudapi\.net|cloudapi\.de)$"
)
_CHUNK = 4 * 1024 * 1024
_CLOCK_SKEW = timedelta(minutes=15)  # Azure refuses requests whose x-ms-date is further off than this
# The well-known key of the storage emulators' development account (UseDevelopmentStorage=true); not a secret.
_DEV_ACCOUNT = "devstoreaccount1"
_DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
_SKEW_WORDS = ("request date header too old", "not within the permitted time", "clock")


@dataclass(frozen=True)
class AzureBlobLocation:
    """Where a blob lives. ``host`` is what credential rows name; ``netloc`` is what the client connects to."""

    host: str
    netloc: str
    account: str
    container: str
    blob: str
    path_style: bool
    scheme: str | None = None  # the URL's own scheme (https:// form); None for azure:// (the row's use_tls decides)

    def endpoint(self, use_tls: bool = True) -> str:
        scheme = self.scheme or ("https" if use_tls else "http")
        return f"{scheme}://{self.netloc}/{self.account}" if self.path_style else f"{scheme}://{self.netloc}"

    def blob_url(self, use_tls: bool = True) -> str:
        return f"{self.endpoint(use_tls)}/{self.container}/{quote(self.blob)}"


def _parse(uri: str, *, path_style_allowed: bool = True) -> AzureBlobLocation | None:
    """The location of an Azure URI; None when the host is not an Azure account host and path style is not allowed."""
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as exc:
        raise InvalidURIError(f"malformed URI: {exc}", uri) from exc
    hostname = (parts.hostname or "").lower()
    if not hostname:
        raise InvalidURIError("the URI has no storage account host", uri)
    netloc = hostname if parts.port is None else f"{hostname}:{parts.port}"
    if "[" in parts.netloc:
        netloc = f"[{hostname}]" if parts.port is None else f"[{hostname}]:{parts.port}"
    segments = parts.path.lstrip("/").split("/")
    match = _ACCOUNT_HOST.match(hostname)
    if match:
        account, path_style, host = match.group("account"), False, netloc
    elif path_style_allowed:
        account, segments, path_style = segments[0], segments[1:], True
        host = f"{netloc}/{account}"
        if not account:
            raise InvalidURIError("an emulator URI needs the account after the host: azure://host:port/account/"
                                  "container/blob", uri)
    else:
        return None
    if len(segments) < 2 or not segments[0] or not "/".join(segments[1:]):
        raise InvalidURIError("the URI needs a container and a blob path after the account", uri)
    if parts.query or parts.fragment:
        raise InvalidURIError("an Azure blob URI takes no query or fragment (put SAS tokens in Settings)", uri)
    scheme = None if parts.scheme.lower() == "azure" else parts.scheme.lower()
    return AzureBlobLocation(host=host, netloc=netloc, account=account, container=unquote(segments[0]),
                             blob=unquote("/".join(segments[1:])), path_style=path_style, scheme=scheme)


def azure_blob_location(uri: str) -> AzureBlobLocation | None:
    """The Azure location of an ``http(s)://<account>.blob.core.windows.net/<container>/<blob>`` URL, else None.

    For routing: an https URL is read as Azure only when this returns a location and a credential row names
    ``location.host`` (see :func:`azure_storage_for_url`); every other URL stays with HttpStorage.
    """
    if urlsplit(uri).scheme.lower() not in ("http", "https"):
        return None
    try:
        return _parse(uri, path_style_allowed=False)
    except InvalidURIError:
        return None


@register_uri_route
def azure_storage_for_url(uri: str, *, credentials_provider=None) -> AzureBlobStorage | None:
    """An AzureBlobStorage for an Azure https URL when a credential row names its host, else None (use http)."""
    location = azure_blob_location(uri)
    if location is None:
        return None
    storage = AzureBlobStorage(credentials_provider=credentials_provider)
    return storage if storage._credentials(location) else None


def _connection_string(text: str) -> dict[str, str]:
    fields = {}
    for part in text.strip().strip(";").split(";"):
        name, _, value = part.partition("=")
        fields[name.strip().lower()] = value.strip()
    if fields.get("usedevelopmentstorage", "").lower() == "true":
        fields.setdefault("accountname", _DEV_ACCOUNT)
        fields.setdefault("accountkey", _DEV_KEY)
    return fields


def _signing(location: AzureBlobLocation, credentials: Mapping | None) -> tuple[tuple[str, str] | None, str | None]:
    """((account name, account key) or None, SAS token or None) from the row; both None: anonymous."""
    if not credentials or credentials.get("anonymous") or not credentials.get("secret"):
        return None, None
    auth, secret = credentials.get("azure_auth") or "key", credentials["secret"]
    if auth == "key":
        return (credentials.get("key") or location.account, secret), None
    if auth == "sas":
        return None, secret.strip().lstrip("?")
    fields = _connection_string(secret)
    key = (fields.get("accountname") or location.account, fields["accountkey"]) if fields.get("accountkey") else None
    return key, fields.get("sharedaccesssignature") or None


def _server_clock_offset(exc: HttpResponseError) -> timedelta | None:
    date = getattr(getattr(exc, "response", None), "headers", {}).get("Date")
    try:
        return parsedate_to_datetime(date) - datetime.now(timezone.utc) if date else None
    except (TypeError, ValueError):
        return None


def _translate_response(exc: HttpResponseError, location: AzureBlobLocation, uri: str, signed: bool) -> StorageError:
    status = exc.status_code or 0
    code = str(getattr(exc.error_code, "value", exc.error_code) or "")
    message = str(exc.message or exc).splitlines()[0] if (exc.message or str(exc)) else ""
    offset = _server_clock_offset(exc)
    if status == 404 or code in ("BlobNotFound", "ContainerNotFound", "ResourceNotFound"):
        if code == "ContainerNotFound":
            return StorageNotFoundError(f"container {location.container!r} does not exist in account "
                                        f"{location.account}", uri)
        return StorageNotFoundError("blob not found" + (f" ({code})" if code else ""), uri)
    if status in (401, 403):
        if (offset is not None and abs(offset) > _CLOCK_SKEW) or any(w in message.lower() for w in _SKEW_WORDS):
            skew = f" (the server's clock is {offset.total_seconds() / 60:+.0f} min from ours)" if offset else ""
            return StorageAccessDeniedError(f"clock skew: the request time was refused{skew}; "
                                            "check this machine's clock", uri)
        if code in ("AuthenticationFailed", "InvalidAuthenticationInfo") or isinstance(exc, ClientAuthenticationError):
            return StorageAccessDeniedError(f"authentication failed: the account key or SAS token was not accepted "
                                            f"for account {location.account} ({code or status})", uri)
        if signed and code == "AuthorizationFailure":  # Azurite's answer to a bad signature; Azure's to its firewall
            return StorageAccessDeniedError(f"authentication failed: account {location.account} did not accept the "
                                            "account key or SAS token, or its network rules refuse this server "
                                            f"({code})", uri)
        return StorageAccessDeniedError(f"access denied ({code or f'HTTP {status}'})", uri)
    if status in (408, 429) or status >= 500:
        return TransientStorageError(f"Azure answered HTTP {status} {code}".strip(), uri)
    return PermanentStorageError(f"Azure refused the request: HTTP {status} {code} {message}".strip(), uri)


def _translate(exc: BaseException, location: AzureBlobLocation, uri: str, signed: bool = False) -> StorageError:
    """An Azure SDK exception as a StorageError of the right kind, with a reason a user can act on."""
    if isinstance(exc, StorageError):  # refused by the address policy, or a DNS failure, while connecting
        return type(exc)(exc.reason, uri)
    if isinstance(exc, HttpResponseError) and getattr(exc, "status_code", None):
        return _translate_response(exc, location, uri, signed)
    if isinstance(exc, (ServiceRequestTimeoutError, ServiceResponseTimeoutError)):
        return TransientStorageError(f"timed out talking to {location.netloc}", uri)
    inner = getattr(exc, "inner_exception", None) or exc.__cause__
    if isinstance(inner, StorageError):
        return type(inner)(inner.reason, uri)
    text = _describe(inner) if inner is not None else str(exc)
    if isinstance(exc, ServiceRequestError):
        if "refused" in text.lower():
            return TransientStorageError(f"connection refused by {location.netloc}", uri)
        if any(w in text.lower() for w in ("name or service not known", "nodename nor servname", "getaddrinfo")):
            return PermanentStorageError(f"unknown host {location.netloc}", uri)
        return TransientStorageError(f"cannot connect to {location.netloc}: {text}", uri)
    if isinstance(exc, ServiceResponseError):
        return TransientStorageError(f"the connection to {location.netloc} broke: {text}", uri)
    return TransientStorageError(f"Azure request failed: {text}", uri)


class _BlobBody(io.RawIOBase):
    """The bytes of a download, pulled chunk by chunk; closing it closes the HTTP session."""

    def __init__(self, downloader, session, location: AzureBlobLocation, uri: str, signed: bool):
        super().__init__()
        self._chunks, self._session, self._location, self._uri = downloader.chunks(), session, location, uri
        self._signed = signed
        self._pending = b""
        self.size = downloader.size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._pending:
            try:
                self._pending = next(self._chunks)
            except StopIteration:
                return 0
            except (AzureError, StorageError) as exc:
                raise _translate(exc, self._location, self._uri, self._signed) from exc
        count = min(len(buffer), len(self._pending))
        buffer[:count], self._pending = self._pending[:count], self._pending[count:]
        return count

    def close(self) -> None:
        if not self.closed:
            try:
                self._session.close()
            finally:
                super().close()


@register_storage
class AzureBlobStorage(RemoteStorage):
    """Blobs in Azure Blob Storage or an emulator (Azurite), with an account key, a SAS token, a connection string
    or anonymously. ``open_range`` streams a byte range (video, tiled TIFF) without downloading the whole blob."""

    schemes = ("azure",)

    def location(self, uri: str) -> AzureBlobLocation:
        scheme = urlsplit(uri).scheme.lower()
        location = _parse(uri, path_style_allowed=scheme == "azure")
        if location is None:
            raise InvalidURIError("not an Azure blob URL (expected <account>.blob.core.windows.net)", uri)
        return location

    def _credentials(self, location: AzureBlobLocation) -> Mapping | None:
        found = self.credentials_for(location.host, "azure", bucket=location.container)
        if found is None and not location.path_style:  # a row with host "" names its account by ``key``
            by_account = self.credentials_for("", "azure", bucket=location.container)
            if by_account and (by_account.get("key") or "").lower() == location.account:
                found = by_account
        return found

    def _service(self, location: AzureBlobLocation, credentials: Mapping | None):
        """(service client, session, signed: whether requests carry a key or SAS); the caller closes the session."""
        named = row_opens_endpoint(credentials, location.host)
        use_tls = True if credentials is None else bool(credentials.get("use_tls", True))
        key, sas = _signing(location, credentials)
        credential = {"account_name": key[0], "account_key": key[1]} if key else sas
        session = vetted_session(cloud_endpoint_policy(named))
        session.verify = setting("HYPERDATA_FETCH_CA_BUNDLE") or True
        transport = RequestsTransport(
            session=session, session_owner=False,
            connection_timeout=float(setting("HYPERDATA_FETCH_CONNECT_TIMEOUT")),
            read_timeout=float(setting("HYPERDATA_FETCH_READ_TIMEOUT")),
        )
        service = BlobServiceClient(
            account_url=location.endpoint(use_tls), credential=credential, transport=transport, retry_total=0,
            permit_redirects=False, max_single_get_size=_CHUNK, max_chunk_get_size=_CHUNK,
        )
        return service, session, credential is not None

    def _client(self, uri: str):
        """(location, signed, blob client, session); the caller closes the session."""
        location = self.location(uri)
        service, session, signed = self._service(location, self._credentials(location))
        return location, signed, service.get_blob_client(location.container, location.blob), session

    def check_credential(self, credential: Mapping) -> str:
        """Settings' Test button: list one blob of the row's container (or one container of the account)."""
        host = (credential.get("host") or "").lower() or f"{(credential.get('key') or '').lower()}.blob.core.windows.net"
        container = credential.get("bucket") or ""
        uri = f"azure://{host}/{container}"
        location = _parse(f"azure://{host}/{container or 'any'}/any")
        service, session, signed = self._service(location, credential)
        try:
            if container:
                names = [b.name for b in next(service.get_container_client(container).list_blobs(
                    results_per_page=1).by_page(), [])]
            else:
                names = [c.name for c in next(service.list_containers(results_per_page=1).by_page(), [])]
        except (AzureError, StorageError) as exc:
            raise _translate(exc, location, uri, signed) from exc
        finally:
            session.close()
        if not container:
            return f"connected to {host}: " + (f"the first container is {names[0]!r}" if names else "no containers")
        found = f"the first blob is {names[0]!r}" if names else "the container is empty"
        return f"connected to {host}, container {container!r}: {found}"

    def open_range(self, uri: str, offset: int = 0, length: int | None = None) -> BinaryIO:
        """A forward-only stream of ``length`` bytes (to the end when None) from ``offset``; close it after use."""
        location, signed, client, session = self._client(uri)
        try:
            start = offset if offset or length is not None else None  # None: the whole blob
            downloader = client.download_blob(offset=start, length=length, max_concurrency=1)
            return _BlobBody(downloader, session, location, uri, signed)
        except (AzureError, StorageError) as exc:
            session.close()
            raise _translate(exc, location, uri, signed) from exc
        except BaseException:
            session.close()
            raise

    def _open_stream(self, uri: str) -> BinaryIO:
        return self.open_range(uri)

    def open(self, uri: str, *, seekable: bool = True) -> BinaryIO:
        return (seekable and open_seekable(self, uri)) or super().open(uri, seekable=seekable)

    def stat(self, uri: str) -> StorageStat:
        location, signed, client, session = self._client(uri)
        try:
            properties = client.get_blob_properties()
        except (AzureError, StorageError) as exc:
            raise _translate(exc, location, uri, signed) from exc
        finally:
            session.close()
        modified = properties.last_modified
        return StorageStat(
            size=properties.size, etag=properties.etag, mtime=modified.timestamp() if modified else None,
            content_type=(properties.content_settings.content_type or None) if properties.content_settings else None,
        )

    def signed_url(self, uri: str, expires: int | timedelta = 3600) -> str | None:
        """A read-only SAS URL for the blob, valid for ``expires``, when the row's delivery is "signed" and it holds
        an account key (an anonymous row: the plain public URL); None otherwise (a SAS-token row never hands its
        token to the browser): the blob is then served through the media proxy."""
        location = self.location(uri)
        credentials = self._credentials(location)
        if not credentials or credentials.get("delivery") != "signed":
            return None
        if credentials.get("anonymous"):
            return location.blob_url(bool(credentials.get("use_tls", True)))
        key, _sas = _signing(location, credentials)
        if key is None:
            return None
        lifetime = expires if isinstance(expires, timedelta) else timedelta(seconds=int(expires))
        now = datetime.now(timezone.utc)
        sas = generate_blob_sas(
            account_name=key[0], container_name=location.container, blob_name=location.blob, account_key=key[1],
            permission=BlobSasPermissions(read=True), expiry=now + lifetime,
            start=now - timedelta(minutes=5),  # a browser or server whose clock runs a little behind ours
        )
        return f"{location.blob_url(bool(credentials.get('use_tls', True)))}?{sas}"


__all__ = ["AzureBlobLocation", "AzureBlobStorage", "azure_blob_location", "azure_storage_for_url"]
