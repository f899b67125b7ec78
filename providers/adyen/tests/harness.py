"""The Adyen adapter on a respx router that answers with verbatim fixtures.

Expected values (decline codes, wire amounts) are written here by hand from Adyen's
documentation (refusal reasons, currency codes), never taken from the adapter. Webhook items
are signed here with the standard library, independently of the adapter's code.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx
import respx
from pydantic import SecretStr

from gatewayhub.errors import DeclineCode
from gatewayhub.money import Money
from gatewayhub.provider import ProviderHTTP, Timeouts
from gatewayhub.testing import FixedClock, Fixtures
from gatewayhub.testing.faults import FAULTS, Fault, fault
from gatewayhub.testing.openapi import OpenAPI
from gatewayhub_adyen.provider import AdyenProvider, AdyenSettings

FIXTURES = Fixtures(Path(__file__).parent / "fixtures")
# Adyen's OpenAPI documents, byte-identical copies (see SOURCES.md): Checkout API v71 for
# requests and answers, Webhooks v1 for notifications.
CHECKOUT_SPEC = OpenAPI(Path(__file__).parent / "specs" / "adyen-checkout-v71.json")
WEBHOOKS_SPEC = OpenAPI(Path(__file__).parent / "specs" / "adyen-webhooks-v1.json")
API = "https://checkout-test.adyen.com/v71"
API_KEY = "AQE_FAKE_gatewayhub_contract_api_key_0000"
MERCHANT = "YOUR_MERCHANT_ACCOUNT"
HMAC_NEW = "0123456789ABCDEF" * 4  # obviously fake hex keys
HMAC_OLD = "FEDCBA9876543210" * 4
HMAC_OTHER = "00000000FFFFFFFF" * 4
PSP = "993617894903480A"  # the payment the modification fixtures are about
C = DeclineCode

# refused fixture name -> the canonical code, from Adyen's refusal-reason documentation.
DECLINES: Mapping[str, DeclineCode] = {
    "refused_refused": C.GENERIC_DECLINE,
    "refused_not_enough_balance": C.INSUFFICIENT_FUNDS,
    "refused_blocked_card": C.CARD_BLOCKED,
    "refused_expired_card": C.EXPIRED_CARD,
    "refused_cvc_declined": C.INCORRECT_CVC,
    "refused_invalid_card_number": C.INVALID_CARD,
    "refused_fraud": C.FRAUD_SUSPECTED,
    "refused_issuer_unavailable": C.ISSUER_UNAVAILABLE,
    "refused_authentication_required": C.AUTHENTICATION_REQUIRED,
    "refused_withdrawal_amount_exceeded": C.LIMIT_EXCEEDED,
    "refused_declined_non_generic": C.DO_NOT_HONOR,
    "refused_brand_new_reason": C.GENERIC_DECLINE,
    "error_acquirer_error": C.PROCESSING_ERROR,
}
# Adyen's answers to the contract's failure scenarios (see gatewayhub.testing.faults).
MALFORMED = httpx.Response(200, content=b'{"pspReference": "993617895204576J", "resultCode')
FAILURES = {
    "server_error": FIXTURES.response("authorize/server_error.json", 500),
    "rate_limited": FIXTURES.response("authorize/rate_limited.json", 429),
    "auth_failed": FIXTURES.response("authorize/unauthorized.json", 401),
}


# request path suffix -> (request schema, success response schema) of the Checkout API
OPERATIONS = {
    "/payments": ("PaymentRequest", "PaymentResponse"),
    "/captures": ("PaymentCaptureRequest", "PaymentCaptureResponse"),
    "/cancels": ("PaymentCancelRequest", "PaymentCancelResponse"),
    "/refunds": ("PaymentRefundRequest", "PaymentRefundResponse"),
}


def operation(path: str) -> tuple[str, str]:
    """The request and response schema names of a Checkout path."""
    for suffix, schemas in OPERATIONS.items():
        if path.endswith(suffix):
            return schemas
    raise KeyError(path)


def webhook_errors(body: dict[str, Any]) -> list[str]:
    """Errors of a notification body against its event code's webhook schema (every item's
    code must use the same schema, as Adyen sends them)."""
    found: list[str] = []
    for wrapper in body["notificationItems"]:
        code = wrapper["NotificationRequestItem"]["eventCode"]
        operation_ = WEBHOOKS_SPEC.document["webhooks"][f"/{code}"]["post"]
        ref = operation_["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        single = {**body, "notificationItems": [wrapper]}
        found += WEBHOOKS_SPEC.errors(ref.removeprefix("#/components/schemas/"), single)
    return found


def sign_item(key_hex: str, item: Mapping[str, Any]) -> str:
    """An item's hmacSignature, computed with hmac/hashlib from Adyen's documented field
    list (not the adapter)."""
    amount = item.get("amount") or {}
    fields = [
        item.get("pspReference", ""),
        item.get("originalReference", ""),
        item.get("merchantAccountCode", ""),
        item.get("merchantReference", ""),
        str(amount.get("value", "")),
        amount.get("currency", ""),
        item.get("eventCode", ""),
        item.get("success", ""),
    ]
    digest = hmac.new(bytes.fromhex(key_hex), ":".join(fields).encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def signed_body(
    names: Sequence[str], key_hex: str = HMAC_NEW, **changes: Any
) -> tuple[dict[str, Any], bytes]:
    """A webhook with the items of the named fixtures, each signed under `key_hex` after
    `changes` (item fields) were applied."""
    data = FIXTURES.json(f"webhooks/{names[0]}.json")
    data["notificationItems"] = []
    for name in names:
        for wrapper in FIXTURES.json(f"webhooks/{name}.json")["notificationItems"]:
            item = wrapper["NotificationRequestItem"]
            item.update(changes)
            item.setdefault("additionalData", {})["hmacSignature"] = sign_item(key_hex, item)
            data["notificationItems"].append(wrapper)
    return data, json.dumps(data).encode()


class AdyenHarness:
    """Builds the adapter on respx and arranges scenarios with fixtures."""

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
            "valid",
            "tampered",
            "wrong_secret",
            "missing_header",
            "rotated",
            "batched",
            "unknown_type",
        }
    )
    decline_cases = DECLINES
    # From docs.adyen.com/development-resources/currency-codes: JPY 0 decimals, EUR 2, KWD 3
    # (no rounding rule), and Adyen's deviations from ISO: CLP and ISK carry 2 decimals, IDR 0.
    amount_cases: Sequence[tuple[Money, Any]] = (
        (Money(1000, "JPY"), 1000),
        (Money(1050, "EUR"), 1050),
        (Money(1234, "KWD"), 1234),
        (Money(5000, "CLP"), 500000),
        (Money(1000, "ISK"), 100000),
        (Money(150000, "IDR"), 1500),
    )
    secrets = (API_KEY, HMAC_NEW, HMAC_OLD)
    default_money = Money(1000, "EUR")

    def __init__(self, **settings: Any) -> None:
        self.clock = FixedClock()
        self.router = respx.MockRouter(assert_all_called=False, base_url=API)
        self.client = httpx.AsyncClient(transport=httpx.MockTransport(self.router.async_handler))
        values: dict[str, Any] = {
            "api_key": SecretStr(API_KEY),
            "merchant_account": MERCHANT,
            "hmac_keys": [SecretStr(HMAC_NEW), SecretStr(HMAC_OLD)],
            "return_url": "https://shop.example/checkout/return",
            "currencies": ["EUR", "USD", "JPY", "KWD", "CLP", "ISK", "IDR", "CVE"],
            "timeouts": Timeouts(total=2.0),
            **settings,
        }
        self.settings = AdyenSettings(**values)
        http = ProviderHTTP(
            self.client, account="adyen_test", timeouts=self.settings.timeouts, clock=self.clock
        )
        self.provider = AdyenProvider("adyen_test", self.settings, http)

    # -- arranging ----------------------------------------------------------------------------

    def answer(
        self,
        path: str,
        fixture: str | None = None,
        status: int = 200,
        headers: dict[str, str] | None = None,
        side_effect: Fault | None = None,
        content: bytes | None = None,
    ) -> respx.Route:
        """Answer the next POST to `path` with a fixture, raw content, or a side effect."""
        self.router.clear()
        self.router.reset()
        route = self.router.route(method="POST", path=path)
        if side_effect is not None:
            route.side_effect = side_effect
        elif content is not None:
            route.return_value = httpx.Response(status, content=content, headers=headers)
        else:
            assert fixture is not None
            route.return_value = FIXTURES.response(fixture, status, headers)
        return route

    def arrange(self, operation: str, scenario: str, call: Any = None) -> None:
        """Arrange the answer to the next `operation` call."""
        if operation == "authorize":
            self._authorize(scenario)
        elif operation == "capture":
            self.answer(f"/payments/{PSP}/captures", "capture/captured.json", 201)
        elif operation == "void":
            self.answer(f"/payments/{PSP}/cancels", "void/voided.json", 201)
        elif operation == "refund":
            self.answer(f"/payments/{PSP}/refunds", "refund/refunded.json", 201)
        else:
            raise AssertionError(operation)

    def _authorize(self, scenario: str) -> None:
        fixture = {
            "approved": "approved_with_amount",
            "approved_manual": "approved_with_amount",
            "requires_action": "redirect_shopper",
        }.get(scenario, scenario)
        if scenario.startswith("decline:"):
            self.answer("/payments", f"authorize/{scenario.removeprefix('decline:')}.json")
        elif scenario in FAULTS:
            self.answer(
                "/payments", side_effect=fault(scenario, malformed=MALFORMED, answers=FAILURES)
            )
        else:
            self.answer("/payments", f"authorize/{fixture}.json")

    def token(self, scenario: str) -> str:
        """A stored payment method id (the spec's example id)."""
        return "M5N7TQ4TG5PFWR50"

    def requests(self) -> list[httpx.Request]:
        """Requests sent since the last `arrange`."""
        return [call.request for call in self.router.calls]

    def amount_on_wire(self, request: httpx.Request) -> Any:
        """`amount.value` of the JSON body."""
        return json.loads(request.content)["amount"]["value"]

    async def reference_for(self, operation: str) -> str:
        """The payment the modification fixtures are about."""
        return PSP

    # -- webhooks -----------------------------------------------------------------------------

    def webhook(self, scenario: str) -> tuple[dict[str, str], bytes]:
        """A webhook for `scenario` (Adyen signs items, not the HTTP request)."""
        names = {"batched": ["AUTHORISATION", "CAPTURE"], "unknown_type": ["REPORT_AVAILABLE"]}
        key = {"wrong_secret": HMAC_OTHER, "rotated": HMAC_OLD}.get(scenario, HMAC_NEW)
        data, body = signed_body(names.get(scenario, ["AUTHORISATION"]), key)
        if scenario == "tampered":
            data["notificationItems"][0]["NotificationRequestItem"]["amount"]["value"] = 1001
            body = json.dumps(data).encode()
        if scenario == "missing_header":
            del data["notificationItems"][0]["NotificationRequestItem"]["additionalData"][
                "hmacSignature"
            ]
            body = json.dumps(data).encode()
        return {"Content-Type": "application/json"}, body
