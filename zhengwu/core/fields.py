"""Model fields for personal data: SM4-encrypted at rest, looked up through a keyed SM3 blind index."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import models

from zhengwu.lib.gmcrypto import derive_key, sm3_hmac_hex, sm4_decrypt, sm4_encrypt


@lru_cache(maxsize=4)
def _key(purpose: str, secret: str) -> bytes:
    return derive_key(secret, purpose)


def field_key() -> bytes:
    return _key("field-sm4", settings.FIELD_ENCRYPTION_KEY)


def blind_index(value: str) -> str:
    """Deterministic keyed digest of a normalised value: equal inputs find each other, nothing leaks."""
    normalised = value.strip().lower()
    if not normalised:
        return ""
    return sm3_hmac_hex(_key("blind-index", settings.FIELD_ENCRYPTION_KEY), normalised)


class EncryptedTextField(models.TextField):
    """Text stored as SM4-CBC ciphertext; Python code sees the plain value."""

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> str:
        if value is None or value == "":
            return value or ""
        return sm4_decrypt(field_key(), value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value or ""
        return sm4_encrypt(field_key(), str(value))
