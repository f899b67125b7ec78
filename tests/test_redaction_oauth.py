"""OAuth token answers and token requests never reach a log unredacted."""

from __future__ import annotations

import pytest

from gatewayhub.redaction import redact


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ('{"access_token":"A21AAtokenvalue","token_type":"Bearer"}', '"token_type":"Bearer"'),
        ('{"access_token": "A21AAtokenvalue", "expires_in": 32400}', '"expires_in": 32400'),
        ("grant_type=refresh_token&refresh_token=A21AAtokenvalue", "grant_type=refresh_token"),
        ("client_id=abc&client_secret=A21AAtokenvalue", "client_id=abc"),
        ('{"id_token":"A21AAtokenvalue"}', '"id_token":"[REDACTED]"'),
    ],
)
def test_token_fields_are_redacted(text: str, kept: str) -> None:
    redacted = redact(text)
    assert "A21AAtokenvalue" not in redacted
    assert kept in redacted
