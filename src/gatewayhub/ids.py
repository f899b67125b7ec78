"""Identifiers: a prefix plus a ULID, so ids sort by creation time (cursor pagination)."""

from __future__ import annotations

import secrets
from datetime import datetime

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_id(prefix: str, now: datetime, randomness: bytes | None = None) -> str:
    """`prefix_` + 26 Crockford base32 characters: 48 bits of milliseconds, 80 random bits."""
    millis = int(now.timestamp() * 1000)
    entropy = randomness if randomness is not None else secrets.token_bytes(10)
    value = (millis << 80) | int.from_bytes(entropy[:10], "big")
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return f"{prefix}_{''.join(reversed(chars))}"
