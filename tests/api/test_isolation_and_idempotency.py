"""Merchant isolation (another merchant's ids are 404, never 403) and Idempotency-Key."""

from __future__ import annotations

from datetime import timedelta

from gatewayhub.api.merchants import create_merchant
from gatewayhub.hub import Hub
from gatewayhub.idempotency import fingerprint
from gatewayhub.models import AuthorizeRequest
from gatewayhub.storage.store import KeyRequest

from .conftest import PAYMENT, PUBLIC_HOOK, Client, Inbox, new_merchant

PAY = "/v1/payments"
ONE = "/v1/payments/{payment_id}"
HOOKS = "/v1/webhook-endpoints"
HOOK = "/v1/webhook-endpoints/{endpoint_id}"


async def test_another_merchants_payment_is_not_found(api: tuple[Hub, Client]) -> None:
    hub, anonymous = api
    alice = anonymous.as_(await new_merchant(hub, "Alice"))
    bob = anonymous.as_(await new_merchant(hub, "Bob"))
    payment = (await alice.call("POST", PAY, json=PAYMENT)).json()
    refund = (
        await alice.call(
            "POST", f"{ONE}/refunds", path={"payment_id": payment["id"]}, json={"amount": 50}
        )
    ).json()
    ids = {"payment_id": payment["id"]}

    for method, template, path in [
        ("GET", ONE, ids),
        ("GET", f"{ONE}/refunds", ids),
        ("POST", f"{ONE}/capture", ids),
        ("POST", f"{ONE}/void", ids),
        ("POST", f"{ONE}/refunds", ids),
        ("GET", "/v1/refunds/{refund_id}", {"refund_id": refund["id"]}),
    ]:
        answer = await bob.call(method, template, path=path)
        assert (answer.status_code, answer.json()["code"]) == (404, "not_found"), template
    assert (await bob.call("GET", PAY)).json()["data"] == []
    still = (await alice.call("GET", ONE, path=ids)).json()
    assert (still["refunded"], len(still["refunds"])) == (50, 1), "Bob changed nothing"


async def test_a_replay_returns_the_first_answer_and_charges_once(api: tuple[Hub, Client]) -> None:
    hub, anonymous = api
    client = anonymous.as_(await new_merchant(hub))
    first = await client.call("POST", PAY, json=PAYMENT, key="order-17")
    again = await client.call("POST", PAY, json=PAYMENT, key="order-17")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert len((await client.call("GET", PAY)).json()["data"]) == 1

    ids = {"payment_id": first.json()["id"]}
    refund = await client.call("POST", f"{ONE}/refunds", path=ids, json={"amount": 300}, key="rf-1")
    refund_again = await client.call(
        "POST", f"{ONE}/refunds", path=ids, json={"amount": 300}, key="rf-1"
    )
    assert refund_again.json() == refund.json()
    assert refund_again.status_code == 201
    assert (await client.call("GET", ONE, path=ids)).json()["refunded"] == 300


async def test_a_declined_payment_replays_as_declined(api: tuple[Hub, Client]) -> None:
    hub, anonymous = api
    client = anonymous.as_(await new_merchant(hub))
    body = {**PAYMENT, "payment_method": {"token": "tok_decline_do_not_honor_never_retry"}}
    first = await client.call("POST", PAY, json=body, key="k-declined")
    again = await client.call("POST", PAY, json=body, key="k-declined")
    assert (first.status_code, again.status_code) == (402, 402)
    assert again.json() == first.json()
    assert again.headers["content-type"] == "application/problem+json"


async def test_same_key_with_another_body_is_a_conflict(api: tuple[Hub, Client]) -> None:
    hub, anonymous = api
    client = anonymous.as_(await new_merchant(hub))
    await client.call("POST", PAY, json=PAYMENT, key="k-1")
    other = await client.call("POST", PAY, json={**PAYMENT, "amount": 1051}, key="k-1")
    assert (other.status_code, other.json()["code"]) == (422, "idempotency_conflict")
    ids = {"payment_id": (await client.call("GET", PAY)).json()["data"][0]["id"]}
    used_elsewhere = await client.call("POST", f"{ONE}/refunds", path=ids, key="k-1")
    assert used_elsewhere.json()["code"] == "idempotency_conflict"
    assert len((await client.call("GET", PAY)).json()["data"]) == 1


async def test_same_key_while_the_first_request_runs_is_in_progress(
    api: tuple[Hub, Client],
) -> None:
    hub, anonymous = api
    issued = await create_merchant(hub.store.db, "Shop", [], hub.clock.now())
    client = anonymous.as_(issued.key)
    # The first request has claimed the key (as the core does in its first transaction) and
    # has not answered yet.
    payload = {**PAYMENT, "capture": "automatic", "reference": None, "description": None}
    holder = KeyRequest(
        issued.merchant_id,
        "k-busy",
        "authorize",
        fingerprint("authorize", _as_command(payload)),
        timedelta(seconds=60),
    )
    await hub.store.claim_key(holder, "pay_first", hub.clock.now())
    answer = await client.call("POST", PAY, json=PAYMENT, key="k-busy")
    assert (answer.status_code, answer.json()["code"]) == (409, "request_in_progress")
    assert answer.headers["Retry-After"] == "1"
    assert (await client.call("GET", PAY)).json()["data"] == []


def _as_command(body: dict[str, object]) -> dict[str, object]:
    """The command as the core records it: every field, defaults filled in."""
    return AuthorizeRequest.model_validate(
        {k: v for k, v in body.items() if v is not None}
    ).model_dump(mode="json")


async def test_keys_belong_to_one_merchant(api: tuple[Hub, Client]) -> None:
    hub, anonymous = api
    alice = anonymous.as_(await new_merchant(hub, "Alice"))
    bob = anonymous.as_(await new_merchant(hub, "Bob"))
    a = await alice.call("POST", PAY, json=PAYMENT, key="shared-key")
    b = await bob.call("POST", PAY, json={**PAYMENT, "amount": 99}, key="shared-key")
    assert (a.status_code, b.status_code) == (201, 201)
    assert a.json()["id"] != b.json()["id"]
    assert "Idempotent-Replayed" not in b.headers


async def test_a_malformed_key_is_refused(api: tuple[Hub, Client]) -> None:
    hub, anonymous = api
    client = anonymous.as_(await new_merchant(hub))
    answer = await client.http.post(
        PAY,
        json=PAYMENT,
        headers={"Authorization": f"Bearer {client.token}", "Idempotency-Key": "x" * 256},
    )
    assert (answer.status_code, answer.json()["code"]) == (400, "validation_error")


async def test_another_merchants_webhook_endpoint_is_not_found(
    delivering_api: tuple[Hub, Client, Inbox],
) -> None:
    hub, anonymous, _ = delivering_api
    alice = anonymous.as_(await new_merchant(hub, "Alice"))
    bob = anonymous.as_(await new_merchant(hub, "Bob"))
    endpoint = (await alice.call("POST", HOOKS, json={"url": PUBLIC_HOOK})).json()
    await alice.call("POST", PAY, json=PAYMENT)
    await hub.deliver_webhooks()  # one delivery row
    ids = {"endpoint_id": endpoint["id"]}
    delivery = (await alice.call("GET", f"{HOOK}/deliveries", path=ids)).json()["data"][0]

    for method, template, path in [
        ("GET", HOOK, ids),
        ("DELETE", HOOK, ids),
        ("POST", f"{HOOK}/disable", ids),
        ("POST", f"{HOOK}/enable", ids),
        ("GET", f"{HOOK}/deliveries", ids),
        ("POST", "/v1/webhook-deliveries/{delivery_id}/redeliver", {"delivery_id": delivery["id"]}),
        ("POST", "/v1/events/{event_id}/redeliver", {"event_id": delivery["event_id"]}),
    ]:
        answer = await bob.call(method, template, path=path)
        assert (answer.status_code, answer.json()["code"]) == (404, "not_found"), template
    assert (await bob.call("GET", HOOKS)).json()["data"] == []
    still = (await alice.call("GET", HOOK, path=ids)).json()
    assert still["enabled"] is True, "Bob changed nothing"
