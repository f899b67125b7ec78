"""Razorpay's objects (API v1). Requests we build forbid extra fields; responses ignore
extra fields (Razorpay adds fields without notice). Statuses stay strings: the tables in
`transform` map them, and anything unknown reads as pending.

`notes` is a JSON object when set, but Razorpay sends an empty *array* (`"notes": []`)
when there are none, so response models accept both.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Response(BaseModel):
    model_config = ConfigDict(extra="ignore")


Notes = dict[str, Any] | list[Any]


def note(notes: Notes | None, name: str) -> str | None:
    """The note `name` as a string, if the notes are an object that holds it."""
    if isinstance(notes, dict):
        value = notes.get(name)
        if value is not None:
            return str(value)
    return None


# -- requests -------------------------------------------------------------------------------


class CaptureOptions(_Request):
    """How long an authorized payment of the order may wait for its capture (minutes)."""

    automatic_expiry_period: int | None = None
    manual_expiry_period: int | None = None
    refund_speed: Literal["normal", "optimum"] = "normal"


class PaymentSettings(_Request):
    """The `payment` object of an order: the capture mode of its payments."""

    capture: Literal["automatic", "manual"]
    capture_options: CaptureOptions


class OrderRequest(_Request):
    """POST /v1/orders."""

    amount: int
    currency: str
    receipt: str = Field(max_length=40)
    notes: dict[str, str] = Field(max_length=15)
    payment: PaymentSettings


class CaptureRequest(_Request):
    """POST /v1/payments/{id}/capture: both fields are mandatory."""

    amount: int
    currency: str


class RefundRequest(_Request):
    """POST /v1/payments/{id}/refund (with the `X-Refund-Idempotency` header)."""

    amount: int
    speed: Literal["normal", "optimum"] = "normal"
    receipt: str = Field(max_length=40)
    notes: dict[str, str] = Field(max_length=15)


# -- responses ------------------------------------------------------------------------------


class Order(_Response):
    """An order entity."""

    id: str
    amount: int
    currency: str
    status: str
    amount_paid: int = 0
    amount_due: int | None = None
    receipt: str | None = None
    attempts: int = 0
    notes: Notes | None = None
    created_at: int | None = None


class OrderList(_Response):
    """A collection of orders (GET /v1/orders?receipt=...)."""

    count: int = 0
    items: list[Order]


class Payment(_Response):
    """A payment entity."""

    id: str
    amount: int
    currency: str
    status: str
    order_id: str | None = None
    captured: bool = False
    amount_refunded: int = 0
    refund_status: str | None = None
    method: str | None = None
    fee: int | None = None
    tax: int | None = None
    notes: Notes | None = None
    error_code: str | None = None
    error_description: str | None = None
    error_source: str | None = None
    error_step: str | None = None
    error_reason: str | None = None
    created_at: int | None = None


class PaymentList(_Response):
    """A collection of payments (GET /v1/orders/{id}/payments)."""

    count: int = 0
    items: list[Payment]


class Refund(_Response):
    """A refund entity."""

    id: str
    amount: int
    currency: str | None = None
    payment_id: str
    status: str
    receipt: str | None = None
    notes: Notes | None = None
    speed_processed: str | None = None
    created_at: int | None = None


class ApiError(_Response):
    """The `error` object of a non-2xx answer."""

    code: str
    description: str = ""
    source: str | None = None
    step: str | None = None
    reason: str | None = None
    field: str | None = None


class ErrorBody(_Response):
    """A non-2xx body."""

    error: ApiError


# -- webhooks -------------------------------------------------------------------------------


class Wrapped(_Response):
    """`{"entity": {...}}`, the way a webhook payload carries each object."""

    entity: dict[str, Any]


class EventPayload(_Response):
    """The objects an event carries (`contains` says which)."""

    payment: Wrapped | None = None
    order: Wrapped | None = None
    refund: Wrapped | None = None


class EventTime(_Response):
    """Only an event envelope's signed creation time: what the webhook age check reads,
    without validating the whole event (the payload is validated when it is parsed)."""

    created_at: int


class Event(_Response):
    """A webhook event envelope."""

    entity: Literal["event"]
    event: str
    contains: list[str] = Field(default_factory=list)
    payload: EventPayload
    created_at: int
    account_id: str | None = None
