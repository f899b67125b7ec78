"""A late webhook about what a payment already went past is stale, not an alarm.

Regression (chaos run, docs/reliability.md): every "authorized" webhook delivered late,
duplicated or reordered after a void was logged at ERROR as money taken for a closed payment
- 750 false alarms in a 10,000-payment run.
"""

from __future__ import annotations

import logging

import pytest

from gatewayhub.models import EventKind, PaymentStatus, ProviderEvent

from .conftest import MakeHub


def authorized(event_id: str, reference: str | None) -> ProviderEvent:
    return ProviderEvent(event_id, EventKind.AUTHORIZED, "charge.authorized", reference)


async def test_the_voided_charges_late_authorization_is_ignored_quietly(
    make_hub: MakeHub, caplog: pytest.LogCaptureFixture
) -> None:
    hub = await make_hub()
    payment = await hub.authorize(
        amount=1000, currency="EUR", payment_method="tok_visa", capture="manual"
    )
    payment = await hub.void(payment.id)
    assert payment.status is PaymentStatus.CANCELED
    with caplog.at_level(logging.WARNING):
        changed = await hub.service.apply_event(
            "a", payment.id, authorized("evt_late", payment.provider_reference)
        )
    assert changed is False
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert "payment.discrepancy" not in [e.type for e in await hub.events(payment.id)]


async def test_another_charge_authorized_for_a_voided_payment_still_alarms(
    make_hub: MakeHub, caplog: pytest.LogCaptureFixture
) -> None:
    hub = await make_hub()
    payment = await hub.authorize(
        amount=1000, currency="EUR", payment_method="tok_visa", capture="manual"
    )
    await hub.void(payment.id)
    with caplog.at_level(logging.WARNING):
        await hub.service.apply_event("a", payment.id, authorized("evt_other", "ch_other"))
    assert len([r for r in caplog.records if r.levelno == logging.ERROR]) == 1
    assert "payment.discrepancy" in [e.type for e in await hub.events(payment.id)]
