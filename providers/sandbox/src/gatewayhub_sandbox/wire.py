"""The sandbox API's objects. We build requests (extra fields forbidden) and read responses
(extra fields ignored: providers add fields without notice); unknown statuses stay strings
and the status table maps them to pending."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class ChargeRequest(BaseModel):
    """POST /v1/charges."""

    model_config = ConfigDict(extra="forbid")

    amount: int
    currency: str
    source: str
    capture: bool
    reference: str
    description: str | None = None
    return_url: str | None = None
    metadata: dict[str, str]


class CaptureRequest(BaseModel):
    """POST /v1/charges/{id}/capture."""

    model_config = ConfigDict(extra="forbid")

    amount: int
    final: bool


class RefundRequest(BaseModel):
    """POST /v1/charges/{id}/refunds."""

    model_config = ConfigDict(extra="forbid")

    amount: int
    reference: str
    reason: str | None = None


class Charge(BaseModel):
    """A charge as the sandbox returns it."""

    model_config = ConfigDict(extra="ignore")

    id: str
    status: str
    amount: int
    currency: str
    amount_captured: int = 0
    amount_refunded: int = 0
    fee: int = 0
    reference: str | None = None
    idempotency_key: str | None = None
    failure_code: str | None = None
    failure_message: str | None = None
    advice: str | None = None
    next_action: dict[str, Any] | None = None


class ChargeList(BaseModel):
    """GET /v1/charges?idempotency_key=..."""

    model_config = ConfigDict(extra="ignore")

    data: list[Charge]


class Refund(BaseModel):
    """A refund as the sandbox returns it."""

    model_config = ConfigDict(extra="ignore")

    id: str
    charge: str
    status: str
    amount: int
    currency: str
    reference: str | None = None
    failure_code: str | None = None


class ApiError(BaseModel):
    """The `error` object of a non-2xx answer."""

    model_config = ConfigDict(extra="ignore")

    type: str
    code: str
    message: str = ""
    advice: str | None = None
    charge: str | None = None


class ErrorBody(BaseModel):
    """A non-2xx body."""

    model_config = ConfigDict(extra="ignore")

    error: ApiError


class Event(BaseModel):
    """A webhook event."""

    model_config = ConfigDict(extra="ignore")

    id: str
    type: str
    created: int
    request_key: str | None = None
    data: dict[str, Any]
