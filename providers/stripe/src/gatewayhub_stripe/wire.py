"""Stripe's objects on the wire.

Requests are form-encoded (`application/x-www-form-urlencoded`) with bracket notation for
nested fields (`metadata[key]=value`, `expand[]=latest_charge`); `form` flattens our request
models into exactly that. Request models forbid extra fields (we build them); response
models ignore extra fields (Stripe adds fields in every API version). Statuses stay strings:
the tables in `transform` map them, and anything unknown reads as pending.
"""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict, Field

# -- requests -----------------------------------------------------------------------------------


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AutomaticPaymentMethods(_Request):
    """`automatic_payment_methods`: with redirects off, a server-side confirm needs no
    `return_url` (cards still authenticate, through `use_stripe_sdk`)."""

    enabled: bool
    allow_redirects: Literal["always", "never"] | None = None


class PaymentIntentCreate(_Request):
    """POST /v1/payment_intents (created and confirmed in one call)."""

    amount: int
    currency: str
    payment_method: str
    confirm: bool
    capture_method: Literal["automatic", "manual"]
    return_url: str | None = None
    automatic_payment_methods: AutomaticPaymentMethods | None = None
    description: str | None = None
    metadata: dict[str, str]


class PaymentIntentCapture(_Request):
    """POST /v1/payment_intents/{id}/capture."""

    amount_to_capture: int
    final_capture: bool | None = None


RefundReason = Literal["duplicate", "fraudulent", "requested_by_customer"]


class RefundCreate(_Request):
    """POST /v1/refunds."""

    payment_intent: str
    amount: int
    reason: RefundReason | None = None
    metadata: dict[str, str]


def form_pairs(model: BaseModel) -> list[tuple[str, str]]:
    """The model as form pairs in Stripe's bracket notation; None fields are left out."""
    pairs: list[tuple[str, str]] = []
    _flatten("", model.model_dump(exclude_none=True), pairs)
    return pairs


def form(model: BaseModel) -> bytes:
    """The url-encoded body of `model`."""
    return urlencode(form_pairs(model)).encode()


def _flatten(prefix: str, value: Any, out: list[tuple[str, str]]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(f"{prefix}[{key}]" if prefix else str(key), item, out)
    elif isinstance(value, list):
        for item in value:
            _flatten(f"{prefix}[]", item, out)
    elif isinstance(value, bool):
        out.append((prefix, "true" if value else "false"))
    else:
        out.append((prefix, str(value)))


# -- responses ----------------------------------------------------------------------------------


class _Response(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Refund(_Response):
    """A refund object."""

    id: str
    object: Literal["refund"] = "refund"
    amount: int
    currency: str
    status: str | None = None
    payment_intent: str | None = None
    charge: str | None = None
    failure_reason: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)


class RefundList(_Response):
    """`charge.refunds` when Stripe includes it (older API versions)."""

    data: list[Refund] = Field(default_factory=list)


class Charge(_Response):
    """A charge (PaymentIntent's `latest_charge` when expanded, or a `charge.*` event)."""

    id: str
    object: Literal["charge"] = "charge"
    amount: int
    amount_captured: int = 0
    amount_refunded: int = 0
    currency: str
    captured: bool = False
    refunded: bool = False
    status: str | None = None
    payment_intent: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)
    refunds: RefundList | None = None


class PaymentError(_Response):
    """`last_payment_error` of a PaymentIntent, or the `error` of an error response."""

    type: str | None = None
    code: str | None = None
    decline_code: str | None = None
    message: str | None = None
    param: str | None = None
    advice_code: str | None = None
    network_decline_code: str | None = None
    network_advice_code: str | None = None
    charge: str | None = None


class NextActionRedirect(_Response):
    """`next_action.redirect_to_url`."""

    url: str
    return_url: str | None = None


class NextActionWire(_Response):
    """`next_action`: what the customer must do (3-D Secure, wallets, vouchers...)."""

    type: str
    redirect_to_url: NextActionRedirect | None = None


class PaymentIntent(_Response):
    """A PaymentIntent."""

    id: str
    object: Literal["payment_intent"] = "payment_intent"
    status: str
    amount: int
    amount_capturable: int = 0
    amount_received: int = 0
    currency: str
    capture_method: str | None = None
    cancellation_reason: str | None = None
    latest_charge: Charge | str | None = None
    next_action: NextActionWire | None = None
    last_payment_error: PaymentError | None = None
    metadata: dict[str, str] = Field(default_factory=dict)
    livemode: bool | None = None


class SearchResult(_Response):
    """GET /v1/payment_intents/search."""

    object: Literal["search_result"] = "search_result"
    data: list[PaymentIntent]
    has_more: bool = False


class ApiError(PaymentError):
    """The `error` object of a non-2xx answer (a 402 decline carries the PaymentIntent)."""

    payment_intent: PaymentIntent | None = None


class ErrorBody(_Response):
    """A non-2xx body."""

    error: ApiError


class EventData(_Response):
    """`data` of an event."""

    object: dict[str, Any]


class Event(_Response):
    """A webhook event (snapshot events, `object: "event"`)."""

    id: str
    object: Literal["event"]
    type: str
    created: int
    livemode: bool | None = None
    api_version: str | None = None
    data: EventData
