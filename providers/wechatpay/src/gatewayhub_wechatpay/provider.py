"""The WeChat Pay API v3 adapter: plumbing (paths, the Authorization header, answer checks).

WeChat Pay has no authorize-then-capture for these products: an order is created, the payer
pays inside WeChat (by scanning the Native QR code, or in a JSAPI page/mini-program), and the
money is captured when they do. So `authorize` returns `requires_action` with the next step,
and the result arrives by notification (or a query). `void` closes an unpaid order; paid
money goes back by `refund`. Every 2xx answer must carry a valid platform signature.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import ClassVar, TypeVar
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator, model_validator

from gatewayhub.errors import DeclineCode, OutcomeUnknown
from gatewayhub.fees import FeeSchedule
from gatewayhub.idempotency import key_hex
from gatewayhub.models import (
    AuthorizeCall,
    PaymentMethodType,
    PaymentResult,
    ProviderEvent,
    ProviderStatus,
    RefundCall,
    RefundResult,
    RetrieveCall,
    VoidCall,
    WebhookAck,
)
from gatewayhub.provider import (
    AmountFormat,
    Capabilities,
    Provider,
    ProviderHTTP,
    ProviderSettings,
    WebhookVerificationError,
    http_failure,
    read_answer,
)
from gatewayhub_wechatpay import errors, keys, signing, transform, webhooks, wire

API = "https://api.mch.weixin.qq.com"
NOT_FOUND_CODES = frozenset({"ORDER_NOT_EXIST", "ORDERNOTEXIST", "RESOURCE_NOT_EXISTS"})
A = TypeVar("A", bound=BaseModel)


class WechatPaySettings(ProviderSettings):
    """One direct merchant (商户号) and the app it charges for. Keys are PEM text or
    `file:<path>`; at least one platform certificate or platform public key is needed to
    verify WeChat's answers and notifications (several during rotation)."""

    mchid: str = Field(min_length=1, max_length=32)
    appid: str = Field(min_length=1, max_length=32)
    merchant_serial_no: str = Field(min_length=1, max_length=64)
    merchant_private_key: SecretStr
    apiv3_key: SecretStr
    platform_certificates: list[str] = Field(default_factory=list)
    platform_public_keys: dict[str, str] = Field(default_factory=dict)
    notify_url: str
    refund_notify_url: str | None = None
    base_url: str = API
    order_ttl_minutes: int = Field(default=15, ge=1, le=1440)
    user_agent: str = "gatewayhub-wechatpay/0.1"

    @field_validator("merchant_private_key")
    @classmethod
    def _private_key(cls, value: SecretStr) -> SecretStr:
        keys.load_private_key(value.get_secret_value())
        return value

    @field_validator("apiv3_key")
    @classmethod
    def _apiv3_key(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value().encode("utf-8")) != 32:
            raise ValueError("the APIv3 key is 32 characters (AES-256)")
        return value

    @field_validator("notify_url", "refund_notify_url")
    @classmethod
    def _notify_url(cls, value: str | None) -> str | None:
        # WeChat refuses notify URLs that are not https or that carry a query string.
        if value is not None:
            parts = urlsplit(value)
            if parts.scheme != "https" or parts.query or not parts.netloc:
                raise ValueError("must be an https URL without a query string")
        return value

    @field_validator("platform_public_keys")
    @classmethod
    def _key_ids(cls, value: dict[str, str]) -> dict[str, str]:
        for key_id in value:
            if not key_id.startswith(keys.PUBLIC_KEY_ID_PREFIX):
                raise ValueError(f"public key ids start with {keys.PUBLIC_KEY_ID_PREFIX}")
        return value

    @model_validator(mode="after")
    def _platform_keys(self) -> WechatPaySettings:
        if not self.platform_certificates and not self.platform_public_keys:
            raise ValueError("configure platform_certificates or platform_public_keys")
        keys.PlatformKeys(self.platform_certificates, self.platform_public_keys)
        return self


class WechatPayProvider(Provider):
    """WeChat Pay API v3, direct merchant: Native and JSAPI orders, close, refunds."""

    name: ClassVar[str] = "wechatpay"
    Settings: ClassVar[type[ProviderSettings]] = WechatPaySettings
    default_fees: ClassVar[FeeSchedule] = FeeSchedule(
        percent=Decimal("0.6"),
        refund_returns_fee=True,
        as_of=date(2025, 11, 1),
        source=(
            "wechatpay.md fact sheet: ~0.6% standard merchant rate (some categories 0.38% or "
            "0.2%), fee returned pro rata on refunds; contract-specific, unverified"
        ),
    )

    settings: WechatPaySettings

    def __init__(
        self,
        account: str,
        settings: ProviderSettings,
        http: ProviderHTTP,
        *,
        nonce: Callable[[], str] = signing.new_nonce,
    ) -> None:
        super().__init__(account, settings, http)
        self._private_key = keys.load_private_key(
            self.settings.merchant_private_key.get_secret_value()
        )
        self._platform = keys.PlatformKeys(
            self.settings.platform_certificates, self.settings.platform_public_keys
        )
        self._apiv3_key = self.settings.apiv3_key.get_secret_value().encode("utf-8")
        # Randomness is injected so signed requests are reproducible in tests.
        self.nonce = nonce

    @property
    def capabilities(self) -> Capabilities:
        """Purchases in CNY paid inside WeChat; close before payment, refunds after."""
        return Capabilities(
            currencies=frozenset({transform.CURRENCY}),
            methods=frozenset({PaymentMethodType.WECHAT_PAY}),
            manual_capture=False,
            partial_capture=False,
            multiple_captures=False,
            void=True,
            refund=True,
            partial_refund=True,
            multiple_refunds=True,
            retrieve=True,
            retrieve_by_key=True,
            idempotency_header=None,
            webhook_signing="WECHATPAY2-SHA256-RSA2048 + AEAD_AES_256_GCM resource",
            amount_format=AmountFormat.MINOR_UNITS,
        )

    # -- plumbing -----------------------------------------------------------------------------

    def _now(self) -> int:
        return int(self.http.clock.now().timestamp())

    async def _send(
        self,
        method: str,
        path: str,
        body: BaseModel | None = None,
        params: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """One signed request. The signature covers the path and query and the body bytes
        exactly as httpx will send them."""
        content = b""
        headers = {"Accept": "application/json", "User-Agent": self.settings.user_agent}
        if body is not None:
            data = body.model_dump(exclude_none=True)
            content = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            headers["Content-Type"] = "application/json"
        if self.settings.platform_public_keys:
            # Public-key mode: ask WeChat to sign its answers with this key.
            headers["Wechatpay-Serial"] = next(iter(self.settings.platform_public_keys))
        request = self.http.build(
            method,
            self.settings.base_url.rstrip("/") + path,
            content=content or None,
            headers=headers,
            params=params,
        )
        request.headers["Authorization"] = signing.authorization(
            self._private_key,
            mchid=self.settings.mchid,
            serial_no=self.settings.merchant_serial_no,
            method=method,
            url=request.url.raw_path.decode("ascii"),
            timestamp=self._now(),
            nonce=self.nonce(),
            body=content,
        )
        return await self.http.send(request)

    def _unknown(self, why: str) -> OutcomeUnknown:
        return OutcomeUnknown(f"{self.account}: {why}", decline_code=DeclineCode.OUTCOME_UNKNOWN)

    def _verified(self, response: httpx.Response) -> None:
        """A 2xx answer without a valid platform signature may be forged: untrusted."""
        try:
            signing.verify(
                self._platform,
                {k.lower(): v for k, v in response.headers.items()},
                response.content,
                self.http.clock.now(),
            )
        except WebhookVerificationError as exc:
            raise self._unknown(f"answer not verified ({exc.reason}): {exc}") from None

    def _read(self, response: httpx.Response, model: type[A]) -> A:
        self._verified(response)
        return read_answer(model, response, self.account, "WeChat Pay")

    def _refusal(self, response: httpx.Response) -> tuple[str, str]:
        """The WeChat code and message of a 400/403/404 refusal; raises for the statuses that
        are failures rather than declines (401, 429: not sent; 5xx: outcome unknown)."""
        status = response.status_code
        if status in (400, 403, 404):
            try:
                error = wire.ErrorBody.model_validate_json(response.content)
            except ValidationError:
                return f"HTTP_{status}", ""
            return error.code, error.message
        raise http_failure(response, self.http, "WeChat Pay")

    def _order_path(self, out_trade_no: str) -> str:
        return f"/v3/pay/transactions/out-trade-no/{out_trade_no}"

    async def _query(self, out_trade_no: str) -> httpx.Response:
        return await self._send(
            "GET", self._order_path(out_trade_no), params={"mchid": self.settings.mchid}
        )

    # -- operations ---------------------------------------------------------------------------

    async def authorize(self, call: AuthorizeCall) -> PaymentResult:
        """Create a Native order (token `native`: a QR code) or a JSAPI order (token
        `jsapi:<openid>`: signed `requestPayment` parameters)."""
        chosen = transform.flow(call.token)
        if chosen is None:
            return transform.decline(errors.UNKNOWN_FLOW)
        if call.money.currency != transform.CURRENCY:
            return transform.decline(errors.NOT_CNY)
        path, openid = chosen
        started = call.started_at or self.http.clock.now()
        body = transform.order(
            call,
            appid=self.settings.appid,
            mchid=self.settings.mchid,
            notify_url=self.settings.notify_url,
            expires=started + timedelta(minutes=self.settings.order_ttl_minutes),
            openid=openid,
        )
        response = await self._send("POST", path, body)
        if response.status_code != 200:
            return transform.decline(*self._refusal(response))
        if openid is None:
            return transform.native_result(
                self._read(response, wire.NativeAnswer), body.out_trade_no
            )
        prepay = self._read(response, wire.PrepayAnswer)
        parameters = signing.jsapi_parameters(
            self._private_key,
            appid=self.settings.appid,
            prepay_id=prepay.prepay_id,
            timestamp=self._now(),
            nonce=self.nonce(),
        )
        return transform.jsapi_result(body.out_trade_no, parameters)

    async def void(self, call: VoidCall) -> PaymentResult:
        """Close an unpaid order (HTTP 204). An order already closed is canceled too; one paid
        meanwhile is refused (ORDERPAID) and must be looked up."""
        response = await self._send(
            "POST",
            self._order_path(call.provider_reference) + "/close",
            wire.Close(mchid=self.settings.mchid),
        )
        if response.status_code == 204:
            self._verified(response)
            return PaymentResult(
                ProviderStatus.CANCELED, call.provider_reference, raw_status="CLOSED"
            )
        code, message = self._refusal(response)
        if code == "ORDER_CLOSED":
            return PaymentResult(ProviderStatus.CANCELED, call.provider_reference, raw_status=code)
        return transform.decline(code, message)

    async def refund(self, call: RefundCall) -> RefundResult:
        """POST /v3/refund/domestic/refunds with `out_refund_no` from the refund's key. WeChat
        wants the order's total alongside the refund, so the order is read first."""
        looked_up = await self._query(call.provider_reference)
        if looked_up.status_code != 200:
            return transform.refund_decline(*self._refusal(looked_up))
        order = self._read(looked_up, wire.Transaction)
        if order.amount is None:
            raise self._unknown("the order has no amount to refund against")
        body = wire.Refund(
            out_trade_no=call.provider_reference,
            out_refund_no=key_hex(call.key),
            reason=call.reason,
            notify_url=self.settings.refund_notify_url or self.settings.notify_url,
            amount=wire.RefundAmount(
                refund=transform.fen(call.money),
                total=order.amount.total,
                currency=transform.CURRENCY,
            ),
        )
        response = await self._send("POST", "/v3/refund/domestic/refunds", body)
        if response.status_code != 200:
            return transform.refund_decline(*self._refusal(response))
        return transform.refund_result(self._read(response, wire.RefundAnswer))

    async def retrieve(self, call: RetrieveCall) -> PaymentResult:
        """GET the order by our out_trade_no (from the key when no reference came back)."""
        out_trade_no = call.provider_reference or key_hex(call.key)
        response = await self._query(out_trade_no)
        if response.status_code == 200:
            return transform.transaction_result(self._read(response, wire.Transaction))
        code, _ = self._refusal(response)
        if response.status_code == 404 and code in NOT_FOUND_CODES:
            return PaymentResult(ProviderStatus.NOT_FOUND, raw_status=code)
        raise self._unknown(f"order query refused: {code}")

    # -- webhooks -----------------------------------------------------------------------------

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> None:
        """Platform signature over timestamp, nonce and the raw body; 5-minute window."""
        webhooks.verify(self._platform, headers, body, self.http.clock.now())

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> Sequence[ProviderEvent]:
        """One event per notification; payment and refund resources are decrypted."""
        return webhooks.parse(body, self._apiv3_key)

    def webhook_ack(self, events: Sequence[ProviderEvent]) -> WebhookAck:
        """HTTP 204 without a body: WeChat's documented "received"."""
        return WebhookAck(204, b"", "application/json")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} account={self.account!r} mchid={self.settings.mchid!r}>"
