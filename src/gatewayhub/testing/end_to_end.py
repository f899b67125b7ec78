"""Adapters' end-to-end tests through the SDK: a Hub with one provider account on the test's
database (the `database_url` fixture runs it on SQLite and PostgreSQL), and the books check
such a test ends with.

The test mocks the provider itself (respx): the Hub's HTTP clients go through it.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from gatewayhub.clock import Clock
from gatewayhub.config import parse_config
from gatewayhub.hub import Hub


def one_account_hub(
    database_url: str,
    account: str,
    entry: Mapping[str, Any],
    *,
    clock: Clock,
    rng: random.Random | None = None,
    **sections: Any,
) -> Hub:
    """A Hub, to enter with `async with`, on `database_url` with the one provider `account`
    (`entry` is its configuration: type, settings, country, fees...) and any other config
    `sections` (routing...). It runs no background workers: the test applies webhooks with
    `hub.process_webhooks()` when it means to."""
    config = parse_config(
        {"gateway": {"database_url": database_url}, **sections, "providers": {account: entry}}
    )
    return Hub(config, clock=clock, rng=rng, background=False)


async def assert_payment_books(
    hub: Hub, payment_id: str, *, captured: int, refunded: int = 0
) -> None:
    """No transaction in the ledger is unbalanced, the payment's entries sum to zero, and
    they record `captured` in sales and `refunded` in refunds (minor units)."""
    unbalanced = await hub.store.unbalanced_transactions()
    assert unbalanced == [], f"unbalanced transactions: {unbalanced}"
    entries = await hub.store.ledger_entries(payment_id)
    total = sum(e["amount"] for e in entries)
    assert total == 0, f"{payment_id}: the entries sum to {total}"
    sales = -sum(e["amount"] for e in entries if e["account"] == "sales")
    assert sales == captured, f"{payment_id}: sales {sales}, expected {captured}"
    refunds = sum(e["amount"] for e in entries if e["account"] == "refunds")
    assert refunds == refunded, f"{payment_id}: refunds {refunds}, expected {refunded}"
