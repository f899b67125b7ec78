"""Shared fixtures of the core tests: hubs over fake providers on real databases."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from gatewayhub.config import parse_config
from gatewayhub.hub import Hub
from gatewayhub.testing import FakeProvider, FixedClock

MakeHub = Callable[..., Awaitable[Hub]]


@pytest.fixture
async def make_hub(database_url: str, clock: FixedClock) -> AsyncIterator[MakeHub]:
    """Build started hubs over fake accounts "a", "b", "c" (priority in that order)."""
    hubs: list[Hub] = []

    async def make(
        accounts: dict[str, dict[str, Any]] | None = None,
        routing: dict[str, Any] | None = None,
        retry: dict[str, Any] | None = None,
        gateway: dict[str, Any] | None = None,
        seed: int = 7,
    ) -> Hub:
        accounts = accounts if accounts is not None else {"a": {}, "b": {}, "c": {}}
        config = parse_config(
            {
                # Provider timeouts of 1 s and no grace: with `retry.deadline` D the send window
                # is D + 1 s, and a test with short leases or reconcile delays sets D to fit.
                "gateway": {
                    "database_url": database_url,
                    "in_flight_grace_seconds": 0,
                    **(gateway or {}),
                },
                "routing": routing or {"strategies": ["priority"]},
                "retry": {"backoff_initial": 0.05, **(retry or {})},
                "providers": {
                    name: {
                        "type": "fake",
                        "priority": index,
                        "settings": {"timeouts": {"total": 1}},
                        **spec,
                    }
                    for index, (name, spec) in enumerate(accounts.items(), start=1)
                },
            }
        )
        hub = Hub(config, clock=clock, rng=random.Random(seed), background=False)
        await hub.start()
        hubs.append(hub)
        return hub

    yield make
    for hub in hubs:
        await hub.close()


def fake(hub: Hub, account: str) -> FakeProvider:
    """The fake adapter behind `account`."""
    adapter = hub.accounts[account].adapter
    assert isinstance(adapter, FakeProvider)
    return adapter


async def assert_books_balance(hub: Hub) -> None:
    """Every ledger transaction sums to zero, and per payment the ledger agrees with the
    payment's own totals (captured - refunded is what the providers owe plus their fees)."""
    assert await hub.store.unbalanced_transactions() == []
    page = await hub.list(limit=100)
    for view in page.items:
        assert 0 <= view.refunded <= view.captured <= view.authorized <= view.amount, view.id
        entries = await hub.store.ledger_entries(view.id)
        receivable = sum(e["amount"] for e in entries if e["account"].startswith("receivable:"))
        fees = sum(e["amount"] for e in entries if e["account"].startswith("fees:"))
        sales = -sum(e["amount"] for e in entries if e["account"] == "sales")
        refunds = sum(e["amount"] for e in entries if e["account"] == "refunds")
        holds = sum(e["amount"] for e in entries if e["account"].startswith("authorizations:"))
        assert sales == view.captured, view.id
        assert refunds == view.refunded, view.id
        assert receivable + fees == view.captured - view.refunded, view.id
        # A final capture or a void releases the hold; a partial non-final capture keeps it.
        assert 0 <= holds <= view.authorized - view.captured, view.id
        if view.status.value == "authorized":
            assert holds == view.authorized, view.id
