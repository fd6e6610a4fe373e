"""Encryption at rest of credential secrets (Fernet, from the `cryptography` package).

The key is the setting ``HYPERDATA_SECRETS_KEY`` (a Fernet key: ``python -c "from cryptography.fernet import
Fernet; print(Fernet.generate_key().decode())"``): the environment variable, else a key file settings makes under
var/ on first run (one machine). Should the setting be empty anyway, DEBUG and test runs derive a key from
SECRET_KEY and production refuses to store or read secrets. Changing the key makes stored secrets unreadable
(:class:`SecretUnreadable`): enter them again.
"""
from __future__ import annotations

import base64
import hashlib
import sys

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class SecretUnreadable(Exception):
    """A stored secret cannot be decrypted with the current key (the key changed)."""


def _running_tests() -> bool:
    return "pytest" in sys.modules or getattr(settings, "HYPERDATA_TESTING", False)


def _fernet() -> Fernet:
    key = getattr(settings, "HYPERDATA_SECRETS_KEY", "") or ""
    if not key:
        if not (settings.DEBUG or _running_tests()):
            raise ImproperlyConfigured("HYPERDATA_SECRETS_KEY is not set: cloud credentials cannot be stored or read")
        key = derived_key()  # a development database keeps working; never used in production (above)
    try:
        return Fernet(key)
    except ValueError as exc:
        raise ImproperlyConfigured(f"HYPERDATA_SECRETS_KEY is not a Fernet key ({exc})") from exc


def derived_key() -> str:
    """The Fernet key DEBUG and test runs use when HYPERDATA_SECRETS_KEY is not set (from SECRET_KEY)."""
    digest = hashlib.sha256(f"hyperdata-secrets:{settings.SECRET_KEY}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


def encrypt(plain: str) -> str:
    """The stored form of a secret; "" stays "" (no secret)."""
    return _fernet().encrypt(plain.encode()).decode() if plain else ""


def decrypt(stored: str) -> str:
    if not stored:
        return ""
    try:
        return _fernet().decrypt(stored.encode()).decode()
    except InvalidToken as exc:
        raise SecretUnreadable("the stored secret cannot be decrypted: HYPERDATA_SECRETS_KEY changed") from exc
