"""The Checkout.com contract harness: the adapter on a respx router that answers with the
verbatim fixtures, and checks every request body it receives against the NAS OpenAPI
document before answering."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx
import respx
from pydantic import SecretStr

from gatewayhub.errors import DeclineCode
from gatewayhub.models import AuthorizeCall
from gatewayhub.money import Money
from gatewayhub.provider import ProviderHTTP, Timeouts
from gatewayhub.testing import FixedClock, Fixtures
from gatewayhub.testing.faults import FAULTS, fault
from gatewayhub.testing.openapi import OpenAPI
from gatewayhub_checkout.provider import CheckoutProvider, CheckoutSettings

HERE = Path(__file__).parent
FIXTURES = Fixtures(HERE / "fixtures")
SPEC = OpenAPI(HERE / "spec" / "checkout-nas.json")
VECTORS = json.loads((HERE / "vectors" / "core6_webhook_vectors.json").read_bytes())["vectors"]
CHECKOUT_VECTOR = next(v for v in VECTORS if v["provider"] == "checkout")

BASE = "https://api.sandbox.checkout.com"
# Obviously fake credentials: the shape of a NAS sandbox key, nothing more.
SECRET_KEY = "sk_sbox_fake00contract00key00not00real0"
PROCESSING_CHANNEL = "pc_fake0contract0channel0000"
SIGNATURE_KEY = CHECKOUT_VECTOR["signature_key"]  # the shared vector's key
OLD_SIGNATURE_KEY = "cko_test_signature_key_before_rotation"
OTHER_SIGNATURE_KEY = "cko_test_signature_key_of_someone_else"
TOKEN = "tok_4gzeau5o2uqubbk6fufs3m7p54"  # the NAS spec's example token
PAYMENT_ID = "pay_mbabizu24mvu3mela5njyhpit4"  # the id in authorize/approved.json
C = DeclineCode

# Written from Checkout.com's response-code list (README "Decline mapping"), not from the
# adapter's table. 200T3 ("Card not supported") is deliberately unmapped.
DECLINES: Mapping[str, DeclineCode] = {
    "20005": C.DO_NOT_HONOR,
    "20051": C.INSUFFICIENT_FUNDS,
    "20054": C.EXPIRED_CARD,
    "20059": C.FRAUD_SUSPECTED,
    "20062": C.CARD_BLOCKED,
    "20087": C.INCORRECT_CVC,
    "20091": C.ISSUER_UNAVAILABLE,
    "20154": C.AUTHENTICATION_REQUIRED,
    "30043": C.CARD_BLOCKED,
    "41101": C.FRAUD_SUSPECTED,
    "200T3": C.GENERIC_DECLINE,
    "refused_card_expired": C.EXPIRED_CARD,
    "refused_processing_channel": C.INVALID_REQUEST,
}
# Checkout.com's answers to the contract's failure scenarios (see gatewayhub.testing.faults):
# a 201 cut short (the approved fixture's first 60 bytes), the spec's "Bad gateway" without a
# body, its 429; a 401 is "Unauthorized" without a body, as the default.
MALFORMED = httpx.Response(201, content=FIXTURES.raw("authorize/approved.json")[:60])
FAILURES = {
    "server_error": httpx.Response(502),
    "rate_limited": FIXTURES.response("authorize/rate_limited.json", 429),
}

# Request schema per route (NAS spec paths).
REQUEST_SCHEMAS = (
    (re.compile(r"^/payments$"), "PaymentRequest"),
    (re.compile(r"^/payments/pay_\w+/captures$"), "CaptureRequest"),
    (re.compile(r"^/payments/pay_\w+/voids$"), "VoidRequest"),
    (re.compile(r"^/payments/pay_\w+/refunds$"), "RefundRequest"),
)


def check_request(request: httpx.Request) -> None:
    """Every POST we build: authenticated, idempotent, and a valid body for its route."""
    assert request.headers["authorization"] == f"Bearer {SECRET_KEY}"
    if request.method != "POST":
        return
    assert request.headers.get("cko-idempotency-key"), "POST without Cko-Idempotency-Key"
    body = json.loads(request.content)
    for pattern, schema in REQUEST_SCHEMAS:
        if pattern.match(request.url.path):
            SPEC.check(schema, body, strict=True)
            return
    raise AssertionError(f"no schema for {request.url.path}")


def sign(secret: str, body: bytes) -> str:
    """Cko-Signature, computed here with hashlib (not with the adapter's code)."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def settings(**overrides: Any) -> CheckoutSettings:
    """Settings of the test account."""
    values: dict[str, Any] = {
        "secret_key": SecretStr(SECRET_KEY),
        "processing_channel_id": PROCESSING_CHANNEL,
        "webhook_secrets": [SecretStr(SIGNATURE_KEY), SecretStr(OLD_SIGNATURE_KEY)],
        "currencies": ["USD", "EUR", "JPY", "KWD", "CLP", "BHD"],
        "timeouts": Timeouts(total=2.0),
        **overrides,
    }
    return CheckoutSettings(**values)


class CheckoutHarness:
    """Builds the adapter on a respx router and arranges scenarios."""

    scenarios = FAULTS | frozenset(
        {
            "approved",
            "approved_manual",
            "requires_action",
            "unknown_status",
            "amount_mismatch",
            "captured",
            "voided",
            "refunded",
            "found",
            "valid",
            "tampered",
            "wrong_secret",
            "missing_header",
            "rotated",
            "unknown_type",
        }
    )
    decline_cases = DECLINES
    # Checkout.com's amount scale ("Format the amount value"): JPY full value, EUR x100,
    # KWD x1000 with a last digit of 0, CLP x100 although ISO gives it no minor unit.
    amount_cases: Sequence[tuple[Money, Any]] = (
        (Money(1000, "JPY"), 1000),
        (Money(1050, "EUR"), 1050),
        (Money(1230, "KWD"), 1230),
        (Money(1000, "CLP"), 100000),
    )
    secrets = (SECRET_KEY, SIGNATURE_KEY, OLD_SIGNATURE_KEY)
    default_money = Money(6540, "USD")

    def __init__(self, **overrides: Any) -> None:
        self.clock = FixedClock()
        self.router = respx.Router(base_url=BASE, assert_all_called=False)
        self.client = httpx.AsyncClient(transport=httpx.MockTransport(self.router.async_handler))
        account_settings = settings(**overrides)
        http = ProviderHTTP(
            self.client,
            account="checkout_test",
            timeouts=account_settings.timeouts,
            clock=self.clock,
        )
        self.provider = CheckoutProvider("checkout_test", account_settings, http)

    # -- arranging answers --------------------------------------------------------------------

    def answer(
        self, method: str, path: str, status: int, fixture: str | None = None, content: bytes = b""
    ) -> respx.Route:
        """Answer `method path` with a fixture (or raw `content`), checking the request."""

        def respond(request: httpx.Request) -> httpx.Response:
            check_request(request)
            if fixture is not None:
                return FIXTURES.response(fixture, status)
            return httpx.Response(status, content=content)

        return self.router.route(method=method, path=path).mock(side_effect=respond)

    def fail(self, method: str, path: str, scenario: str) -> respx.Route:
        """Make `method path` fail as `scenario` (gatewayhub.testing.faults), checking the
        request."""
        effect = fault(scenario, malformed=MALFORMED, answers=FAILURES)

        def respond(request: httpx.Request) -> httpx.Response:
            check_request(request)
            return effect(request)

        return self.router.route(method=method, path=path).mock(side_effect=respond)

    def token(self, scenario: str) -> str:
        return TOKEN

    def arrange(self, operation: str, scenario: str, call: Any = None) -> None:
        self.router.clear()
        self.router.reset()
        if operation == "authorize":
            self._authorize(scenario)
        elif operation == "capture":
            self.answer("POST", f"/payments/{PAYMENT_ID}/captures", 202, "capture/accepted.json")
        elif operation == "void":
            self.answer("POST", f"/payments/{PAYMENT_ID}/voids", 202, "void/accepted.json")
        elif operation == "refund":
            self.answer("POST", f"/payments/{PAYMENT_ID}/refunds", 202, "refund/accepted.json")
        elif operation == "retrieve":
            self.answer("GET", f"/payments/{PAYMENT_ID}", 200, "retrieve/authorized.json")

    def _authorize(self, scenario: str) -> None:
        fixture = {
            "approved": (201, "authorize/approved.json"),
            "approved_manual": (201, "authorize/approved.json"),
            "requires_action": (202, "authorize/3ds_redirect.json"),
            "unknown_status": (201, "authorize/retry_scheduled.json"),
            "amount_mismatch": (201, "authorize/amount_mismatch.json"),
        }.get(scenario)
        if fixture is not None:
            self.answer("POST", "/payments", *fixture)
        elif scenario in FAULTS:
            self.fail("POST", "/payments", scenario)
        elif scenario.startswith("decline:"):
            name = scenario.removeprefix("decline:")
            if name.startswith("refused_"):
                self.answer("POST", "/payments", 422, f"authorize/{name}.json")
            else:
                self.answer("POST", "/payments", 201, f"authorize/declined_{name}.json")
        else:
            raise AssertionError(f"no fixture for authorize/{scenario}")

    def requests(self) -> list[httpx.Request]:
        return [call.request for call in self.router.calls]

    def amount_on_wire(self, request: httpx.Request) -> Any:
        return json.loads(request.content)["amount"]

    async def reference_for(self, operation: str) -> str:
        return PAYMENT_ID

    def webhook(self, scenario: str) -> tuple[dict[str, str], bytes]:
        name = "dispute_evidence_required" if scenario == "unknown_type" else "payment_captured"
        body = FIXTURES.raw(f"webhooks/{name}.json")
        secret = {"wrong_secret": OTHER_SIGNATURE_KEY, "rotated": OLD_SIGNATURE_KEY}.get(
            scenario, SIGNATURE_KEY
        )
        headers = {"Content-Type": "application/json", "Cko-Signature": sign(secret, body)}
        if scenario == "tampered":
            body = body.replace(b'"amount":6540', b'"amount":6541', 1)
        if scenario == "missing_header":
            del headers["Cko-Signature"]
        return headers, body


def authorize_call(
    money: Money | None = None, *, capture: bool = True, token: str = TOKEN
) -> AuthorizeCall:
    """An authorize call for the transform and spec tests."""
    from gatewayhub.models import PaymentMethod  # noqa: PLC0415

    return AuthorizeCall(
        payment_id="pay_01KAVS4B2Y7N3H0Q8G6J5W1RTE",
        key="0b6e2f0c-2a47-5d6b-9b0e-5f1c7a8e9d21",
        money=money or Money(6540, "USD"),
        capture=capture,
        method=PaymentMethod(token=token),
        token=token,
        reference="order-1001",
        description="Set of 3 masks",
        return_url="https://shop.example/return",
        metadata={"cart": "c-77"},
    )
