"""TrueLayer's webhook signing keys: a JWKS fetched from the `jku` a webhook's JWS names, but
only from the allow-listed URLs, kept per URL and refreshed when a webhook names a `kid` the
cache does not hold (at most once per `min_refresh` interval, so forged webhooks cannot make
us hammer the URL).

EC coordinates in a JWK are base64url big-endian integers; TrueLayer's published JWKS has
P-521 coordinates of 65 bytes where 66 are expected (a leading zero byte dropped), which
strict JWK parsers refuse. The key is built from the integers, which need no padding.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

P521_BYTES = 66


class JwksError(ValueError):
    """A JWKS document (or one of its keys) that cannot be read."""


def _coordinate(value: Any) -> int:
    if not isinstance(value, str):
        raise JwksError("EC coordinate is not a string")
    raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    if not 0 < len(raw) <= P521_BYTES:
        raise JwksError(f"EC coordinate of {len(raw)} bytes does not fit P-521")
    return int.from_bytes(raw.rjust(P521_BYTES, b"\0"), "big")


def public_keys(jwks: Mapping[str, Any]) -> dict[str, ec.EllipticCurvePublicKey]:
    """The EC P-521 (ES512) keys of a JWKS by `kid`; other keys (RSA...) are skipped."""
    found: dict[str, ec.EllipticCurvePublicKey] = {}
    keys = jwks.get("keys")
    if not isinstance(keys, list):
        raise JwksError("a JWKS has a 'keys' array")
    for jwk in keys:
        if not isinstance(jwk, dict) or jwk.get("kty") != "EC" or jwk.get("crv") != "P-521":
            continue
        if jwk.get("alg", "ES512") != "ES512" or not isinstance(jwk.get("kid"), str):
            continue
        try:
            numbers = ec.EllipticCurvePublicNumbers(
                _coordinate(jwk.get("x")), _coordinate(jwk.get("y")), ec.SECP521R1()
            )
            found[jwk["kid"]] = numbers.public_key()
        except (binascii.Error, ValueError):
            continue  # a key that is not on the curve is no key of ours
    return found


def parse(body: bytes) -> dict[str, ec.EllipticCurvePublicKey]:
    """A JWKS document's ES512 keys."""
    document = json.loads(body)
    if not isinstance(document, dict):
        raise JwksError("a JWKS is a JSON object")
    return public_keys(document)


@dataclass
class _Entry:
    keys: dict[str, ec.EllipticCurvePublicKey] = field(default_factory=dict)
    fetched_at: datetime | None = None


@dataclass
class KeyCache:
    """Keys per allowed `jku`, with the time they were fetched."""

    ttl: timedelta
    min_refresh: timedelta
    _entries: dict[str, _Entry] = field(default_factory=dict)

    def key(self, jku: str, kid: str) -> ec.EllipticCurvePublicKey | None:
        """The cached key, if any (stale or not: verification of a known key never waits)."""
        entry = self._entries.get(jku)
        return entry.keys.get(kid) if entry else None

    def needs_fetch(self, jku: str, kid: str, now: datetime) -> bool:
        """Fetch when the URL was never fetched, when its keys are older than `ttl`, or when
        `kid` is unknown - but never twice within `min_refresh`."""
        entry = self._entries.get(jku)
        if entry is None or entry.fetched_at is None:
            return True
        age = now - entry.fetched_at
        if age < self.min_refresh:
            return False
        return kid not in entry.keys or age >= self.ttl

    def store(self, jku: str, keys: dict[str, ec.EllipticCurvePublicKey], now: datetime) -> None:
        """Replace the keys of `jku`."""
        self._entries[jku] = _Entry(dict(keys), now)

    def attempted(self, jku: str, now: datetime) -> None:
        """Record a fetch that failed, so the next one waits `min_refresh` too."""
        entry = self._entries.setdefault(jku, _Entry())
        entry.fetched_at = now
