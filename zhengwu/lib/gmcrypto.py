"""SM3 digests and SM4 encryption (国密), the algorithms Chinese government systems are assessed on.

SM3 comes from OpenSSL through hashlib; SM4 from `cryptography`. Personal data is stored as
SM4-CBC ciphertext with a random IV; lookups use a keyed SM3 HMAC ("blind index") so the plain value
is never stored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


def sm3_hex(data: bytes | str) -> str:
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.new("sm3", data).hexdigest()


class Sm3Stream:
    """Incremental SM3 for files."""

    def __init__(self) -> None:
        self._h = hashlib.new("sm3")

    def update(self, chunk: bytes) -> None:
        self._h.update(chunk)

    def hexdigest(self) -> str:
        return self._h.hexdigest()


def sm3_hmac_hex(key: bytes, data: str) -> str:
    return hmac.new(key, data.encode("utf-8"), lambda: hashlib.new("sm3")).hexdigest()


def derive_key(secret: str, purpose: str) -> bytes:
    """A 16-byte key for one purpose, derived from the deployment secret."""
    return hashlib.new("sm3", f"{purpose}:{secret}".encode()).digest()[:16]


def sm4_encrypt(key: bytes, plaintext: str) -> str:
    iv = os.urandom(16)
    padder = padding.PKCS7(128).padder()
    data = padder.update(plaintext.encode("utf-8")) + padder.finalize()
    enc = Cipher(algorithms.SM4(key), modes.CBC(iv)).encryptor()
    return base64.b64encode(iv + enc.update(data) + enc.finalize()).decode("ascii")


def sm4_decrypt(key: bytes, token: str) -> str:
    raw = base64.b64decode(token)
    iv, body = raw[:16], raw[16:]
    dec = Cipher(algorithms.SM4(key), modes.CBC(iv)).decryptor()
    data = dec.update(body) + dec.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    return (unpadder.update(data) + unpadder.finalize()).decode("utf-8")
