"""The Checkout.com adapter: plumbing (URLs, headers, which transform for which operation)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar, Literal

import httpx
from pydantic import Field, SecretStr

from gatewayhub.currencies import EXPONENTS
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
    RetrieveCall,
    VoidCall,
)
from gatewayhub.provider import (
    Capabilities,
    Provider,
    ProviderSettings,
    UnsupportedOperation,
    http_failure,
    read_answer,
    read_result,
)
from gatewayhub_checkout import transform, webhooks, wire
from gatewayhub_checkout.amounts import AmountNotRepresentable

HOSTS = {"sandbox": "api.sandbox.checkout.com", "live": "api.checkout.com"}
# Checkout.com processes these ISO 4217 currencies; four-decimal units (CLF, UYW) excepted.
DEFAULT_CURRENCIES = sorted(code for code, exp in EXPONENTS.items() if exp <= 3)


class CheckoutSettings(ProviderSettings):
    """A Checkout.com NAS account: a secret key (`sk_sbox_...` / `sk_...`), the processing
    channel, and the signature keys of the webhook action (several during rotation)."""

    environment: Literal["sandbox", "live"] = "sandbox"
    # Merchant-specific host prefix from the Dashboard ("https://{prefix}.api.checkout.com").
    subdomain: str | None = Field(default=None, pattern=r"^(?:pl-)?[a-z0-9]+$")
    base_url: str | None = Field(default=None, description="overrides environment/subdomain")
    secret_key: SecretStr
    processing_channel_id: str | None = None
    webhook_secrets: list[SecretStr] = Field(min_length=1)
    # A static Authorization header configured on the webhook action, checked when set.
    webhook_authorization: SecretStr | None = None
    three_ds: bool = False
    currencies: list[CurrencyCode] = Field(
        default_factory=lambda: list(DEFAULT_CURRENCIES), min_length=1
    )


class CheckoutProvider(Provider):
    """Checkout.com, Unified Payments API (no version header; the NAS OpenAPI document)."""

    name: ClassVar[str] = "checkout"
    Settings: ClassVar[type[ProviderSettings]] = CheckoutSettings
    # Checkout.com publishes no standard price list: pricing is quoted per merchant
    # (Interchange++ or blended). This schedule is a labelled assumption for routing and
    # simulation; override it with the contract's rates in config.
    default_fees: ClassVar[FeeSchedule] = FeeSchedule(
        percent=Decimal("1.40"),
        fixed={"EUR": "0.20 EUR", "GBP": "0.20 GBP", "USD": "0.20 USD"},
        fixed_default="0.20 EUR",
        cross_border_percent=Decimal("1.00"),
        as_of=date(2026, 11, 24),
        source=(
            "ASSUMPTION, not published pricing: Checkout.com quotes Interchange++/blended rates "
            "per contract (checkout.com/pricing). Modelled as EU consumer interchange ~0.3% + "
            "scheme fees ~0.5% + acquirer markup ~0.6%, 0.20 fixed; replace with your contract."
        ),
    )

    settings: CheckoutSettings

    @property
    def capabilities(self) -> Capabilities:
        """Cards; captures (partial, several), voids and refunds are asynchronous (202)."""
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
            retrieve_by_key=False,
            three_d_secure=True,
            idempotency_header="Cko-Idempotency-Key",
            webhook_signing="Cko-Signature (HMAC-SHA256, hex)",
        )

    # -- plumbing -----------------------------------------------------------------------------

    def _url(self, path: str) -> str:
        settings = self.settings
        if settings.base_url:
            return f"{settings.base_url.rstrip('/')}{path}"
        host = HOSTS[settings.environment]
        if settings.subdomain:
            host = f"{settings.subdomain}.{host}"
        return f"https://{host}{path}"

    def _headers(self, key: str | None = None) -> dict[str, str]:
        # NAS secret keys go as a Bearer token (checkout-sdk-python sdk_authorization.py).
        headers = {
            "Authorization": f"Bearer {self.settings.secret_key.get_secret_value()}",
            "Accept": "application/json",
        }
        if key is not None:
            headers["Cko-Idempotency-Key"] = key
        return headers

    async def _post(self, path: str, body: dict[str, Any], key: str) -> httpx.Response:
        request = self.http.build("POST", self._url(path), json=body, headers=self._headers(key))
        return await self.http.send(request)

    def _parse(self, model: type[Any], response: httpx.Response) -> Any:
        return read_answer(model, response, self.account, "Checkout.com")

    def _payment(self, response: httpx.Response) -> PaymentResult:
        payment = self._parse(wire.Payment, response)
        return read_result(
            lambda: transform.payment_result(payment),
            self.account,
            "Checkout.com",
            status_code=response.status_code,
        )

    def _refused(self, response: httpx.Response) -> PaymentResult:
        error = wire.ErrorBody()
        if response.content:
            error = self._parse(wire.ErrorBody, response)
        return transform.refused_result(error, response.status_code)

    def _action_refused(self, response: httpx.Response) -> PaymentResult | None:
        """Checkout.com's answers to an action it would not take: 403 (not allowed in the
        payment's state, per its spec; not a credentials problem), 404, 422."""
        if response.status_code == 403:
            return transform.local_refusal("action_not_allowed", "HTTP 403 from Checkout.com")
        if response.status_code == 404:
            return transform.local_refusal("payment_not_found", "HTTP 404 from Checkout.com")
        if response.status_code in (400, 422):
            return self._refused(response)
        return None

    def _failure(self, response: httpx.Response) -> Exception:
        return http_failure(response, self.http, "Checkout.com")

    # -- operations ---------------------------------------------------------------------------

    async def authorize(self, call: AuthorizeCall) -> PaymentResult:
        """POST /payments: 201 processed (approved or declined), 202 pending or 3DS redirect."""
        try:
            body = transform.payment_request(
                call,
                processing_channel_id=self.settings.processing_channel_id,
                three_ds=self.settings.three_ds,
            )
        except AmountNotRepresentable as exc:
            return transform.local_refusal("amount_not_representable", str(exc))
        except transform.SourceNotSupported as exc:
            return transform.local_refusal("source_not_supported", str(exc))
        response = await self._post("/payments", body, call.key)
        if response.status_code in (201, 202):
            return self._payment(response)
        if response.status_code in (400, 422):
            return self._refused(response)
        raise self._failure(response)

    async def capture(self, call: CaptureCall) -> PaymentResult:
        """POST /payments/{id}/captures: accepted (202) means pending until confirmed."""
        try:
            body = transform.capture_request(call)
        except AmountNotRepresentable as exc:
            return transform.local_refusal("amount_not_representable", str(exc))
        response = await self._post(f"/payments/{call.provider_reference}/captures", body, call.key)
        if response.status_code == 202:
            return transform.action_pending(self._parse(wire.ActionAccepted, response))
        refused = self._action_refused(response)
        if refused is not None:
            return refused
        raise self._failure(response)

    async def void(self, call: VoidCall) -> PaymentResult:
        """POST /payments/{id}/voids: accepted (202) means pending until confirmed."""
        response = await self._post(
            f"/payments/{call.provider_reference}/voids", transform.void_request(call), call.key
        )
        if response.status_code == 202:
            return transform.action_pending(self._parse(wire.ActionAccepted, response))
        refused = self._action_refused(response)
        if refused is not None:
            return refused
        raise self._failure(response)

    async def refund(self, call: RefundCall) -> RefundResult:
        """POST /payments/{id}/refunds: accepted (202) means pending until `payment_refunded`."""
        try:
            body = transform.refund_request(call)
        except AmountNotRepresentable as exc:
            return transform.refund_refused(
                transform.local_refusal("amount_not_representable", str(exc))
            )
        response = await self._post(f"/payments/{call.provider_reference}/refunds", body, call.key)
        if response.status_code == 202:
            return transform.refund_pending(self._parse(wire.ActionAccepted, response))
        refused = self._action_refused(response)
        if refused is not None:
            return transform.refund_refused(refused)
        raise self._failure(response)

    async def retrieve(self, call: RetrieveCall) -> PaymentResult:
        """GET /payments/{id}. Checkout.com has no lookup by idempotency key: without its
        payment id, a lost answer is settled by replaying the request or by the webhook."""
        if call.provider_reference is None:
            raise UnsupportedOperation("Checkout.com payments are looked up by their id only")
        request = self.http.build(
            "GET", self._url(f"/payments/{call.provider_reference}"), headers=self._headers()
        )
        response = await self.http.send(request)
        if response.status_code == 404:
            return PaymentResult(ProviderStatus.NOT_FOUND, raw_status="http_404")
        if response.status_code != 200:
            raise self._failure(response)
        return self._payment(response)

    # -- webhooks -----------------------------------------------------------------------------

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> None:
        """`Cko-Signature` against every configured signature key (rotation)."""
        authorization = self.settings.webhook_authorization
        webhooks.verify(
            [s.get_secret_value() for s in self.settings.webhook_secrets],
            headers,
            body,
            authorization.get_secret_value() if authorization else None,
        )

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> Sequence[ProviderEvent]:
        """One event per delivery."""
        return webhooks.parse(body)
