"""The RSA keys an Alipay account is configured with, in the forms Alipay hands them out.

Alipay's key tool prints the application private key as bare base64, either PKCS#1 ("non-Java")
or PKCS#8 ("Java"), and the Open Platform console shows the Alipay public key as bare base64
SubjectPublicKeyInfo. Every key setting therefore accepts:

    PEM text         -----BEGIN RSA PRIVATE KEY----- (PKCS#1), -----BEGIN PRIVATE KEY----- (PKCS#8),
                     -----BEGIN PUBLIC KEY-----
    bare base64      the DER body exactly as the Alipay tools print it
    file:<path>      a file holding either of the above

Errors never repeat the key material.
"""

from __future__ import annotations

import base64
import binascii
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

FILE_PREFIX = "file:"


def _key_bytes(value: str, what: str) -> bytes:
    text = value.strip()
    if text.startswith(FILE_PREFIX):
        path = Path(text[len(FILE_PREFIX) :]).expanduser()
        try:
            return path.read_bytes().strip()
        except OSError as exc:
            raise ValueError(f"{what}: cannot read {path}: {exc.strerror}") from None
    return text.encode("ascii", errors="replace")


def _der(text: bytes, what: str) -> bytes:
    try:
        return base64.b64decode(b"".join(text.split()), validate=True)
    except binascii.Error:
        raise ValueError(f"{what} is neither PEM nor bare base64") from None


def load_private_key(value: str, what: str = "app_private_key") -> RSAPrivateKey:
    """An RSA private key from PEM (PKCS#1 or PKCS#8), bare base64 DER, or `file:<path>`."""
    data = _key_bytes(value, what)
    try:
        if data.startswith(b"-----BEGIN"):
            key = serialization.load_pem_private_key(data, password=None)
        else:
            key = serialization.load_der_private_key(_der(data, what), password=None)
    except (ValueError, TypeError):
        raise ValueError(
            f"{what} is not an unencrypted RSA private key (PKCS#1 or PKCS#8, PEM or bare base64)"
        ) from None
    if not isinstance(key, RSAPrivateKey):
        raise ValueError(f"{what} is not an RSA key (Alipay RSA2 needs RSA)")  # noqa: TRY004 - pydantic reports ValueError only
    return key


def load_public_key(value: str, what: str = "alipay_public_keys") -> RSAPublicKey:
    """An RSA public key from PEM, bare base64 SubjectPublicKeyInfo, or `file:<path>`."""
    data = _key_bytes(value, what)
    try:
        if data.startswith(b"-----BEGIN"):
            key = serialization.load_pem_public_key(data)
        else:
            key = serialization.load_der_public_key(_der(data, what))
    except (ValueError, TypeError):
        raise ValueError(f"{what} is not an RSA public key (PEM or bare base64)") from None
    if not isinstance(key, RSAPublicKey):
        raise ValueError(f"{what} is not an RSA key (Alipay RSA2 needs RSA)")  # noqa: TRY004 - pydantic reports ValueError only
    return key
