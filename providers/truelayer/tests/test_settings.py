"""Settings refuse what cannot work, without echoing secrets."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import SecretStr, ValidationError

from .harness import PRIVATE_PEM, settings


def private_pem(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()


@pytest.mark.parametrize(
    "pem",
    [
        private_pem(ec.generate_private_key(ec.SECP256R1())),  # ES256's curve, not ES512's
        "-----BEGIN EC PRIVATE KEY-----\nbm90IGEga2V5\n-----END EC PRIVATE KEY-----\n",
        "not a pem at all",
    ],
)
def test_signing_key_must_be_a_p521_pem(pem: str) -> None:
    with pytest.raises(ValidationError) as raised:
        settings(signing_private_key=SecretStr(pem))
    for line in pem.splitlines()[1:-1]:
        assert line not in str(raised.value)


def test_settings_never_show_the_key_or_secret() -> None:
    config = settings()
    text = repr(config) + str(config)
    assert PRIVATE_PEM.splitlines()[1] not in text
    assert "fake-client-secret" not in text


def test_unknown_currency_is_refused() -> None:
    with pytest.raises(ValidationError):
        settings(merchant_accounts={"USD": "ma-1"})


def test_endpoints_follow_the_environment() -> None:
    live = settings(environment="live")
    assert live.endpoint("api") == "https://api.truelayer.com"
    assert live.endpoint("jwks") == "https://webhooks.truelayer.com/.well-known/jwks"
    sandbox = settings(api_url="https://proxy.example/tl/")
    assert sandbox.endpoint("api") == "https://proxy.example/tl"
    assert sandbox.endpoint("auth") == "https://auth.truelayer-sandbox.com"
