"""Every operation over HTTP, each answer checked against openapi.yaml by the client."""

from __future__ import annotations

import yaml

from gatewayhub.hub import Hub

from .conftest import PAYMENT, Client, new_merchant

PAY = "/v1/payments"
ONE = "/v1/payments/{payment_id}"


async def test_authorize_capture_partially_refund_partially(api: tuple[Hub, Client]) -> None:
    hub, anonymous = api
    client = anonymous.as_(await new_merchant(hub))
    created = await client.call("POST", PAY, json={**PAYMENT, "capture": "manual"}, key="o-1")
    assert created.status_code == 201
    payment = created.json()
    assert (payment["status"], payment["authorized"], payment["captured"]) == (
        "authorized",
        1050,
        0,
    )
    ids = {"payment_id": payment["id"]}

    captured = await client.call(
        "POST", f"{ONE}/capture", path=ids, json={"amount": 600}, key="o-1-capture"
    )
    assert captured.status_code == 200
    # A final capture (the default) releases the other 450.
    assert (captured.json()["status"], captured.json()["captured"]) == ("captured", 600)

    refund = await client.call(
        "POST", f"{ONE}/refunds", path=ids, json={"amount": 250, "reason": "one item"}, key="r1"
    )
    assert refund.status_code == 201
    assert (refund.json()["amount"], refund.json()["status"]) == (250, "succeeded")
    rest = await client.call("POST", f"{ONE}/refunds", path=ids, key="r2")
    assert rest.status_code == 201
    assert rest.json()["amount"] == 350, "a refund without amount takes what is left"

    detail = await client.call("GET", ONE, path=ids)
    body = detail.json()
    assert (body["status"], body["captured"], body["refunded"]) == ("refunded", 600, 600)
    assert [a["operation"] for a in body["attempts"]] == [
        "authorize",
        "capture",
        "refund",
        "refund",
    ]
    assert body["events"][0]["type"] == "payment.created"

    listed = await client.call("GET", f"{ONE}/refunds", path=ids)
    assert [r["amount"] for r in listed.json()["data"]] == [250, 350]
    one = await client.call(
        "GET", "/v1/refunds/{refund_id}", path={"refund_id": refund.json()["id"]}
    )
    assert one.json()["amount"] == 250


async def test_full_capture_and_void(api: tuple[Hub, Client]) -> None:
    hub, anonymous = api
    client = anonymous.as_(await new_merchant(hub))
    first = (await client.call("POST", PAY, json={**PAYMENT, "capture": "manual"})).json()
    captured = await client.call("POST", f"{ONE}/capture", path={"payment_id": first["id"]})
    assert (captured.json()["status"], captured.json()["captured"]) == ("captured", 1050)

    second = (await client.call("POST", PAY, json={**PAYMENT, "capture": "manual"})).json()
    voided = await client.call("POST", f"{ONE}/void", path={"payment_id": second["id"]})
    assert voided.status_code == 200
    assert voided.json()["status"] == "canceled"
    again = await client.call("POST", f"{ONE}/void", path={"payment_id": second["id"]})
    assert again.status_code == 409
    assert again.json()["code"] == "invalid_state"


async def test_declined_payment_is_402_with_the_stored_payment(api: tuple[Hub, Client]) -> None:
    hub, anonymous = api
    client = anonymous.as_(await new_merchant(hub))
    method = {"token": "tok_decline_insufficient_funds"}
    declined = await client.call("POST", PAY, json={**PAYMENT, "payment_method": method})
    assert declined.status_code == 402
    problem = declined.json()
    assert declined.headers["content-type"] == "application/problem+json"
    assert (problem["code"], problem["decline_code"]) == ("payment_declined", "insufficient_funds")
    stored = await client.call("GET", ONE, path={"payment_id": problem["payment"]["id"]})
    assert stored.json()["status"] == "failed"


async def test_list_pages_with_a_cursor_and_filters(api: tuple[Hub, Client]) -> None:
    hub, anonymous = api
    client = anonymous.as_(await new_merchant(hub))
    made = []
    for index in range(5):
        currency = "USD" if index % 2 else "EUR"
        body = {**PAYMENT, "currency": currency, "capture": "manual" if index == 4 else "automatic"}
        made.append((await client.call("POST", PAY, json=body)).json()["id"])
        hub.clock.advance(1)  # type: ignore[attr-defined]

    first = (await client.call("GET", PAY, params={"limit": 2})).json()
    assert [p["id"] for p in first["data"]] == made[::-1][:2]
    assert first["has_more"] is True
    second = (
        await client.call("GET", PAY, params={"limit": 2, "cursor": first["next_cursor"]})
    ).json()
    third = (
        await client.call("GET", PAY, params={"limit": 2, "cursor": second["next_cursor"]})
    ).json()
    assert [p["id"] for p in second["data"] + third["data"]] == made[::-1][2:]
    assert (third["has_more"], third["next_cursor"]) == (False, None)

    usd = (await client.call("GET", PAY, params={"currency": "USD"})).json()
    assert sorted(p["id"] for p in usd["data"]) == sorted([made[1], made[3]])
    authorized = (await client.call("GET", PAY, params={"status": "authorized"})).json()
    assert [p["id"] for p in authorized["data"]] == [made[4]]
    eu = (await client.call("GET", PAY, params={"provider": "sandbox_eu"})).json()
    assert {p["provider"] for p in eu["data"]} == {"sandbox_eu"}
    window = (
        await client.call(
            "GET",
            PAY,
            params={
                "created_from": "2026-11-24T12:00:01+00:00",
                "created_to": "2026-11-24T12:00:03Z",
            },
        )
    ).json()
    assert [p["id"] for p in window["data"]] == [made[2], made[1]]
    bad = await client.call("GET", PAY, params={"limit": 0, "status": "lost"})
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"limit", "status"}


async def test_bad_input_is_a_field_level_validation_problem(api: tuple[Hub, Client]) -> None:
    hub, anonymous = api
    client = anonymous.as_(await new_merchant(hub))
    cases = [
        ({**PAYMENT, "amount": 10.5}, {"amount"}),
        ({**PAYMENT, "currency": "eur"}, {"currency"}),
        ({**PAYMENT, "payment_method": {"token": "4242 4242 4242 4242"}}, {"payment_method.token"}),
        ({"currency": "EUR", "surprise": 1}, {"amount", "payment_method", "surprise"}),
    ]
    for body, fields in cases:
        answer = await client.call("POST", PAY, json=body)
        assert answer.status_code == 422, body
        problem = answer.json()
        assert problem["code"] == "validation_error"
        assert {e["field"] for e in problem["errors"]} == fields
        assert "4242" not in answer.text, "card numbers are never echoed"
    not_json = await client.call(
        "POST", PAY, content=b"{nope", headers={"content-type": "application/json"}
    )
    assert (not_json.status_code, not_json.json()["code"]) == (400, "validation_error")
    as_form = await client.call(
        "POST",
        PAY,
        content=b"amount=1",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert (as_form.status_code, as_form.json()["code"]) == (415, "unsupported_media_type")
    nowhere = await client.call(
        "POST", PAY, json={**PAYMENT, "currency": "JPY", "amount": 100, "provider": "sandbox_eu"}
    )
    assert nowhere.status_code == 422
    assert nowhere.json()["code"] == "no_eligible_provider"
    assert nowhere.json()["reasons"]["sandbox_eu"]
    listed = await client.call("GET", PAY)
    assert listed.json()["data"] == [], "bad input leaves nothing stored"


async def test_route_preview_moves_no_money(api: tuple[Hub, Client]) -> None:
    hub, anonymous = api
    client = anonymous.as_(await new_merchant(hub))
    preview = await client.call(
        "POST", "/v1/route-preview", json={"amount": 1000, "currency": "USD"}
    )
    assert preview.status_code == 200
    body = preview.json()
    assert [c["account"] for c in body["candidates"]] == ["sandbox_us", "sandbox_global"]
    assert body["excluded"] == [
        {"account": "sandbox_eu", "reason": "currency_not_supported", "detail": ""}
    ]
    assert body["explanation"][-1] == "excluded sandbox_eu: does not accept USD"
    listed = await client.call("GET", PAY)
    assert listed.json()["data"] == []


async def test_providers_need_admin_and_report_health(api: tuple[Hub, Client]) -> None:
    hub, anonymous = api
    merchant = anonymous.as_(await new_merchant(hub))
    assert (await merchant.call("GET", "/v1/providers")).status_code == 403
    admin = anonymous.as_(await new_merchant(hub, "Ops", ["admin"]))
    await admin.call("POST", PAY, json=PAYMENT)
    answer = await admin.call("GET", "/v1/providers")
    accounts = {p["account"]: p for p in answer.json()["data"]}
    assert set(accounts) == {"sandbox_eu", "sandbox_us", "sandbox_global"}
    eu = accounts["sandbox_eu"]
    assert (eu["type"], eu["circuit"], eu["payments"], eu["approval_rate"]) == (
        "sandbox",
        "closed",
        1,
        1.0,
    )
    assert accounts["sandbox_us"]["approval_rate"] is None


async def test_operations_endpoints(api: tuple[Hub, Client]) -> None:
    _hub, client = api
    assert (await client.call("GET", "/healthz")).json() == {"status": "ok"}
    assert (await client.call("GET", "/readyz")).json() == {"status": "ok"}
    document = await client.call("GET", "/openapi.yaml")
    assert yaml.safe_load(document.text)["openapi"] == "3.1.0"
    page = await client.call("GET", "/docs")
    assert page.headers["content-type"].startswith("text/html")
    assert "POST <code>/v1/payments/{payment_id}/refunds</code>" in page.text.replace(
        '<span class="m post">POST</span>', "POST"
    )
    assert "<script" not in page.text
    assert "http" not in page.text.split("<body>")[0]


async def test_metrics_count_requests_attempts_and_circuits(api: tuple[Hub, Client]) -> None:
    hub, anonymous = api
    client = anonymous.as_(await new_merchant(hub))
    await client.call("POST", PAY, json=PAYMENT)
    await client.call(
        "POST", PAY, json={**PAYMENT, "payment_method": {"token": "tok_decline_expired_card"}}
    )
    text = (await client.call("GET", "/metrics")).text
    assert (
        'gatewayhub_provider_attempts_total{operation="authorize",provider="sandbox_eu"} 2.0'
        in text
    )
    assert (
        'gatewayhub_provider_approvals_total{operation="authorize",provider="sandbox_eu"} 1.0'
        in text
    )
    assert (
        'gatewayhub_provider_declines_total{operation="authorize",provider="sandbox_eu"} 1.0'
        in text
    )
    assert 'gatewayhub_circuit_state{provider="sandbox_us"} 0.0' in text
    assert "gatewayhub_reconciler_unresolved 0.0" in text
    assert (
        'gatewayhub_http_request_duration_seconds_count{method="POST",route="/v1/payments",status="402"} 1.0'
        in text
    )


async def test_unknown_routes_and_methods_are_problems(api: tuple[Hub, Client]) -> None:
    _, client = api
    missing = await client.http.get("/v2/nothing")
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")
    wrong = await client.http.delete("/v1/payments")
    assert (wrong.status_code, wrong.json()["code"]) == (405, "method_not_allowed")
