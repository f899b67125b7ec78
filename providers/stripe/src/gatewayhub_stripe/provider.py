"""The Stripe adapter: plumbing (URLs, headers, which transform for which operation).

Every request carries `Authorization: Bearer <secret key>`, the pinned `Stripe-Version`
and, for POSTs, `Idempotency-Key` with the core's attempt key. Answers:

    200                      the object (PaymentIntent, Refund)
    402 card_error           a decline (value), with decline_code / advice_code
    400/404 invalid_request  a refusal of the request (value; nothing moved)
    400 idempotency_error    the key was used for other parameters: outcome unknown
    401/403, 429             not sent (credentials, rate limit)
    409, 5xx                 outcome unknown (replayed with the same key by the core)

`Stripe-Should-Retry: true` on an answer that would otherwise be final marks it as not
executed and worth retrying; it never turns an unknown outcome into a known one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar, TypeVar

import httpx
from pydantic import Field, SecretStr, ValidationError, field_validator

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
    RetrieveCall,
    VoidCall,
    WebhookAck,
)
from gatewayhub.money import Money
from gatewayhub.provider import (
    Capabilities,
    Provider,
    ProviderSettings,
    TraceId,
    http_failure,
    read_answer,
    read_result,
)
from gatewayhub_stripe import transform, webhooks, wire
from gatewayhub_stripe.amounts import AmountNotAccepted

# The API version this adapter is written and tested against (stripe-python 16.1.0 pins it).
STRIPE_VERSION = "2026-10-28.endive"
API_BASE = "https://api.stripe.com"
# Presentment currencies enabled by default; Stripe accepts many more (configure them).
DEFAULT_CURRENCIES = (
    "USD EUR GBP CAD AUD NZD CHF SEK NOK DKK PLN CZK HUF RON JPY KRW SGD HKD MXN BRL "
    "ZAR AED ISK CLP KWD BHD JOD OMR TND"
)
_KEY_PREFIXES = ("sk_test_", "sk_live_", "rk_test_", "rk_live_")
T = TypeVar("T")
# Stripe's id of a request, which its support asks for.
REQUEST_ID = TraceId("Request-Id", "request")
Echo = Callable[[wire.PaymentIntent], Money]


class StripeSettings(ProviderSettings):
    """Credentials and endpoints of one Stripe account. The key's prefix decides the mode
    (`sk_test_` / `sk_live_`): Stripe uses one host for both."""

    secret_key: SecretStr
    webhook_secrets: list[SecretStr] = Field(default_factory=list)
    webhook_tolerance: int = Field(default=webhooks.DEFAULT_TOLERANCE, ge=0)
    base_url: str = API_BASE
    api_version: str = STRIPE_VERSION
    stripe_account: str | None = Field(default=None, pattern=r"^acct_\w+$")
    currencies: list[CurrencyCode] = Field(default_factory=DEFAULT_CURRENCIES.split, min_length=1)
    # Only accounts enabled for multicapture may send `final_capture=false`.
    multicapture: bool = False
    # Find a PaymentIntent by our attempt key when its id never reached us (Search API;
    # not available in every country: turn off where Stripe has no search).
    search_by_key: bool = True

    @field_validator("secret_key")
    @classmethod
    def _key_prefix(cls, key: SecretStr) -> SecretStr:
        if not key.get_secret_value().startswith(_KEY_PREFIXES):
            raise ValueError("a Stripe secret key starts with sk_test_, sk_live_ or rk_")
        return key

    @field_validator("webhook_secrets")
    @classmethod
    def _whsec(cls, secrets: list[SecretStr]) -> list[SecretStr]:
        for secret in secrets:
            if not secret.get_secret_value().startswith("whsec_"):
                raise ValueError("a Stripe webhook signing secret starts with whsec_")
        return secrets

    @property
    def livemode(self) -> bool:
        """True for a live-mode key."""
        return "_live_" in self.secret_key.get_secret_value()


class StripeProvider(Provider):
    """Stripe, through the PaymentIntents API."""

    name: ClassVar[str] = "stripe"
    Settings: ClassVar[type[ProviderSettings]] = StripeSettings
    default_fees: ClassVar[FeeSchedule] = FeeSchedule(
        percent=Decimal("2.9"),
        fixed={"USD": "0.30 USD"},
        fixed_default="0.30 USD",
        cross_border_percent=Decimal("1.5"),
        fx_percent=Decimal("1"),
        as_of=date(2026, 9, 20),
        source="stripe.com/pricing, US standard card pricing (2.9% + 30c, +1.5% international "
        "cards, +1% conversion); other regions differ: override per account",
    )

    settings: StripeSettings

    @property
    def capabilities(self) -> Capabilities:
        """Cards through PaymentIntents in the configured currencies."""
        return Capabilities(
            currencies=frozenset(self.settings.currencies),
            manual_capture=True,
            partial_capture=True,
            multiple_captures=self.settings.multicapture,
            void=True,
            refund=True,
            partial_refund=True,
            multiple_refunds=True,
            retrieve=True,
            retrieve_by_key=self.settings.search_by_key,
            three_d_secure=True,
            idempotency_header="Idempotency-Key",
            webhook_signing="Stripe-Signature v1 (HMAC-SHA256, timestamped)",
        )

    # -- plumbing -----------------------------------------------------------------------------

    def _url(self, path: str) -> str:
        return f"{self.settings.base_url.rstrip('/')}{path}"

    def _headers(self, key: str | None = None) -> dict[str, str]:
        headers = {
            "Authorization": f"Bearer {self.settings.secret_key.get_secret_value()}",
            "Stripe-Version": self.settings.api_version,
        }
        if self.settings.stripe_account:
            headers["Stripe-Account"] = self.settings.stripe_account
        if key is not None:
            headers["Idempotency-Key"] = key
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        return headers

    async def _post(self, path: str, body: bytes, key: str) -> httpx.Response:
        request = self.http.build("POST", self._url(path), content=body, headers=self._headers(key))
        return await self.http.send(request)

    async def _get(self, path: str, params: Mapping[str, str]) -> httpx.Response:
        request = self.http.build("GET", self._url(path), params=params, headers=self._headers())
        return await self.http.send(request)

    def _parse(self, model: type[Any], response: httpx.Response) -> Any:
        return read_answer(model, response, self.account, "Stripe", trace=REQUEST_ID)

    def _refusal(self, response: httpx.Response) -> wire.ApiError | Exception:
        """The error of a non-2xx answer: a decline/refusal to return as a value, or the
        exception to raise."""
        status = response.status_code
        should_retry = response.headers.get("stripe-should-retry")
        if status in (400, 402, 404):
            try:
                error = wire.ErrorBody.model_validate_json(response.content).error
            except (ValidationError, ValueError):
                error = None
            if error is not None and error.type == "idempotency_error":
                return OutcomeUnknown(
                    f"{self.account}: Stripe idempotency error: the key was first used "
                    "with other parameters",
                    status_code=status,
                )
            if error is not None and error.code in ("rate_limit", "lock_timeout"):
                return NotSent(
                    f"{self.account}: Stripe {error.code}",
                    decline_code=DeclineCode.RATE_LIMITED,
                    status_code=status,
                )
            if should_retry == "true" and status != 402:
                return NotSent(
                    f"{self.account}: Stripe refused (HTTP {status}) and asks for a retry",
                    decline_code=DeclineCode.PROCESSING_ERROR,
                    status_code=status,
                )
            if error is not None:
                return error
        return http_failure(response, self.http, "Stripe", trace=REQUEST_ID)

    def _answer(
        self, response: httpx.Response, echo: Echo | None = None
    ) -> PaymentResult | Exception:
        if response.status_code == 200:
            intent: wire.PaymentIntent = self._parse(wire.PaymentIntent, response)
            return self._checked(
                lambda: transform.payment_result(
                    intent, echo=echo(intent) if echo is not None else None
                )
            )
        refusal = self._refusal(response)
        if isinstance(refusal, Exception):
            return refusal
        return transform.error_result(refusal)

    def _checked(self, build: Callable[[], T]) -> T:
        return read_result(build, self.account, "Stripe")

    @staticmethod
    def _unsendable(exc: AmountNotAccepted) -> Decline:
        # Nothing was sent: another provider may carry the amount exactly.
        return Decline(
            DeclineCode.CURRENCY_NOT_SUPPORTED, Decision.FAILOVER, "amount_precision", str(exc)
        )

    @staticmethod
    def _result(answer: PaymentResult | Exception) -> PaymentResult:
        if isinstance(answer, Exception):
            raise answer
        return answer

    # -- operations ---------------------------------------------------------------------------

    async def authorize(self, call: AuthorizeCall) -> PaymentResult:
        """POST /v1/payment_intents with confirm=true (capture_method from the call)."""
        try:
            body = transform.payment_intent_create(call)
        except AmountNotAccepted as exc:
            return PaymentResult(
                ProviderStatus.DECLINED, decline=self._unsendable(exc), raw_status="not_sent"
            )
        response = await self._post("/v1/payment_intents", wire.form(body), call.key)
        return self._result(self._answer(response, transform.amount_of))

    async def capture(self, call: CaptureCall) -> PaymentResult:
        """POST /v1/payment_intents/{id}/capture with amount_to_capture."""
        try:
            body = transform.payment_intent_capture(call, multicapture=self.settings.multicapture)
        except AmountNotAccepted as exc:
            return PaymentResult(
                ProviderStatus.DECLINED, decline=self._unsendable(exc), raw_status="not_sent"
            )
        response = await self._post(
            f"/v1/payment_intents/{call.provider_reference}/capture", wire.form(body), call.key
        )
        # Without multicapture, amount_received is exactly what this capture took.
        echo = None if self.settings.multicapture else transform.received_of
        return self._result(self._answer(response, echo))

    async def void(self, call: VoidCall) -> PaymentResult:
        """POST /v1/payment_intents/{id}/cancel."""
        response = await self._post(
            f"/v1/payment_intents/{call.provider_reference}/cancel", b"", call.key
        )
        return self._result(self._answer(response))

    async def refund(self, call: RefundCall) -> RefundResult:
        """POST /v1/refunds for the PaymentIntent."""
        try:
            body = transform.refund_create(call)
        except AmountNotAccepted as exc:
            return RefundResult(
                RefundStatus.FAILED, decline=self._unsendable(exc), raw_status="not_sent"
            )
        response = await self._post("/v1/refunds", wire.form(body), call.key)
        if response.status_code == 200:
            refund: wire.Refund = self._parse(wire.Refund, response)
            return self._checked(lambda: transform.refund_result(refund))
        refusal = self._refusal(response)
        if isinstance(refusal, Exception):
            raise refusal
        return RefundResult(
            RefundStatus.FAILED,
            decline=transform.decline_of(refusal),
            raw_status=refusal.code or refusal.type or "error",
        )

    async def retrieve(self, call: RetrieveCall) -> PaymentResult:
        """GET /v1/payment_intents/{id} (latest_charge expanded for refund totals), or a
        search by our attempt key when the id never reached us."""
        if call.provider_reference is None:
            return await self._search(call)
        response = await self._get(
            f"/v1/payment_intents/{call.provider_reference}", {"expand[]": "latest_charge"}
        )
        if response.status_code == 404:
            refusal = self._refusal(response)
            if isinstance(refusal, wire.ApiError) and refusal.code == "resource_missing":
                return PaymentResult(ProviderStatus.NOT_FOUND, raw_status="resource_missing")
        if response.status_code != 200:
            raise self._as_exception(self._refusal(response))
        intent: wire.PaymentIntent = self._parse(wire.PaymentIntent, response)
        return self._checked(
            lambda: transform.payment_result(intent, echo=transform.amount_of(intent))
        )

    async def _search(self, call: RetrieveCall) -> PaymentResult:
        if not self.settings.search_by_key:
            return PaymentResult(ProviderStatus.PENDING, raw_status="no_lookup_without_id")
        query = f"metadata['{transform.ATTEMPT_KEY}']:'{call.key}'"
        response = await self._get(
            "/v1/payment_intents/search", {"query": query, "expand[]": "data.latest_charge"}
        )
        if response.status_code != 200:
            raise self._as_exception(self._refusal(response))
        found: list[wire.PaymentIntent] = self._parse(wire.SearchResult, response).data
        if not found:
            # Search lags writes by up to a minute: no hit proves nothing.
            return PaymentResult(ProviderStatus.PENDING, raw_status="search_no_match")
        intent = found[0]
        return self._checked(
            lambda: transform.payment_result(intent, echo=transform.amount_of(intent))
        )

    def _as_exception(self, refusal: wire.ApiError | Exception) -> Exception:
        if isinstance(refusal, Exception):
            return refusal
        return OutcomeUnknown(
            f"{self.account}: Stripe refused the lookup: {refusal.code or refusal.type}",
            decline_code=DeclineCode.OUTCOME_UNKNOWN,
        )

    # -- webhooks -----------------------------------------------------------------------------

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> None:
        """Stripe-Signature over the raw body with every configured secret (rotation)."""
        secrets = [s.get_secret_value() for s in self.settings.webhook_secrets]
        webhooks.verify(
            secrets, headers, body, self.http.clock.now(), self.settings.webhook_tolerance
        )

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> Sequence[ProviderEvent]:
        """The event (or, for `charge.refunded` listing refunds, one per refund)."""
        return webhooks.parse(body, livemode=self.settings.livemode)

    def webhook_ack(self, events: Sequence[ProviderEvent]) -> WebhookAck:
        """Stripe needs any 2xx, quickly."""
        return WebhookAck(200, b'{"received":true}', "application/json")
