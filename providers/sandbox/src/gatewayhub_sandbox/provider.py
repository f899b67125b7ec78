"""The sandbox adapter: plumbing (URLs, headers, which transform for which operation)."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar

import httpx
from pydantic import Field, SecretStr

from gatewayhub.clock import Clock
from gatewayhub.errors import DeclineCode, NotSent
from gatewayhub.fees import FeeSchedule
from gatewayhub.models import (
    AuthorizeCall,
    CaptureCall,
    CurrencyCode,
    PaymentResult,
    ProviderEvent,
    ProviderStatus,
    RefundCall,
    RefundResult,
    RefundStatus,
    RetrieveCall,
    VoidCall,
    WebhookAck,
)
from gatewayhub.provider import (
    Capabilities,
    Provider,
    ProviderSettings,
    WebhookSink,
    http_failure,
    read_answer,
)
from gatewayhub_sandbox import transform, webhooks, wire
from gatewayhub_sandbox.faults import FaultPlan
from gatewayhub_sandbox.server import ConnectionDropped, Emulator, EmulatorConfig

EMBEDDED = "embedded"
EMBEDDED_URL = "http://sandbox.embedded"
# Not secrets: every embedded sandbox uses them, and they open nothing but a local emulator.
LOCAL_API_KEY = "sk_sandbox_local"
LOCAL_WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"gatewayhub sandbox local secret").decode()


class SandboxSettings(ProviderSettings):
    """Where the sandbox is and how to talk to it. `base_url = "embedded"` runs the emulator
    inside the process (the fields under "emulator" then configure it)."""

    base_url: str = EMBEDDED
    api_key: SecretStr = SecretStr(LOCAL_API_KEY)
    webhook_secrets: list[SecretStr] = Field(
        default_factory=lambda: [SecretStr(LOCAL_WEBHOOK_SECRET)], min_length=1
    )
    webhook_tolerance: int = Field(default=300, ge=1)
    currencies: list[CurrencyCode] = Field(
        default_factory=lambda: ["EUR", "USD", "GBP"], min_length=1
    )
    # emulator
    latency_ms: float = Field(default=0.0, ge=0)
    available: bool = True
    failure_rate: float = Field(default=0.0, ge=0, le=1)
    hang_seconds: float = Field(default=30.0, ge=0)
    webhook_delay_ms: float = Field(default=0.0, ge=0)
    seed: int = 0
    faults: FaultPlan = Field(default_factory=FaultPlan)


class EmulatorTransport(httpx.ASGITransport):
    """The in-process transport of an embedded sandbox; `emulator` is its provider state."""

    def __init__(self, emulator: Emulator) -> None:
        super().__init__(app=emulator.app)
        self.emulator = emulator

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """As over a socket: a connection the emulator drops mid-answer is a protocol error."""
        try:
            return await super().handle_async_request(request)
        except ConnectionDropped as exc:
            raise httpx.RemoteProtocolError(
                "peer closed connection without sending complete message body", request=request
            ) from exc


class SandboxProvider(Provider):
    """gatewayhub's local payment provider."""

    name: ClassVar[str] = "sandbox"
    Settings: ClassVar[type[ProviderSettings]] = SandboxSettings
    default_fees: ClassVar[FeeSchedule] = FeeSchedule(
        percent=Decimal("2.0"),
        fixed_default="0.20 EUR",
        as_of=date(2026, 11, 24),
        source="sandbox: illustrative prices, configure your own per account",
    )

    settings: SandboxSettings

    @property
    def capabilities(self) -> Capabilities:
        """Everything a card acquirer offers, in the configured currencies."""
        return Capabilities(
            currencies=frozenset(self.settings.currencies),
            manual_capture=True,
            partial_capture=True,
            multiple_captures=True,
            void=True,
            refund=True,
            partial_refund=True,
            multiple_refunds=True,
            retrieve=True,
            retrieve_by_key=True,
            three_d_secure=True,
            idempotency_header="Idempotency-Key",
            webhook_signing="standard-webhooks-v1 (HMAC-SHA256)",
        )

    @classmethod
    def embedded_transport(
        cls,
        settings: ProviderSettings,
        *,
        deliver_webhook: WebhookSink,
        clock: Clock,
        fees: FeeSchedule,
    ) -> httpx.AsyncBaseTransport | None:
        """Run the emulator in-process when `base_url` is "embedded"."""
        assert isinstance(settings, SandboxSettings)
        if settings.base_url != EMBEDDED:
            return None
        emulator = Emulator(
            EmulatorConfig(
                api_key=settings.api_key.get_secret_value(),
                webhook_secret=settings.webhook_secrets[0].get_secret_value(),
                currencies=frozenset(settings.currencies),
                fees=fees,
                latency_ms=settings.latency_ms,
                available=settings.available,
                failure_rate=settings.failure_rate,
                hang_seconds=settings.hang_seconds,
                webhook_delay_ms=settings.webhook_delay_ms,
                public_url=EMBEDDED_URL,
                seed=settings.seed,
                faults=settings.faults,
            ),
            clock=clock,
            deliver=deliver_webhook,
        )
        return EmulatorTransport(emulator)

    # -- plumbing -----------------------------------------------------------------------------

    def _url(self, path: str) -> str:
        base = (
            EMBEDDED_URL
            if self.settings.base_url == EMBEDDED
            else self.settings.base_url.rstrip("/")
        )
        return f"{base}{path}"

    def _headers(self, key: str | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.settings.api_key.get_secret_value()}"}
        if key is not None:
            headers["Idempotency-Key"] = key
        return headers

    async def _post(self, path: str, body: dict[str, Any], key: str) -> httpx.Response:
        request = self.http.build("POST", self._url(path), json=body, headers=self._headers(key))
        return await self.http.send(request)

    def _parse(self, model: type[Any], response: httpx.Response) -> Any:
        return read_answer(model, response, self.account, "sandbox")

    def _failure(self, response: httpx.Response) -> Exception:
        if response.status_code == 422:
            return NotSent(
                f"{self.account}: idempotency key reused with other parameters",
                decline_code=DeclineCode.INVALID_REQUEST,
                status_code=422,
            )
        if response.status_code == 503 and b'"service_unavailable"' in response.content:
            # Documented by the sandbox: an unavailable instance refuses before doing anything.
            return NotSent(
                f"{self.account}: unavailable (503 service_unavailable)",
                decline_code=DeclineCode.PROVIDER_UNAVAILABLE,
                status_code=503,
            )
        return http_failure(response, self.http, "sandbox")

    def _payment_answer(self, response: httpx.Response, *, echo: bool = True) -> PaymentResult:
        if response.status_code in (200, 201):
            return transform.charge_result(self._parse(wire.Charge, response), echo=echo)
        if response.status_code in (400, 402, 404):
            error = self._parse(wire.ErrorBody, response).error
            return transform.decline_result(error)
        raise self._failure(response)

    # -- operations ---------------------------------------------------------------------------

    async def authorize(self, call: AuthorizeCall) -> PaymentResult:
        """POST /v1/charges."""
        response = await self._post("/v1/charges", transform.charge_request(call), call.key)
        return self._payment_answer(response)

    async def capture(self, call: CaptureCall) -> PaymentResult:
        """POST /v1/charges/{id}/capture."""
        response = await self._post(
            f"/v1/charges/{call.provider_reference}/capture",
            transform.capture_request(call),
            call.key,
        )
        return self._payment_answer(response, echo=False)

    async def void(self, call: VoidCall) -> PaymentResult:
        """POST /v1/charges/{id}/void."""
        response = await self._post(f"/v1/charges/{call.provider_reference}/void", {}, call.key)
        return self._payment_answer(response, echo=False)

    async def refund(self, call: RefundCall) -> RefundResult:
        """POST /v1/charges/{id}/refunds."""
        response = await self._post(
            f"/v1/charges/{call.provider_reference}/refunds",
            transform.refund_request(call),
            call.key,
        )
        if response.status_code in (200, 201):
            return transform.refund_result(self._parse(wire.Refund, response))
        if response.status_code in (400, 402, 404):
            error = self._parse(wire.ErrorBody, response).error
            return RefundResult(
                RefundStatus.FAILED,
                decline=transform.decline_result(error).decline,
                raw_status=error.code,
            )
        raise self._failure(response)

    async def retrieve(self, call: RetrieveCall) -> PaymentResult:
        """GET /v1/charges/{id}, or a search by the idempotency key when the id never came."""
        if call.provider_reference:
            request = self.http.build(
                "GET", self._url(f"/v1/charges/{call.provider_reference}"), headers=self._headers()
            )
            response = await self.http.send(request)
            if response.status_code == 404:
                return PaymentResult(ProviderStatus.NOT_FOUND, raw_status="resource_missing")
            if response.status_code != 200:
                raise self._failure(response)
            return transform.charge_result(self._parse(wire.Charge, response))
        request = self.http.build(
            "GET",
            self._url("/v1/charges"),
            headers=self._headers(),
            params={"idempotency_key": call.key},
        )
        response = await self.http.send(request)
        if response.status_code != 200:
            raise self._failure(response)
        found = self._parse(wire.ChargeList, response).data
        if not found:
            return PaymentResult(ProviderStatus.NOT_FOUND, raw_status="no_charge_for_key")
        return transform.charge_result(found[0])

    # -- webhooks -----------------------------------------------------------------------------

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> None:
        """Standard Webhooks v1 with every configured secret (rotation)."""
        secrets = [s.get_secret_value() for s in self.settings.webhook_secrets]
        webhooks.verify(
            secrets, headers, body, self.http.clock.now(), self.settings.webhook_tolerance
        )

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> Sequence[ProviderEvent]:
        """One event per webhook."""
        return webhooks.parse(body)

    def webhook_ack(self, events: Sequence[ProviderEvent]) -> WebhookAck:
        """Any 2xx; a small JSON body for humans."""
        return WebhookAck(200, b'{"received":true}', "application/json")
