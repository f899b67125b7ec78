"""The PayPal adapter: plumbing (token, URLs, headers, which transform for which call)."""

from __future__ import annotations

import base64
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, ClassVar, Literal, TypeVar

import httpx
from cryptography import x509
from pydantic import Field, SecretStr, ValidationError, field_validator

from gatewayhub.errors import DeclineCode, NotSent, OutcomeUnknown, ProviderError
from gatewayhub.fees import FeeOverride, FeeSchedule
from gatewayhub.models import (
    AuthorizeCall,
    CaptureCall,
    CurrencyCode,
    NextAction,
    PaymentMethodType,
    PaymentResult,
    ProviderEvent,
    ProviderStatus,
    RefundCall,
    RefundResult,
    RetrieveCall,
    VoidCall,
)
from gatewayhub.provider import (
    AmountFormat,
    Capabilities,
    Provider,
    ProviderHTTP,
    ProviderSettings,
    TraceId,
    UnsupportedOperation,
    WebhookVerificationError,
    classify_http_failure,
    http_failure,
    read_answer,
    read_result,
)
from gatewayhub_paypal import amounts, transform, webhooks, wire
from gatewayhub_paypal.amounts import AmountNotRepresentable
from gatewayhub_paypal.oauth import AccessTokens

T = TypeVar("T")
# PayPal's id of an answer, which its support asks for.
DEBUG_ID = TraceId("PayPal-Debug-Id", "debug_id")
BASE_URLS = {"sandbox": "https://api-m.sandbox.paypal.com", "live": "https://api-m.paypal.com"}
_CERT_CACHE = 16  # certificates kept per account (PayPal rotates them rarely)


class PayPalSettings(ProviderSettings):
    """A PayPal REST app: client id and secret, and the id of each webhook subscription
    whose deliveries this account accepts (several during a rotation)."""

    environment: Literal["sandbox", "live"] = "sandbox"
    base_url: str | None = Field(default=None, description="overrides environment")
    client_id: str = Field(min_length=1)
    client_secret: SecretStr
    webhook_ids: list[str] = Field(min_length=1)
    webhook_verification: Literal["certificate", "api"] = "certificate"
    webhook_tolerance: int = Field(default=300, ge=1, description="seconds")
    cert_hosts: list[str] = Field(default_factory=lambda: list(webhooks.CERT_HOSTS), min_length=1)
    token_refresh_margin: int = Field(default=300, ge=0, description="seconds before expiry")
    # A lookup that finds an order the buyer approved authorizes or captures it, as the
    # payment's capture mode asked; turn off when the front end completes orders itself.
    complete_on_approval: bool = True
    brand_name: str | None = Field(default=None, max_length=127)
    currencies: list[CurrencyCode] = Field(
        default_factory=lambda: sorted(amounts.SUPPORTED), min_length=1
    )

    @field_validator("cert_hosts")
    @classmethod
    def _paypal_hosts(cls, hosts: list[str]) -> list[str]:
        for host in hosts:
            if not host.lower().endswith(".paypal.com"):
                raise ValueError(f"{host!r} is not a PayPal host (*.paypal.com)")
        return [host.lower() for host in hosts]


class PayPalProvider(Provider):
    """PayPal Orders v2 (create, authorize, capture) and Payments v2 (captures of an
    authorization, voids, refunds), OAuth2 client credentials."""

    name: ClassVar[str] = "paypal"
    Settings: ClassVar[type[ProviderSettings]] = PayPalSettings
    # US merchant rates: PayPal Checkout 3.49% + fixed fee by received currency; standard
    # card payments 2.99% + fixed; +1.50% for international commercial transactions.
    default_fees: ClassVar[FeeSchedule] = FeeSchedule(
        percent=Decimal("3.49"),
        fixed={
            "USD": "0.49 USD",
            "EUR": "0.39 EUR",
            "GBP": "0.39 GBP",
            "CAD": "0.59 CAD",
            "AUD": "0.59 AUD",
        },
        fixed_default="0.49 USD",
        cross_border_percent=Decimal("1.50"),
        fx_percent=Decimal("3.00"),
        methods={PaymentMethodType.CARD: FeeOverride(percent=Decimal("2.99"))},
        as_of=date(2026, 11, 24),
        source=(
            "paypal.com/us/business/paypal-business-fees (US merchants), as summarized by "
            "third-party 2026 fee guides; the currency-conversion spread (3-4%) is an estimate"
        ),
    )

    settings: PayPalSettings

    def __init__(self, account: str, settings: ProviderSettings, http: ProviderHTTP) -> None:
        super().__init__(account, settings, http)
        self.tokens = AccessTokens(
            self._fetch_token,
            http.clock,
            timedelta(seconds=self.settings.token_refresh_margin),
        )
        self._certificates: OrderedDict[str, x509.Certificate] = OrderedDict()

    @property
    def capabilities(self) -> Capabilities:
        """Cards (vaulted) and PayPal wallets; one capture per authorization (partial
        captures release the rest), refunds full, partial and several."""
        known = amounts.SUPPORTED | amounts.IN_COUNTRY_ONLY
        return Capabilities(
            currencies=frozenset(c for c in self.settings.currencies if c in known),
            methods=frozenset({PaymentMethodType.CARD, PaymentMethodType.PAYPAL}),
            manual_capture=True,
            partial_capture=True,
            multiple_captures=False,
            void=True,
            refund=True,
            partial_refund=True,
            multiple_refunds=True,
            retrieve=True,
            retrieve_by_key=False,
            three_d_secure=True,
            idempotency_header="PayPal-Request-Id",
            webhook_signing=(
                "PayPal certificate (SHA256withRSA over id|time|webhook_id|crc32)"
                if self.settings.webhook_verification == "certificate"
                else "PayPal verify-webhook-signature API"
            ),
            amount_format=AmountFormat.DECIMAL_STRING,
        )

    # -- plumbing -----------------------------------------------------------------------------

    def _url(self, path: str) -> str:
        base = self.settings.base_url or BASE_URLS[self.settings.environment]
        return f"{base.rstrip('/')}{path}"

    async def _fetch_token(self) -> wire.AccessToken:
        """POST /v1/oauth2/token. It moves no money, so every failure here is 'not sent'."""
        credentials = f"{self.settings.client_id}:{self.settings.client_secret.get_secret_value()}"
        request = self.http.build(
            "POST",
            self._url("/v1/oauth2/token"),
            data={"grant_type": "client_credentials"},
            headers={
                "Authorization": "Basic " + base64.b64encode(credentials.encode()).decode(),
                "Accept": "application/json",
            },
        )
        try:
            response = await self.http.send(request)
        except OutcomeUnknown as exc:
            raise NotSent(f"{self.account}: access token not obtained: {exc}") from exc
        if response.status_code != 200:
            failure = classify_http_failure(response, self.http)
            if isinstance(failure, NotSent):
                raise failure
            raise NotSent(
                f"{self.account}: access token refused (HTTP {response.status_code})",
                decline_code=DeclineCode.PROVIDER_UNAVAILABLE,
                status_code=response.status_code,
            )
        return read_answer(
            wire.AccessToken,
            response,
            self.account,
            "PayPal access token",
            trace=DEBUG_ID,
            moved_nothing=True,
        )

    async def _api(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        content: bytes | None = None,
        request_id: str | None = None,
    ) -> httpx.Response:
        """Send with the account's bearer token. A 401 means the token was refused before
        anything happened: it is replaced and the request sent once more, same request id."""
        headers = {"Accept": "application/json"}
        if method == "POST":
            headers["Prefer"] = "return=representation"
        if request_id is not None:
            headers["PayPal-Request-Id"] = request_id
        if content is not None:
            headers["Content-Type"] = "application/json"
        for attempt in range(2):
            token = await self.tokens.bearer()
            request = self.http.build(
                method,
                self._url(path),
                json=json,
                content=content,
                headers={**headers, "Authorization": f"Bearer {token}"},
            )
            response = await self.http.send(request)
            if response.status_code != 401 or attempt:
                return response
            self.tokens.discard(token)
        raise AssertionError("unreachable")  # pragma: no cover

    def _parse(self, model: type[Any], response: httpx.Response) -> Any:
        return read_answer(model, response, self.account, "PayPal", trace=DEBUG_ID)

    def _read(self, build: Callable[[], T], status_code: int = 200) -> T:
        """A transform applied to a 2xx: an unreadable amount means the outcome is unknown."""
        return read_result(build, self.account, "PayPal", status_code=status_code)

    def _error(self, response: httpx.Response) -> wire.ErrorBody:
        if not response.content:
            return wire.ErrorBody()
        try:
            return wire.ErrorBody.model_validate_json(response.content)
        except ValidationError:
            return wire.ErrorBody()

    def _failure(self, response: httpx.Response) -> ProviderError:
        return http_failure(response, self.http, "PayPal", trace=DEBUG_ID)

    def _refused(self, response: httpx.Response) -> PaymentResult | None:
        """PayPal's refusals that are declines: 400 INVALID_REQUEST, 404, 422."""
        if response.status_code in (400, 404, 422):
            return transform.error_result(self._error(response), response.status_code)
        return None

    async def _order(self, order_id: str) -> wire.Order | None:
        """GET /v2/checkout/orders/{id}; None when PayPal has no such order."""
        response = await self._api("GET", f"/v2/checkout/orders/{order_id}")
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise self._failure(response)
        order: wire.Order = self._parse(wire.Order, response)
        return order

    # -- operations ---------------------------------------------------------------------------

    async def authorize(self, call: AuthorizeCall) -> PaymentResult:
        """POST /v2/checkout/orders. Buyer approval comes back `requires_action` with the
        approve (or payer-action) link; a vaulted source is processed at once."""
        try:
            body = transform.order_request(call, brand_name=self.settings.brand_name)
        except AmountNotRepresentable as exc:
            return transform.local_refusal("amount_not_representable", str(exc))
        response = await self._api("POST", "/v2/checkout/orders", json=body, request_id=call.key)
        if response.status_code in (200, 201):
            order = self._parse(wire.Order, response)
            return self._read(lambda: transform.order_result(order), response.status_code)
        refused = self._refused(response)
        if refused is not None:
            return refused
        raise self._failure(response)

    async def capture(self, call: CaptureCall) -> PaymentResult:
        """Find the order's authorization, then POST /v2/payments/authorizations/{id}/capture."""
        try:
            body = transform.capture_request(call)
        except AmountNotRepresentable as exc:
            return transform.local_refusal("amount_not_representable", str(exc))
        order = await self._order(call.provider_reference)
        if order is None:
            return transform.local_refusal("order_not_found", call.provider_reference)
        auth = transform.authorization_of(order)
        if auth is None:
            return transform.local_refusal("no_authorization", f"order {order.id}")
        response = await self._api(
            "POST",
            f"/v2/payments/authorizations/{auth.id}/capture",
            json=body,
            request_id=call.key,
        )
        if response.status_code in (200, 201):
            capture = self._parse(wire.Capture, response)
            return self._read(lambda: transform.capture_result(capture), response.status_code)
        refused = self._refused(response)
        if refused is not None:
            return refused
        raise self._failure(response)

    async def void(self, call: VoidCall) -> PaymentResult:
        """Find the order's authorization, then POST /v2/payments/authorizations/{id}/void."""
        order = await self._order(call.provider_reference)
        if order is None:
            return transform.local_refusal("order_not_found", call.provider_reference)
        auth = transform.authorization_of(order)
        if auth is None:
            return transform.local_refusal("no_authorization", f"order {order.id}")
        if auth.status == "VOIDED":  # a repeat of a void that went through
            return PaymentResult(ProviderStatus.CANCELED, auth.id, raw_status=auth.status)
        response = await self._api(
            "POST", f"/v2/payments/authorizations/{auth.id}/void", request_id=call.key
        )
        if response.status_code == 204:
            return PaymentResult(ProviderStatus.CANCELED, auth.id, raw_status="VOIDED")
        if response.status_code == 200:
            voided = self._parse(wire.Authorization, response)
            return self._read(lambda: transform.authorization_result(voided), response.status_code)
        refused = self._refused(response)
        if refused is not None:
            if refused.raw_status == "PREVIOUSLY_VOIDED":
                return PaymentResult(ProviderStatus.CANCELED, auth.id, raw_status="VOIDED")
            return refused
        raise self._failure(response)

    async def refund(self, call: RefundCall) -> RefundResult:
        """Find the order's capture, then POST /v2/payments/captures/{id}/refund."""
        try:
            body = transform.refund_request(call)
        except AmountNotRepresentable as exc:
            return transform.refund_refused(
                transform.local_refusal("amount_not_representable", str(exc))
            )
        order = await self._order(call.provider_reference)
        if order is None:
            return transform.refund_refused(
                transform.local_refusal("order_not_found", call.provider_reference)
            )
        capture = transform.capture_of(order)
        if capture is None:
            return transform.refund_refused(
                transform.local_refusal("no_capture", f"order {order.id}")
            )
        response = await self._api(
            "POST", f"/v2/payments/captures/{capture.id}/refund", json=body, request_id=call.key
        )
        if response.status_code in (200, 201):
            refund = self._parse(wire.Refund, response)
            return self._read(lambda: transform.refund_result(refund), response.status_code)
        refused = self._refused(response)
        if refused is not None:
            return transform.refund_refused(refused)
        raise self._failure(response)

    async def retrieve(self, call: RetrieveCall) -> PaymentResult:
        """GET /v2/checkout/orders/{id}. An order the buyer approved is not a payment yet:
        with `complete_on_approval` the lookup authorizes or captures it, as the order's
        intent says, under a request id derived from the attempt key (so it happens once)."""
        if call.provider_reference is None:
            raise UnsupportedOperation("PayPal orders are looked up by their id only")
        order = await self._order(call.provider_reference)
        if order is None:
            return PaymentResult(ProviderStatus.NOT_FOUND, raw_status="RESOURCE_NOT_FOUND")
        if order.status == "APPROVED" and self.settings.complete_on_approval:
            return await self._complete(order, call.key)
        return self._read(lambda: transform.order_result(order))

    async def _complete(self, order: wire.Order, key: str) -> PaymentResult:
        action = "authorize" if order.intent == "AUTHORIZE" else "capture"
        response = await self._api(
            "POST",
            f"/v2/checkout/orders/{order.id}/{action}",
            json={},
            request_id=transform.completion_request_id(key),
        )
        if response.status_code in (200, 201):
            completed = self._parse(wire.Order, response)
            return self._read(lambda: transform.order_result(completed), response.status_code)
        if response.status_code == 422:
            error = self._error(response)
            issue = transform.issue(error, 422)
            if issue in ("ORDER_ALREADY_CAPTURED", "ORDER_ALREADY_AUTHORIZED"):
                # Completed by someone else (the front end, a concurrent lookup): read it.
                current = await self._order(order.id)
                if current is not None:
                    return self._read(lambda: transform.order_result(current), response.status_code)
            if issue == "ORDER_COMPLETION_IN_PROGRESS":
                return PaymentResult(ProviderStatus.PENDING, order.id, raw_status=issue)
            # PayPal: "restart the payment so the payer can select a different payment
            # option" (handle-funding-failures) - back to PayPal, if we have a link for it.
            redirect = transform.action_link(error.links) or transform.action_link(order.links)
            if redirect is not None and issue in (
                "INSTRUMENT_DECLINED",
                "PAYER_ACTION_REQUIRED",
                "REDIRECT_PAYER_FOR_ALTERNATE_FUNDING",
            ):
                return PaymentResult(
                    ProviderStatus.REQUIRES_ACTION,
                    order.id,
                    next_action=NextAction(
                        type="redirect", url=redirect, data={"order_id": order.id}
                    ),
                    raw_status=issue,
                )
            return transform.error_result(error, 422)
        refused = self._refused(response)
        if refused is not None:
            return refused
        raise self._failure(response)

    # -- webhooks -----------------------------------------------------------------------------

    def _transmission(self, headers: Mapping[str, str]) -> tuple[webhooks.Transmission, str]:
        transmission = webhooks.read_headers(headers)
        webhooks.check_fresh(
            transmission,
            self.http.clock.now(),
            timedelta(seconds=self.settings.webhook_tolerance),
        )
        url = webhooks.pinned_cert_url(transmission.cert_url, self.settings.cert_hosts)
        return transmission, url

    def _check(
        self, cert: x509.Certificate, transmission: webhooks.Transmission, body: bytes
    ) -> None:
        webhooks.verify_signature(
            cert, transmission, body, self.settings.webhook_ids, self.http.clock.now()
        )

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> None:
        """The certificate scheme with an already cached certificate (the core calls
        `verify_webhook_async`, which fetches it)."""
        transmission, url = self._transmission(headers)
        cert = self._certificates.get(url)
        if cert is None or self.settings.webhook_verification != "certificate":
            raise WebhookVerificationError(
                "unsupported", "PayPal verification needs I/O: use verify_webhook_async"
            )
        self._check(cert, transmission, body)

    async def verify_webhook_async(self, headers: Mapping[str, str], body: bytes) -> None:
        """Headers, freshness and the pinned certificate URL first; then the signature with
        the certificate (fetched once per URL through this account's HTTP client), or by
        PayPal's verify-webhook-signature API when so configured."""
        transmission, url = self._transmission(headers)
        if self.settings.webhook_verification == "api":
            await self._verify_by_api(transmission, body)
            return
        self._check(await self._certificate(url), transmission, body)

    async def _certificate(self, url: str) -> x509.Certificate:
        cert = self._certificates.get(url)
        if cert is not None and self.http.clock.now() <= cert.not_valid_after_utc:
            self._certificates.move_to_end(url)
            return cert
        response = await self.http.send(
            self.http.build("GET", url, headers={"Accept": "application/x-pem-file, */*"})
        )
        if response.status_code in (403, 404, 410):
            raise WebhookVerificationError("bad_signature", "PayPal has no such certificate")
        if response.status_code != 200:
            raise self._failure(response)
        cert = webhooks.load_certificate(response.content)
        self._certificates[url] = cert
        while len(self._certificates) > _CERT_CACHE:
            self._certificates.popitem(last=False)
        return cert

    async def _verify_by_api(self, transmission: webhooks.Transmission, body: bytes) -> None:
        for webhook_id in self.settings.webhook_ids:
            content = webhooks.verification_request(transmission, body, webhook_id)
            response = await self._api(
                "POST", "/v1/notifications/verify-webhook-signature", content=content
            )
            if response.status_code != 200:
                raise self._failure(response)
            answer = self._parse(wire.VerificationAnswer, response)
            if answer.verification_status == "SUCCESS":
                return
        raise WebhookVerificationError("bad_signature", "PayPal did not verify the signature")

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> Sequence[ProviderEvent]:
        """One event per delivery."""
        return webhooks.parse(body)
