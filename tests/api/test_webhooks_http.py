"""Provider webhooks over HTTP: verified on the raw body, stored once, acknowledged.

Signatures here are computed with hmac/hashlib from the schemes' definitions (Standard
Webhooks for the sandbox, Stripe-Signature for Stripe), never with gatewayhub's own code; the
Stripe checks also use the known-answer vectors of ../shared/providers/vectors.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from gatewayhub.config import parse_config
from gatewayhub.hub import Hub
from gatewayhub.testing import FixedClock
from gatewayhub_sandbox.provider import LOCAL_WEBHOOK_SECRET

from .conftest import PAYMENT, Client, MakeApi, new_merchant

HOOK = "/v1/webhooks/{provider}/{account}"
ROOT = Path(__file__).parents[2]
VECTORS = json.loads(
    (ROOT / "providers/stripe/tests/vectors/core6_webhook_vectors.json").read_text()
)
STRIPE_VECTOR = next(
    v for v in VECTORS["vectors"] if v["provider"] == "stripe" and v["timestamp"] == 1700000000
)
STRIPE_SECRET = STRIPE_VECTOR["secret"]
STRIPE_EVENT = (
    ROOT / "providers/stripe/tests/fixtures/webhooks/payment_intent.succeeded.json"
).read_bytes()


def standard_signature(secret: str, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": f"v1,{base64.b64encode(mac).decode()}",
        "content-type": "application/json",
    }


def stripe_signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


async def inbox(hub: Hub) -> list[tuple[Any, ...]]:
    return await hub.store.db.run(
        lambda c: [
            tuple(r)
            for r in c.exec_driver_sql(
                "SELECT account, event_id, status FROM webhook_inbox ORDER BY id"
            )
        ]
    )


def sandbox_event(payment: dict[str, Any], event_id: str) -> bytes:
    charge = {
        "id": payment["provider_reference"],
        "status": "captured",
        "amount": payment["amount"],
        "currency": payment["currency"],
        "amount_captured": payment["amount"],
        "reference": payment["id"],
    }
    return json.dumps(
        {"id": event_id, "type": "charge.captured", "created": 1, "data": {"object": charge}}
    ).encode()


async def test_sandbox_webhook_is_stored_once_and_applied_once(api: tuple[Hub, Client]) -> None:
    hub, anonymous = api
    client = anonymous.as_(await new_merchant(hub))
    pending = {**PAYMENT, "payment_method": {"token": "tok_pending"}}
    payment = (await client.call("POST", "/v1/payments", json=pending)).json()
    assert payment["status"] != "captured"
    body = sandbox_event(payment, "evt_http_1")
    now = int(hub.clock.now().timestamp())
    headers = standard_signature(LOCAL_WEBHOOK_SECRET, "msg_1", now, body)
    path = {"provider": "sandbox", "account": payment["provider"]}

    first = await anonymous.call("POST", HOOK, path=path, content=body, headers=headers)
    assert (first.status_code, first.json()) == (200, {"received": True})
    again = await anonymous.call("POST", HOOK, path=path, content=body, headers=headers)
    assert (again.status_code, again.json()) == (200, {"received": True})
    # (the embedded emulator delivers events of its own, with its own ids)
    stored = [row[:2] for row in await inbox(hub) if row[1] == "evt_http_1"]
    assert stored == [(payment["provider"], "evt_http_1")]

    await hub.process_webhooks()
    await hub.process_webhooks()
    detail = (
        await client.call("GET", "/v1/payments/{payment_id}", path={"payment_id": payment["id"]})
    ).json()
    assert (detail["status"], detail["captured"]) == ("captured", payment["amount"])
    captures = [e for e in detail["events"] if e["to_status"] == "captured"]
    assert len(captures) == 1, "the duplicate changed nothing"
    metrics = (await anonymous.call("GET", "/metrics")).text
    account = payment["provider"]
    assert (
        f'gatewayhub_webhooks_total{{account="{account}",outcome="accepted",provider="sandbox"}} 1.0'
        in metrics
    )
    assert (
        f'gatewayhub_webhooks_total{{account="{account}",outcome="duplicate",provider="sandbox"}} 1.0'
        in metrics
    )


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("forged", "bad_signature"),
        ("tampered", "bad_signature"),
        ("expired", "expired"),
        ("unsigned", "missing_header"),
    ],
)
async def test_sandbox_webhooks_that_do_not_verify_are_400(
    api: tuple[Hub, Client], change: str, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    hub, client = api
    body = json.dumps({"id": "evt_x", "type": "charge.captured", "created": 1, "data": {}}).encode()
    now = int(hub.clock.now().timestamp())
    secret = LOCAL_WEBHOOK_SECRET
    if change == "forged":
        secret = "whsec_" + base64.b64encode(b"somebody else's secret").decode()
    headers = standard_signature(secret, "msg_x", now - 301 if change == "expired" else now, body)
    if change == "tampered":
        body = body.replace(b"evt_x", b"evt_y")
    if change == "unsigned":
        headers = {"content-type": "application/json"}
    before = len(await inbox(hub))
    with caplog.at_level(logging.WARNING, logger="gatewayhub.api.webhooks"):
        answer = await client.call(
            "POST",
            HOOK,
            path={"provider": "sandbox", "account": "sandbox_eu"},
            content=body,
            headers=headers,
        )
    assert answer.status_code == 400
    assert (answer.json()["code"], answer.json()["reason"]) == ("webhook_rejected", reason)
    assert len(await inbox(hub)) == before, "nothing is stored"
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert reason in logged
    assert LOCAL_WEBHOOK_SECRET not in logged
    assert LOCAL_WEBHOOK_SECRET.removeprefix("whsec_") not in logged


@pytest.mark.parametrize(
    ("provider", "account"),
    [("sandbox", "nobody"), ("stripe", "sandbox_eu"), ("nosuchprovider", "sandbox_eu")],
)
async def test_unknown_provider_or_account_is_404(
    api: tuple[Hub, Client], provider: str, account: str
) -> None:
    hub, client = api
    body = b'{"id":"evt_1"}'
    headers = standard_signature(LOCAL_WEBHOOK_SECRET, "m", int(hub.clock.now().timestamp()), body)
    answer = await client.call(
        "POST", HOOK, path={"provider": provider, "account": account}, content=body, headers=headers
    )
    assert (answer.status_code, answer.json()["code"]) == (404, "not_found")


@pytest.fixture
async def stripe_api(make_api: MakeApi, database_url: str) -> tuple[Hub, Client]:
    """One Stripe account (never called: only its webhooks are received), at the vector's time."""
    config = parse_config(
        {
            "gateway": {"database_url": database_url},
            "providers": {
                "stripe_main": {
                    "type": "stripe",
                    "settings": {
                        "secret_key": "sk_test_FAKEgatewayhubApiTests000",
                        "webhook_secrets": [STRIPE_SECRET],
                    },
                }
            },
        }
    )
    clock = FixedClock(datetime.fromtimestamp(STRIPE_VECTOR["timestamp"] + 10, UTC))
    hub = Hub(config, clock=clock, rng=random.Random(1), background=False)
    return await make_api(hub=hub)


STRIPE_PATH = {"provider": "stripe", "account": "stripe_main"}


async def test_stripe_event_is_acknowledged_and_deduplicated(
    stripe_api: tuple[Hub, Client],
) -> None:
    hub, client = stripe_api
    now = int(hub.clock.now().timestamp())
    headers = {"Stripe-Signature": stripe_signature(STRIPE_SECRET, now, STRIPE_EVENT)}
    for _ in range(2):
        answer = await client.call(
            "POST", HOOK, path=STRIPE_PATH, content=STRIPE_EVENT, headers=headers
        )
        assert (answer.status_code, answer.json()) == (200, {"received": True})
    assert await inbox(hub) == [("stripe_main", "evt_3QfGhbLkdIwHu7ix0e01", "pending")]


@pytest.mark.parametrize(
    ("body", "header", "clock_offset", "reason"),
    [
        # the vector's exact bytes and header verify; the body is no full Stripe event
        (STRIPE_VECTOR["payload"], STRIPE_VECTOR["header"], 10, "malformed"),
        (
            STRIPE_VECTOR["payload"].replace("rdr_123", "rdr_124"),
            STRIPE_VECTOR["header"],
            10,
            "bad_signature",
        ),
        (STRIPE_VECTOR["payload"], STRIPE_VECTOR["header"], 301, "expired"),
        (STRIPE_VECTOR["payload"], "t=1700000000,v0=" + "0" * 64, 10, "bad_signature"),
    ],
    ids=["vector-not-an-event", "tampered", "expired", "no-v1"],
)
async def test_stripe_vectors_refused_for_the_right_reason(
    stripe_api: tuple[Hub, Client], body: str, header: str, clock_offset: int, reason: str
) -> None:
    hub, client = stripe_api
    hub.clock.advance(clock_offset - 10)  # type: ignore[attr-defined]
    answer = await client.call(
        "POST", HOOK, path=STRIPE_PATH, content=body.encode(), headers={"Stripe-Signature": header}
    )
    assert answer.status_code == 400
    assert answer.json()["reason"] == reason
    assert await inbox(hub) == []
