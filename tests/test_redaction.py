"""No card number, CVC or secret survives into a log line or an error message."""

from __future__ import annotations

import logging

import pytest

from gatewayhub.redaction import install_log_redaction, redact, redact_headers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("card 4242424242424242 ok", "card 424242******4242 ok"),
        ("card 4242 4242 4242 4242", "card 424242******4242"),
        ("order 1234567890123456", "order 1234567890123456"),  # not Luhn-valid: an id, kept
        ('{"cvc": "123"}', '{"cvc": "***"}'),
        ("cvv=9876&x=1", "cvv=***&x=1"),
        ("key sk_live_51HcAbCdEfGhIjKl", "key [REDACTED]"),
        ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc", "Authorization: [REDACTED]"),
        ("secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "secret [REDACTED]"),
    ],
)
def test_redact(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_headers() -> None:
    cleaned = redact_headers(
        {"Authorization": "Basic abc", "X-API-Key": "k", "Content-Type": "application/json"}
    )
    assert cleaned == {
        "Authorization": "[REDACTED]",
        "X-API-Key": "[REDACTED]",
        "Content-Type": "application/json",
    }


def test_log_records_of_gatewayhub_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    install_log_redaction()
    caplog.set_level(logging.INFO)
    logging.getLogger("gatewayhub.provider.x").info(
        "sent %s with %s", "4000056655665556", "sk_test_abcdefghij"
    )
    logging.getLogger("someone.else").info("untouched %s", "sk_test_abcdefghij")
    assert "400005******5556 with [REDACTED]" in caplog.text
    assert "untouched sk_test_abcdefghij" in caplog.text
