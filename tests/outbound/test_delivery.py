"""Merchant webhooks end to end on SQLite and PostgreSQL: a real payment, a real HTTP receiver,
signatures checked the Standard Webhooks way."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from gatewayhub.errors import InvalidRequest, InvalidState, NotFound
from gatewayhub.outbound import DeliveryStatus
from gatewayhub.storage.schema import webhook_endpoints
from gatewayhub.testing import FixedClock
from gatewayhub.webhooks import standard

from .conftest import EUR_10, MakeHub, Receiver, drain

VECTORS = {
    v["id"]: v
    for v in json.loads(
        (Path(__file__).parents[1] / "vectors" / "standard_webhooks_vectors.json").read_text()
    )["vectors"]
}


def by_hand(secret: str, webhook_id: str, timestamp: str, body: bytes) -> str:
    """The v1 signature computed from the spec, independently of gatewayhub's code."""
    key = secret.removeprefix("whsec_")
    key_bytes = base64.b64decode(key + "=" * (-len(key) % 4))
    content = webhook_id.encode() + b"." + timestamp.encode() + b"." + body
    return "v1," + base64.b64encode(hmac.new(key_bytes, content, hashlib.sha256).digest()).decode()


def test_the_hand_computation_reproduces_the_published_vector() -> None:
    vector = VECTORS["stdwh-v1-sign-1"]
    assert (
        by_hand(
            vector["secret"],
            vector["webhook_id"],
            str(vector["webhook_timestamp"]),
            vector["body"].encode(),
        )
        == vector["expected_signature_header"]
    )


async def test_a_captured_payment_reaches_the_merchant_signed(
    make_hub: MakeHub, receiver: Receiver, clock: FixedClock
) -> None:
    hub = await make_hub()
    registered = await hub.endpoints.register("default", receiver.url())
    assert registered.secret.startswith("whsec_")
    payment = await hub.authorize(**EUR_10)
    await drain(hub)

    [got] = receiver.at("/hook")
    body = json.loads(got.body)
    assert body["type"] == "payment.captured"
    assert body["data"]["id"] == payment.id
    assert body["data"]["amount"] == 1000
    assert body["data"]["currency"] == "EUR"
    assert body["data"]["status"] == "captured"
    assert got.headers["webhook-id"] == body["id"]
    assert body["id"].startswith("evt_")
    assert got.headers["webhook-timestamp"] == str(int(clock.now().timestamp()))
    assert got.headers["content-type"] == "application/json"
    # Our verifier and the spec's algorithm by hand both accept it.
    standard.verify([registered.secret], got.headers, got.body, clock.now())
    assert got.headers["webhook-signature"] == by_hand(
        registered.secret, got.headers["webhook-id"], got.headers["webhook-timestamp"], got.body
    )
    [delivery] = (await hub.endpoints.deliveries("default", registered.endpoint.id)).items
    assert delivery.status is DeliveryStatus.DELIVERED
    assert delivery.tries == 1
    assert delivery.last_status_code == 200
    assert delivery.event_id == body["id"]


async def test_the_secret_is_stored_sealed_and_shown_once(
    make_hub: MakeHub, receiver: Receiver
) -> None:
    hub = await make_hub()
    registered = await hub.endpoints.register("default", receiver.url())
    raw = registered.secret.removeprefix("whsec_")
    stored = await hub.store.db.run(
        lambda conn: conn.execute(sa.select(webhook_endpoints.c.secret)).scalar_one()
    )
    assert raw not in stored
    assert stored.startswith("v1.")
    shown = repr(await hub.endpoints.get("default", registered.endpoint.id))
    assert raw not in shown
    assert "whsec_" not in shown
    assert raw not in repr(registered)

    rotated = await hub.endpoints.rotate_secret("default", registered.endpoint.id)
    current, previous = await hub.store.db.run(
        lambda conn: conn.execute(
            sa.select(webhook_endpoints.c.secret, webhook_endpoints.c.previous_secret)
        ).one()
    )
    assert previous.startswith("v1.")
    assert raw not in previous, "the replaced secret stays sealed"
    assert current.startswith("v1.")
    assert rotated.secret.removeprefix("whsec_") not in current
    assert rotated.secret.removeprefix("whsec_") not in repr(rotated)


async def test_filters_choose_the_events(make_hub: MakeHub, receiver: Receiver) -> None:
    hub = await make_hub()
    await hub.endpoints.register("default", receiver.url("/refunds"), ["refund.succeeded"])
    await hub.endpoints.register("default", receiver.url("/all"))
    payment = await hub.authorize(**EUR_10)
    await hub.refund(payment.id, amount=400)
    await drain(hub)
    assert [json.loads(r.body)["type"] for r in receiver.at("/refunds")] == ["refund.succeeded"]
    assert sorted(json.loads(r.body)["type"] for r in receiver.at("/all")) == [
        "payment.captured",
        "payment.partially_refunded",
        "refund.succeeded",
    ]
    # One event, two endpoints: the same webhook-id at both.
    refund_ids = {
        r.headers["webhook-id"]
        for r in receiver.received
        if json.loads(r.body)["type"] == "refund.succeeded"
    }
    assert len(refund_ids) == 1


async def test_unknown_event_types_are_refused(make_hub: MakeHub, receiver: Receiver) -> None:
    hub = await make_hub()
    with pytest.raises(InvalidRequest) as raised:
        await hub.endpoints.register("default", receiver.url(), ["payment.captured", "payment.x"])
    assert raised.value.field == "events"
    with pytest.raises(InvalidRequest):
        await hub.endpoints.register("default", receiver.url(), [])
    assert await hub.endpoints.list("default") == []


async def test_merchants_never_see_each_other(make_hub: MakeHub, receiver: Receiver) -> None:
    hub = await make_hub()
    mine = await hub.endpoints.register("m1", receiver.url("/m1"))
    theirs = await hub.endpoints.register("m2", receiver.url("/m2"))
    await hub.authorize(**EUR_10, merchant_id="m1")
    await drain(hub)
    assert len(receiver.at("/m1")) == 1
    assert receiver.at("/m2") == [], "m2's endpoint gets nothing of m1's payments"
    assert [e.id for e in await hub.endpoints.list("m1")] == [mine.endpoint.id]
    [delivery] = (await hub.endpoints.deliveries("m1", mine.endpoint.id)).items
    for call in (
        hub.endpoints.get("m1", theirs.endpoint.id),
        hub.endpoints.deliveries("m2", mine.endpoint.id),
        hub.endpoints.disable("m2", mine.endpoint.id),
        hub.endpoints.delete("m2", mine.endpoint.id),
        hub.endpoints.redeliver("m2", delivery.id),
        hub.endpoints.redeliver_event("m2", delivery.event_id),
    ):
        with pytest.raises(NotFound):
            await call
    assert (await hub.endpoints.get("m1", mine.endpoint.id)).enabled


async def test_a_gone_endpoint_is_disabled(make_hub: MakeHub, receiver: Receiver) -> None:
    hub = await make_hub()
    gone = await hub.endpoints.register("default", receiver.url("/gone"))
    receiver.answer("/gone", 410)
    await hub.authorize(**EUR_10)
    await drain(hub)
    endpoint = await hub.endpoints.get("default", gone.endpoint.id)
    assert not endpoint.enabled
    assert endpoint.disabled_reason == "the endpoint answered 410 Gone"
    [delivery] = (await hub.endpoints.deliveries("default", gone.endpoint.id)).items
    assert delivery.status is DeliveryStatus.FAILED
    assert delivery.last_status_code == 410
    await hub.authorize(**EUR_10)
    await drain(hub)
    assert len(receiver.at("/gone")) == 1, "nothing more is sent to a disabled endpoint"
    with pytest.raises(InvalidState):
        await hub.endpoints.redeliver("default", delivery.id)
    await hub.endpoints.enable("default", gone.endpoint.id)
    again = await hub.endpoints.redeliver("default", delivery.id)
    assert again.status is DeliveryStatus.PENDING
    await drain(hub)
    assert len(receiver.at("/gone")) == 2
    assert receiver.at("/gone")[1].headers["webhook-id"] == delivery.event_id


async def test_redelivery_repeats_the_event_with_its_id(
    make_hub: MakeHub, receiver: Receiver
) -> None:
    hub = await make_hub()
    a = await hub.endpoints.register("default", receiver.url("/a"))
    await hub.endpoints.register("default", receiver.url("/b"))
    await hub.authorize(**EUR_10)
    await drain(hub)
    [delivery] = (await hub.endpoints.deliveries("default", a.endpoint.id)).items
    assert delivery.status is DeliveryStatus.DELIVERED
    redone = await hub.endpoints.redeliver("default", delivery.id)
    assert (redone.status, redone.tries) == (DeliveryStatus.PENDING, 0)
    await drain(hub)
    assert [r.headers["webhook-id"] for r in receiver.at("/a")] == [delivery.event_id] * 2
    assert receiver.at("/a")[0].body == receiver.at("/a")[1].body
    assert len(receiver.at("/b")) == 1
    both = await hub.endpoints.redeliver_event("default", delivery.event_id)
    assert len(both) == 2
    await drain(hub)
    assert len(receiver.at("/a")) == 3
    assert len(receiver.at("/b")) == 2
    with pytest.raises(NotFound):
        await hub.endpoints.redeliver("default", "dlv_missing")
    with pytest.raises(NotFound):
        await hub.endpoints.redeliver_event("default", "evt_missing")


async def test_deliveries_page_and_filter(make_hub: MakeHub, receiver: Receiver) -> None:
    hub = await make_hub()
    ep = await hub.endpoints.register("default", receiver.url())
    for _ in range(3):
        await hub.authorize(**EUR_10)
    await drain(hub)
    first = await hub.endpoints.deliveries("default", ep.endpoint.id, limit=2)
    assert len(first.items) == 2
    assert first.next_cursor is not None
    rest = await hub.endpoints.deliveries("default", ep.endpoint.id, before=first.next_cursor)
    assert len(rest.items) == 1
    assert rest.next_cursor is None
    ids = [d.id for d in first.items + rest.items]
    assert ids == sorted(ids, reverse=True)
    assert (await hub.endpoints.deliveries("default", ep.endpoint.id, status="failed")).items == []
    with pytest.raises(InvalidRequest):
        await hub.endpoints.deliveries("default", ep.endpoint.id, status="lost")
    with pytest.raises(InvalidRequest):
        await hub.endpoints.deliveries("default", ep.endpoint.id, limit=0)


async def test_deleting_an_endpoint_stops_its_deliveries(
    make_hub: MakeHub, receiver: Receiver
) -> None:
    hub = await make_hub()
    ep = await hub.endpoints.register("default", receiver.url())
    await hub.authorize(**EUR_10)
    await hub.endpoints.delete("default", ep.endpoint.id)
    await drain(hub)
    assert receiver.received == []
    assert await hub.endpoints.list("default") == []
    with pytest.raises(NotFound):
        await hub.endpoints.delete("default", ep.endpoint.id)


async def test_disabling_fails_pending_deliveries(make_hub: MakeHub, receiver: Receiver) -> None:
    hub = await make_hub()
    ep = await hub.endpoints.register("default", receiver.url())
    receiver.answer("/hook", 503)
    await hub.authorize(**EUR_10)
    await drain(hub)
    [waiting] = (await hub.endpoints.deliveries("default", ep.endpoint.id)).items
    assert (waiting.status, waiting.last_status_code) == (DeliveryStatus.PENDING, 503)
    await hub.endpoints.disable("default", ep.endpoint.id, "maintenance")
    endpoint = await hub.endpoints.get("default", ep.endpoint.id)
    assert (endpoint.enabled, endpoint.disabled_reason) == (False, "maintenance")
    [failed] = (await hub.endpoints.deliveries("default", ep.endpoint.id)).items
    assert failed.status is DeliveryStatus.FAILED
    assert failed.last_error == "endpoint disabled: maintenance"
    await hub.authorize(**EUR_10)
    await drain(hub)
    assert len(receiver.received) == 1, "the disabled endpoint got nothing more"


async def test_the_verification_snippet_in_the_docs_works(
    make_hub: MakeHub, receiver: Receiver
) -> None:
    text = (Path(__file__).parents[2] / "docs" / "webhooks.md").read_text()
    snippet = next(b for b in text.split("```python")[1:] if "def verify(" in b).split("```")[0]
    namespace: dict[str, object] = {}
    exec(snippet, namespace)
    verify = namespace["verify"]
    hub = await make_hub()
    registered = await hub.endpoints.register("default", receiver.url())
    await hub.authorize(**EUR_10)
    await drain(hub)
    [got] = receiver.received
    # The test clock is not the wall clock: the tolerance is lifted, the signature is not.
    verify(registered.secret, got.headers, got.body, tolerance=10**10)  # type: ignore[operator]
    with pytest.raises(ValueError, match="no valid signature"):
        verify(registered.secret, got.headers, got.body + b" ", tolerance=10**10)  # type: ignore[operator]
