"""Bad input: a specific error before any provider call, and nothing stored."""

from __future__ import annotations

from typing import Any

import pytest

from gatewayhub.errors import InvalidRequest, NoEligibleProvider

from .conftest import MakeHub, fake

BASE: dict[str, Any] = {"amount": 1000, "currency": "EUR", "payment_method": "tok_visa"}


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"currency": "XYZ"}, "currency", "not an active ISO 4217"),
        ({"currency": "eur"}, "currency", "upper case"),
        ({"amount": 0}, "amount", "greater than 0"),
        ({"amount": -5}, "amount", "greater than 0"),
        ({"amount": 10**13}, "amount", "less than or equal to 999999999999"),
        ({"amount": 10.5}, "amount", "valid integer"),
        ({"amount": "1000"}, "amount", "valid integer"),
        ({"payment_method": "4242424242424242"}, "payment_method.token", "raw card number"),
        (
            {"payment_method": {"token": "tok", "issuer_country": "Germany"}},
            "payment_method.issuer_country",
            "alpha-2",
        ),
        ({"capture": "later"}, "capture", "'automatic' or 'manual'"),
        ({"return_url": "javascript:alert(1)"}, "return_url", "should match pattern"),
        ({"surprise": 1}, "surprise", "Extra inputs"),
    ],
)
async def test_refused_before_any_call(
    make_hub: MakeHub, change: dict[str, Any], field: str, message: str
) -> None:
    hub = await make_hub()
    with pytest.raises(InvalidRequest, match=message) as raised:
        await hub.authorize(**{**BASE, **change})
    assert raised.value.field == field
    assert "4242424242424242" not in str(raised.value)
    assert fake(hub, "a").calls == []
    assert (await hub.list()).items == []


async def test_unknown_account_pin(make_hub: MakeHub) -> None:
    hub = await make_hub()
    with pytest.raises(InvalidRequest, match="unknown provider account 'nope'"):
        await hub.authorize(**BASE, provider="nope")
    assert (await hub.list()).items == []


async def test_no_provider_for_the_currency(make_hub: MakeHub) -> None:
    hub = await make_hub(accounts={"a": {"settings": {"currencies": ["USD"]}}})
    with pytest.raises(NoEligibleProvider) as raised:
        await hub.authorize(**BASE)
    assert raised.value.reasons == {"a": "does not accept EUR"}
    assert (await hub.list()).items == []


async def test_bad_capture_and_refund_amounts(make_hub: MakeHub) -> None:
    hub = await make_hub()
    payment = await hub.authorize(**BASE, capture="manual")
    for bad in (0, -1, 10.0):
        with pytest.raises(InvalidRequest):
            await hub.capture(payment.id, bad)  # type: ignore[arg-type]
        with pytest.raises(InvalidRequest):
            await hub.refund(payment.id, bad)  # type: ignore[arg-type]
