"""The keys a WeChat Pay merchant is configured with.

    merchant private key   apiclient_key.pem: RSA, PKCS#8 (-----BEGIN PRIVATE KEY-----) as
                           WeChat issues it; PKCS#1 PEM is accepted too
    platform certificates  WeChat Pay platform certificates (PEM X.509), picked by their
                           serial number, which responses and notifications name in
                           `Wechatpay-Serial`; several during rotation
    platform public keys   the newer "WeChat Pay public key" mode: PEM SubjectPublicKeyInfo
                           under its id (`PUB_KEY_ID_...`), which `Wechatpay-Serial` then names

Every value is PEM text or `file:<path>`. Errors never repeat the key material.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

FILE_PREFIX = "file:"
PUBLIC_KEY_ID_PREFIX = "PUB_KEY_ID_"


def _pem(value: str, what: str) -> bytes:
    text = value.strip()
    if text.startswith(FILE_PREFIX):
        path = Path(text[len(FILE_PREFIX) :]).expanduser()
        try:
            return path.read_bytes()
        except OSError as exc:
            raise ValueError(f"{what}: cannot read {path}: {exc.strerror}") from None
    return text.encode("ascii", errors="replace")


def load_private_key(value: str, what: str = "merchant_private_key") -> RSAPrivateKey:
    """The merchant's RSA private key from PEM (PKCS#8 or PKCS#1) or `file:<path>`."""
    try:
        key = serialization.load_pem_private_key(_pem(value, what), password=None)
    except (ValueError, TypeError):
        raise ValueError(f"{what} is not an unencrypted PEM RSA private key") from None
    if not isinstance(key, RSAPrivateKey):
        raise ValueError(f"{what} is not an RSA key")  # noqa: TRY004 - pydantic reports ValueError
    return key


def load_certificate(value: str, what: str = "platform_certificates") -> tuple[str, RSAPublicKey]:
    """A platform certificate's serial (upper-case hex, as `Wechatpay-Serial` writes it) and
    public key."""
    try:
        cert = x509.load_pem_x509_certificate(_pem(value, what))
    except ValueError:
        raise ValueError(f"{what}: not a PEM X.509 certificate") from None
    key = cert.public_key()
    if not isinstance(key, RSAPublicKey):
        raise ValueError(f"{what}: not an RSA certificate")  # noqa: TRY004 - see above
    return format(cert.serial_number, "X"), key


def load_public_key(value: str, what: str = "platform_public_keys") -> RSAPublicKey:
    """A WeChat Pay public key from PEM or `file:<path>`."""
    try:
        key = serialization.load_pem_public_key(_pem(value, what))
    except (ValueError, TypeError):
        raise ValueError(f"{what}: not a PEM public key") from None
    if not isinstance(key, RSAPublicKey):
        raise ValueError(f"{what}: not an RSA key")  # noqa: TRY004 - see above
    return key


class PlatformKeys:
    """WeChat Pay's verification keys, by the serial or key id that `Wechatpay-Serial` names."""

    def __init__(self, certificates: Sequence[str], public_keys: Mapping[str, str]) -> None:
        self._keys: dict[str, RSAPublicKey] = {}
        for pem in certificates:
            serial, key = load_certificate(pem)
            self._keys[serial] = key
        for key_id, pem in public_keys.items():
            self._keys[key_id] = load_public_key(pem)

    def get(self, serial: str) -> RSAPublicKey | None:
        """The key for `serial`; certificate serials match whatever their case."""
        if serial.startswith(PUBLIC_KEY_ID_PREFIX):
            return self._keys.get(serial)
        return self._keys.get(serial.upper())

    def serials(self) -> list[str]:
        """Every configured serial and key id."""
        return list(self._keys)
