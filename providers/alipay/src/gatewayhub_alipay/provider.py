"""The Alipay adapter: plumbing (which method, which flow, signing, answer checks).

Alipay has no authorize-then-capture for these products: a payment is created, the customer
pays in Alipay (cashier page, app or QR code), and the money is captured when they do. So
`authorize` returns `requires_action` with the next step, and the result arrives by
notification (or a query). `void` closes an unpaid trade; paid money goes back by `refund`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import ClassVar, TypeVar
from urllib.parse import quote, urlencode

import httpx
from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator

from gatewayhub.declines import translate
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
    RefundStatus,
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
    http_failure,
)
from gatewayhub_alipay import errors, keys, signing, transform, webhooks, wire

LIVE_GATEWAY = "https://openapi.alipay.com/gateway.do"
SANDBOX_GATEWAY = "https://openapi-sandbox.dl.alipaydev.com/gateway.do"
A = TypeVar("A", bound=wire.Envelope)


class AlipaySettings(ProviderSettings):
    """One Alipay application. Keys are PEM text, the bare base64 the Alipay tools print, or
    `file:<path>` (see `keys`); several Alipay public keys may be listed during rotation."""

    app_id: str = Field(min_length=1, max_length=32)
    app_private_key: SecretStr
    alipay_public_keys: list[str] = Field(min_length=1)
    gateway_url: str = LIVE_GATEWAY
    notify_url: str | None = None
    # When set, notifications for another seller of the same application are refused.
    seller_id: str | None = None
    # How long a created order stays payable.
    order_ttl_minutes: int = Field(default=15, ge=1, le=1440)

    @field_validator("app_private_key")
    @classmethod
    def _private_key(cls, value: SecretStr) -> SecretStr:
        keys.load_private_key(value.get_secret_value())
        return value

    @field_validator("alipay_public_keys")
    @classmethod
    def _public_keys(cls, values: list[str]) -> list[str]:
        for value in values:
            keys.load_public_key(value)
        return values


class AlipayProvider(Provider):
    """Alipay Open Platform, classic gateway (`gateway.do`, version 1.0, RSA2)."""

    name: ClassVar[str] = "alipay"
    Settings: ClassVar[type[ProviderSettings]] = AlipaySettings
    default_fees: ClassVar[FeeSchedule] = FeeSchedule(
        percent=Decimal("0.6"),
        refund_returns_fee=True,
        as_of=date(2025, 11, 1),
        source=(
            "alipay.md fact sheet: 0.6% per successful domestic online payment, fee returned "
            "pro rata on refunds; commonly quoted, contract-specific, unverified"
        ),
    )

    settings: AlipaySettings

    def __init__(self, account: str, settings: ProviderSettings, http: ProviderHTTP) -> None:
        super().__init__(account, settings, http)
        self._private_key = keys.load_private_key(self.settings.app_private_key.get_secret_value())
        self._public_keys = [keys.load_public_key(k) for k in self.settings.alipay_public_keys]

    @property
    def capabilities(self) -> Capabilities:
        """Purchases in CNY paid in Alipay; close before payment, refunds after."""
        return Capabilities(
            currencies=frozenset({transform.CURRENCY}),
            methods=frozenset({PaymentMethodType.ALIPAY}),
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
            webhook_signing="alipay-rsa2 (notify form, sign and sign_type removed)",
            amount_format=AmountFormat.DECIMAL_STRING,
        )

    # -- plumbing -----------------------------------------------------------------------------

    def _params(self, method: str, model: BaseModel, **optional: str | None) -> dict[str, str]:
        return transform.signed_params(
            self._private_key,
            app_id=self.settings.app_id,
            method=method,
            content=transform.biz_content(model),
            now=self.http.clock.now(),
            **optional,
        )

    async def _call(
        self, method: str, model: BaseModel, answer: type[A], notify_url: str | None = None
    ) -> A:
        """POST one gateway call (common parameters in the query, biz_content in the form
        body, as Alipay's SDKs send it) and return its verified answer."""
        params = self._params(method, model, notify_url=notify_url)
        content = params.pop("biz_content")
        request = self.http.build(
            "POST", self.settings.gateway_url, params=params, data={"biz_content": content}
        )
        response = await self.http.send(request)
        if response.status_code != 200:
            raise http_failure(response, self.http, "Alipay")
        return self._answer(response, method, answer)

    def _unknown(self, why: str) -> OutcomeUnknown:
        return OutcomeUnknown(f"{self.account}: {why}", decline_code=DeclineCode.OUTCOME_UNKNOWN)

    def _answer(self, response: httpx.Response, method: str, answer: type[A]) -> A:
        """The `<method>_response` member (or a gateway `error_response`), its signature
        checked over the raw bytes. A success must be signed; an error may come unsigned."""
        body = response.content
        try:
            document = json.loads(body)
            raw = signing.raw_member(body, signing.response_key(method))
            if raw is None:
                raw = signing.raw_member(body, "error_response")
        except (ValueError, UnicodeDecodeError):
            raise self._unknown(f"unreadable answer to {method}") from None
        if not isinstance(document, dict) or raw is None:
            raise self._unknown(f"the answer to {method} has no response member")
        sign = document.get("sign")
        if sign and not signing.verify(self._public_keys, raw, str(sign)):
            # Forged, or the configured Alipay public key is wrong: either way we cannot
            # trust what it says happened.
            raise self._unknown(f"the answer to {method} does not verify with the Alipay key")
        try:
            parsed = answer.model_validate_json(raw)
        except ValidationError as exc:
            raise self._unknown(
                f"unreadable answer to {method}: {exc.error_count()} validation errors"
            ) from None
        if parsed.code == errors.SUCCESS and not sign:
            raise self._unknown(f"an unsigned success answer to {method}")
        if parsed.code != errors.SUCCESS:
            failure = errors.failure(parsed, self.account)
            if failure is not None:
                raise failure
        return parsed

    def _refused(self, code: str) -> PaymentResult:
        return PaymentResult(
            ProviderStatus.DECLINED,
            decline=translate(errors.CODES, self.name, code),
            raw_status=code,
        )

    # -- operations ---------------------------------------------------------------------------

    async def authorize(self, call: AuthorizeCall) -> PaymentResult:
        """Create the trade: a QR code (`qr`, alipay.trade.precreate), or a signed cashier URL
        (`page`, `wap`) or app order string (`app`) that needs no call. The payment method
        token names the flow."""
        flow = transform.FLOWS.get(call.token)
        if flow is None:
            return self._refused(errors.UNKNOWN_FLOW)
        if call.money.currency != transform.CURRENCY:
            return self._refused(errors.NOT_CNY)
        out_trade_no = key_hex(call.key)
        if flow.server:
            content = transform.precreate(call, self.settings.order_ttl_minutes)
            answer = await self._call(
                flow.method, content, wire.PrecreateAnswer, notify_url=self.settings.notify_url
            )
            if answer.code != errors.SUCCESS:
                return transform.decline(answer)
            if not answer.qr_code:
                raise self._unknown("a precreate answer without qr_code")
            return transform.precreate_result(answer, out_trade_no)
        started = call.started_at or self.http.clock.now()
        expires = started + timedelta(minutes=self.settings.order_ttl_minutes)
        params = self._params(
            flow.method,
            transform.redirect_pay(call, flow, expires),
            notify_url=self.settings.notify_url,
            return_url=call.return_url if flow.method != "alipay.trade.app.pay" else None,
        )
        query = urlencode(params, quote_via=quote, safe="")
        return transform.redirect_result(flow, out_trade_no, self.settings.gateway_url, query)

    async def void(self, call: VoidCall) -> PaymentResult:
        """alipay.trade.close: an unpaid trade can no longer be paid. A trade the customer
        never opened does not exist yet at Alipay (ACQ.TRADE_NOT_EXIST); its signed URL stays
        payable until `time_expire`, so that answer is pending, not canceled."""
        answer = await self._call(
            "alipay.trade.close",
            wire.TradeRef(out_trade_no=call.provider_reference),
            wire.CloseAnswer,
        )
        if answer.code == errors.SUCCESS:
            return PaymentResult(
                ProviderStatus.CANCELED, call.provider_reference, raw_status="TRADE_CLOSED"
            )
        if answer.sub_code == "ACQ.TRADE_NOT_EXIST":
            return PaymentResult(
                ProviderStatus.PENDING, call.provider_reference, raw_status=answer.sub_code
            )
        return transform.decline(answer)

    async def refund(self, call: RefundCall) -> RefundResult:
        """alipay.trade.refund with `out_request_no` from the refund's key, so partial refunds
        are distinct and a retry refunds once. A `fund_change` N answer (also what a replay
        says) is confirmed with alipay.trade.fastpay.refund.query."""
        out_request_no = key_hex(call.key)
        answer = await self._call(
            "alipay.trade.refund",
            wire.Refund(
                out_trade_no=call.provider_reference,
                refund_amount=transform.yuan(call.money),
                out_request_no=out_request_no,
                refund_reason=call.reason,
            ),
            wire.RefundAnswer,
        )
        if answer.code != errors.SUCCESS:
            return transform.refund_decline(answer)
        result = transform.refund_result(answer, out_request_no)
        if result.status is not RefundStatus.PENDING:
            return result
        query = await self._call(
            "alipay.trade.fastpay.refund.query",
            wire.RefundQuery(out_trade_no=call.provider_reference, out_request_no=out_request_no),
            wire.RefundQueryAnswer,
        )
        if query.code != errors.SUCCESS:
            return result
        return transform.refund_query_result(query, out_request_no)

    async def retrieve(self, call: RetrieveCall) -> PaymentResult:
        """alipay.trade.query by our out_trade_no (from the key when no reference came back).
        ACQ.TRADE_NOT_EXIST proves there is no trade: only a redirect flow's trade appears
        late (when the cashier opens), and those never lose an answer to be looked up."""
        out_trade_no = call.provider_reference or key_hex(call.key)
        answer = await self._call(
            "alipay.trade.query", wire.TradeRef(out_trade_no=out_trade_no), wire.QueryAnswer
        )
        if answer.code == errors.SUCCESS:
            return transform.query_result(answer, out_trade_no)
        if answer.sub_code == "ACQ.TRADE_NOT_EXIST":
            return PaymentResult(ProviderStatus.NOT_FOUND, raw_status=answer.sub_code)
        raise self._unknown(f"alipay.trade.query refused: {errors.decline_code(answer)}")

    # -- webhooks -----------------------------------------------------------------------------

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> None:
        """RSA2 over the decoded form fields with every configured Alipay public key."""
        webhooks.verify(self._public_keys, body, self.settings.app_id, self.settings.seller_id)

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> Sequence[ProviderEvent]:
        """One event per notification."""
        return [transform.event(webhooks.notification(webhooks.form_fields(body)))]

    def webhook_ack(self, events: Sequence[ProviderEvent]) -> WebhookAck:
        """Exactly the 7 bytes `success`; anything else makes Alipay resend."""
        return WebhookAck(200, webhooks.ACK, "text/plain")
