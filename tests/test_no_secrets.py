"""No card number or secret in fixtures, logs or the database.

Card numbers: 12-19 digit Luhn-valid runs that are not on the providers' documented test-card
lists. Secrets: live key shapes in fixtures; the configured credentials in logs and rows.
"""

from __future__ import annotations

import logging
import re
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa

from gatewayhub.config import parse_config
from gatewayhub.errors import InvalidRequest
from gatewayhub.hub import Hub

ROOT = Path(__file__).resolve().parents[1]
# Published test cards (Stripe, Adyen, Checkout.com, PayPal, Braintree docs).
TEST_CARDS = {
    "4242424242424242",
    "4000000000000002",
    "4000000000009995",
    "4000000000003220",
    "4111111111111111",
    "5555555555554444",
    "378282246310005",
    "4000056655665556",
    "5200828282828210",
    "4000002500003155",
    "6011111111111117",
    "3566002020360505",
    "4917610000000000",
    "2223000048400011",
    "4000000000000077",
    "4000000000009987",
    "4000000000009979",
    "4000000000000069",
    "4000000000000127",
    "4000000000000119",
    "4000000000000341",
    "4000000000000259",
    "5454545454545454",
    "4543474002249996",
    "2222400070000005",
    "4035501000000008",
    "4988438843884305",
    "4646464646464644",
    "4484070000035519",
    "4012888888881881",
}
# A card number stands alone: digits glued to letters are ids ("0VF52814937998046").
DIGITS = re.compile(r"(?<![\w.])\d(?:[ -]?\d){11,18}(?![\w.])")
# A UUID's hex groups are all digits now and then ("…-8190-432686663316"): in 2 of 1,500
# runs of the database scan below one was a Luhn-valid run inside an idempotency key. No card number
# is written as 8-4-4-4-12 hex, so UUIDs are taken out before the scan.
UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I)
LIVE_SECRETS = re.compile(r"sk_live_[A-Za-z0-9]{8,}|rk_live_[A-Za-z0-9]{8,}|AKIA[0-9A-Z]{16}")


def luhn(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def card_numbers(text: str) -> list[str]:
    found = []
    for match in DIGITS.finditer(UUID.sub(" ", text)):
        digits = re.sub(r"[ -]", "", match.group(0))
        if (
            luhn(digits)
            and digits not in TEST_CARDS
            and digits[0] in "23456"
            and len(set(digits)) > 3
        ):
            found.append(f"{digits[:6]}...{digits[-4:]}")
    return found


def tracked_fixtures() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout.split()
    files = listed or [str(p.relative_to(ROOT)) for p in ROOT.rglob("*") if p.is_file()]
    return [ROOT / f for f in files if ("fixtures" in f or "vectors" in f) and (ROOT / f).is_file()]


def test_the_scan_finds_card_numbers_and_passes_over_ids() -> None:
    # Numbers as a leak would write them, and ids seen in real rows of this test's database.
    assert card_numbers("card 5425233430109903, then 5425-2334-3010-9903") == [
        "542523...9903",
        "542523...9903",
    ]
    assert card_numbers("key e0e02822-8a0a-58f4-a5e2-432686663316") == []
    assert card_numbers("key 47b98f4d-3184-5228-8190-6eebbac019fd") == []
    # The same Luhn-valid digits outside a UUID are still found.
    assert card_numbers("ref 432686663316 and 3184-5228-8190") == ["432686...3316", "318452...8190"]


def test_fixtures_hold_no_card_numbers_or_live_secrets() -> None:
    problems = []
    for path in tracked_fixtures():
        text = path.read_text(errors="ignore")
        problems += [f"{path}: {hit}" for hit in card_numbers(text)]
        problems += [
            f"{path}: live secret {m.group(0)[:10]}..." for m in LIVE_SECRETS.finditer(text)
        ]
    assert problems == []


async def test_logs_and_rows_hold_no_card_numbers_or_credentials(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    api_key = "sk_sandbox_scan_9f8e7d6c5b4a"
    secret = "whsec_c2Nhbi10ZXN0LXNlY3JldC1zY2FuLXRlc3Q="
    config = parse_config(
        {
            "gateway": {"database_url": sqlite_url},
            "providers": {
                "s": {
                    "type": "sandbox",
                    "settings": {
                        "api_key": api_key,
                        "webhook_secrets": [secret],
                        "currencies": ["EUR"],
                    },
                }
            },
        }
    )
    caplog.set_level(logging.DEBUG)
    async with Hub(config, background=False) as hub:
        with pytest.raises(InvalidRequest):
            await hub.authorize(amount=1000, currency="EUR", payment_method="4000 0566 5566 5556")
        with pytest.raises(InvalidRequest):
            await hub.authorize(
                amount=1000,
                currency="EUR",
                payment_method={"token": "tok", "provider_tokens": {"s": "5105105105105100"}},
            )
        with pytest.raises(InvalidRequest, match="metadata"):
            await hub.authorize(
                amount=1000,
                currency="EUR",
                payment_method="tok_visa",
                metadata={"note": "card 5105105105105100"},
            )
        with pytest.raises(InvalidRequest, match="description"):
            await hub.authorize(
                amount=1000,
                currency="EUR",
                payment_method="tok_visa",
                description="for 5105-1051-0510-5100",
            )
        payment = await hub.authorize(
            amount=1000,
            currency="EUR",
            payment_method={"token": "tok_visa", "last4": "4242"},
            reference="order 1234567890123456",
        )
        await hub.refund(payment.id, 400)
        await hub.authorize(
            amount=1000, currency="EUR", payment_method="tok_decline_insufficient_funds"
        )
        await hub.process_webhooks()

        def dump(conn: sa.Connection) -> str:
            tables = [
                r[0]
                for r in conn.execute(sa.text("SELECT name FROM sqlite_master WHERE type='table'"))
            ]
            return "\n".join(
                str(row) for t in tables for row in conn.execute(sa.text(f'SELECT * FROM "{t}"'))
            )

        rows = await hub.store.db.run(dump)
    for text in (rows, caplog.text):
        assert api_key not in text
        assert secret not in text
    assert card_numbers(caplog.text) == []
    assert card_numbers(rows) == []
    assert "1234567890123456" in rows, "a long order number that is not a card number is kept"
