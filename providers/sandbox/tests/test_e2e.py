"""The SDK against sandbox emulators: faults, 3-D Secure and async settlement through webhooks.
Every check of "charged once" reads the emulator's own record of charges."""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import timedelta
from typing import Any

import pytest

from gatewayhub.config import parse_config
from gatewayhub.hub import Hub
from gatewayhub.models import AttemptStatus, PaymentStatus
from gatewayhub.provider import WebhookVerificationError
from gatewayhub.testing import FixedClock
from gatewayhub.webhooks.standard import sign_headers
from gatewayhub_sandbox import cards
from gatewayhub_sandbox.provider import LOCAL_API_KEY, LOCAL_WEBHOOK_SECRET, EmulatorTransport
from gatewayhub_sandbox.server import Emulator, EmulatorConfig

Build = Callable[..., Awaitable[tuple[Hub, dict[str, Emulator]]]]


@pytest.fixture
async def sandboxes(database_url: str, clock: FixedClock) -> AsyncIterator[Build]:
    hubs: list[Hub] = []
    emulators_made: list[Emulator] = []

    async def build(
        accounts: Mapping[str, dict[str, Any]] | None = None,
        retry: dict[str, Any] | None = None,
        total_timeout: float = 5.0,
    ) -> tuple[Hub, dict[str, Emulator]]:
        accounts = accounts or {"first": {}, "second": {}}
        holder: list[Hub] = []
        emulators: dict[str, Emulator] = {}
        for name, options in accounts.items():

            async def deliver(headers: Mapping[str, str], body: bytes, name: str = name) -> None:
                await holder[0].handle_webhook(name, headers, body)

            emulators[name] = Emulator(
                EmulatorConfig(
                    name=name,
                    api_key=LOCAL_API_KEY,
                    webhook_secret=LOCAL_WEBHOOK_SECRET,
                    currencies=frozenset({"EUR", "JPY"}),
                    pending_settle_ms=10,
                    **options,
                ),
                clock=clock,
                deliver=deliver,
            )
        config = parse_config(
            {
                "gateway": {"database_url": database_url},
                "retry": {"backoff_initial": 0.01, **(retry or {})},
                "providers": {
                    name: {
                        "type": "sandbox",
                        "priority": index,
                        "settings": {
                            "base_url": f"http://{name}.test",
                            "currencies": ["EUR", "JPY"],
                            "timeouts": {"total": total_timeout},
                        },
                    }
                    for index, name in enumerate(accounts, start=1)
                },
            }
        )
        emulators_made.extend(emulators.values())
        transports = {name: EmulatorTransport(emulator) for name, emulator in emulators.items()}
        hub = Hub(
            config, clock=clock, rng=random.Random(3), transports=transports, background=False
        )
        holder.append(hub)
        hubs.append(hub)
        await hub.start()
        return hub, emulators

    yield build
    # Deliveries the emulators scheduled must land before the hubs close: a webhook still on
    # its way into a closing hub would leave a database connection behind.
    for emulator in emulators_made:
        await emulator.drain()
    for hub in hubs:
        await hub.close()


def charged(emulator: Emulator) -> list[str]:
    """Charges where money moved at the provider."""
    return [
        c.id
        for c in emulator.charges.values()
        if c.status in ("authorized", "captured", "partially_captured")
    ]


async def settle(hub: Hub, emulators: dict[str, Emulator]) -> None:
    for emulator in emulators.values():
        await emulator.drain()
    await hub.process_webhooks()


async def books_balance(hub: Hub) -> None:
    assert await hub.store.unbalanced_transactions() == []


async def test_timeout_after_charge_never_charges_twice(sandboxes: Build) -> None:
    hub, sims = await sandboxes({"first": {"hang_seconds": 5}, "second": {}}, total_timeout=1.0)
    payment = await hub.authorize(
        amount=2500, currency="EUR", payment_method=cards.TIMEOUT_AFTER_CHARGE
    )
    assert payment.status is PaymentStatus.CAPTURED
    assert payment.provider == "first"
    assert payment.attempts[0].tries == 2, "the replay with the same key returned the charge"
    assert len(charged(sims["first"])) == 1
    assert charged(sims["second"]) == []
    await settle(hub, sims)
    assert (await hub.get(payment.id)).captured == 2500
    await books_balance(hub)


async def test_an_error_before_the_charge_is_left_to_the_reconciler_not_failed_over(
    sandboxes: Build, clock: FixedClock
) -> None:
    # A 500 may come before or after the work; a lookup finding nothing right away proves
    # nothing (the request may still land), so no second provider is tried meanwhile.
    hub, sims = await sandboxes()
    method = {
        "token": "tok_visa",
        "provider_tokens": {"first": cards.ERROR_BEFORE_CHARGE, "second": "tok_visa"},
    }
    payment = await hub.authorize(amount=1000, currency="EUR", payment_method=method)
    assert payment.status is PaymentStatus.PROCESSING
    assert [(a.provider, a.status) for a in payment.attempts] == [("first", AttemptStatus.UNKNOWN)]
    clock.advance(91)  # past gateway.reconcile_after_seconds
    await hub.reconcile()
    settled = await hub.get(payment.id)
    assert settled.status is PaymentStatus.FAILED, "the lookup after the window found nothing"
    assert charged(sims["first"]) == []
    assert charged(sims["second"]) == []


async def test_error_after_charge_is_replayed(sandboxes: Build) -> None:
    hub, sims = await sandboxes()
    payment = await hub.authorize(
        amount=1000, currency="EUR", payment_method=cards.ERROR_AFTER_CHARGE
    )
    assert (payment.status, payment.provider) == (PaymentStatus.CAPTURED, "first")
    assert len(charged(sims["first"])) == 1
    assert charged(sims["second"]) == []


async def test_rate_limit_waits_as_told(sandboxes: Build, clock: FixedClock) -> None:
    hub, _sims = await sandboxes({"first": {"retry_after_seconds": 2}})
    payment = await hub.authorize(amount=1000, currency="EUR", payment_method=cards.RATE_LIMITED)
    assert payment.status is PaymentStatus.CAPTURED
    assert clock.slept[0] == 2.0


async def test_unavailable_provider_fails_over_and_opens_the_circuit(sandboxes: Build) -> None:
    hub, _sims = await sandboxes(
        {"first": {"available": False}, "second": {}}, retry={"tries_per_attempt": 1}
    )
    for _ in range(6):
        payment = await hub.authorize(amount=1000, currency="EUR", payment_method="tok_visa")
        assert payment.provider == "second"
    last = await hub.authorize(amount=1000, currency="EUR", payment_method="tok_visa")
    assert [a.provider for a in last.attempts] == ["second"], (
        "the open circuit skips the dead provider"
    )


async def test_three_d_secure_completes_through_the_webhook(sandboxes: Build) -> None:
    hub, sims = await sandboxes()
    payment = await hub.authorize(
        amount=4200, currency="EUR", payment_method=cards.THREE_DS, capture="manual"
    )
    assert payment.status is PaymentStatus.REQUIRES_ACTION
    assert payment.next_action is not None
    assert payment.next_action["url"].endswith(f"/challenge/{payment.provider_reference}")
    await settle(hub, sims)  # the requires_action event itself changes nothing
    await sims["first"].complete_challenge(str(payment.provider_reference))
    await settle(hub, sims)
    payment = await hub.get(payment.id)
    assert (payment.status, payment.authorized) == (PaymentStatus.AUTHORIZED, 4200)
    payment = await hub.capture(payment.id)
    assert payment.status is PaymentStatus.CAPTURED
    await books_balance(hub)


async def test_failed_challenge_fails_the_payment(sandboxes: Build) -> None:
    hub, sims = await sandboxes()
    payment = await hub.authorize(amount=4200, currency="EUR", payment_method=cards.THREE_DS)
    await sims["first"].complete_challenge(str(payment.provider_reference), passed=False)
    await settle(hub, sims)
    payment = await hub.get(payment.id)
    assert payment.status is PaymentStatus.FAILED
    assert payment.decline is not None
    assert payment.decline.code == "authentication_required"


async def test_async_payment_settles_by_webhook(sandboxes: Build) -> None:
    hub, sims = await sandboxes()
    payment = await hub.authorize(amount=990, currency="JPY", payment_method=cards.PENDING)
    assert payment.status is PaymentStatus.PROCESSING
    await settle(hub, sims)
    payment = await hub.get(payment.id)
    assert (payment.status, payment.captured) == (PaymentStatus.CAPTURED, 990)
    await books_balance(hub)


async def test_unknown_provider_status_is_processing(sandboxes: Build) -> None:
    hub, _ = await sandboxes()
    payment = await hub.authorize(amount=990, currency="EUR", payment_method=cards.UNKNOWN_STATUS)
    assert payment.status is PaymentStatus.PROCESSING
    assert payment.captured == 0


async def test_duplicate_and_reordered_webhooks_are_harmless(sandboxes: Build) -> None:
    hub, sims = await sandboxes()
    payment = await hub.authorize(
        amount=3000, currency="EUR", payment_method="tok_visa", capture="manual"
    )
    await hub.capture(payment.id, 1000, final=False)
    await hub.capture(payment.id, 2000)
    await hub.refund(payment.id, 500)
    await settle(hub, sims)
    before = await hub.get(payment.id)
    ledger = await hub.ledger()
    sent = list(sims["first"].events)
    # Every event again, newest first, twice.
    for event in [*reversed(sent), *sent]:
        body = json.dumps(event).encode()
        headers = sign_headers(LOCAL_WEBHOOK_SECRET, event["id"], event["created"], body)
        await hub.handle_webhook("first", headers, body)
    await hub.process_webhooks()
    after = await hub.get(payment.id)
    assert (after.status, after.captured, after.refunded) == (
        before.status,
        before.captured,
        before.refunded,
    )
    assert await hub.ledger() == ledger


async def test_pending_refund_settles_by_webhook(sandboxes: Build) -> None:
    hub, sims = await sandboxes()
    payment = await hub.authorize(amount=5000, currency="EUR", payment_method=cards.REFUND_PENDING)
    refund = await hub.refund(payment.id, 2000)
    assert refund.status.value == "pending"
    await settle(hub, sims)
    payment = await hub.get(payment.id)
    assert (payment.status, payment.refunded) == (PaymentStatus.PARTIALLY_REFUNDED, 2000)
    assert payment.refunds[0].status.value == "succeeded"
    await books_balance(hub)


async def test_failed_refund_frees_the_amount(sandboxes: Build) -> None:
    hub, _ = await sandboxes()
    payment = await hub.authorize(amount=5000, currency="EUR", payment_method=cards.REFUND_FAILS)
    with pytest.raises(Exception, match="declined"):
        await hub.refund(payment.id, 2000)
    payment = await hub.get(payment.id)
    assert payment.refunded == 0
    assert payment.refunds[0].status.value == "failed"


async def test_hard_decline_is_not_cascaded(sandboxes: Build) -> None:
    hub, sims = await sandboxes(retry={"cascade_soft_declines": True})
    payment = await hub.authorize(
        amount=1000, currency="EUR", payment_method="tok_decline_stolen_card"
    )
    assert payment.status is PaymentStatus.FAILED
    assert payment.decline is not None
    assert payment.decline.code == "card_blocked"
    assert sims["second"].charges == {}


async def test_forged_webhook_is_refused(sandboxes: Build) -> None:
    hub, _ = await sandboxes()
    body = b'{"id":"evt_forged","type":"charge.captured","created":0,"data":{"object":{}}}'
    headers = sign_headers("whsec_" + "Zm9yZ2Vk" * 4, "evt_forged", 0, body)
    with pytest.raises(WebhookVerificationError):
        await hub.handle_webhook("first", headers, body)


async def test_sync_settles_a_completed_challenge_without_its_webhook(sandboxes: Build) -> None:
    hub, sims = await sandboxes()
    payment = await hub.authorize(amount=4200, currency="EUR", payment_method=cards.THREE_DS)
    sims["first"].deliver = None  # the webhook never arrives
    await sims["first"].complete_challenge(str(payment.provider_reference))
    payment = await hub.sync(payment.id)
    assert (payment.status, payment.captured) == (PaymentStatus.CAPTURED, 4200)
    await books_balance(hub)


async def test_reconciler_looks_at_long_waiting_challenges(
    sandboxes: Build, clock: FixedClock
) -> None:
    hub, sims = await sandboxes()
    payment = await hub.authorize(amount=4200, currency="EUR", payment_method=cards.THREE_DS)
    sims["first"].deliver = None
    await sims["first"].complete_challenge(str(payment.provider_reference))
    assert await hub.service.reconcile(waiting_older_than=timedelta(minutes=10)) == 0
    clock.advance(11 * 60)
    assert await hub.service.reconcile(waiting_older_than=timedelta(minutes=10)) == 1
    assert (await hub.get(payment.id)).status is PaymentStatus.CAPTURED


async def test_an_unfinished_challenge_can_be_canceled(sandboxes: Build) -> None:
    hub, sims = await sandboxes()
    payment = await hub.authorize(amount=4200, currency="EUR", payment_method=cards.THREE_DS)
    payment = await hub.void(payment.id)
    assert payment.status is PaymentStatus.CANCELED
    assert payment.next_action is None
    assert [a.status for a in payment.attempts] == [AttemptStatus.DECLINED, AttemptStatus.SUCCEEDED]
    assert sims["first"].charges[str(payment.provider_reference)].status == "canceled"
    assert await hub.ledger() == []
