"""Checkout.com's objects (Unified Payments API, the NAS OpenAPI document).

We build requests (extra fields forbidden) and read responses (extra fields ignored:
Checkout.com adds fields without notice). Statuses stay strings; the tables in `transform`
map them, anything unknown to pending.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

_REQUEST = ConfigDict(extra="forbid", populate_by_name=True)
_RESPONSE = ConfigDict(extra="ignore", populate_by_name=True)


class TokenSource(BaseModel):
    """A Checkout.com card token (`tok_...`, from Frames or the Tokens API)."""

    model_config = _REQUEST

    type: Literal["token"] = "token"
    token: str


class IdSource(BaseModel):
    """A stored payment source (`src_...`)."""

    model_config = _REQUEST

    type: Literal["id"] = "id"
    id: str


class ThreeDSRequest(BaseModel):
    """The `3ds` object of a payment request."""

    model_config = _REQUEST

    enabled: bool


class PaymentRequest(BaseModel):
    """POST /payments."""

    model_config = _REQUEST

    source: TokenSource | IdSource
    amount: int
    currency: str
    reference: str
    description: str | None = None
    capture: bool
    processing_channel_id: str | None = None
    three_ds: ThreeDSRequest | None = Field(default=None, alias="3ds")
    success_url: str | None = None
    failure_url: str | None = None
    metadata: dict[str, str]


class CaptureRequest(BaseModel):
    """POST /payments/{id}/captures."""

    model_config = _REQUEST

    amount: int
    capture_type: Literal["Final", "NonFinal"]
    reference: str
    metadata: dict[str, str]


class VoidRequest(BaseModel):
    """POST /payments/{id}/voids."""

    model_config = _REQUEST

    reference: str
    metadata: dict[str, str]


class RefundRequest(BaseModel):
    """POST /payments/{id}/refunds."""

    model_config = _REQUEST

    amount: int
    reference: str
    metadata: dict[str, str]


class Link(BaseModel):
    """A `_links` entry."""

    model_config = _RESPONSE

    href: str


class Balances(BaseModel):
    """`balances` of a payment, in Checkout.com's amount scale."""

    model_config = _RESPONSE

    total_authorized: int = 0
    total_captured: int = 0
    total_refunded: int = 0
    total_voided: int = 0


class Payment(BaseModel):
    """A payment as POST /payments (201 and 202) and GET /payments/{id} return it."""

    model_config = _RESPONSE

    id: str
    status: str = ""
    amount: int | None = None
    currency: str | None = None
    approved: bool | None = None
    response_code: str | None = None
    response_summary: str | None = None
    reference: str | None = None
    balances: Balances | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    links: dict[str, Link] = Field(default_factory=dict, alias="_links")


class ActionAccepted(BaseModel):
    """The 202 answer to a capture, void or refund."""

    model_config = _RESPONSE

    action_id: str
    reference: str | None = None


class ErrorBody(BaseModel):
    """A refused request (422, and some 4xx)."""

    model_config = _RESPONSE

    request_id: str | None = None
    error_type: str | None = None
    error_codes: list[str] = Field(default_factory=list)


class EventData(BaseModel):
    """The `data` of a payment webhook."""

    model_config = _RESPONSE

    id: str | None = None
    action_id: str | None = None
    amount: int | None = None
    currency: str | None = None
    approved: bool | None = None
    status: str | None = None
    response_code: str | None = None
    response_summary: str | None = None
    reference: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)


class Event(BaseModel):
    """A webhook: one event per delivery."""

    model_config = _RESPONSE

    id: str
    type: str
    created_on: datetime | None = None
    data: EventData = Field(default_factory=EventData)
