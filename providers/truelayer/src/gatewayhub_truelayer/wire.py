"""TrueLayer Payments API v3 objects. Requests we build forbid extra fields; responses ignore
extra fields. Statuses and reasons stay strings; the tables in `transform`/`errors` map them
and anything unknown reads as pending."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Response(BaseModel):
    model_config = ConfigDict(extra="ignore")


# -- requests -------------------------------------------------------------------------------


class ProviderSelection(_Request):
    """The payer picks their bank on TrueLayer's page."""

    type: Literal["user_selected"] = "user_selected"


class MerchantAccountBeneficiary(_Request):
    """Pay into the merchant's TrueLayer merchant account (closed loop)."""

    type: Literal["merchant_account"] = "merchant_account"
    merchant_account_id: str
    reference: str | None = Field(default=None, max_length=18)


class BankTransfer(_Request):
    """`payment_method` of a single payment."""

    type: Literal["bank_transfer"] = "bank_transfer"
    provider_selection: ProviderSelection = Field(default_factory=ProviderSelection)
    beneficiary: MerchantAccountBeneficiary


class User(_Request):
    """The payer: a name and an email or a phone number."""

    name: str
    email: str | None = None
    phone: str | None = None


class CreatePayment(_Request):
    """POST /v3/payments."""

    amount_in_minor: int
    currency: str
    payment_method: BankTransfer
    user: User
    metadata: dict[str, str] = Field(max_length=10)


class CreateRefund(_Request):
    """POST /v3/payments/{id}/refunds."""

    amount_in_minor: int
    reference: str = Field(max_length=18)
    metadata: dict[str, str] = Field(max_length=10)


# -- responses ------------------------------------------------------------------------------


class TokenResponse(_Response):
    """POST /connect/token."""

    access_token: str = Field(min_length=1)
    expires_in: int = Field(gt=0)
    token_type: str = "Bearer"  # noqa: S105 - the scheme name, not a secret


class CreatedUser(_Response):
    """The payer as TrueLayer identifies them."""

    id: str | None = None


class CreatedPayment(_Response):
    """The 201 answer to POST /v3/payments (older API versions omit `status`)."""

    id: str
    resource_token: str
    user: CreatedUser | None = None
    status: str = "authorization_required"
    failure_stage: str | None = None
    failure_reason: str | None = None


class Payment(_Response):
    """GET /v3/payments/{id}."""

    id: str
    amount_in_minor: int
    currency: str
    status: str
    created_at: str | None = None
    failure_stage: str | None = None
    failure_reason: str | None = None
    metadata: dict[str, Any] | None = None


class CreatedRefund(_Response):
    """The 202 answer to POST /v3/payments/{id}/refunds."""

    id: str


class Refund(_Response):
    """GET /v3/payments/{id}/refunds/{refund_id} (and the items of the refund list)."""

    id: str
    amount_in_minor: int
    currency: str
    status: str
    failure_reason: str | None = None
    metadata: dict[str, Any] | None = None


class RefundList(_Response):
    """GET /v3/payments/{id}/refunds."""

    items: list[Refund]


class Problem(_Response):
    """An RFC 7807 problem+json error body."""

    type: str | None = None
    title: str = ""
    status: int | None = None
    detail: str | None = None
    trace_id: str | None = None
    errors: dict[str, Any] | None = None


class Event(_Response):
    """A webhook body: common fields plus the type's own (kept loosely, read in transform)."""

    model_config = ConfigDict(extra="allow")

    type: str
    event_id: str = Field(min_length=1)
    event_version: int | str | None = None
    payment_id: str | None = None
    refund_id: str | None = None
    failure_stage: str | None = None
    failure_reason: str | None = None
    metadata: dict[str, Any] | None = None
