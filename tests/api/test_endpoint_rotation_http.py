"""Rotating a merchant webhook endpoint's signing secret over HTTP; every answer is checked
against openapi.yaml, every delivery with the Standard Webhooks verifier."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from gatewayhub.hub import Hub
from gatewayhub.provider import WebhookVerificationError
from gatewayhub.storage.schema import idempotency_keys
from gatewayhub.testing import FixedClock
from gatewayhub.webhooks.standard import verify

from .conftest import PAYMENT, PUBLIC_HOOK, Client, Inbox, new_merchant

EPS = "/v1/webhook-endpoints"
ROTATE = "/v1/webhook-endpoints/{endpoint_id}/rotate-secret"


async def register(client: Client) -> dict[str, Any]:
    answer = await client.call("POST", EPS, json={"url": PUBLIC_HOOK})
    assert answer.status_code == 201
    body: dict[str, Any] = answer.json()
    return body


async def rotate(client: Client, endpoint_id: str, **body: Any) -> httpx.Response:
    return await client.call("POST", ROTATE, path={"endpoint_id": endpoint_id}, json=body)


async def pay_and_deliver(hub: Hub, client: Client, inbox: Inbox) -> httpx.Request:
    await client.call("POST", "/v1/payments", json=PAYMENT)
    for _ in range(50):
        if not await hub.deliver_webhooks():
            return inbox.received[-1]
    raise AssertionError("the dispatcher never ran out of work")


def verifies(secret: str, delivery: httpx.Request, clock: FixedClock) -> bool:
    try:
        verify([secret], delivery.headers, delivery.content, clock.now())
    except WebhookVerificationError:
        return False
    return True


async def test_both_secrets_sign_until_the_overlap_ends(
    delivering_api: tuple[Hub, Client, Inbox], clock: FixedClock
) -> None:
    hub, anonymous, inbox = delivering_api
    client = anonymous.as_(await new_merchant(hub))
    endpoint = await register(client)
    old = endpoint["secret"]
    assert endpoint["previous_secret_expires_at"] is None

    rotated = await rotate(client, endpoint["id"])
    assert rotated.status_code == 200
    new = rotated.json()["secret"]
    assert new.startswith("whsec_")
    assert new != old
    # The fixed clock reads 2026-11-24T12:00:00Z; the default overlap is a day.
    assert rotated.json()["previous_secret_expires_at"] == "2026-11-25T12:00:00Z"

    during = await pay_and_deliver(hub, client, inbox)
    assert len(during.headers["webhook-signature"].split()) == 2
    assert verifies(old, during, clock), "a receiver not yet switched still verifies"
    assert verifies(new, during, clock), "a receiver already switched verifies"

    clock.advance(24 * 3600 + 1)
    after = await pay_and_deliver(hub, client, inbox)
    assert len(after.headers["webhook-signature"].split()) == 1
    assert verifies(new, after, clock)
    assert not verifies(old, after, clock), "the old secret no longer signs"


async def test_a_second_overlap_is_refused_and_zero_retires_every_old_secret(
    delivering_api: tuple[Hub, Client, Inbox], clock: FixedClock
) -> None:
    hub, anonymous, inbox = delivering_api
    client = anonymous.as_(await new_merchant(hub))
    endpoint = await register(client)
    first = (await rotate(client, endpoint["id"], previous_secret_expires_in=3600)).json()

    again = await rotate(client, endpoint["id"])
    assert (again.status_code, again.json()["code"]) == (409, "invalid_state")
    assert "2026-11-24T13:00:00Z" in again.json()["detail"]

    leaked = await rotate(client, endpoint["id"], previous_secret_expires_in=0)
    assert leaked.status_code == 200
    assert leaked.json()["previous_secret_expires_at"] is None
    delivery = await pay_and_deliver(hub, client, inbox)
    assert len(delivery.headers["webhook-signature"].split()) == 1
    assert verifies(leaked.json()["secret"], delivery, clock)
    assert not verifies(first["secret"], delivery, clock)
    assert not verifies(endpoint["secret"], delivery, clock)

    clock.advance(3600)
    assert (await rotate(client, endpoint["id"])).status_code == 200, "no overlap runs now"


async def test_a_replayed_rotation_shows_the_secret_without_storing_it(
    api: tuple[Hub, Client],
) -> None:
    hub, anonymous = api
    client = anonymous.as_(await new_merchant(hub))
    endpoint = await register(client)
    path = {"endpoint_id": endpoint["id"]}
    first = await client.call("POST", ROTATE, path=path, json={}, key="rotate-1")
    again = await client.call("POST", ROTATE, path=path, json={}, key="rotate-1")
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    other = await client.call(
        "POST", ROTATE, path=path, json={"previous_secret_expires_in": 0}, key="rotate-1"
    )
    assert (other.status_code, other.json()["code"]) == (422, "idempotency_conflict")

    def stored(conn: Any) -> list[Any]:
        return [r[0] for r in conn.execute(sa.select(idempotency_keys.c.response_body))]

    bodies = await hub.store.db.run(stored)
    assert bodies
    assert all(first.json()["secret"] not in json.dumps(b) for b in bodies)


@pytest.mark.parametrize("seconds", [-1, 604_801, "soon"])
async def test_overlaps_outside_zero_to_seven_days_are_refused(
    api: tuple[Hub, Client], seconds: object
) -> None:
    hub, anonymous = api
    client = anonymous.as_(await new_merchant(hub))
    endpoint = await register(client)
    refused = await rotate(client, endpoint["id"], previous_secret_expires_in=seconds)
    assert (refused.status_code, refused.json()["code"]) == (422, "validation_error")
    assert "previous_secret_expires_in" in json.dumps(refused.json()["errors"])


async def test_only_the_owner_with_webhooks_write_rotates(api: tuple[Hub, Client]) -> None:
    hub, anonymous = api
    owner = anonymous.as_(await new_merchant(hub))
    endpoint = await register(owner)
    stranger = anonymous.as_(await new_merchant(hub, "Other"))
    assert (await rotate(stranger, endpoint["id"])).status_code == 404
    reader = anonymous.as_(await new_merchant(hub, scopes=["payments:read"]))
    assert (await rotate(reader, endpoint["id"])).status_code == 403
