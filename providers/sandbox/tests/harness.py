"""The sandbox's contract harness: the real emulator behind a transport that can also fail
on purpose (connection refused, read timeout, garbled or tampered answers)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx
from pydantic import SecretStr

from gatewayhub.errors import DeclineCode
from gatewayhub.money import Money
from gatewayhub.provider import ProviderHTTP, Timeouts
from gatewayhub.testing import FixedClock
from gatewayhub.testing.faults import FAULTS, fault
from gatewayhub.webhooks.standard import sign_headers
from gatewayhub_sandbox import cards
from gatewayhub_sandbox.provider import SandboxProvider, SandboxSettings
from gatewayhub_sandbox.server import Emulator, EmulatorConfig

API_KEY = "sk_sandbox_contract_7d1f"
SECRET_NEW = "whsec_bmV3IHNlY3JldCBmb3IgY29udHJhY3QgdGVzdHM="
SECRET_OLD = "whsec_b2xkIHNlY3JldCBmb3IgY29udHJhY3QgdGVzdHM="
SECRET_OTHER = "whsec_c29tZWJvZHkgZWxzZSdzIHNlY3JldCEhISEhIQ=="
C = DeclineCode

# Written from the sandbox README's table of magic tokens, not from the adapter's table.
DECLINES = {
    "insufficient_funds": C.INSUFFICIENT_FUNDS,
    "expired_card": C.EXPIRED_CARD,
    "incorrect_cvc": C.INCORRECT_CVC,
    "incorrect_number": C.INVALID_CARD,
    "lost_card": C.CARD_BLOCKED,
    "stolen_card": C.CARD_BLOCKED,
    "fraudulent": C.FRAUD_SUSPECTED,
    "do_not_honor": C.DO_NOT_HONOR,
    "generic_decline": C.GENERIC_DECLINE,
    "issuer_not_available": C.ISSUER_UNAVAILABLE,
    "processing_error": C.PROCESSING_ERROR,
    "authentication_required": C.AUTHENTICATION_REQUIRED,
    "card_velocity_exceeded": C.LIMIT_EXCEEDED,
    "brand_new_code": C.GENERIC_DECLINE,
}


class FaultyTransport(httpx.AsyncBaseTransport):
    """Forwards to the emulator unless a fault is armed for the next request."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.fault: Callable[[httpx.Request], httpx.Response] | None = None
        self.rewrite: Callable[[httpx.Request], httpx.Request] | None = None
        self.sent: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        if self.fault is not None:
            fault, self.fault = self.fault, None
            return fault(request)
        if self.rewrite is not None:
            request = self.rewrite(request)
        return await self.inner.handle_async_request(request)


# The emulator answers server_error, rate_limited and auth_failed itself (magic tokens, a
# wrong key); the transport injects the others in front of it (gatewayhub.testing.faults).
INJECTED = frozenset({"connect_error", "read_timeout", "malformed"})
MALFORMED = httpx.Response(201, content=b'{"id": "ch_1", "status": ')


class SandboxHarness:
    """Builds the adapter on an emulator and arranges scenarios."""

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
    decline_cases: Mapping[str, DeclineCode] = DECLINES
    # The sandbox carries integer minor units for every currency (README: "amounts").
    amount_cases: Sequence[tuple[Money, Any]] = (
        (Money(1000, "JPY"), 1000),
        (Money(1050, "EUR"), 1050),
        (Money(1234, "KWD"), 1234),
    )
    secrets = (API_KEY, SECRET_NEW, SECRET_OLD)
    default_money = Money(2500, "EUR")

    def __init__(self) -> None:
        self.clock = FixedClock()
        self.emulator = Emulator(
            EmulatorConfig(
                api_key=API_KEY,
                webhook_secret=SECRET_NEW,
                currencies=frozenset({"EUR", "JPY", "KWD", "USD"}),
                hang_seconds=0,
            ),
            clock=self.clock,
        )
        self.transport = FaultyTransport(httpx.ASGITransport(app=self.emulator.app))
        self.client = httpx.AsyncClient(transport=self.transport)
        settings = SandboxSettings(
            base_url="http://sandbox.test",
            api_key=SecretStr(API_KEY),
            webhook_secrets=[SecretStr(SECRET_NEW), SecretStr(SECRET_OLD)],
            currencies=["EUR", "JPY", "KWD", "USD"],
            timeouts=Timeouts(total=2.0),
        )
        http = ProviderHTTP(
            self.client, account="sandbox_test", timeouts=settings.timeouts, clock=self.clock
        )
        self.provider = SandboxProvider("sandbox_test", settings, http)

    def token(self, scenario: str) -> str:
        if scenario.startswith("decline:"):
            return cards.DECLINE_PREFIX + scenario.removeprefix("decline:")
        return {
            "requires_action": cards.THREE_DS,
            "unknown_status": cards.UNKNOWN_STATUS,
            "server_error": cards.ERROR_BEFORE_CHARGE,
            "rate_limited": cards.RATE_LIMITED,
        }.get(scenario, cards.APPROVE)

    def arrange(self, operation: str, scenario: str, call: Any = None) -> None:
        self.transport.sent.clear()
        self.transport.rewrite = None
        if scenario in INJECTED:
            self.transport.fault = fault(scenario, malformed=MALFORMED)
        elif scenario == "amount_mismatch":
            self.transport.fault = lambda r: httpx.Response(
                201,
                json={
                    "id": "ch_mismatch",
                    "object": "charge",
                    "status": "captured",
                    "amount": call.money.amount + 1,
                    "currency": call.money.currency,
                },
            )
        elif scenario == "auth_failed":

            def wrong_key(request: httpx.Request) -> httpx.Request:
                request.headers["Authorization"] = "Bearer sk_sandbox_wrong_key"
                return request

            self.transport.rewrite = wrong_key

    def requests(self) -> list[httpx.Request]:
        return list(self.transport.sent)

    def amount_on_wire(self, request: httpx.Request) -> Any:
        return json.loads(request.content)["amount"]

    async def reference_for(self, operation: str) -> str:
        from gatewayhub.models import AuthorizeCall, PaymentMethod  # noqa: PLC0415

        call = AuthorizeCall(
            payment_id="pay_ref",
            key=f"ref-{operation}-{len(self.emulator.charges)}",
            money=self.default_money,
            capture=operation == "refund",
            method=PaymentMethod(token=cards.APPROVE),
            token=cards.APPROVE,
        )
        result = await self.provider.authorize(call)
        assert result.provider_reference
        return result.provider_reference

    def webhook(self, scenario: str) -> tuple[dict[str, str], bytes]:
        event_type = "charge.dispute.created" if scenario == "unknown_type" else "charge.captured"
        event = {
            "id": "evt_contract_1",
            "type": event_type,
            "created": int(self.clock.now().timestamp()),
            "request_key": "6f1c2a34-0d55-5b7e-9a41-2f2a7c0f1e01",
            "data": {
                "object": {
                    "id": "ch_1",
                    "object": "charge",
                    "status": "captured",
                    "amount": 2500,
                    "currency": "EUR",
                    "amount_captured": 2500,
                    "reference": "pay_1",
                }
            },
        }
        body = json.dumps(event).encode()
        now = int(self.clock.now().timestamp())
        secret = {"wrong_secret": SECRET_OTHER, "rotated": SECRET_OLD}.get(scenario, SECRET_NEW)
        stamp = now - 3600 if scenario == "expired" else now
        headers = sign_headers(secret, event["id"], stamp, body)
        if scenario == "tampered":
            body = body.replace(b"2500", b"2501", 1)
        if scenario == "missing_header":
            del headers["webhook-signature"]
        return headers, body
