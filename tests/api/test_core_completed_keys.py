"""A key the core completed, replayed over HTTP before (or without) the HTTP layer storing
what it sent - another instance asking in that moment - gets the answer the first request
got: 201 with the payment, or the 402 problem of a decline; never a bare 200."""

from __future__ import annotations

from gatewayhub.api.merchants import create_merchant
from gatewayhub.hub import Hub
from gatewayhub.models import AuthorizeRequest
from gatewayhub.storage.store import CORE_ANSWER

from .conftest import PAYMENT, Client

PAY = "/v1/payments"


async def core_completed(hub: Hub, body: dict[str, object], key: str) -> tuple[str, str]:
    """A merchant's API key, and the payment the core made under `key` (key completed by
    the core alone, as between the core's commit and the HTTP layer's)."""
    issued = await create_merchant(hub.store.db, "Shop", [], hub.clock.now())
    view = await hub.authorize(
        AuthorizeRequest.model_validate(body), idempotency_key=key, merchant_id=issued.merchant_id
    )
    return issued.key, view.id


async def test_an_approved_payment_completed_by_the_core_replays_as_201(
    api: tuple[Hub, Client],
) -> None:
    hub, anonymous = api
    token, payment_id = await core_completed(hub, PAYMENT, "core-1")
    replayed = await anonymous.as_(token).call("POST", PAY, json=PAYMENT, key="core-1")
    assert replayed.status_code == 201
    assert replayed.headers["idempotent-replayed"] == "true"
    assert (replayed.json()["id"], replayed.json()["status"]) == (payment_id, "captured")
    again = await anonymous.as_(token).call("POST", PAY, json=PAYMENT, key="core-1")
    assert (again.status_code, again.json()["id"]) == (201, payment_id)


async def test_a_decline_completed_by_the_core_replays_as_the_402_problem(
    api: tuple[Hub, Client],
) -> None:
    hub, anonymous = api
    declined = {**PAYMENT, "payment_method": {"token": "tok_decline_insufficient_funds"}}
    token, payment_id = await core_completed(hub, declined, "core-2")
    replayed = await anonymous.as_(token).call("POST", PAY, json=declined, key="core-2")
    assert replayed.status_code == 402
    assert replayed.headers["content-type"] == "application/problem+json"
    assert replayed.headers["idempotent-replayed"] == "true"
    problem = replayed.json()
    assert (problem["code"], problem["decline_code"]) == ("payment_declined", "insufficient_funds")
    assert problem["payment"]["id"] == payment_id


async def test_an_authorization_replays_the_payment_the_core_stored_with_its_key(
    api: tuple[Hub, Client],
) -> None:
    hub, anonymous = api
    issued = await create_merchant(hub.store.db, "Shop", [], hub.clock.now())
    client = anonymous.as_(issued.key)
    manual = {**PAYMENT, "capture": "manual"}
    first = await client.call("POST", PAY, json=manual, key="auth-1")
    assert (first.status_code, first.json()["status"]) == (201, "authorized")
    # The core stored the payment with the key when it left `pending`; the HTTP layer wrote
    # nothing more, so the row still holds the core's answer.
    row = await hub.store.peek_key(issued.merchant_id, "auth-1")
    assert row is not None
    assert (row.state, row.response_status) == ("completed", CORE_ANSWER)
    payment_id = first.json()["id"]
    captured = await client.call(
        "POST", f"{PAY}/{{payment_id}}/capture", path={"payment_id": payment_id}, json={}
    )
    assert captured.json()["status"] == "captured"
    again = await client.call("POST", PAY, json=manual, key="auth-1")
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    # Equal as JSON: PostgreSQL keeps JSON as JSONB, which does not keep key order.
    assert again.json() == first.json(), "the answer first sent, not the payment as it is now"
