"""Merchant webhook endpoints over HTTP; every answer checked against openapi.yaml.

Deliveries go to conftest's `Inbox` (a merchant receiver in memory); the URL guard's DNS is
conftest's fake `resolve`.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from gatewayhub.hub import Hub
from gatewayhub.storage.schema import idempotency_keys
from gatewayhub.testing import FixedClock
from gatewayhub.webhooks.standard import verify

from .conftest import PAYMENT, PUBLIC_HOOK, Client, Inbox, new_merchant

EPS = "/v1/webhook-endpoints"
EP = "/v1/webhook-endpoints/{endpoint_id}"


async def test_register_read_disable_enable_delete(api: tuple[Hub, Client]) -> None:
    hub, anonymous = api
    client = anonymous.as_(await new_merchant(hub))
    created = await client.call(
        "POST",
        EPS,
        json={"url": PUBLIC_HOOK, "events": ["refund.succeeded", "payment.captured"]},
        key="ep-1",
    )
    assert created.status_code == 201
    endpoint = created.json()
    assert endpoint["secret"].startswith("whsec_")
    assert (endpoint["url"], endpoint["events"], endpoint["enabled"]) == (
        PUBLIC_HOOK,
        ["payment.captured", "refund.succeeded"],
        True,
    )
    ids = {"endpoint_id": endpoint["id"]}
    shown = {k: v for k, v in endpoint.items() if k != "secret"}

    listed = (await client.call("GET", EPS)).json()["data"]
    assert listed == [shown]
    assert (await client.call("GET", EP, path=ids)).json() == shown

    disabled = await client.call(
        "POST", f"{EP}/disable", path=ids, json={"reason": "moving servers"}, key="d-1"
    )
    assert (disabled.status_code, disabled.json()["enabled"]) == (200, False)
    assert disabled.json()["disabled_reason"] == "moving servers"
    enabled = await client.call("POST", f"{EP}/enable", path=ids, key="e-1")
    assert (enabled.json()["enabled"], enabled.json()["disabled_reason"]) == (True, None)

    assert (await client.call("DELETE", EP, path=ids)).status_code == 204
    gone = await client.call("GET", EP, path=ids)
    assert (gone.status_code, gone.json()["code"]) == (404, "not_found")
    assert (await client.call("GET", EPS)).json()["data"] == []


async def test_unsafe_urls_are_validation_errors_naming_the_url(api: tuple[Hub, Client]) -> None:
    hub, anonymous = api
    client = anonymous.as_(await new_merchant(hub))
    for url, why in [
        ("http://127.0.0.1:8080/hooks", "loopback"),
        ("http://intranet.shop.example/hooks", "private"),
        ("ftp://hooks.shop.example/x", "scheme"),
        ("https://user:pw@hooks.shop.example/x", "credentials"),
    ]:
        answer = await client.call("POST", EPS, json={"url": url})
        problem = answer.json()
        assert (answer.status_code, problem["code"]) == (422, "unsafe_url"), url
        assert [e["field"] for e in problem["errors"]] == ["url"]
        assert why in problem["errors"][0]["message"]
    assert (await client.call("GET", EPS)).json()["data"] == []


async def test_allow_private_is_never_taken_from_a_request(api: tuple[Hub, Client]) -> None:
    hub, anonymous = api
    client = anonymous.as_(await new_merchant(hub))
    answer = await client.call(
        "POST", EPS, json={"url": "http://127.0.0.1:8080/hooks", "allow_private": True}
    )
    assert (answer.status_code, answer.json()["code"]) == (422, "validation_error")
    assert [e["field"] for e in answer.json()["errors"]] == ["allow_private"]
    assert (await client.call("GET", EPS)).json()["data"] == []


async def test_bad_filters_and_queries_are_refused(api: tuple[Hub, Client]) -> None:
    hub, anonymous = api
    client = anonymous.as_(await new_merchant(hub))
    for body, field in [
        ({"url": PUBLIC_HOOK, "events": ["payment.teleported"]}, "events"),
        ({"url": PUBLIC_HOOK, "events": []}, "events"),
        ({"url": PUBLIC_HOOK, "description": "x" * 256}, "description"),
        ({"events": ["payment.captured"]}, "url"),
    ]:
        answer = await client.call("POST", EPS, json=body)
        assert (answer.status_code, answer.json()["code"]) == (422, "validation_error")
        assert answer.json()["errors"][0]["field"] == field
    endpoint = (await client.call("POST", EPS, json={"url": PUBLIC_HOOK})).json()
    ids = {"endpoint_id": endpoint["id"]}
    for query in ({"status": "lost"}, {"limit": "0"}, {"limit": "101"}):
        answer = await client.call("GET", f"{EP}/deliveries", path=ids, params=query)
        assert (answer.status_code, answer.json()["code"]) == (422, "validation_error")


async def test_a_replayed_registration_returns_the_same_endpoint_and_secret(
    api: tuple[Hub, Client],
) -> None:
    hub, anonymous = api
    client = anonymous.as_(await new_merchant(hub))
    first = await client.call("POST", EPS, json={"url": PUBLIC_HOOK}, key="register-1")
    again = await client.call("POST", EPS, json={"url": PUBLIC_HOOK}, key="register-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len((await client.call("GET", EPS)).json()["data"]) == 1

    other = await client.call(
        "POST", EPS, json={"url": PUBLIC_HOOK, "description": "x"}, key="register-1"
    )
    assert (other.status_code, other.json()["code"]) == (422, "idempotency_conflict")

    def stored(conn: Any) -> list[Any]:
        return [r[0] for r in conn.execute(sa.select(idempotency_keys.c.response_body))]

    bodies = await hub.store.db.run(stored)
    secret = first.json()["secret"]
    assert bodies
    assert all(secret not in json.dumps(b) for b in bodies), "the secret is stored sealed only"


async def test_a_refused_registration_keeps_its_key_free(api: tuple[Hub, Client]) -> None:
    hub, anonymous = api
    client = anonymous.as_(await new_merchant(hub))
    refused = await client.call("POST", EPS, json={"url": "http://127.0.0.1/x"}, key="k-9")
    assert refused.json()["code"] == "unsafe_url"
    fixed = await client.call("POST", EPS, json={"url": "http://127.0.0.1/x"}, key="k-9")
    assert fixed.json()["code"] == "unsafe_url"
    assert "Idempotent-Replayed" not in fixed.headers


async def test_scopes(api: tuple[Hub, Client]) -> None:
    hub, anonymous = api
    reader = anonymous.as_(await new_merchant(hub, scopes=["payments:read"]))
    refused = await reader.call("POST", EPS, json={"url": PUBLIC_HOOK})
    assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
    assert "webhooks:write" in refused.json()["detail"]
    assert (await reader.call("GET", EPS)).status_code == 200
    writer = anonymous.as_(await new_merchant(hub, scopes=["webhooks:write"]))
    assert (await writer.call("POST", EPS, json={"url": PUBLIC_HOOK})).status_code == 201
    assert (await writer.call("GET", EPS)).status_code == 403


async def _drain(hub: Hub) -> None:
    for _ in range(50):
        if not await hub.deliver_webhooks():
            return
    raise AssertionError("the dispatcher never ran out of work")


async def test_deliveries_page_and_redeliver(
    delivering_api: tuple[Hub, Client, Inbox], clock: FixedClock
) -> None:
    hub, anonymous, inbox = delivering_api
    client = anonymous.as_(await new_merchant(hub))
    endpoint = (await client.call("POST", EPS, json={"url": PUBLIC_HOOK}, key="ep")).json()
    ids = {"endpoint_id": endpoint["id"]}
    payment = (await client.call("POST", "/v1/payments", json=PAYMENT, key="p-1")).json()
    await _drain(hub)
    assert [json.loads(r.content)["type"] for r in inbox.received] == ["payment.captured"]
    verify([endpoint["secret"]], inbox.received[0].headers, inbox.received[0].content, clock.now())

    clock.advance(1)  # the refund's deliveries are the newest
    await client.call(
        "POST", "/v1/payments/{payment_id}/refunds", path={"payment_id": payment["id"]}
    )
    await _drain(hub)
    first = await client.call("GET", f"{EP}/deliveries", path=ids, params={"limit": 1})
    page = first.json()
    assert (len(page["data"]), page["has_more"]) == (1, True)
    assert page["data"][0]["event_type"] in {"payment.refunded", "refund.succeeded"}
    rest = await client.call(
        "GET", f"{EP}/deliveries", path=ids, params={"cursor": page["next_cursor"]}
    )
    everything = page["data"] + rest.json()["data"]
    assert sorted(d["event_type"] for d in everything) == [
        "payment.captured",
        "payment.refunded",
        "refund.succeeded",
    ]
    assert {d["status"] for d in everything} == {"delivered"}
    delivered = await client.call(
        "GET", f"{EP}/deliveries", path=ids, params={"status": "delivered"}
    )
    assert len(delivered.json()["data"]) == 3

    captured = next(d for d in everything if d["event_type"] == "payment.captured")
    again = await client.call(
        "POST",
        "/v1/webhook-deliveries/{delivery_id}/redeliver",
        path={"delivery_id": captured["id"]},
        key="again-1",
    )
    assert (again.status_code, again.json()["status"]) == (202, "pending")
    by_event = await client.call(
        "POST",
        "/v1/events/{event_id}/redeliver",
        path={"event_id": captured["event_id"]},
        key="again-2",
    )
    assert by_event.status_code == 202
    assert [d["id"] for d in by_event.json()["data"]] == [captured["id"]]
    await _drain(hub)
    ids_sent = [r.headers["webhook-id"] for r in inbox.received]
    assert ids_sent.count(captured["event_id"]) == 2, "redelivered once, same webhook-id"


async def test_redelivery_to_a_disabled_endpoint_is_a_conflict(
    delivering_api: tuple[Hub, Client, Inbox],
) -> None:
    hub, anonymous, _ = delivering_api
    client = anonymous.as_(await new_merchant(hub))
    endpoint = (await client.call("POST", EPS, json={"url": PUBLIC_HOOK})).json()
    await client.call("POST", "/v1/payments", json=PAYMENT)
    await _drain(hub)
    ids = {"endpoint_id": endpoint["id"]}
    delivery = (await client.call("GET", f"{EP}/deliveries", path=ids)).json()["data"][0]
    await client.call("POST", f"{EP}/disable", path=ids)
    for template, path in [
        ("/v1/webhook-deliveries/{delivery_id}/redeliver", {"delivery_id": delivery["id"]}),
        ("/v1/events/{event_id}/redeliver", {"event_id": delivery["event_id"]}),
    ]:
        answer = await client.call("POST", template, path=path)
        assert (answer.status_code, answer.json()["code"]) == (409, "invalid_state"), template
    for template, name in [
        ("/v1/webhook-deliveries/{delivery_id}/redeliver", "delivery_id"),
        ("/v1/events/{event_id}/redeliver", "event_id"),
    ]:
        missing = await client.call("POST", template, path={name: "dlv_nothing"})
        assert (missing.status_code, missing.json()["code"]) == (404, "not_found")
