"""Adyen's Checkout API v71 and standard webhook objects on the wire (JSON).

Requests forbid extra fields (we build them, and Adyen's schemas refuse unknown ones);
responses ignore extra fields (Adyen adds fields without notice). Result codes, event codes
and statuses stay strings: the tables in `transform` map them, unknown ones read as pending.
Field names are Adyen's own (camelCase), so models and Adyen's schemas read alike.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Amount(_Request):
    """`{"currency", "value"}`: value in Adyen's minor units."""

    currency: str
    value: int


class StoredCard(_Request):
    """`paymentMethod` for a card stored at Adyen (the gatewayhub token)."""

    type: Literal["scheme"] = "scheme"
    storedPaymentMethodId: str = Field(max_length=64)


class PaymentRequest(_Request):
    """POST /payments."""

    merchantAccount: str
    reference: str
    amount: Amount
    paymentMethod: StoredCard
    returnUrl: str
    shopperInteraction: Literal["Ecommerce", "ContAuth"] = "Ecommerce"
    recurringProcessingModel: Literal["CardOnFile", "UnscheduledCardOnFile"] = "CardOnFile"
    channel: Literal["Web"] = "Web"
    shopperReference: str | None = Field(default=None, min_length=3, max_length=256)
    merchantOrderReference: str | None = None
    countryCode: str | None = None
    additionalData: dict[str, str] | None = None


class CaptureRequest(_Request):
    """POST /payments/{paymentPspReference}/captures."""

    merchantAccount: str
    amount: Amount
    reference: str


class CancelRequest(_Request):
    """POST /payments/{paymentPspReference}/cancels."""

    merchantAccount: str
    reference: str


RefundReason = Literal["FRAUD", "CUSTOMER REQUEST", "RETURN", "DUPLICATE", "OTHER"]


class RefundRequest(_Request):
    """POST /payments/{paymentPspReference}/refunds."""

    merchantAccount: str
    amount: Amount
    reference: str
    merchantRefundReason: RefundReason | None = None


# -- responses ----------------------------------------------------------------------------------


class _Response(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class AmountOut(_Response):
    """An amount in an answer."""

    currency: str
    value: int


class PaymentResponse(_Response):
    """The answer to POST /payments (HTTP 200 whether approved or refused)."""

    resultCode: str | None = None
    pspReference: str | None = None
    merchantReference: str | None = None
    amount: AmountOut | None = None
    action: dict[str, Any] | None = None
    refusalReason: str | None = None
    refusalReasonCode: str | None = None
    additionalData: dict[str, str] = Field(default_factory=dict)


class ModificationResponse(_Response):
    """The 201 answer to captures, cancels and refunds: accepted, outcome by webhook."""

    pspReference: str
    paymentPspReference: str | None = None
    status: str
    reference: str | None = None
    amount: AmountOut | None = None


class ServiceError(_Response):
    """A refused request (HTTP 4xx/5xx)."""

    status: int | None = None
    errorCode: str | None = None
    errorType: str | None = None
    message: str | None = None
    pspReference: str | None = None


class NotificationItem(_Response):
    """`NotificationRequestItem` of a standard webhook."""

    eventCode: str
    success: str
    pspReference: str
    originalReference: str | None = None
    merchantReference: str | None = None
    merchantAccountCode: str | None = None
    amount: AmountOut | None = None
    eventDate: str | None = None
    reason: str | None = None
    additionalData: dict[str, Any] = Field(default_factory=dict)
