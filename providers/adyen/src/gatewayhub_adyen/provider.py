"""The Adyen adapter: plumbing (URLs, headers, which transform for which operation).

Checkout API v71, JSON, `X-API-Key`, and the core's attempt key as `Idempotency-Key` on
every POST. Answers:

    200 /payments            processed: Authorised, Refused/Error/Cancelled (declines are
                             values), RedirectShopper/IdentifyShopper/ChallengeShopper
                             (requires_action), Pending/Received (pending)
    201 modifications        accepted ("received"): the outcome comes by webhook
    422 errorCode 704        the same key is still being processed: outcome unknown
    400/404/422 otherwise    refused before processing: a final invalid_request decline
    401/403, 429             not sent
    5xx                      outcome unknown, unless the body says Adyen refused the
                             request before processing (errorType validation, configuration
                             or security): then not sent

Checkout v71 has no payment lookup: `retrieve` stays unsupported and an unknown outcome is
settled by replaying the same key or by the AUTHORISATION webhook.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar, Literal, TypeVar

import httpx
from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator, model_validator

from gatewayhub.errors import Decision, Decline, DeclineCode, NotSent, OutcomeUnknown
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
    VoidCall,
    WebhookAck,
)
from gatewayhub.provider import (
    Capabilities,
    Provider,
    ProviderSettings,
    TraceId,
    http_failure,
    read_answer,
    read_result,
)
from gatewayhub_adyen import transform, webhooks, wire
from gatewayhub_adyen.amounts import AmountNotAccepted
from gatewayhub_adyen.errors import IN_PROGRESS, REFUSED_BEFORE_PROCESSING

API_VERSION = "v71"
TEST_URL = f"https://checkout-test.adyen.com/{API_VERSION}"
LIVE_URL = "https://{prefix}-checkout-live.adyenpayments.com/checkout/" + API_VERSION
DEFAULT_CURRENCIES = (
    "EUR USD GBP CHF SEK NOK DKK PLN CZK HUF RON AUD NZD CAD JPY HKD SGD BRL MXN KWD BHD JOD"
)
T = TypeVar("T")
# Adyen's pspReference of an answer, which its support asks for.
PSP_REFERENCE = TraceId("pspReference", "pspReference")


class AdyenSettings(ProviderSettings):
    """Credentials and endpoints of one Adyen merchant account."""

    api_key: SecretStr
    merchant_account: str = Field(min_length=1)
    environment: Literal["test", "live"] = "test"
    # The live endpoint prefix from Customer Area > Developers > API URLs (live only).
    live_url_prefix: str | None = Field(default=None, pattern=r"^[A-Za-z0-9]+-[A-Za-z0-9]+$")
    # Overrides the Checkout base URL (a proxy or a mock); normally derived from the above.
    checkout_url: str | None = None
    # HMAC keys of the standard webhook, as hex from the Customer Area; two during rotation.
    hmac_keys: list[SecretStr] = Field(default_factory=list)
    # Where the shopper returns after a redirect when the payment names no return URL.
    return_url: str = Field(pattern=r"^https?://")
    currencies: list[CurrencyCode] = Field(default_factory=DEFAULT_CURRENCIES.split, min_length=1)

    @field_validator("hmac_keys")
    @classmethod
    def _hex_keys(cls, keys: list[SecretStr]) -> list[SecretStr]:
        for key in keys:
            webhooks.key_bytes(key.get_secret_value())
        return keys

    @model_validator(mode="after")
    def _live_needs_prefix(self) -> AdyenSettings:
        if self.environment == "live" and not (self.live_url_prefix or self.checkout_url):
            raise ValueError("live Adyen accounts need live_url_prefix (Customer Area, API URLs)")
        return self

    @property
    def base_url(self) -> str:
        """The Checkout API base URL, version included."""
        if self.checkout_url:
            return self.checkout_url.rstrip("/")
        if self.environment == "live":
            return LIVE_URL.format(prefix=self.live_url_prefix)
        return TEST_URL


class AdyenProvider(Provider):
    """Adyen, through the Checkout API v71."""

    name: ClassVar[str] = "adyen"
    Settings: ClassVar[type[ProviderSettings]] = AdyenSettings
    default_fees: ClassVar[FeeSchedule] = FeeSchedule(
        percent=Decimal("0.90"),
        fixed={"EUR": "0.11 EUR", "USD": "0.13 USD"},
        fixed_default="0.11 EUR",
        as_of=date(2026, 11, 24),
        source="Adyen Interchange++ for Visa/Mastercard: acquirer markup from 0.60% "
        "(help.adyen.com) plus the EU consumer credit interchange cap of 0.30%, and the "
        "commonly quoted fixed processing fee EUR 0.11 / USD 0.13; scheme fees and non-EU "
        "interchange are not included: set your contract's blended rate per account",
    )

    settings: AdyenSettings

    @property
    def capabilities(self) -> Capabilities:
        """Stored cards through Checkout v71; no payment lookup (webhooks settle)."""
        return Capabilities(
            currencies=frozenset(self.settings.currencies),
            manual_capture=True,
            partial_capture=True,
            multiple_captures=False,
            void=True,
            refund=True,
            partial_refund=True,
            multiple_refunds=True,
            retrieve=False,
            retrieve_by_key=False,
            three_d_secure=True,
            idempotency_header="Idempotency-Key",
            webhook_signing="Adyen HMAC-SHA256 per notification item (hex key)",
        )

    # -- plumbing -----------------------------------------------------------------------------

    def _headers(self, key: str) -> dict[str, str]:
        return {
            "X-API-Key": self.settings.api_key.get_secret_value(),
            "Idempotency-Key": key,
        }

    async def _post(self, path: str, body: BaseModel, key: str) -> httpx.Response:
        request = self.http.build(
            "POST",
            f"{self.settings.base_url}{path}",
            json=body.model_dump(exclude_none=True),
            headers=self._headers(key),
        )
        return await self.http.send(request)

    def _parse(self, model: type[Any], response: httpx.Response) -> Any:
        return read_answer(model, response, self.account, "Adyen", trace=PSP_REFERENCE)

    def _checked(self, build: Callable[[], T]) -> T:
        return read_result(build, self.account, "Adyen")

    def _refused(self, response: httpx.Response) -> Decline:
        """The decline of a request Adyen refused, or raise for what is not a refusal."""
        status = response.status_code
        try:
            error: wire.ServiceError | None = wire.ServiceError.model_validate_json(
                response.content
            )
        except (ValidationError, ValueError):
            error = None
        label = f"{self.account}: Adyen HTTP {status}"
        if error is not None and error.errorCode == IN_PROGRESS:
            raise OutcomeUnknown(
                f"{label} 704: the same idempotency key is still being processed",
                status_code=status,
            )
        if status in (400, 404, 422) and error is not None:
            return transform.request_refused(error)
        if (
            status >= 500
            and error is not None
            and (error.errorType or "").lower() in REFUSED_BEFORE_PROCESSING
        ):
            raise NotSent(
                f"{label} {error.errorType} error {error.errorCode}: refused before processing",
                decline_code=DeclineCode.INVALID_REQUEST,
                status_code=status,
            )
        raise http_failure(response, self.http, "Adyen", trace=PSP_REFERENCE)

    @staticmethod
    def _unsendable(exc: AmountNotAccepted) -> Decline:
        # Nothing was sent: another provider may carry the amount exactly.
        return Decline(
            DeclineCode.CURRENCY_NOT_SUPPORTED, Decision.FAILOVER, "amount_precision", str(exc)
        )

    async def _modify(
        self, path: str, body: Callable[[], BaseModel], key: str
    ) -> wire.ModificationResponse | Decline:
        try:
            request = body()
        except AmountNotAccepted as exc:
            return self._unsendable(exc)
        response = await self._post(path, request, key)
        if response.status_code in (200, 201):
            parsed: wire.ModificationResponse = self._parse(wire.ModificationResponse, response)
            return parsed
        return self._refused(response)

    # -- operations ---------------------------------------------------------------------------

    async def authorize(self, call: AuthorizeCall) -> PaymentResult:
        """POST /payments (manual capture via additionalData.manualCapture)."""
        try:
            body = transform.payment_request(
                call, self.settings.merchant_account, self.settings.return_url
            )
        except AmountNotAccepted as exc:
            return PaymentResult(
                ProviderStatus.DECLINED, decline=self._unsendable(exc), raw_status="not_sent"
            )
        response = await self._post("/payments", body, call.key)
        if response.status_code == 200:
            answer: wire.PaymentResponse = self._parse(wire.PaymentResponse, response)
            psp = response.headers.get("pspreference")
            return self._checked(
                lambda: transform.payment_result(answer, capture=call.capture, psp=psp)
            )
        decline = self._refused(response)
        return PaymentResult(ProviderStatus.DECLINED, decline=decline, raw_status="refused")

    async def capture(self, call: CaptureCall) -> PaymentResult:
        """POST /payments/{psp}/captures: accepted now, confirmed by the CAPTURE webhook."""
        answer = await self._modify(
            f"/payments/{call.provider_reference}/captures",
            lambda: transform.capture_request(call, self.settings.merchant_account),
            call.key,
        )
        if isinstance(answer, Decline):
            return PaymentResult(ProviderStatus.DECLINED, decline=answer, raw_status="refused")
        return self._checked(lambda: transform.modification_result(answer))

    async def void(self, call: VoidCall) -> PaymentResult:
        """POST /payments/{psp}/cancels: accepted now, confirmed by the CANCELLATION webhook."""
        answer = await self._modify(
            f"/payments/{call.provider_reference}/cancels",
            lambda: transform.cancel_request(call, self.settings.merchant_account),
            call.key,
        )
        if isinstance(answer, Decline):
            return PaymentResult(ProviderStatus.DECLINED, decline=answer, raw_status="refused")
        return self._checked(lambda: transform.modification_result(answer))

    async def refund(self, call: RefundCall) -> RefundResult:
        """POST /payments/{psp}/refunds: accepted now, settled by the REFUND webhook."""
        answer = await self._modify(
            f"/payments/{call.provider_reference}/refunds",
            lambda: transform.refund_request(call, self.settings.merchant_account),
            call.key,
        )
        if isinstance(answer, Decline):
            return RefundResult(RefundStatus.FAILED, decline=answer, raw_status="refused")
        return self._checked(lambda: transform.refund_result(answer))

    # -- webhooks -----------------------------------------------------------------------------

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> None:
        """HMAC of every notification item, under any configured key (rotation)."""
        keys = [k.get_secret_value() for k in self.settings.hmac_keys]
        webhooks.verify(keys, body, live=self.settings.environment == "live")

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> Sequence[ProviderEvent]:
        """One event per notification item."""
        return webhooks.parse(body)

    def webhook_ack(self, events: Sequence[ProviderEvent]) -> WebhookAck:
        """`[accepted]`, which both the current and the legacy Adyen webhook setups accept."""
        return WebhookAck(200, webhooks.ACK, "text/plain")
