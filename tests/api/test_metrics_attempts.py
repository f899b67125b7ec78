"""/metrics counts every provider attempt the process commits, not only the API's own."""

from __future__ import annotations

import logging

import pytest

from gatewayhub.api.metrics import Metrics
from gatewayhub.errors import OutcomeUnknown
from gatewayhub.models import PaymentStatus
from gatewayhub.testing import FixedClock, charge_then

from ..conftest import MakeHub, fake

EUR_10 = {"amount": 1000, "currency": "EUR", "payment_method": "tok_visa"}
LABELS = '{operation="authorize",provider="a"}'


async def test_sdk_attempts_and_reconciled_unknown_outcomes_are_counted(
    make_hub: MakeHub, clock: FixedClock
) -> None:
    hub = await make_hub(
        retry={"tries_per_attempt": 1, "retrieve_tries": 1, "deadline": 10},
        gateway={"reconcile_after_seconds": 30},
    )
    metrics = Metrics(hub)
    a = fake(hub, "a")
    a.script("authorize", charge_then(OutcomeUnknown("timeout")))
    a.script("retrieve", OutcomeUnknown("lookup timed out"))
    # Both through the SDK: no API request sees these attempts.
    unknown = await hub.authorize(**EUR_10)
    approved = await hub.authorize(**EUR_10)
    assert (unknown.status, approved.status) == (PaymentStatus.PROCESSING, PaymentStatus.CAPTURED)

    clock.advance(31)
    assert await hub.reconcile() == 1  # the reconciler's lookup finds the charge
    assert (await hub.get(unknown.id)).status is PaymentStatus.CAPTURED

    text = metrics.render().decode()
    assert f"gatewayhub_provider_attempts_total{LABELS} 2.0" in text
    assert f"gatewayhub_provider_approvals_total{LABELS} 1.0" in text
    assert f"gatewayhub_provider_errors_total{LABELS} 1.0" in text, "the unknown outcome"
    assert "gatewayhub_provider_declines_total{" not in text
    assert (
        "gatewayhub_unknown_outcomes_resolved_total"
        '{operation="authorize",outcome="succeeded",provider="a"} 1.0'
    ) in text


async def test_a_failing_observer_does_not_fail_the_committed_payment(
    make_hub: MakeHub, caplog: pytest.LogCaptureFixture
) -> None:
    hub = await make_hub()
    seen: list[int] = []

    def broken(changes: object) -> None:
        raise RuntimeError("observer bug")

    hub.observe_attempts(broken)
    hub.observe_attempts(lambda changes: seen.append(len(changes)))
    with caplog.at_level(logging.ERROR, logger="gatewayhub.service"):
        payment = await hub.authorize(**EUR_10)

    assert payment.status is PaymentStatus.CAPTURED
    assert "an attempt observer failed" in caplog.text
    assert seen == [1, 1], "started with the payment, then answered; the next observer still ran"
