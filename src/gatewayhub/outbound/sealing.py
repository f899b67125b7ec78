"""Signing secrets at rest: sealed with AES-256-GCM under a key from the configuration.

The gateway must know each endpoint's `whsec_` secret to sign with it, so the secret cannot be
hashed; it is encrypted instead, and the row's endpoint id is bound in as associated data, so
a sealed secret copied onto another row does not open. The stored form is
`v1.<key id>.<base64(nonce || ciphertext)>`; the key id (first bytes of the key's SHA-256)
picks the key when opening, so keys can be rotated: seal with the new key, keep the old ones in
`previous_encryption_keys` until every secret was re-sealed (gatewayhub.outbound.resealing).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from gatewayhub.errors import ConfigError

_VERSION = "v1"
_NONCE = 12


def new_encryption_key() -> str:
    """A fresh key for `webhooks.encryption_key` (32 random bytes, base64)."""
    return base64.b64encode(secrets.token_bytes(32)).decode()


def new_signing_secret() -> str:
    """A Standard Webhooks secret: `whsec_` + base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _key(text: str, where: str) -> bytes:
    try:
        key = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError(f"{where} is not base64") from None
    if len(key) != 32:
        raise ConfigError(f"{where} must be 32 bytes (base64 of 32 random bytes), not {len(key)}")
    return key


def _key_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:8]


class SecretBox:
    """Seals with the current key; opens with the current or any previous one."""

    def __init__(self, current: str | None, previous: Sequence[str] = ()) -> None:
        self._current = _key(current, "webhooks.encryption_key") if current else None
        keys = [self._current] if self._current else []
        keys += [_key(k, f"webhooks.previous_encryption_keys[{i}]") for i, k in enumerate(previous)]
        self._keys = {_key_id(k): AESGCM(k) for k in keys}

    def __repr__(self) -> str:
        return f"SecretBox(keys={len(self._keys)})"

    def _require_current(self) -> bytes:
        if self._current is None:
            raise ConfigError(
                "webhooks.encryption_key is not set: merchant webhook secrets are stored "
                "encrypted. Generate one with "
                "`python -c 'from gatewayhub.outbound import new_encryption_key as k; print(k())'`"
                ' and set encryption_key = "env:GATEWAYHUB_WEBHOOK_KEY" under [webhooks]'
            )
        return self._current

    @property
    def current_key_id(self) -> str:
        """The id `seal` writes into what it seals (`ConfigError` without a current key)."""
        return _key_id(self._require_current())

    def sealed_with_current(self, stored: str) -> bool:
        """Whether `stored` was sealed with the current key (reading only its key id)."""
        return stored.split(".", 2)[1:2] == [self.current_key_id]

    def seal(self, plaintext: str, bound_to: str) -> str:
        """Encrypt `plaintext` for the row `bound_to`."""
        key = self._require_current()
        nonce = secrets.token_bytes(_NONCE)
        sealed = AESGCM(key).encrypt(nonce, plaintext.encode(), bound_to.encode())
        return f"{_VERSION}.{_key_id(key)}.{base64.b64encode(nonce + sealed).decode()}"

    def open(self, stored: str, bound_to: str) -> str:
        """Decrypt a value from `seal`; `ConfigError` when no configured key opens it."""
        version, _, rest = stored.partition(".")
        key_id, _, data = rest.partition(".")
        if version != _VERSION or not data:
            raise ConfigError("a stored webhook secret is not in a known sealed format")
        box = self._keys.get(key_id)
        if box is None:
            raise ConfigError(
                f"a webhook secret is sealed with key {key_id}, which is not configured "
                "(webhooks.encryption_key or previous_encryption_keys)"
            )
        raw = base64.b64decode(data)
        try:
            return box.decrypt(raw[:_NONCE], raw[_NONCE:], bound_to.encode()).decode()
        except InvalidTag:
            raise ConfigError(
                f"the webhook secret stored for {bound_to} does not open with key {key_id}"
            ) from None
