"""The vocabulary shared by the core and the adapters: statuses, commands, calls, results.

Commands (what a merchant asks for) are pydantic models: they validate untrusted input.
Calls (what the core asks an adapter) and results (what the adapter answers) are frozen
dataclasses: they are built by code we own, on the hot path, and need no validation.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    field_validator,
)

from gatewayhub.currencies import EXPONENTS
from gatewayhub.errors import Decline
from gatewayhub.money import MAX_PAYMENT_MINOR, Money


class PaymentStatus(StrEnum):
    """Where a payment is in its life. `processing` means a provider's answer is unknown."""

    PENDING = "pending"
    PROCESSING = "processing"
    REQUIRES_ACTION = "requires_action"
    AUTHORIZED = "authorized"
    PARTIALLY_CAPTURED = "partially_captured"
    CAPTURED = "captured"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    CANCELED = "canceled"
    FAILED = "failed"


class Operation(StrEnum):
    """What an attempt asked a provider to do."""

    AUTHORIZE = "authorize"
    CAPTURE = "capture"
    VOID = "void"
    REFUND = "refund"


class AttemptStatus(StrEnum):
    """The outcome of one provider call (with its same-key retries)."""

    STARTED = "started"  # written before the call; a crash leaves it here for recovery
    SUCCEEDED = "succeeded"
    DECLINED = "declined"
    REQUIRES_ACTION = "requires_action"
    PENDING = "pending"  # the provider answered "not decided yet" (or a status we don't know)
    NOT_SENT = "not_sent"  # certainly no effect at the provider
    UNKNOWN = "unknown"  # may have had an effect; waiting for reconciliation


class RefundStatus(StrEnum):
    """Where a refund is."""

    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class CaptureMode(StrEnum):
    """Capture with the authorization (`automatic`, a purchase) or later (`manual`)."""

    AUTOMATIC = "automatic"
    MANUAL = "manual"


class PaymentMethodType(StrEnum):
    """Families of payment method; routing eligibility is declared per family."""

    CARD = "card"
    PAYPAL = "paypal"
    ALIPAY = "alipay"
    WECHAT_PAY = "wechat_pay"
    UPI = "upi"
    NETBANKING = "netbanking"
    OPEN_BANKING = "open_banking"
    BANK_TRANSFER = "bank_transfer"
    IDEAL = "ideal"
    SEPA_DEBIT = "sepa_debit"
    WALLET = "wallet"


class CardBrand(StrEnum):
    """Card networks, for routing rules and fee overrides."""

    VISA = "visa"
    MASTERCARD = "mastercard"
    AMEX = "amex"
    DISCOVER = "discover"
    JCB = "jcb"
    UNIONPAY = "unionpay"
    DINERS = "diners"
    MAESTRO = "maestro"
    RUPAY = "rupay"


class Funding(StrEnum):
    """Card funding type (debit cards are often cheaper to acquire)."""

    CREDIT = "credit"
    DEBIT = "debit"
    PREPAID = "prepaid"


# -- validated scalar types ---------------------------------------------------------------------

_COUNTRY = re.compile(r"[A-Z]{2}")
_PAN_LIKE = re.compile(r"\d[\d -]{10,22}\d")


def _luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def looks_like_card_number(text: str) -> bool:
    """True for 12-19 digits (spaces/dashes allowed) that pass the Luhn check."""
    if not _PAN_LIKE.fullmatch(text):
        return False
    digits = re.sub(r"[ -]", "", text)
    return 12 <= len(digits) <= 19 and _luhn_valid(digits)


# Digits glued to letters are identifiers (PayPal's "0VF52814937998046"), not card numbers.
_DIGIT_RUN = re.compile(r"(?<![\w.])\d(?:[ -]?\d){11,18}(?![\w.])")


def contains_card_number(text: str) -> bool:
    """True when free text holds a Luhn-valid 12-19 digit run anywhere."""
    return any(looks_like_card_number(m.group(0)) for m in _DIGIT_RUN.finditer(text))


def _country(value: str) -> str:
    if not _COUNTRY.fullmatch(value):
        raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code like 'DE'")
    return value


def _currency(value: str) -> str:
    if value not in EXPONENTS:
        hint = ""
        if value.upper() in EXPONENTS:
            hint = f" (codes are upper case: {value.upper()!r})"
        raise ValueError(f"{value!r} is not an active ISO 4217 currency code{hint}")
    return value


Country = Annotated[str, AfterValidator(_country)]
CurrencyCode = Annotated[str, AfterValidator(_currency)]
PositiveAmount = Annotated[StrictInt, Field(gt=0, le=MAX_PAYMENT_MINOR)]


# -- commands (untrusted input) -----------------------------------------------------------------


class PaymentMethod(BaseModel):
    """A tokenized payment method. Raw card numbers are refused: tokenize them first."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: PaymentMethodType = PaymentMethodType.CARD
    token: str = Field(min_length=1, max_length=255)
    brand: CardBrand | None = None
    funding: Funding | None = None
    issuer_country: Country | None = None
    last4: Annotated[str, Field(pattern=r"^\d{4}$")] | None = None
    # When providers hold different tokens for the same card (no network token), the merchant
    # passes them here, keyed by provider account; routing then only considers those accounts.
    provider_tokens: dict[str, Annotated[str, Field(min_length=1, max_length=255)]] = Field(
        default_factory=dict
    )

    @field_validator("token")
    @classmethod
    def _no_card_numbers(cls, token: str) -> str:
        if looks_like_card_number(token):
            raise ValueError(
                "looks like a raw card number; gatewayhub accepts only provider or vault tokens"
            )
        return token

    @field_validator("provider_tokens")
    @classmethod
    def _no_card_numbers_in_tokens(cls, tokens: dict[str, str]) -> dict[str, str]:
        for account, token in tokens.items():
            if looks_like_card_number(token):
                raise ValueError(f"provider_tokens[{account}] looks like a raw card number")
        return tokens

    def token_for(self, account: str) -> str:
        """The token to send to `account`."""
        return self.provider_tokens.get(account, self.token)


class AuthorizeRequest(BaseModel):
    """Take a payment: authorize, and capture at once unless `capture` is manual."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    amount: PositiveAmount
    currency: CurrencyCode
    payment_method: PaymentMethod
    capture: CaptureMode = CaptureMode.AUTOMATIC
    reference: str | None = Field(default=None, max_length=128)
    description: str | None = Field(default=None, max_length=255)
    customer_country: Country | None = None
    return_url: Annotated[str, Field(max_length=2048, pattern=r"^https?://")] | None = None
    metadata: dict[Annotated[str, Field(max_length=40)], Annotated[str, Field(max_length=500)]] = (
        Field(default_factory=dict, max_length=50)
    )
    provider: str | None = Field(default=None, description="pin the payment to one account")

    @field_validator("reference", "description")
    @classmethod
    def _no_card_numbers_in_text(cls, text: str | None) -> str | None:
        if text is not None and contains_card_number(text):
            raise ValueError("contains what looks like a card number; card data is never stored")
        return text

    @field_validator("metadata")
    @classmethod
    def _no_card_numbers_in_metadata(cls, metadata: dict[str, str]) -> dict[str, str]:
        for key, value in metadata.items():
            if contains_card_number(value) or contains_card_number(key):
                raise ValueError(
                    f"metadata[{key!r}] looks like it holds a card number; "
                    "card data is never stored"
                )
        return metadata

    @property
    def money(self) -> Money:
        """The amount as Money."""
        return Money(self.amount, self.currency)


class CaptureRequest(BaseModel):
    """Capture an authorized payment, fully (no amount) or partially."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    amount: PositiveAmount | None = None
    final: bool = True


class RefundRequest(BaseModel):
    """Refund a captured payment, fully (no amount) or partially; several refunds may follow."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    amount: PositiveAmount | None = None
    reason: str | None = Field(default=None, max_length=255)


# -- calls (core -> adapter) --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuthorizeCall:
    """Authorize `money`; `capture` True means a purchase. `key` is the provider idempotency key."""

    payment_id: str
    key: str
    money: Money
    capture: bool
    method: PaymentMethod
    token: str
    reference: str | None = None
    description: str | None = None
    return_url: str | None = None
    customer_country: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)
    # When the attempt was first recorded: the same for every retry and after a restart, so
    # a provider that wants an absolute order expiry in the body (Alipay, WeChat Pay) can
    # derive it from this and keep same-key replays byte-identical. None outside the core.
    started_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class CaptureCall:
    """Capture `money` of an authorization; `final` releases what remains."""

    payment_id: str
    key: str
    provider_reference: str
    money: Money
    final: bool = True


@dataclass(frozen=True, slots=True)
class VoidCall:
    """Release an authorization. `money` is the authorized amount (some providers need it)."""

    payment_id: str
    key: str
    provider_reference: str
    money: Money


@dataclass(frozen=True, slots=True)
class RefundCall:
    """Refund `money` of a captured payment."""

    payment_id: str
    refund_id: str
    key: str
    provider_reference: str
    money: Money
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class RetrieveCall:
    """Look a payment up. `provider_reference` may be None when the answer never arrived."""

    payment_id: str
    key: str
    money: Money
    provider_reference: str | None = None


# -- results (adapter -> core) ------------------------------------------------------------------


class ProviderStatus(StrEnum):
    """A provider's payment status, normalized. Anything unrecognized is `pending`."""

    AUTHORIZED = "authorized"
    CAPTURED = "captured"
    CANCELED = "canceled"
    DECLINED = "declined"
    REQUIRES_ACTION = "requires_action"
    PENDING = "pending"
    NOT_FOUND = "not_found"  # a lookup proved the provider has no such payment


@dataclass(frozen=True, slots=True)
class NextAction:
    """What the customer must do next: follow a redirect, scan a QR code, run an SDK step."""

    type: str  # "redirect", "display_qr", "sdk"
    url: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PaymentResult:
    """What a provider said about a payment.

    `money` is the amount the provider echoed for this operation (checked against what was
    sent); `captured` and `refunded` are the provider's running totals when it reports them.
    """

    status: ProviderStatus
    provider_reference: str | None = None
    money: Money | None = None
    captured: Money | None = None
    refunded: Money | None = None
    decline: Decline | None = None
    next_action: NextAction | None = None
    raw_status: str = ""
    fee: Money | None = None


@dataclass(frozen=True, slots=True)
class RefundResult:
    """What a provider said about a refund."""

    status: RefundStatus
    provider_reference: str | None = None
    money: Money | None = None
    decline: Decline | None = None
    raw_status: str = ""


class EventKind(StrEnum):
    """Normalized provider webhook events."""

    AUTHORIZED = "authorized"
    CAPTURED = "captured"
    CANCELED = "canceled"
    FAILED = "failed"
    REQUIRES_ACTION = "requires_action"
    PENDING = "pending"
    REFUND_SUCCEEDED = "refund_succeeded"
    REFUND_FAILED = "refund_failed"
    UNHANDLED = "unhandled"  # a type we do not act on; acknowledged and recorded


@dataclass(frozen=True, slots=True)
class ProviderEvent:
    """One event from a provider webhook, normalized.

    A payment is found by `provider_reference`, or failing that by `attempt_key` (the
    idempotency key / merchant reference we sent), or by `payment_id` when the provider
    echoes our own reference.
    """

    event_id: str
    kind: EventKind
    raw_type: str
    provider_reference: str | None = None
    attempt_key: str | None = None
    payment_id: str | None = None
    money: Money | None = None  # the amount this event is about (this capture, this refund)
    captured: Money | None = None  # the provider's running captured total, when it sends one
    refund_reference: str | None = None
    refund_id: str | None = None
    decline: Decline | None = None
    occurred_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class WebhookAck:
    """The response a provider expects once its webhook is safely stored."""

    status_code: int = 200
    body: bytes = b""
    media_type: str = "text/plain"
