"""The Razorpay adapter: plumbing (URLs, Basic auth, which transform for which operation).

authorize  POST /v1/orders -> requires_action: the customer pays in Razorpay Checkout
capture    POST /v1/payments/{payment}/capture (the order's authorized payment)
refund     POST /v1/payments/{payment}/refund with X-Refund-Idempotency
retrieve   GET /v1/orders/{order} + /payments, or GET /v1/orders?receipt=<attempt key>
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, ClassVar, TypeVar

import httpx
from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator

from gatewayhub.errors import DeclineCode, NotSent
from gatewayhub.fees import FeeSchedule
from gatewayhub.models import (
    AuthorizeCall,
    CaptureCall,
    CurrencyCode,
    PaymentMethodType,
    PaymentResult,
    ProviderEvent,
    ProviderStatus,
    RefundCall,
    RefundResult,
    RetrieveCall,
)
from gatewayhub.provider import (
    Capabilities,
    Provider,
    ProviderSettings,
    http_failure,
    read_answer,
)
from gatewayhub_razorpay import signatures, transform, webhooks, wire
from gatewayhub_razorpay.currencies import SUPPORTED

M = TypeVar("M", bound=BaseModel)

API = "https://api.razorpay.com"
REFUND_IDEMPOTENCY_HEADER = "X-Refund-Idempotency"
CAPTURABLE = frozenset({"authorized"}) | transform.PAID


class RazorpaySettings(ProviderSettings):
    """Credentials and behaviour of one Razorpay account.

    `key_id`/`key_secret` come from Dashboard -> Account & Settings -> API Keys
    (`rzp_test_...` keys act in test mode, `rzp_live_...` in live mode, on the same host).
    `webhook_secrets` are the secrets set on the Dashboard webhook; list the old one too
    while rotating (Razorpay signs retries of older events with the old secret).
    """

    key_id: str = Field(pattern=r"^rzp_(test|live)_[A-Za-z0-9]+$")
    key_secret: SecretStr
    webhook_secrets: list[SecretStr] = Field(min_length=1)
    base_url: str = API
    currencies: list[CurrencyCode] = Field(default_factory=lambda: ["INR"], min_length=1)
    # Orders ask Razorpay to auto-capture payments authorized within this many minutes
    # (12 is Razorpay's minimum). Later authorisations stay authorized and are refunded
    # automatically, so after this long a payment whose tries all failed is final.
    auto_capture_minutes: int = Field(default=12, ge=12, le=7200)
    # How long an authorized payment may wait for a capture (Razorpay's maximum and
    # default: 7200 minutes = 5 days); then Razorpay refunds it.
    manual_capture_minutes: int = Field(default=7200, ge=12, le=7200)
    # Razorpay retries webhooks for 24 hours; older events can only be replays.
    webhook_max_age_seconds: int | None = Field(default=25 * 3600, ge=60)

    @field_validator("currencies")
    @classmethod
    def _razorpay_currencies(cls, currencies: list[str]) -> list[str]:
        unknown = sorted(set(currencies) - set(SUPPORTED))
        if unknown:
            raise ValueError(f"Razorpay does not list {', '.join(unknown)} as supported")
        return currencies

    @model_validator(mode="after")
    def _capture_windows(self) -> RazorpaySettings:
        if self.manual_capture_minutes < self.auto_capture_minutes:
            raise ValueError("manual_capture_minutes must be >= auto_capture_minutes")
        return self


class RazorpayProvider(Provider):
    """Razorpay Orders + Standard Checkout (India's cards, UPI, netbanking, wallets)."""

    name: ClassVar[str] = "razorpay"
    Settings: ClassVar[type[ProviderSettings]] = RazorpaySettings
    default_fees: ClassVar[FeeSchedule] = FeeSchedule(
        percent=Decimal("2.0"),
        # International cards: commonly 3 % in total (unconfirmed, see README).
        cross_border_percent=Decimal("1.0"),
        as_of=date(2026, 4, 1),
        source=(
            "Razorpay Standard plan, domestic: 2 % per transaction, GST extra "
            "(razorpay/markdown-docs payments/payments/faqs.md, snapshot 2026-04); "
            "international +1 % is unconfirmed"
        ),
    )

    settings: RazorpaySettings

    @property
    def capabilities(self) -> Capabilities:
        """Orders with automatic or manual capture; one full capture; refunds; no void."""
        return Capabilities(
            currencies=frozenset(self.settings.currencies),
            methods=frozenset(
                {
                    PaymentMethodType.CARD,
                    PaymentMethodType.UPI,
                    PaymentMethodType.NETBANKING,
                    PaymentMethodType.WALLET,
                }
            ),
            manual_capture=True,
            # "Capture amount must be equal to the amount authorized" (capture API).
            partial_capture=False,
            multiple_captures=False,
            # No API releases an authorization: Razorpay refunds it when the window ends.
            void=False,
            refund=True,
            partial_refund=True,
            multiple_refunds=True,
            retrieve=True,
            retrieve_by_key=True,
            three_d_secure=True,
            # Order creation has no idempotency header (refunds do: X-Refund-Idempotency).
            idempotency_header=None,
            webhook_signing="X-Razorpay-Signature (hex HMAC-SHA256 of the raw body)",
        )

    # -- plumbing -----------------------------------------------------------------------------

    def _headers(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        pair = f"{self.settings.key_id}:{self.settings.key_secret.get_secret_value()}"
        headers = {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}
        return {**headers, **(extra or {})}

    def _url(self, path: str) -> str:
        return f"{self.settings.base_url.rstrip('/')}{path}"

    async def _get(self, path: str, params: Mapping[str, str] | None = None) -> httpx.Response:
        request = self.http.build("GET", self._url(path), headers=self._headers(), params=params)
        return await self.http.send(request)

    async def _post(
        self, path: str, body: dict[str, Any], headers: Mapping[str, str] | None = None
    ) -> httpx.Response:
        request = self.http.build(
            "POST", self._url(path), json=body, headers=self._headers(headers)
        )
        return await self.http.send(request)

    def _parse(self, model: type[M], response: httpx.Response) -> M:
        return read_answer(model, response, self.account, "Razorpay")

    def _error(self, response: httpx.Response) -> wire.ApiError | None:
        """Razorpay's own refusal (HTTP 400 with an error body), or None. Razorpay's
        documents list bad API keys as a 400 too ("The api key provided is invalid"):
        that is a refusal before any effect, raised as `NotSent`."""
        if response.status_code != 400:
            return None
        error = self._parse(wire.ErrorBody, response).error
        text = error.description.lower()
        if "api key" in text or "authentication failed" in text:
            raise NotSent(
                f"{self.account}: Razorpay refused the credentials: {error.description}",
                decline_code=DeclineCode.PROVIDER_AUTH_FAILED,
                status_code=400,
            )
        return error

    def _failure(self, response: httpx.Response) -> Exception:
        return http_failure(response, self.http, "Razorpay")

    async def _order(self, order_id: str) -> wire.Order | None:
        """GET /v1/orders/{id}; None when Razorpay says there is no such order."""
        response = await self._get(f"/v1/orders/{order_id}")
        if response.status_code == 200:
            return self._parse(wire.Order, response)
        if response.status_code == 404 or self._missing(response):
            return None
        raise self._failure(response)

    def _missing(self, response: httpx.Response) -> bool:
        # Razorpay answers an unknown id with 400 "The id provided does not exist".
        error = self._error(response)
        return error is not None and "does not exist" in error.description

    async def _payments(self, order_id: str) -> list[wire.Payment]:
        """GET /v1/orders/{id}/payments: every try on the order."""
        response = await self._get(f"/v1/orders/{order_id}/payments")
        if response.status_code != 200:
            raise self._failure(response)
        return self._parse(wire.PaymentList, response).items

    async def _payment_of(self, reference: str, statuses: frozenset[str]) -> wire.Payment | None:
        """The payment a capture or refund acts on: `reference` itself when it is a payment
        id, else the order's payment in one of `statuses`."""
        if reference.startswith("pay_"):
            response = await self._get(f"/v1/payments/{reference}")
            if response.status_code != 200:
                raise self._failure(response)
            return self._parse(wire.Payment, response)
        for payment in await self._payments(reference):
            if payment.status in statuses:
                return payment
        return None

    def _order_result(self, order: wire.Order, payments: list[wire.Payment]) -> PaymentResult:
        return transform.order_result(
            order,
            payments,
            key_id=self.settings.key_id,
            now=self.http.clock.now(),
            grace=timedelta(minutes=self.settings.auto_capture_minutes),
        )

    # -- operations ---------------------------------------------------------------------------

    async def authorize(self, call: AuthorizeCall) -> PaymentResult:
        """POST /v1/orders; the order waits for the customer in Razorpay Checkout, so the
        answer is requires_action with what the merchant's page passes to Checkout."""
        refused = transform.precision_decline(call.money)
        if refused is not None:
            return PaymentResult(ProviderStatus.DECLINED, decline=refused, raw_status="refused")
        body = transform.order_request(
            call,
            auto_capture_minutes=self.settings.auto_capture_minutes,
            manual_capture_minutes=self.settings.manual_capture_minutes,
        )
        response = await self._post("/v1/orders", body)
        if response.status_code == 200:
            order = self._parse(wire.Order, response)
            return transform.created_order_result(order, self.settings.key_id, call)
        error = self._error(response)
        if error is not None:
            return PaymentResult(
                ProviderStatus.DECLINED,
                decline=transform.error_decline(error),
                raw_status=error.code,
            )
        raise self._failure(response)

    async def capture(self, call: CaptureCall) -> PaymentResult:
        """POST /v1/payments/{id}/capture with amount and currency (the whole amount). A
        refusal is checked against the payment: "already captured" is success."""
        payment = await self._payment_of(call.provider_reference, CAPTURABLE)
        if payment is None:
            # nothing authorized on the order (yet): let the caller look again later
            return PaymentResult(
                ProviderStatus.PENDING, call.provider_reference, raw_status="no_authorized_payment"
            )
        if payment.status in transform.PAID:
            return transform.capture_result(payment)  # captured already (auto-capture won)
        response = await self._post(
            f"/v1/payments/{payment.id}/capture", transform.capture_request(call)
        )
        if response.status_code == 200:
            return transform.capture_result(self._parse(wire.Payment, response))
        error = self._error(response)
        if error is None:
            raise self._failure(response)
        current = await self._payment_of(payment.id, transform.PAID)
        if current is not None and current.status in transform.PAID:
            return transform.capture_result(current)
        return PaymentResult(
            ProviderStatus.DECLINED,
            call.provider_reference,
            decline=transform.error_decline(error),
            raw_status=error.code,
        )

    async def refund(self, call: RefundCall) -> RefundResult:
        """POST /v1/payments/{id}/refund, keyed with X-Refund-Idempotency (same key and
        body on a retry returns the original refund)."""
        payment = await self._payment_of(call.provider_reference, transform.PAID)
        if payment is None:
            return transform.nothing_to_refund(call.provider_reference)
        response = await self._post(
            f"/v1/payments/{payment.id}/refund",
            transform.refund_request(call),
            {REFUND_IDEMPOTENCY_HEADER: call.key},
        )
        if response.status_code == 200:
            return transform.refund_result(self._parse(wire.Refund, response))
        error = self._error(response)
        if error is not None:
            return transform.refund_refused(error)
        raise self._failure(response)

    async def retrieve(self, call: RetrieveCall) -> PaymentResult:
        """The order (by id, or by the attempt key it carries as `receipt`) and its payments;
        a payment id is looked up directly."""
        reference = call.provider_reference
        if reference is not None and reference.startswith("pay_"):
            response = await self._get(f"/v1/payments/{reference}")
            if response.status_code == 404 or self._missing(response):
                return PaymentResult(ProviderStatus.NOT_FOUND, raw_status="no_such_payment")
            if response.status_code != 200:
                raise self._failure(response)
            return transform.payment_result(self._parse(wire.Payment, response))
        if reference is None:
            response = await self._get("/v1/orders", params={"receipt": call.key})
            if response.status_code != 200:
                raise self._failure(response)
            orders = self._parse(wire.OrderList, response).items
            if not orders:
                return PaymentResult(ProviderStatus.NOT_FOUND, raw_status="no_order_for_receipt")
            # A replayed create may have made two orders; the customer paid at most one.
            order = next((o for o in orders if o.status == "paid"), orders[0])
        else:
            found = await self._order(reference)
            if found is None:
                return PaymentResult(ProviderStatus.NOT_FOUND, raw_status="no_such_order")
            order = found
        return self._order_result(order, await self._payments(order.id))

    # -- checkout callback --------------------------------------------------------------------

    def verify_payment_signature(self, order_id: str, payment_id: str, signature: str) -> bool:
        """Check the `razorpay_signature` Checkout hands the customer's browser for
        `razorpay_order_id` and `razorpay_payment_id`, with this account's key secret."""
        return signatures.verify_payment_signature(
            self.settings.key_secret.get_secret_value(), order_id, payment_id, signature
        )

    # -- webhooks -----------------------------------------------------------------------------

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> None:
        """`X-Razorpay-Signature` against every configured webhook secret, then the age."""
        max_age = self.settings.webhook_max_age_seconds
        webhooks.verify(
            [s.get_secret_value() for s in self.settings.webhook_secrets],
            headers,
            body,
            self.http.clock.now(),
            timedelta(seconds=max_age) if max_age is not None else None,
        )

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> Sequence[ProviderEvent]:
        """One event per webhook."""
        return webhooks.parse(headers, body)
