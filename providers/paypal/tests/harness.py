"""The PayPal contract harness: the adapter on a respx router that answers with the
verbatim fixtures (OAuth token, Orders v2, Payments v2, the webhook certificate), checking
every request body against PayPal's OpenAPI documents before answering.

Webhooks are signed here, as PayPal would sign them, with a test-only key pair whose
self-signed certificate the router serves at the PayPal certificate URL of the shared
vector (see SOURCES.md)."""

from __future__ import annotations

import base64
import json
import re
import zlib
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import respx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from pydantic import SecretStr

from gatewayhub.errors import DeclineCode
from gatewayhub.models import AuthorizeCall, PaymentMethod, PaymentMethodType
from gatewayhub.money import Money
from gatewayhub.provider import ProviderHTTP, Timeouts
from gatewayhub.testing import FixedClock, Fixtures
from gatewayhub.testing.faults import FAULTS, fault
from gatewayhub.testing.openapi import OpenAPI
from gatewayhub_paypal.provider import PayPalProvider, PayPalSettings

HERE = Path(__file__).parent
FIXTURES = Fixtures(HERE / "fixtures")
ORDERS = OpenAPI(HERE / "spec" / "paypal-checkout_orders_v2.json")
PAYMENTS = OpenAPI(HERE / "spec" / "paypal-payments_payment_v2.json")
NOTIFICATIONS = OpenAPI(HERE / "spec" / "paypal-notifications_webhooks_v1.json")
VECTORS = json.loads((HERE / "vectors" / "core6_webhook_vectors.json").read_bytes())["vectors"]
PAYPAL_VECTOR = next(v for v in VECTORS if v["provider"] == "paypal")

BASE = "https://api-m.sandbox.paypal.com"
# Obviously fake credentials.
CLIENT_ID = "AfakeClientIdForGatewayhubTests000000000000000000000000000000000"
CLIENT_SECRET = "EfakeClientSecretForGatewayhubTests00000000000000000000000000000"
ACCESS_TOKEN = FIXTURES.json("oauth/token.json")["access_token"]
WEBHOOK_ID = PAYPAL_VECTOR["webhook_id"]  # "4JH86294D6297924G", the vector's subscription
OLD_WEBHOOK_ID = "1JE4291016473214C"  # the spec example's id: a subscription being retired
CERT_URL = PAYPAL_VECTOR["cert_url"]
SIGNER_KEY = serialization.load_pem_private_key(FIXTURES.raw("certs/test_signer_key.pem"), None)
OTHER_KEY = serialization.load_pem_private_key(FIXTURES.raw("certs/other_key.pem"), None)

VAULT_CARD = "8kk8451t"  # a vault id, as PayPal's Vault API hands them out
ORDER = "5O190127TN364715T"  # auto-capture order of the fixtures
ORDER_AUTH = "8AA831015G517922L"  # authorize-intent order
AUTH = "0VF52814937998046"
CAPTURE = "3C679366HH908993F"
C = DeclineCode

# From PayPal's processor response codes and error issues (README "Decline mapping"), not
# from the adapter's table. 5200 is deliberately unmapped.
DECLINES: Mapping[str, DeclineCode] = {
    "0500": C.DO_NOT_HONOR,
    "5120": C.INSUFFICIENT_FUNDS,
    "5400": C.EXPIRED_CARD,
    "5110": C.INCORRECT_CVC,
    "9500": C.FRAUD_SUSPECTED,
    "9520": C.CARD_BLOCKED,
    "5650": C.AUTHENTICATION_REQUIRED,
    "9100": C.PROCESSING_ERROR,
    "5200": C.GENERIC_DECLINE,
    "0500_advice21": C.DO_NOT_HONOR,
    "refused_INSTRUMENT_DECLINED": C.DO_NOT_HONOR,
    "refused_TRANSACTION_REFUSED": C.GENERIC_DECLINE,
    "refused_PAYEE_ACCOUNT_RESTRICTED": C.INVALID_REQUEST,
    "refused_DECIMAL_PRECISION": C.CURRENCY_NOT_SUPPORTED,
}
# Every PayPal answer carries a debug id.
DEBUG_ID = {"paypal-debug-id": "f0e1d2c3b4a59"}
# PayPal's answers to the contract's failure scenarios (see gatewayhub.testing.faults); a
# refused credential is arranged on the token endpoint instead (auth_failed).
MALFORMED = httpx.Response(
    201, content=FIXTURES.raw("authorize/completed_captured.json")[:80], headers=DEBUG_ID
)
FAILURES = {
    "server_error": FIXTURES.response("authorize/server_error.json", 500, DEBUG_ID),
    "rate_limited": FIXTURES.response("authorize/rate_limited.json", 429, DEBUG_ID),
}

REQUEST_SCHEMAS = (
    (re.compile(r"^/v2/checkout/orders$"), ORDERS, "order_request"),
    (re.compile(r"^/v2/checkout/orders/\w+/capture$"), ORDERS, "order_capture_request"),
    (re.compile(r"^/v2/checkout/orders/\w+/authorize$"), ORDERS, "order_authorize_request"),
    (re.compile(r"^/v2/payments/authorizations/\w+/capture$"), PAYMENTS, "capture_request"),
    (re.compile(r"^/v2/payments/captures/\w+/refund$"), PAYMENTS, "refund_request"),
    (
        re.compile(r"^/v1/notifications/verify-webhook-signature$"),
        NOTIFICATIONS,
        "verify_webhook_signature",
    ),
)


def check_request(request: httpx.Request) -> None:
    """Every API call: bearer token, a request id on POSTs, a valid body for its route."""
    path = request.url.path
    if path == "/v1/oauth2/token":
        expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        assert request.headers["authorization"] == f"Basic {expected}"
        assert request.content == b"grant_type=client_credentials"
        return
    assert request.headers["authorization"] == f"Bearer {ACCESS_TOKEN}"
    if request.method != "POST":
        return
    if not path.startswith("/v1/notifications/"):
        assert request.headers.get("paypal-request-id"), "POST without PayPal-Request-Id"
        assert request.headers.get("prefer") == "return=representation"
    for pattern, spec, schema in REQUEST_SCHEMAS:
        if pattern.match(path):
            if path.endswith("/void"):
                return
            spec.check(schema, json.loads(request.content) if request.content else {}, strict=True)
            return
    if re.match(r"^/v2/payments/authorizations/\w+/void$", path):
        assert request.content == b"", "a void has no body"
        return
    raise AssertionError(f"no schema for POST {path}")


def settings(**overrides: Any) -> PayPalSettings:
    """Settings of the test account."""
    values: dict[str, Any] = {
        "client_id": CLIENT_ID,
        "client_secret": SecretStr(CLIENT_SECRET),
        "webhook_ids": [WEBHOOK_ID, OLD_WEBHOOK_ID],
        "currencies": ["USD", "EUR", "JPY", "HUF", "TWD", "GBP"],
        "timeouts": Timeouts(total=2.0),
        **overrides,
    }
    return PayPalSettings(**values)


def sign(
    body: bytes,
    *,
    webhook_id: str = WEBHOOK_ID,
    time: str = "2026-11-24T12:00:00Z",
    transmission_id: str = "6c3dbb10-c9c0-11f0-9c5a-5f4e8e0a3b21",
    key: Any = SIGNER_KEY,
    cert_url: str = CERT_URL,
) -> dict[str, str]:
    """PayPal's headers for `body`, signed here with the test key (zlib and cryptography,
    not the adapter's code)."""
    crc = zlib.crc32(body) & 0xFFFFFFFF
    message = f"{transmission_id}|{time}|{webhook_id}|{crc}".encode()
    assert isinstance(key, rsa.RSAPrivateKey)
    signature = key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    return {
        "Content-Type": "application/json",
        "PAYPAL-TRANSMISSION-ID": transmission_id,
        "PAYPAL-TRANSMISSION-TIME": time,
        "PAYPAL-TRANSMISSION-SIG": base64.b64encode(signature).decode(),
        "PAYPAL-CERT-URL": cert_url,
        "PAYPAL-AUTH-ALGO": "SHA256withRSA",
    }


class PayPalHarness:
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
            "expired",
            "rotated",
            "unknown_type",
        }
    )
    decline_cases = DECLINES
    # PayPal's decimal strings: JPY, HUF and TWD without decimals (PayPal's currency table),
    # EUR with two. Three-decimal currencies are not PayPal currencies (test_provider.py).
    amount_cases: Sequence[tuple[Money, Any]] = (
        (Money(1000, "JPY"), "1000"),
        (Money(1050, "EUR"), "10.50"),
        (Money(150000, "HUF"), "1500"),
        (Money(20000, "TWD"), "200"),
    )
    secrets = (CLIENT_SECRET, ACCESS_TOKEN)
    default_money = Money(10000, "USD")

    def __init__(self, **overrides: Any) -> None:
        self.clock = FixedClock(datetime.fromisoformat("2026-11-24T12:00:00+00:00"))
        self.router = respx.Router(assert_all_called=False)
        self.client = httpx.AsyncClient(transport=httpx.MockTransport(self.router.async_handler))
        account = settings(**overrides)
        http = ProviderHTTP(
            self.client, account="paypal_test", timeouts=account.timeouts, clock=self.clock
        )
        self.provider = PayPalProvider("paypal_test", account, http)
        self.token_route: respx.Route
        self.cert_route: respx.Route
        self._base_routes()

    # -- arranging answers --------------------------------------------------------------------

    def _base_routes(self) -> None:
        self.token_route = self.answer("POST", "/v1/oauth2/token", 200, "oauth/token.json")
        self.cert_route = self.router.get(CERT_URL).mock(
            return_value=httpx.Response(
                200,
                content=FIXTURES.raw("certs/test_signer_cert.pem"),
                headers={"content-type": "application/x-pem-file"},
            )
        )

    def answer(
        self,
        method: str,
        path: str,
        status: int,
        fixture: str | None = None,
        content: bytes = b"",
        headers: dict[str, str] | None = None,
    ) -> respx.Route:
        """Answer `method BASE+path` with a fixture (or raw `content`), checking the request."""

        def respond(request: httpx.Request) -> httpx.Response:
            check_request(request)
            extra = {**DEBUG_ID, **(headers or {})}
            if fixture is not None:
                return FIXTURES.response(fixture, status, extra)
            return httpx.Response(status, content=content, headers=extra)

        return self.router.route(method=method, url=f"{BASE}{path}").mock(side_effect=respond)

    def fail(self, method: str, path: str, scenario: str) -> respx.Route:
        """Make `method BASE+path` fail as `scenario` (gatewayhub.testing.faults), checking
        the request."""
        effect = fault(scenario, malformed=MALFORMED, answers=FAILURES)

        def respond(request: httpx.Request) -> httpx.Response:
            check_request(request)
            return effect(request)

        return self.router.route(method=method, url=f"{BASE}{path}").mock(side_effect=respond)

    def reset(self) -> None:
        """No routes but the token and the certificate; no calls recorded."""
        self.router.clear()
        self.router.reset()
        self._base_routes()

    def token(self, scenario: str) -> str:
        return "paypal" if scenario == "requires_action" else VAULT_CARD

    def arrange(self, operation: str, scenario: str, call: Any = None) -> None:
        self.reset()
        orders = "/v2/checkout/orders"
        if operation == "authorize":
            self._authorize(scenario)
        elif operation in ("capture", "void", "retrieve"):
            self.answer("GET", f"{orders}/{ORDER_AUTH}", 200, "retrieve/order_authorized.json")
            if operation == "capture":
                self.answer(
                    "POST",
                    f"/v2/payments/authorizations/{AUTH}/capture",
                    201,
                    "capture/completed.json",
                )
            elif operation == "void":
                self.answer(
                    "POST", f"/v2/payments/authorizations/{AUTH}/void", 200, "void/voided.json"
                )
        elif operation == "refund":
            self.answer("GET", f"{orders}/{ORDER}", 200, "retrieve/order_captured.json")
            self.answer(
                "POST", f"/v2/payments/captures/{CAPTURE}/refund", 201, "refund/completed.json"
            )

    def _authorize(self, scenario: str) -> None:
        orders = "/v2/checkout/orders"
        fixture = {
            "approved": (201, "authorize/completed_captured.json"),
            "approved_manual": (201, "authorize/completed_authorized.json"),
            "requires_action": (201, "authorize/payer_action_required.json"),
            "unknown_status": (201, "authorize/unknown_status.json"),
            "amount_mismatch": (201, "authorize/amount_mismatch.json"),
        }.get(scenario)
        if fixture is not None:
            self.answer("POST", orders, *fixture)
        elif scenario == "auth_failed":
            self.router.clear()
            self.answer("POST", "/v1/oauth2/token", 401, "oauth/invalid_client.json")
        elif scenario in FAULTS:
            self.fail("POST", orders, scenario)
        elif scenario.startswith("decline:"):
            name = scenario.removeprefix("decline:")
            if name.startswith("refused_"):
                self.answer("POST", orders, 422, f"authorize/{name}.json")
            else:
                self.answer("POST", orders, 201, f"authorize/declined_{name}.json")
        else:
            raise AssertionError(f"no fixture for authorize/{scenario}")

    def requests(self) -> list[httpx.Request]:
        # The OAuth token exchange is plumbing of its own (test_oauth.py); the certificate
        # download is not an API call.
        return [
            c.request
            for c in self.router.calls
            if c.request.url.path != "/v1/oauth2/token" and str(c.request.url) != CERT_URL
        ]

    def amount_on_wire(self, request: httpx.Request) -> Any:
        return json.loads(request.content)["purchase_units"][0]["amount"]["value"]

    async def reference_for(self, operation: str) -> str:
        return ORDER if operation == "refund" else ORDER_AUTH

    def webhook(self, scenario: str) -> tuple[dict[str, str], bytes]:
        name = (
            "customer_dispute_created"
            if scenario == "unknown_type"
            else "payment_capture_completed"
        )
        body = FIXTURES.raw(f"webhooks/{name}.json")
        options: dict[str, Any] = {}
        if scenario == "wrong_secret":
            options["key"] = OTHER_KEY  # not the key of the certificate at PAYPAL-CERT-URL
        elif scenario == "rotated":
            options["webhook_id"] = OLD_WEBHOOK_ID
        elif scenario == "expired":
            options["time"] = "2026-11-24T11:50:00Z"  # ten minutes old; tolerance is five
        headers = sign(body, **options)
        if scenario == "tampered":
            body = body.replace(b'"value":"100.00"', b'"value":"100.01"', 1)
        if scenario == "missing_header":
            del headers["PAYPAL-TRANSMISSION-SIG"]
        return headers, body


def authorize_call(
    money: Money | None = None,
    *,
    capture: bool = True,
    token: str = VAULT_CARD,
    method: PaymentMethodType = PaymentMethodType.CARD,
) -> AuthorizeCall:
    """An authorize call for the transform and spec tests."""
    return AuthorizeCall(
        payment_id="pay_01KAVS4B2Y7N3H0Q8G6J5W1RTE",
        key="0b6e2f0c-2a47-5d6b-9b0e-5f1c7a8e9d21",
        money=money or Money(10000, "USD"),
        capture=capture,
        method=PaymentMethod(type=method, token=token),
        token=token,
        reference="order-1001",
        description="contract test",
        return_url="https://shop.example/return",
    )
