"""The Razorpay contract harness: the adapter on a respx router that answers with the
verbatim fixtures under `fixtures/` (see SOURCES.md), and signed webhooks."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import respx
from pydantic import SecretStr

from gatewayhub.errors import DeclineCode
from gatewayhub.money import Money
from gatewayhub.provider import ProviderHTTP, Timeouts
from gatewayhub.testing import FixedClock, Fixtures
from gatewayhub.testing.faults import FAULTS, fault
from gatewayhub_razorpay.provider import RazorpayProvider, RazorpaySettings

API = "https://api.razorpay.com"
FIXTURES = Fixtures(Path(__file__).parent / "fixtures")
VECTORS = Path(__file__).parent / "vectors"

# Obviously fake credentials.
KEY_ID = "rzp_test_FAKEKEYcontract01"
KEY_SECRET = "fake_key_secret_contract_9f2c"
SECRET_NEW = "fake-webhook-secret-new-7d1f"
SECRET_OLD = "fake-webhook-secret-old-3a9b"
SECRET_OTHER = "fake-webhook-secret-of-someone-else"

# The orders the capture/refund/retrieve fixtures belong to.
ORDER_AUTHORIZED = "order_DESlLckIVRkHWj"
ORDER_PAID = "order_N8FRN5zTm5S3wx"
ORDER_ATTEMPTED = "fake_order_id"

# Razorpay's answers to the contract's failure scenarios (see gatewayhub.testing.faults).
MALFORMED = httpx.Response(200, content=b'{"id": "order_x", "amo')
FAILURES = {
    "server_error": httpx.Response(502),
    "auth_failed": FIXTURES.response("errors/invalid_api_key.json", 401),
}


def sign(secret: str, body: bytes) -> str:
    """Razorpay's webhook signature, computed here with the standard library."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def settings(**overrides: Any) -> RazorpaySettings:
    """Harness settings (INR, JPY and KWD enabled)."""
    values: dict[str, Any] = {
        "key_id": KEY_ID,
        "key_secret": SecretStr(KEY_SECRET),
        "webhook_secrets": [SecretStr(SECRET_NEW), SecretStr(SECRET_OLD)],
        "currencies": ["INR", "JPY", "KWD"],
        "timeouts": Timeouts(total=2.0),
    }
    return RazorpaySettings(**{**values, **overrides})


class RazorpayHarness:
    """Builds the adapter on a respx router and arranges scenarios."""

    scenarios = FAULTS | frozenset(
        {
            "requires_action",
            "unknown_status",
            "amount_mismatch",
            "captured",
            "refunded",
            "found",
            "not_found",
            "valid",
            "tampered",
            "wrong_secret",
            "missing_header",
            "expired",
            "rotated",
            "unknown_type",
        }
    )
    # Written from the documented error bodies: a validation refusal with a reason, and
    # the SDK's bare BAD_REQUEST_ERROR.
    decline_cases: Mapping[str, DeclineCode] = {
        "input_validation_failed": DeclineCode.INVALID_REQUEST,
        "BAD_REQUEST_ERROR": DeclineCode.INVALID_REQUEST,
    }
    # Razorpay counts every currency in its sub-unit (API reference, Orders: JPY 295 is
    # 295, KWD 295.990 is 295990).
    amount_cases: Sequence[tuple[Money, Any]] = (
        (Money(1000, "JPY"), 1000),
        (Money(1050, "INR"), 1050),
        (Money(1230, "KWD"), 1230),
    )
    secrets = (KEY_SECRET, SECRET_NEW, SECRET_OLD)
    default_money = Money(5000, "INR")

    def __init__(self, **overrides: Any) -> None:
        # The webhook fixtures were created in September 2019; the clock starts just after.
        self.clock = FixedClock(datetime(2019, 9, 5, 9, 11, tzinfo=UTC))
        self.router = respx.Router(base_url=API, assert_all_called=False)
        self.client = httpx.AsyncClient(transport=httpx.MockTransport(self.router.async_handler))
        config = settings(**overrides)
        http = ProviderHTTP(
            self.client, account="razorpay_test", timeouts=config.timeouts, clock=self.clock
        )
        self.provider = RazorpayProvider("razorpay_test", config, http)

    def token(self, scenario: str) -> str:
        # Razorpay Checkout collects the method itself; the token is not sent.
        return "tok_razorpay_checkout"

    def arrange(self, operation: str, scenario: str, call: Any = None) -> None:
        self.router.clear()
        self.router.reset()
        route = self.router
        if operation == "authorize":
            orders = route.post("/v1/orders")
            if scenario.startswith("decline:"):
                name = scenario.removeprefix("decline:")
                fixture = {
                    "input_validation_failed": "authorize/amount_too_small.json",
                    "BAD_REQUEST_ERROR": "errors/bad_request_error.json",
                }[name]
                orders.mock(return_value=FIXTURES.response(fixture, 400))
            elif scenario == "unknown_status":
                orders.mock(return_value=FIXTURES.response("authorize/unknown_status.json"))
            elif scenario == "amount_mismatch":
                orders.mock(
                    return_value=FIXTURES.response("authorize/created_with_capture_options.json")
                )
            elif scenario in FAULTS:
                orders.mock(side_effect=fault(scenario, malformed=MALFORMED, answers=FAILURES))
            else:
                orders.mock(return_value=FIXTURES.response("authorize/created.json"))
        elif operation == "capture":
            route.get(f"/v1/orders/{ORDER_AUTHORIZED}/payments").mock(
                return_value=FIXTURES.response("retrieve/order_payments_authorized.json")
            )
            route.post("/v1/payments/pay_DESlfW9H8K9uqM/capture").mock(
                return_value=FIXTURES.response("capture/captured.json")
            )
        elif operation == "refund":
            route.get(f"/v1/orders/{ORDER_PAID}/payments").mock(
                return_value=FIXTURES.response("retrieve/order_payments_failed_then_captured.json")
            )
            route.post("/v1/payments/pay_N8FVRD1DzYzBh1/refund").mock(
                return_value=FIXTURES.response("refund/processed.json")
            )
        elif operation == "retrieve" and scenario == "found":
            route.get(f"/v1/orders/{ORDER_ATTEMPTED}").mock(
                return_value=FIXTURES.response("retrieve/order_attempted.json")
            )
            route.get(f"/v1/orders/{ORDER_ATTEMPTED}/payments").mock(
                return_value=FIXTURES.response("retrieve/order_payments_created.json")
            )
        elif operation == "retrieve" and scenario == "not_found":
            route.get("/v1/orders", params={"receipt": call.key}).mock(
                return_value=FIXTURES.response("retrieve/orders_none.json")
            )

    def requests(self) -> list[httpx.Request]:
        return [call.request for call in self.router.calls]

    def amount_on_wire(self, request: httpx.Request) -> Any:
        return json.loads(request.content)["amount"]

    async def reference_for(self, operation: str) -> str:
        return {"capture": ORDER_AUTHORIZED, "refund": ORDER_PAID}.get(operation, ORDER_ATTEMPTED)

    def webhook(self, scenario: str) -> tuple[dict[str, str], bytes]:
        name = (
            "webhooks/payment_downtime_started.json"
            if scenario == "unknown_type"
            else "webhooks/payment_captured.json"
        )
        body = FIXTURES.raw(name)
        created = datetime.fromtimestamp(json.loads(body)["created_at"], UTC)
        age = timedelta(hours=26) if scenario == "expired" else timedelta(minutes=1)
        self.clock.advance(max((created + age - self.clock.now()).total_seconds(), 0))
        secret = {"wrong_secret": SECRET_OTHER, "rotated": SECRET_OLD}.get(scenario, SECRET_NEW)
        headers = {
            "X-Razorpay-Signature": sign(secret, body),
            "X-Razorpay-Event-Id": "HaVuk5ZfGqWnEk",
            "Content-Type": "application/json",
        }
        if scenario == "tampered":
            body = body.replace(b'"amount": 100,', b'"amount": 1000,', 1)
        if scenario == "missing_header":
            del headers["X-Razorpay-Signature"]
        return headers, body
