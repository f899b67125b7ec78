"""The emulator's own record (`GET /_sandbox/charges`) as the invariant checker reads it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gatewayhub.testing.invariants import ProviderCharge

# Statuses where the card was held or charged (a refund does not change the status).
MOVED = frozenset({"authorized", "partially_captured", "captured"})


def provider_charges(account: str, record: Mapping[str, Any]) -> list[ProviderCharge]:
    """The charges of one emulator's record, as `ProviderCharge` values of `account`."""
    return [
        ProviderCharge(
            account=account,
            charge_id=c["id"],
            payment_id=c.get("reference"),
            status=c["status"],
            moved=c["status"] in MOVED,
            captured=c["amount_captured"],
            refunded=c["amount_refunded"],
        )
        for c in record["charges"]
    ]
