"""The TrueLayer adapter: plumbing (environments, bearer token, Tl-Signature, operations).

authorize  POST /v3/payments (merchant account beneficiary) -> requires_action: the payer
           authorizes at their bank through TrueLayer's hosted payment page
refund     POST /v3/payments/{id}/refunds
retrieve   GET /v3/payments/{id} (+ GET .../refunds once the money moved)
No capture (the bank executes the payment on consent) and no void (the cancel endpoint only
stops a payment the payer has not authorized yet).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, ClassVar, Literal, TypeVar

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator

from gatewayhub.errors import DeclineCode, NotSent, ProviderError
from gatewayhub.fees import FeeSchedule
from gatewayhub.models import (
    AuthorizeCall,
    CurrencyCode,
    PaymentMethodType,
    PaymentResult,
    ProviderEvent,
    ProviderStatus,
    RefundCall,
    RefundResult,
    RefundStatus,
    RetrieveCall,
)
from gatewayhub.provider import (
    Capabilities,
    Provider,
    ProviderHTTP,
    ProviderSettings,
    UnsupportedOperation,
    http_failure,
    read_answer,
)
from gatewayhub_truelayer import jwks, signing, transform, webhooks, wire
from gatewayhub_truelayer.auth import AccessTokens

log = logging.getLogger("gatewayhub.providers.truelayer")
M = TypeVar("M", bound=BaseModel)

# docs.truelayer.com / truelayer-java `Environment`
ENVIRONMENTS: Mapping[str, Mapping[str, str]] = {
    "sandbox": {
        "auth": "https://auth.truelayer-sandbox.com",
        "api": "https://api.truelayer-sandbox.com",
        "hpp": "https://payment.truelayer-sandbox.com",
        "jwks": "https://webhooks.truelayer-sandbox.com/.well-known/jwks",
    },
    "live": {
        "auth": "https://auth.truelayer.com",
        "api": "https://api.truelayer.com",
        "hpp": "https://payment.truelayer.com",
        "jwks": "https://webhooks.truelayer.com/.well-known/jwks",
    },
}
# Payments v3 takes GBP and EUR (docs "Create a payment"); PLN is listed for Poland but not
# confirmed for single payments, so it is accepted only when configured.
CURRENCIES = frozenset({"GBP", "EUR", "PLN"})


class TrueLayerSettings(ProviderSettings):
    """Credentials, keys and endpoints of one TrueLayer client (Console > App settings).

    `signing_private_key` is the PEM of the EC P-521 key whose public half was uploaded to
    Console (`-----BEGIN EC PRIVATE KEY-----` SEC1 or `-----BEGIN PRIVATE KEY-----` PKCS#8);
    `signing_key_id` is the `kid` Console shows for it.
    """

    environment: Literal["sandbox", "live"] = "sandbox"
    client_id: str = Field(min_length=1)
    client_secret: SecretStr
    signing_key_id: str = Field(min_length=1)
    signing_private_key: SecretStr
    # currency -> merchant account id (one TrueLayer merchant account per currency)
    merchant_accounts: dict[CurrencyCode, str] = Field(min_length=1)
    scope: str = "payments"
    return_uri: str | None = Field(default=None, pattern=r"^https?://")
    statement_reference: str | None = Field(default=None, max_length=18)
    refund_reference: str = Field(default="Refund", min_length=1, max_length=18)
    token_margin_seconds: int = Field(default=60, ge=0)
    # where TrueLayer posts webhooks on this gateway (default /v1/webhooks/truelayer/<account>)
    webhook_path: str | None = Field(default=None, pattern=r"^/")
    # JWKS URLs a webhook may name; default: TrueLayer's for the environment
    webhook_jwks_urls: list[str] | None = None
    webhook_tolerance_seconds: int = Field(default=300, ge=1)
    jwks_ttl_seconds: int = Field(default=3600, ge=60)
    jwks_min_refresh_seconds: int = Field(default=60, ge=0)
    # endpoint overrides (a proxy, a mock server); default: the environment's
    auth_url: str | None = None
    api_url: str | None = None
    hpp_url: str | None = None

    @field_validator("signing_private_key")
    @classmethod
    def _p521_key(cls, pem: SecretStr) -> SecretStr:
        try:
            key = serialization.load_pem_private_key(pem.get_secret_value().encode(), None)
        except (ValueError, TypeError):
            # never echo the value: it is a private key
            raise ValueError("signing_private_key is not an unencrypted PEM private key") from None
        if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp521r1":
            raise ValueError("signing_private_key must be an EC P-521 key (ES512)")
        return pem

    @field_validator("merchant_accounts")
    @classmethod
    def _currencies(cls, accounts: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(accounts) - CURRENCIES)
        if unknown:
            raise ValueError(f"TrueLayer single payments do not take {', '.join(unknown)}")
        return accounts

    def endpoint(self, name: Literal["auth", "api", "hpp", "jwks"]) -> str:
        """The URL of `name` for this environment (or its override)."""
        override = {"auth": self.auth_url, "api": self.api_url, "hpp": self.hpp_url}.get(name)
        return (override or ENVIRONMENTS[self.environment][name]).rstrip("/")


class TrueLayerProvider(Provider):
    """TrueLayer Payments API v3: open-banking pay-ins into a merchant account."""

    name: ClassVar[str] = "truelayer"
    Settings: ClassVar[type[ProviderSettings]] = TrueLayerSettings
    default_fees: ClassVar[FeeSchedule] = FeeSchedule(
        percent=Decimal(0),
        as_of=date(2025, 11, 1),
        source=(
            "TrueLayer publishes no price list: pay-by-bank pricing is negotiated per "
            "contract. Configure this account's `fees` (a fixed fee per payment is typical)."
        ),
    )

    settings: TrueLayerSettings

    def __init__(self, account: str, settings: ProviderSettings, http: ProviderHTTP) -> None:
        super().__init__(account, settings, http)
        config = self.settings
        self._tokens = AccessTokens(
            http,
            token_url=f"{config.endpoint('auth')}/connect/token",
            client_id=config.client_id,
            client_secret=config.client_secret,
            scope=config.scope,
            margin=timedelta(seconds=config.token_margin_seconds),
        )
        self._keys = jwks.KeyCache(
            ttl=timedelta(seconds=config.jwks_ttl_seconds),
            min_refresh=timedelta(seconds=config.jwks_min_refresh_seconds),
        )
        self._allowed_jkus = frozenset(
            config.webhook_jwks_urls
            if config.webhook_jwks_urls is not None
            else [config.endpoint("jwks")]
        )
        self._webhook_path = config.webhook_path or f"/v1/webhooks/truelayer/{account}"

    @property
    def capabilities(self) -> Capabilities:
        """Pay-by-bank: captured on settlement, refunds, no capture split, no void."""
        return Capabilities(
            currencies=frozenset(self.settings.merchant_accounts),
            methods=frozenset({PaymentMethodType.OPEN_BANKING, PaymentMethodType.BANK_TRANSFER}),
            manual_capture=False,
            partial_capture=False,
            multiple_captures=False,
            void=False,
            refund=True,
            partial_refund=True,
            multiple_refunds=True,
            retrieve=True,
            retrieve_by_key=False,
            three_d_secure=False,
            idempotency_header="Idempotency-Key",
            webhook_signing="Tl-Signature (ES512 detached JWS, JWKS from an allowed jku)",
        )

    # -- plumbing -----------------------------------------------------------------------------

    def _url(self, path: str) -> str:
        return f"{self.settings.endpoint('api')}{path}"

    async def _bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {await self._tokens.token()}"}

    async def _signed_post(self, path: str, body: dict[str, Any], key: str) -> httpx.Response:
        """POST with Idempotency-Key and Tl-Signature over exactly the bytes sent."""
        url = self._url(path)
        content = json.dumps(body, separators=(",", ":")).encode()
        signed_path = httpx.URL(url).raw_path.decode().split("?", 1)[0]
        signature = signing.sign_request(
            self.settings.signing_private_key.get_secret_value(),
            self.settings.signing_key_id,
            "POST",
            signed_path,
            [("Idempotency-Key", key)],
            content,
        )
        headers = {
            **(await self._bearer()),
            "Idempotency-Key": key,
            "Tl-Signature": signature,
            "Content-Type": "application/json",
        }
        request = self.http.build("POST", url, content=content, headers=headers)
        return await self._send(request)

    async def _get(self, path: str) -> httpx.Response:
        request = self.http.build("GET", self._url(path), headers=await self._bearer())
        return await self._send(request)

    async def _send(self, request: httpx.Request) -> httpx.Response:
        response = await self.http.send(request)
        if response.status_code == 401:
            # A refused token is forgotten, so the retry the core may make fetches another.
            self._tokens.invalidate()
        return response

    def _parse(self, model: type[M], response: httpx.Response) -> M:
        return read_answer(model, response, self.account, "TrueLayer")

    def _problem(self, response: httpx.Response) -> wire.Problem | None:
        """A refusal that moved nothing (400, 404, 422 problem+json), or None."""
        if response.status_code not in (400, 404, 422):
            return None
        try:
            return wire.Problem.model_validate_json(response.content)
        except ValidationError:
            return wire.Problem(title=f"HTTP {response.status_code}")

    def _failure(self, response: httpx.Response) -> ProviderError:
        return http_failure(response, self.http, "TrueLayer")

    # -- operations ---------------------------------------------------------------------------

    async def authorize(self, call: AuthorizeCall) -> PaymentResult:
        """POST /v3/payments into the merchant account of the payment's currency; the
        answer waits for the payer (hosted payment page URL, payment id, resource token)."""
        user = transform.user_details(call.metadata)
        if user is None:
            decline = transform.missing_user_decline()
            return PaymentResult(ProviderStatus.DECLINED, decline=decline, raw_status="refused")
        account_id = self.settings.merchant_accounts.get(call.money.currency)
        if account_id is None:
            raise NotSent(
                f"{self.account}: no merchant account for {call.money.currency}",
                decline_code=DeclineCode.CURRENCY_NOT_SUPPORTED,
            )
        body = transform.payment_request(call, user, account_id, self.settings.statement_reference)
        response = await self._signed_post("/v3/payments", body, call.key)
        if response.status_code in (200, 201):
            created = self._parse(wire.CreatedPayment, response)
            return transform.created_result(
                created,
                hpp_base=self.settings.endpoint("hpp"),
                return_uri=call.return_url or self.settings.return_uri,
            )
        problem = self._problem(response)
        if problem is not None:
            decline = transform.problem_decline(problem)
            return PaymentResult(ProviderStatus.DECLINED, decline=decline, raw_status=problem.title)
        raise self._failure(response)

    async def refund(self, call: RefundCall) -> RefundResult:
        """POST /v3/payments/{id}/refunds (202: accepted, executed later; a webhook or a
        lookup settles it)."""
        body = transform.refund_request(call, self.settings.refund_reference)
        response = await self._signed_post(
            f"/v3/payments/{call.provider_reference}/refunds", body, call.key
        )
        if response.status_code in (200, 201, 202):
            created = self._parse(wire.CreatedRefund, response)
            return RefundResult(RefundStatus.PENDING, created.id, raw_status="accepted")
        problem = self._problem(response)
        if problem is not None:
            decline = transform.problem_decline(problem)
            return RefundResult(RefundStatus.FAILED, None, None, decline, problem.title)
        raise self._failure(response)

    async def retrieve(self, call: RetrieveCall) -> PaymentResult:
        """GET /v3/payments/{id}; once the money moved, its refunds too (for the refunded
        total). TrueLayer cannot find a payment by idempotency key."""
        if call.provider_reference is None:
            raise UnsupportedOperation(f"{self.name} has no lookup by idempotency key")
        response = await self._get(f"/v3/payments/{call.provider_reference}")
        if response.status_code == 404:
            return PaymentResult(ProviderStatus.NOT_FOUND, raw_status="not_found")
        if response.status_code != 200:
            raise self._failure(response)
        payment = self._parse(wire.Payment, response)
        refunds: list[wire.Refund] = []
        if payment.status in ("executed", "settled"):
            listed = await self._get(f"/v3/payments/{payment.id}/refunds")
            if listed.status_code != 200:
                raise self._failure(listed)
            refunds = self._parse(wire.RefundList, listed).items
        return transform.payment_result(payment, refunds)

    # -- webhooks -----------------------------------------------------------------------------

    async def verify_webhook_async(self, headers: Mapping[str, str], body: bytes) -> None:
        """Fetch the signing keys the webhook names when needed, then verify."""
        await self.refresh_signing_keys(headers, body)
        self.verify_webhook(headers, body)

    async def refresh_signing_keys(self, headers: Mapping[str, str], body: bytes) -> None:
        """Fetch the JWKS the webhook's `jku` names when it is allowed and the cache lacks
        the `kid` (or is stale); a failed fetch is logged and verification decides."""
        reference = webhooks.key_reference(headers)
        if reference is None:
            return
        jku, kid = reference
        now = self.http.clock.now()
        if jku not in self._allowed_jkus or not self._keys.needs_fetch(jku, kid, now):
            return
        keys = await self._fetch_keys(jku)
        if keys is None:
            self._keys.attempted(jku, now)
        else:
            self._keys.store(jku, keys, now)

    async def _fetch_keys(self, jku: str) -> dict[str, ec.EllipticCurvePublicKey] | None:
        try:
            response = await self.http.send(self.http.build("GET", jku))
        except ProviderError as exc:
            log.warning("%s: fetching the webhook JWKS %s failed: %s", self.account, jku, exc)
            return None
        if response.status_code != 200:
            log.warning(
                "%s: webhook JWKS %s answered HTTP %s", self.account, jku, response.status_code
            )
            return None
        try:
            return jwks.parse(response.content)
        except ValueError as exc:
            log.warning("%s: webhook JWKS %s is unreadable: %s", self.account, jku, exc)
            return None

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> None:
        """`Tl-Signature` with the cached key of an allowed `jku`, then the timestamp."""
        webhooks.verify(
            headers,
            body,
            path=self._webhook_path,
            keys=self._keys,
            allowed_jkus=self._allowed_jkus,
            now=self.http.clock.now(),
            tolerance=timedelta(seconds=self.settings.webhook_tolerance_seconds),
        )

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> Sequence[ProviderEvent]:
        """One event per webhook."""
        return webhooks.parse(body)
