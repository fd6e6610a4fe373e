"""Cloud credentials: create, change and delete rows (secrets encrypted before they are stored), and test one.

A user manages their own rows; shared rows (owner null, used by everyone) are made and changed by staff only.
Secrets are write-only: a change that leaves `secret` or `token` out keeps the stored one, "" clears it.
"""
from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

from django.db import transaction

from .. import secrets
from ..exceptions import Forbidden, ServiceError
from ..models import CloudCredential
from ..selectors.credentials import credential_mapping
from ..storage import StorageError, storage_for_uri

PROVIDER_SCHEMES = {"s3": "s3", "gcs": "gs", "azure": "azure"}
TEXT_FIELDS = {"name": 255, "host": 255, "bucket": 255, "region": 64, "key": 255}
BOOL_FIELDS = ("use_tls", "anonymous", "shared")
SECRET_FIELDS = ("secret", "token")
FIELDS = (*TEXT_FIELDS, *BOOL_FIELDS, *SECRET_FIELDS, "provider", "azure_auth", "delivery")
# host or host:port, and for an Azure emulator host:port/account; no scheme, no user-info.
HOST = re.compile(r"^[A-Za-z0-9.\-\[\]:]+(?::[0-9]{1,5})?(/[A-Za-z0-9]{1,64})?$")
S3_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.\-_]{1,254}$")


def _error(field: str, message: str) -> dict:
    return {"field": field, "message": message}


def _clean(data: dict) -> tuple[dict, list[dict]]:
    """The field values `data` sets, and the errors, each naming its field."""
    unknown = sorted(set(data) - set(FIELDS))
    errors = [_error(name, "unknown field") for name in unknown]
    values = {}
    for name, limit in TEXT_FIELDS.items():
        if name in data:
            value = data[name]
            if not isinstance(value, str):
                errors.append(_error(name, "expected a string"))
                continue
            value = value.strip()
            if len(value) > limit:
                errors.append(_error(name, f"at most {limit} characters"))
            values[name] = value
    for name in BOOL_FIELDS:
        if name in data:
            if not isinstance(data[name], bool):
                errors.append(_error(name, "expected true or false"))
            values[name] = data[name]
    for name in SECRET_FIELDS:
        if name in data:
            if not isinstance(data[name], str):
                errors.append(_error(name, "expected a string"))
            values[name] = data[name] if isinstance(data[name], str) else ""
    for name, choices in (("provider", CloudCredential.PROVIDERS), ("azure_auth", CloudCredential.AZURE_AUTHS),
                          ("delivery", CloudCredential.DELIVERIES)):
        if name in data:
            allowed = [value for value, _label in choices]
            if data[name] not in allowed:
                errors.append(_error(name, f"expected one of {', '.join(allowed)}"))
            values[name] = data[name]
    return values, errors


def _host_problem(host: str) -> str | None:
    if not HOST.match(host):
        return "expected host or host:port, without http:// and without a path"
    try:
        port = urlsplit(f"//{host.split('/')[0]}").port
    except ValueError:
        return "the port must be a number between 1 and 65535"
    return "the port must be a number between 1 and 65535" if port == 0 else None


def _check_row(row: dict, secret_set: bool, errors: list[dict]) -> None:
    """Rules between fields, on the row as it would be stored."""
    if not row["name"]:
        errors.append(_error("name", "required"))
    if row["host"] and (problem := _host_problem(row["host"])):
        errors.append(_error("host", problem))
    if row["provider"] == "s3" and row["bucket"] and not S3_BUCKET.match(row["bucket"]):
        errors.append(_error("bucket", "an S3 bucket name is 2-255 lower-case letters, digits, dots and dashes"))
    if row["provider"] == "s3" and not row["anonymous"]:
        if not row["key"]:
            errors.append(_error("key", "the access key id is required (or tick anonymous for a public bucket)"))
        if not secret_set:
            errors.append(_error("secret", "the secret key is required (or tick anonymous for a public bucket)"))
    if row["provider"] == "gcs" and not row["anonymous"] and not secret_set:
        errors.append(_error("secret", "the service account's JSON key is required (or tick anonymous for a public bucket)"))
    elif row["provider"] == "gcs" and not row["anonymous"] and row["_secret_plain"] is not None:
        try:
            info = json.loads(row["_secret_plain"])
            if not isinstance(info, dict) or "private_key" not in info or "client_email" not in info:
                raise ValueError
        except ValueError:
            errors.append(_error("secret", "expected the service account's JSON key file (with client_email and private_key)"))
    if row["provider"] == "azure" and not row["anonymous"] and not secret_set:
        errors.append(_error("secret", "the account key, SAS token or connection string is required"))


def _apply(user, data: dict, row: CloudCredential, *, creating: bool) -> CloudCredential:
    if not isinstance(data, dict):
        raise ServiceError("expected a JSON object", field="body")
    values, errors = _clean(data)
    shared = values.pop("shared", row.owner_id is None if not creating else False)
    if shared and not user.is_staff:
        errors.append(_error("shared", "only staff may share a credential with everyone"))
    merged = {name: values.get(name, getattr(row, name)) for name in (*TEXT_FIELDS, "provider", "anonymous")}
    merged["_secret_plain"] = values.get("secret")
    secret_set = bool(values["secret"]) if "secret" in values else bool(row.secret)
    if creating and "provider" not in values:
        errors.append(_error("provider", "required"))
    if not errors:
        _check_row(merged, secret_set, errors)
    if errors:
        raise ServiceError("; ".join(f"{e['field']}: {e['message']}" for e in errors), errors=errors)
    for name, value in values.items():
        setattr(row, name, secrets.encrypt(value) if name in SECRET_FIELDS else value)
    if shared:
        row.owner = None
    elif creating or row.owner_id is None:  # a shared row made private becomes the staff member's own
        row.owner = user
    row.save()
    return row


def _require_editable(user, credential: CloudCredential) -> None:
    if credential.owner_id is None and not user.is_staff:
        raise Forbidden("only staff change shared credentials", field="credential")
    if credential.owner_id not in (None, user.pk) and not user.is_staff:
        raise Forbidden("this credential belongs to another user", field="credential")


@transaction.atomic
def credential_create(*, user, data: dict) -> CloudCredential:
    if not getattr(user, "is_authenticated", False):
        raise Forbidden("sign in to add cloud credentials", field="user")
    return _apply(user, data, CloudCredential(), creating=True)


@transaction.atomic
def credential_update(*, user, credential: CloudCredential, data: dict) -> CloudCredential:
    _require_editable(user, credential)
    row = CloudCredential.objects.select_for_update().get(pk=credential.pk)
    return _apply(user, data, row, creating=False)


@transaction.atomic
def credential_delete(*, user, credential: CloudCredential) -> None:
    _require_editable(user, credential)
    CloudCredential.objects.filter(pk=credential.pk).delete()


def credential_test(*, user, credential: CloudCredential) -> dict:
    """List one object with the row (a bucket of it, or its buckets): {"ok", "message"} in plain words."""
    mapping = credential_mapping(credential)
    scheme = PROVIDER_SCHEMES[credential.provider]
    try:
        storage = storage_for_uri(f"{scheme}://{credential.bucket or 'bucket'}/", credentials_provider=lambda **_: mapping)
        message = storage.check_credential(mapping)
    except StorageError as exc:
        return {"ok": False, "message": exc.reason}
    except secrets.SecretUnreadable as exc:
        return {"ok": False, "message": str(exc)}
    return {"ok": True, "message": message}
