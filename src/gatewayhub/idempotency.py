"""Client idempotency (fingerprints) and provider idempotency keys (derived, never random).

A provider key is derived from (payment, operation, attempt number), so every retry of one
attempt - including a retry by a new process after a crash - sends the same key, and the
provider answers with its original result instead of charging again.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

from gatewayhub.models import Operation

# A fixed namespace: keys derived from the same inputs are the same on every machine forever.
_KEY_NAMESPACE = uuid.UUID("5f0d3c1e-8a52-4f7b-9d3e-2b1c6a9e4f10")


def provider_key(payment_id: str, operation: Operation, seq: int) -> str:
    """The provider idempotency key of attempt `seq`: a UUID, which every provider accepts."""
    return str(uuid.uuid5(_KEY_NAMESPACE, f"{payment_id}/{operation.value}/{seq}"))


def key_hex(key: str) -> str:
    """A provider key as 32 hex digits, for providers whose merchant order numbers take no
    dashes and at most 32 characters (Alipay, WeChat Pay); a key that is not a UUID is
    hashed to the same shape."""
    try:
        return uuid.UUID(key).hex
    except ValueError:
        return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def key_from_hex(text: str | None) -> str | None:
    """The provider key `key_hex` made `text` from, when it was made from one: an order
    number echoed in a webhook then names the attempt even if its answer was lost."""
    if text is None or len(text) != 32:
        return None
    try:
        return str(uuid.UUID(hex=text))
    except ValueError:
        return None


def fingerprint(operation: str, payload: dict[str, Any]) -> str:
    """A SHA-256 over the canonical JSON of a request.

    Only the digest is stored. Commands never carry card numbers (they are refused at
    validation), and hashing keeps even tokens out of the idempotency table.
    """
    canonical = json.dumps(
        {"op": operation, "body": payload}, sort_keys=True, separators=(",", ":"), default=str
    )
    return hashlib.sha256(canonical.encode()).hexdigest()
