"""Cloud credentials: the rows a user sees and may use, the one that reads a given host and bucket, and the
credentials provider the storage layer asks (frames.storage: ``storage_for_uri(uri, credentials_provider=...)``).

A user uses their own rows and the shared ones (owner null); staff also see everyone's rows in lists, but read
sources with their own and the shared ones like anybody else.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping

from django.conf import settings
from django.db.models import Q, QuerySet

from .. import secrets
from ..exceptions import NotFound
from ..models import CloudCredential
from ..storage import PermanentStorageError
from ..storage.uploads import bucket_credential

# URI scheme (or the scheme a storage asks with) -> the provider of the rows that read it. Azure's own https
# URLs are asked for with scheme "https": only rows of an Azure account host match those.
SCHEME_PROVIDERS = {"s3": "s3", "gs": "gcs", "gcs": "gcs", "azure": "azure", "http": "azure", "https": "azure"}
MAPPING_FIELDS = ("id", "provider", "host", "bucket", "region", "key", "azure_auth", "use_tls", "anonymous", "delivery")


def credentials_list(*, user) -> QuerySet[CloudCredential]:
    """The rows the user sees: their own and the shared ones (staff: every row)."""
    qs = CloudCredential.objects.select_related("owner")
    return qs if user.is_staff else qs.filter(Q(owner_id=user.pk) | Q(owner__isnull=True))


def credential_get(*, user, credential_id: str) -> CloudCredential:
    row = credentials_list(user=user).filter(pk=credential_id).first()
    if row is None:
        raise NotFound(f"no cloud credential with id {credential_id!r}", field="credential")
    return row


def usable_credentials(*, user) -> QuerySet[CloudCredential]:
    """The rows that read sources for the user: their own and the shared ones (None: the shared ones only, for
    work nobody in particular asked for)."""
    owned = Q(owner_id=user.pk) if user is not None and user.pk is not None else Q(pk__in=[])
    return CloudCredential.objects.filter(owned | Q(owner__isnull=True))


def credential_for(*, user, provider: str, host: str, bucket: str = "") -> CloudCredential | None:
    """The most specific usable row for ``host`` and ``bucket``: the same host and bucket first, then the same
    host for every bucket; at each step the user's own row before a shared one (then the newest)."""
    rows = usable_credentials(user=user).filter(provider=provider, host__iexact=host or "")
    rows = rows.filter(Q(bucket=bucket or "") | Q(bucket="")).select_related("owner")
    return min(rows, key=lambda r: (r.bucket == "", r.owner_id is None, -r.updated.timestamp()), default=None)


def credential_mapping(row: CloudCredential) -> dict:
    """What a storage receives: the row's fields with the secrets decrypted (in memory only), and
    ``allow_private``."""
    mapping = {name: getattr(row, name) for name in MAPPING_FIELDS}
    mapping.update(secret=secrets.decrypt(row.secret), token=secrets.decrypt(row.token))
    # Whether the row's host may be on a private or loopback address: staff decide (shared rows, staff's own), or
    # any user could point the server at the services on its network.
    mapping["allow_private"] = row.owner_id is None or row.owner.is_staff
    return mapping


def credentials_provider(*, user) -> Callable[..., Mapping | None]:
    """The provider for ``storage_for_uri``: called by a storage as ``provider(scheme=..., host=..., bucket=...)``,
    it answers the mapping of the usable row that fits, or None (anonymous / no credentials)."""

    def provider(*, scheme: str, host: str, bucket: str = "") -> Mapping | None:
        kind = SCHEME_PROVIDERS.get((scheme or "").lower())
        if kind is None:
            return None
        uploads = getattr(settings, "HYPERDATA_UPLOADS_BUCKET", None)
        if kind == "s3" and uploads and (uploads["host"], uploads["bucket"]) == ((host or "").lower(), bucket):
            return bucket_credential(uploads)  # the operator's uploads bucket: the SDK's files are read back
        row = credential_for(user=user, provider=kind, host=host, bucket=bucket)
        if row is None:
            return None
        try:
            return credential_mapping(row)
        except secrets.SecretUnreadable as exc:
            raise PermanentStorageError(f"the cloud credential {row.name!r} cannot be used: {exc}") from exc

    return provider
