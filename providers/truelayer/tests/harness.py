"""The TrueLayer contract harness: the adapter on a respx router answering with the verbatim
fixtures (see SOURCES.md), webhooks signed here with PyJWT directly (not with the adapter's
signer), and the JWKS served at the allow-listed sandbox URL."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import respx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt import api_jws
from pydantic import SecretStr

from gatewayhub.errors import DeclineCode
from gatewayhub.money import Money
from gatewayhub.provider import ProviderHTTP, Timeouts
from gatewayhub.testing import FixedClock, Fixtures
from gatewayhub.testing.faults import FAULTS, fault
from gatewayhub_truelayer.provider import TrueLayerProvider, TrueLayerSettings

HERE = Path(__file__).parent
FIXTURES = Fixtures(HERE / "fixtures")
VECTORS = HERE / "vectors"

AUTH = "https://auth.truelayer-sandbox.com"
API = "https://api.truelayer-sandbox.com"
HPP = "https://payment.truelayer-sandbox.com"
SANDBOX_JKU = "https://webhooks.truelayer-sandbox.com/.well-known/jwks"
LIVE_JKU = "https://webhooks.truelayer.com/.well-known/jwks"

# The truelayer-signing test key (public, published for tests) and its kid.
PRIVATE_PEM = (VECTORS / "truelayer_ec512-private.pem").read_text()
PUBLIC_PEM = (VECTORS / "truelayer_ec512-public.pem").read_bytes()
KID = "45fc75cf-5649-4134-84b3-192c2c78e990"

# Obviously fake client credentials.
CLIENT_ID = "sandbox-gatewayhub-contract"
CLIENT_SECRET = "fake-client-secret-3f9a2c"
TOKEN = "JWT-ACCESS-TOKEN-HERE"  # fixtures/auth/token.json
MERCHANT_GBP = "e83c4c20-b2ad-4b73-8a32-000000000001"
MERCHANT_EUR = "e83c4c20-b2ad-4b73-8a32-000000000002"
PAYER = {"customer_name": "Jane Doe", "customer_email": "jane.doe@example.com"}
WEBHOOK_PATH = "/v1/webhooks/truelayer/truelayer_test"

# TrueLayer's answers to the contract's failure scenarios (see gatewayhub.testing.faults);
# a server error is an empty 500, as the default.
MALFORMED = httpx.Response(201, content=b'{"id": "40d65bb9", "resou')
FAILURES = {
    "rate_limited": httpx.Response(429, headers={"Retry-After": "1"}),
    "auth_failed": FIXTURES.response("errors/invalid_token.json", 401),
}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def new_key() -> ec.EllipticCurvePrivateKey:
    """A throwaway P-521 key (a second TrueLayer key, or an attacker's)."""
    return ec.generate_private_key(ec.SECP521R1())


def pem(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def jwk(key: ec.EllipticCurvePrivateKey, kid: str) -> dict[str, str]:
    """The public JWK of `key`, coordinates padded to 66 bytes as RFC 7518 asks."""
    numbers = key.public_key().public_numbers()
    return {
        "kty": "EC",
        "alg": "ES512",
        "kid": kid,
        "crv": "P-521",
        "x": b64url(numbers.x.to_bytes(66, "big")),
        "y": b64url(numbers.y.to_bytes(66, "big")),
    }


def webhook_headers(
    body: bytes,
    timestamp: str,
    *,
    path: str = WEBHOOK_PATH,
    jku: str = SANDBOX_JKU,
    kid: str = KID,
    key: str = PRIVATE_PEM,
    signed: Sequence[str] = ("X-Tl-Webhook-Timestamp", "Content-Type"),
) -> dict[str, str]:
    """Headers of a TrueLayer webhook, signed per request-signing v2: ES512 over
    "POST {path}\\n" + "{Name}: {value}\\n"... + body, payload detached."""
    values = {"X-Tl-Webhook-Timestamp": timestamp, "Content-Type": "application/json"}
    payload = f"POST {path}\n".encode()
    for name in signed:
        payload += f"{name}: {values[name]}\n".encode()
    payload += body
    token = api_jws.encode(
        payload,
        key,
        algorithm="ES512",
        headers={
            "typ": None,
            "kid": kid,
            "tl_version": "2",
            "tl_headers": ",".join(signed),
            "jku": jku,
        },
        sort_headers=False,
    )
    header, _, signature = token.split(".")
    return {"Tl-Signature": f"{header}..{signature}", **values}


def settings(**overrides: Any) -> TrueLayerSettings:
    values: dict[str, Any] = {
        "environment": "sandbox",
        "client_id": CLIENT_ID,
        "client_secret": SecretStr(CLIENT_SECRET),
        "signing_key_id": KID,
        "signing_private_key": SecretStr(PRIVATE_PEM),
        "merchant_accounts": {"GBP": MERCHANT_GBP, "EUR": MERCHANT_EUR},
        "webhook_path": WEBHOOK_PATH,
        "timeouts": Timeouts(total=2.0),
    }
    return TrueLayerSettings(**{**values, **overrides})


class TrueLayerHarness:
    """Builds the adapter on a respx router (auth, API, JWKS hosts) and arranges scenarios."""

    scenarios = FAULTS | frozenset(
        {
            "requires_action",
            "unknown_status",
            "refunded",
            "found",
            "valid",
            "tampered",
            "wrong_secret",
            "missing_header",
            "expired",
            "rotated",
            "unknown_type",
        }
    )
    # Written from the fixtures: a payment the bank rejected at creation, and the two
    # documented problem+json refusals of a payment creation.
    decline_cases: Mapping[str, DeclineCode] = {
        "rejected": DeclineCode.DO_NOT_HONOR,
        "Invalid Parameters": DeclineCode.INVALID_REQUEST,
        "Idempotency-Key Reuse": DeclineCode.INVALID_REQUEST,
    }
    # `amount_in_minor`: pence and cents, unchanged (docs "Create a payment").
    amount_cases: Sequence[tuple[Money, Any]] = (
        (Money(1050, "GBP"), 1050),
        (Money(1, "EUR"), 1),
        (Money(1000, "JPY"), 1000),  # not a TrueLayer currency: skipped by capability
    )
    secrets = (CLIENT_SECRET, PRIVATE_PEM.splitlines()[2])
    default_money = Money(101, "GBP")

    def __init__(self, **overrides: Any) -> None:
        self.clock = FixedClock(datetime(2021, 12, 25, 15, 0, 5, tzinfo=UTC))
        self.router = respx.Router(assert_all_called=False)
        self.client = httpx.AsyncClient(transport=httpx.MockTransport(self.router.async_handler))
        config = settings(**overrides)
        http = ProviderHTTP(
            self.client, account="truelayer_test", timeouts=config.timeouts, clock=self.clock
        )
        self.provider = TrueLayerProvider("truelayer_test", config, http)
        self.second_key = new_key()
        self.jwks = json.loads((VECTORS / "truelayer_jwks.json").read_bytes())
        self.jwks["keys"].append(jwk(self.second_key, "rotated-key-2"))

    def _base_routes(self) -> None:
        self.router.post(f"{AUTH}/connect/token").mock(
            return_value=FIXTURES.response("auth/token.json")
        )
        self.router.get(SANDBOX_JKU).mock(return_value=httpx.Response(200, json=self.jwks))

    def token(self, scenario: str) -> str:
        # The payer picks their bank on TrueLayer's page; the token is not sent.
        return "tl_hosted_payment_page"

    def arrange(self, operation: str, scenario: str, call: Any = None) -> None:
        self.router.clear()
        self.router.reset()
        self._base_routes()
        if operation == "authorize":
            route = self.router.post(f"{API}/v3/payments")
            answers = {
                "decline:rejected": FIXTURES.response("authorize/failed.json", 201),
                "decline:Invalid Parameters": FIXTURES.response(
                    "errors/invalid_parameters.json", 400
                ),
                "decline:Idempotency-Key Reuse": FIXTURES.response(
                    "errors/idempotency_key_reuse.json", 422
                ),
                "unknown_status": FIXTURES.response("authorize/unknown_status.json", 201),
            }
            if scenario in FAULTS:
                route.mock(side_effect=fault(scenario, malformed=MALFORMED, answers=FAILURES))
            else:
                route.mock(
                    return_value=answers.get(
                        scenario, FIXTURES.response("authorize/merchant_account.json", 201)
                    )
                )
        elif operation == "refund":
            self.router.post(f"{API}/v3/payments/{call.provider_reference}/refunds").mock(
                return_value=FIXTURES.response("refund/created.json", 202)
            )
        elif operation == "retrieve":
            self.router.get(f"{API}/v3/payments/{call.provider_reference}").mock(
                return_value=FIXTURES.response("retrieve/settled.json")
            )
            self.router.get(f"{API}/v3/payments/{call.provider_reference}/refunds").mock(
                return_value=FIXTURES.response("retrieve/refunds.json")
            )

    def requests(self) -> list[httpx.Request]:
        # Calls to the Payments API only: the token request has no idempotency key.
        return [
            c.request
            for c in self.router.calls
            if c.request.url.host == "api.truelayer-sandbox.com"
        ]

    def amount_on_wire(self, request: httpx.Request) -> Any:
        return json.loads(request.content)["amount_in_minor"]

    async def reference_for(self, operation: str) -> str:
        return "c7f3f6c5-ae17-4d43-829c-***"

    def webhook(self, scenario: str) -> tuple[dict[str, str], bytes]:
        self.router.clear()
        self.router.reset()
        self._base_routes()
        name = "payment_creditable" if scenario == "unknown_type" else "payment_executed"
        body = FIXTURES.raw(f"webhooks/{name}.json")
        sent = self.clock.now() - (timedelta(minutes=10) if scenario == "expired" else timedelta())
        stamp = sent.strftime("%Y-%m-%dT%H:%M:%SZ")
        if scenario == "rotated":
            headers = webhook_headers(body, stamp, kid="rotated-key-2", key=pem(self.second_key))
        elif scenario == "wrong_secret":
            headers = webhook_headers(body, stamp, key=pem(new_key()))
        else:
            headers = webhook_headers(body, stamp)
        if scenario == "tampered":
            body = body.replace(b"15:00:00.000Z", b"15:00:01.000Z")
        if scenario == "missing_header":
            del headers["Tl-Signature"]
        return headers, body
