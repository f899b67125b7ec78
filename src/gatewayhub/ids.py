"""Identifiers: a prefix plus a ULID, so ids sort by creation time (cursor pagination)."""

from __future__ import annotations

import base64
import secrets
from datetime import datetime

# RFC 4648 base32 -> Crockford base32 (no I, L, O, U), which keeps the ULID sort order.
_TO_CROCKFORD = bytes.maketrans(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", b"0123456789ABCDEFGHJKMNPQRSTVWXYZ"
)


def new_id(prefix: str, now: datetime, randomness: bytes | None = None) -> str:
    """`prefix_` + 26 Crockford base32 characters: 48 bits of milliseconds, 80 random bits."""
    millis = int(now.timestamp() * 1000)
    entropy = randomness[:10] if randomness is not None else secrets.token_bytes(10)
    # 128 bits make 26 characters with two zero bits in front (130 = 26 x 5): shifted left by
    # six inside 17 bytes, the first 26 base32 characters are exactly those 130 bits.
    value = (((millis << 80) | int.from_bytes(entropy, "big")) << 6).to_bytes(17, "big")
    encoded = base64.b32encode(value)[:26].translate(_TO_CROCKFORD)
    return f"{prefix}_{encoded.decode()}"
