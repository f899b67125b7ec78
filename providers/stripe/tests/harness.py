"""The Stripe adapter on a respx router that answers with verbatim fixtures.

Expected values (decline codes, wire amounts) are written here by hand from Stripe's
documentation (docs.stripe.com/declines/codes, docs.stripe.com/currencies), never taken
from the adapter. Webhooks are signed here with the standard library, independently of the
adapter's own code.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import respx
from pydantic import SecretStr

from gatewayhub.errors import DeclineCode
from gatewayhub.money import Money
from gatewayhub.provider import ProviderHTTP, Timeouts
from gatewayhub.testing import FixedClock, Fixtures
from gatewayhub.testing.faults import FAULTS, Fault, fault
from gatewayhub_stripe.provider import StripeProvider, StripeSettings

FIXTURES = Fixtures(Path(__file__).parent / "fixtures")
API = "https://api.stripe.com"
SECRET_KEY = "sk_test_FAKEgatewayhubContract0000"
WHSEC_NEW = "whsec_FAKEnewContractSecret0000"
WHSEC_OLD = "whsec_FAKEoldContractSecret0000"
WHSEC_OTHER = "whsec_FAKEsomebodyElsesSecret00"
PI_ID = "pi_3QfGhbLkdIwHu7ix1a2b3c4d"
C = DeclineCode

# decline fixture name -> the canonical code, from Stripe's decline-code documentation.
DECLINES: Mapping[str, DeclineCode] = {
    "insufficient_funds": C.INSUFFICIENT_FUNDS,
    "generic_decline": C.GENERIC_DECLINE,
    "lost_card": C.CARD_BLOCKED,
    "stolen_card": C.CARD_BLOCKED,
    "expired_card": C.EXPIRED_CARD,
    "incorrect_cvc": C.INCORRECT_CVC,
    "processing_error": C.PROCESSING_ERROR,
    "fraudulent": C.FRAUD_SUSPECTED,
    "do_not_honor": C.DO_NOT_HONOR,
    "do_not_honor_never_retry": C.DO_NOT_HONOR,
    "authentication_required": C.AUTHENTICATION_REQUIRED,
    "incorrect_number": C.INVALID_CARD,
    "card_velocity_exceeded": C.LIMIT_EXCEEDED,
    "brand_new_code": C.GENERIC_DECLINE,
}
# Stripe's answers to the contract's failure scenarios (see gatewayhub.testing.faults).
MALFORMED = httpx.Response(200, content=b'{"id": "pi_3QfGhbLkdIwHu7ix1a2b3c4d", "status": ')
FAILURES = {
    "server_error": FIXTURES.response("authorize/server_error.json", 500),
    "rate_limited": FIXTURES.response("authorize/rate_limited.json", 429),
    "auth_failed": FIXTURES.response("authorize/auth_failed.json", 401),
}


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """A Stripe-Signature v1 value, computed with hmac/hashlib (not the adapter)."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def form_of(request: httpx.Request) -> dict[str, str]:
    """A form-encoded request body as a dict (repeated keys keep the last value)."""
    return dict(parse_qsl(request.content.decode(), keep_blank_values=True))


class StripeHarness:
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
    # From docs.stripe.com/currencies: JPY is zero-decimal, EUR two-decimal, KWD three-decimal
    # with a last digit of 0, ISK two-decimal on the wire although ISO gives it no decimals.
    amount_cases: Sequence[tuple[Money, Any]] = (
        (Money(1000, "JPY"), 1000),
        (Money(1050, "EUR"), 1050),
        (Money(1230, "KWD"), 1230),
        (Money(1000, "ISK"), 100000),
        (Money(5000, "CLP"), 5000),
    )
    secrets = (SECRET_KEY, WHSEC_NEW, WHSEC_OLD)
    default_money = Money(2000, "USD")

    def __init__(self, **settings: Any) -> None:
        self.clock = FixedClock()
        self.router = respx.MockRouter(assert_all_called=False, base_url=API)
        self.client = httpx.AsyncClient(transport=httpx.MockTransport(self.router.async_handler))
        self.settings = StripeSettings(
            secret_key=SecretStr(SECRET_KEY),
            webhook_secrets=[SecretStr(WHSEC_NEW), SecretStr(WHSEC_OLD)],
            timeouts=Timeouts(total=2.0),
            **settings,
        )
        http = ProviderHTTP(
            self.client, account="stripe_test", timeouts=self.settings.timeouts, clock=self.clock
        )
        self.provider = StripeProvider("stripe_test", self.settings, http)

    # -- arranging ----------------------------------------------------------------------------

    def answer(
        self,
        method: str,
        path: str,
        fixture: str | None = None,
        status: int = 200,
        headers: dict[str, str] | None = None,
        side_effect: Fault | None = None,
        content: bytes | None = None,
    ) -> respx.Route:
        """Answer the next `method path` with a fixture, raw content, or a side effect."""
        self.router.clear()
        self.router.reset()
        route = self.router.route(method=method, path=path)
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
            self.answer("POST", f"/v1/payment_intents/{PI_ID}/capture", "capture/captured.json")
        elif operation == "void":
            self.answer("POST", f"/v1/payment_intents/{PI_ID}/cancel", "void/voided.json")
        elif operation == "refund":
            self.answer("POST", "/v1/refunds", "refund/refunded.json")
        elif operation == "retrieve":
            self.answer("GET", f"/v1/payment_intents/{PI_ID}", "retrieve/found.json")
        else:
            raise AssertionError(operation)

    def _authorize(self, scenario: str) -> None:
        path = "/v1/payment_intents"
        if scenario.startswith("decline:"):
            name = scenario.removeprefix("decline:")
            self.answer("POST", path, f"authorize/decline_{name}.json", 402)
        elif scenario in FAULTS:
            self.answer(
                "POST", path, side_effect=fault(scenario, malformed=MALFORMED, answers=FAILURES)
            )
        else:
            self.answer("POST", path, f"authorize/{scenario}.json")

    def token(self, scenario: str) -> str:
        """Stripe's test PaymentMethods (docs.stripe.com/testing)."""
        return {
            "requires_action": "pm_card_threeDSecure2Required",
            "decline:insufficient_funds": "pm_card_visa_chargeDeclinedInsufficientFunds",
        }.get(scenario, "pm_card_visa")

    def requests(self) -> list[httpx.Request]:
        """Requests sent since the last `arrange`."""
        return [call.request for call in self.router.calls]

    def amount_on_wire(self, request: httpx.Request) -> Any:
        """`amount` of the form body."""
        return int(form_of(request)["amount"])

    async def reference_for(self, operation: str) -> str:
        """The PaymentIntent the capture/void/refund/retrieve fixtures are about."""
        return PI_ID

    # -- webhooks -----------------------------------------------------------------------------

    def webhook(self, scenario: str) -> tuple[dict[str, str], bytes]:
        """A signed webhook for `scenario`."""
        name = (
            "charge.dispute.created" if scenario == "unknown_type" else "payment_intent.succeeded"
        )
        body = FIXTURES.raw(f"webhooks/{name}.json")
        now = int(self.clock.now().timestamp())
        stamp = now - 301 if scenario == "expired" else now
        secret = {"wrong_secret": WHSEC_OTHER, "rotated": WHSEC_OLD}.get(scenario, WHSEC_NEW)
        headers = {"Stripe-Signature": f"t={stamp},v1={sign(secret, stamp, body)}"}
        if scenario == "tampered":
            body = body.replace(b'"amount": 2000', b'"amount": 2001', 1)
        if scenario == "missing_header":
            headers = {}
        return headers, body
