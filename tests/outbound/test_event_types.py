"""The outbox carries every event type merchants are promised, written with the change."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from gatewayhub.errors import Decision, Decline, DeclineCode, InvalidState, OutcomeUnknown
from gatewayhub.hub import Hub
from gatewayhub.models import (
    NextAction,
    PaymentResult,
    PaymentStatus,
    ProviderStatus,
    RefundResult,
    RefundStatus,
)
from gatewayhub.outbound import EVENT_TYPES
from gatewayhub.storage.schema import outbox
from gatewayhub.testing import FakeProvider, FixedClock, charge_then

from .conftest import EUR_10, MakeHub


def fake(hub: Hub) -> FakeProvider:
    adapter = hub.accounts["a"].adapter
    assert isinstance(adapter, FakeProvider)
    return adapter


async def messages(hub: Hub, payment_id: str) -> list[tuple[str, dict[str, Any]]]:
    rows = await hub.store.db.run(
        lambda conn: list(
            conn.execute(
                sa.select(outbox.c.type, outbox.c.payload)
                .where(outbox.c.payment_id == payment_id)
                .order_by(outbox.c.id)
            )
        )
    )
    return [(r.type, dict(r.payload)) for r in rows]


def test_the_catalogue() -> None:
    assert {
        "payment.authorized",
        "payment.captured",
        "payment.failed",
        "payment.requires_action",
        "payment.canceled",
        "refund.succeeded",
        "refund.failed",
        "payment.unknown_outcome_resolved",
    } <= EVENT_TYPES
    assert "payment.pending" not in EVENT_TYPES


async def test_authorized_then_captured(make_hub: MakeHub) -> None:
    hub = await make_hub()
    payment = await hub.authorize(**EUR_10, capture="manual")
    await hub.capture(payment.id)
    types = [t for t, _ in await messages(hub, payment.id)]
    assert types == ["payment.authorized", "payment.captured"]


async def test_failed(make_hub: MakeHub) -> None:
    hub = await make_hub()
    fake(hub).script(
        "authorize",
        PaymentResult(
            ProviderStatus.DECLINED,
            "ref_1",
            decline=Decline(DeclineCode.EXPIRED_CARD, Decision.FINAL, "expired_card", ""),
        ),
    )
    payment = await hub.authorize(**EUR_10)
    [(kind, data)] = await messages(hub, payment.id)
    assert kind == "payment.failed"
    assert data["status"] == "failed"


async def test_requires_action_then_canceled(make_hub: MakeHub) -> None:
    hub = await make_hub()
    fake(hub).script(
        "authorize",
        PaymentResult(
            ProviderStatus.REQUIRES_ACTION,
            "ref_3ds",
            next_action=NextAction("redirect", "https://acs.example/1"),
        ),
    )
    fake(hub).script("void", PaymentResult(ProviderStatus.CANCELED, "ref_3ds"))
    payment = await hub.authorize(**EUR_10)
    await hub.void(payment.id)
    types = [t for t, _ in await messages(hub, payment.id)]
    assert types == ["payment.requires_action", "payment.canceled"]


async def test_refund_succeeded_and_failed(make_hub: MakeHub) -> None:
    hub = await make_hub()
    payment = await hub.authorize(**EUR_10)
    fake(hub).script("refund", RefundResult(RefundStatus.FAILED, "re_no"))
    with pytest.raises(InvalidState):
        await hub.refund(payment.id, amount=300)
    done = await hub.refund(payment.id, amount=300)
    failed = next(r for r in (await hub.get(payment.id)).refunds if r.id != done.id)
    found = await messages(hub, payment.id)
    assert [t for t, _ in found] == [
        "payment.captured",
        "refund.failed",
        "payment.partially_refunded",
        "refund.succeeded",
    ]
    assert found[1][1]["refund"] == failed.id
    assert found[3][1]["refund"] == done.id
    assert found[3][1]["refunded"] == 300


async def test_unknown_outcome_resolved_reports_where_it_led(
    make_hub: MakeHub, clock: FixedClock
) -> None:
    hub = await make_hub(seed=3)
    fake(hub).script(
        "authorize",
        charge_then(OutcomeUnknown("timeout")),
        OutcomeUnknown("timeout"),
        OutcomeUnknown("timeout"),
    )
    fake(hub).script(
        "retrieve", OutcomeUnknown("lookup timed out"), OutcomeUnknown("again"), OutcomeUnknown("3")
    )
    payment = await hub.authorize(**EUR_10)
    assert payment.status is PaymentStatus.PROCESSING
    assert [t for t, _ in await messages(hub, payment.id)] == ["payment.processing"]
    clock.advance(60)
    assert await hub.reconcile(older_than=timedelta(seconds=30)) == 1
    found = await messages(hub, payment.id)
    assert [t for t, _ in found] == [
        "payment.processing",
        "payment.unknown_outcome_resolved",
        "payment.captured",
    ]
    resolved = found[1][1]
    assert resolved["outcome"] == "succeeded"
    assert resolved["operation"] == "authorize"
    assert resolved["status"] == "captured", "reported with the status it led to"
    assert resolved["attempt"] == payment.attempts[0].id
