"""PayPal's objects (Orders v2, Payments v2, Notifications v1 OpenAPI documents, and the
OAuth2 token answer).

We build requests (extra fields forbidden) and read responses (extra fields ignored:
PayPal adds fields without notice). Statuses stay strings; the tables in `transform` map
them, anything unknown to pending.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

_REQUEST = ConfigDict(extra="forbid")
_RESPONSE = ConfigDict(extra="ignore")


# -- requests -------------------------------------------------------------------------------------


class Amount(BaseModel):
    """`money`: a currency code and a decimal string."""

    model_config = _REQUEST

    currency_code: str
    value: str


class PurchaseUnitRequest(BaseModel):
    """One purchase unit (we always send exactly one)."""

    model_config = _REQUEST

    reference_id: str
    amount: Amount
    custom_id: str
    invoice_id: str
    description: str | None = None


class ExperienceContext(BaseModel):
    """`payment_source.paypal.experience_context`: the buyer-approval pages."""

    model_config = _REQUEST

    user_action: Literal["PAY_NOW", "CONTINUE"] = "PAY_NOW"
    return_url: str | None = None
    cancel_url: str | None = None
    brand_name: str | None = None
    shipping_preference: Literal["GET_FROM_FILE", "NO_SHIPPING", "SET_PROVIDED_ADDRESS"] | None = (
        None
    )


class PayPalWalletSource(BaseModel):
    """`payment_source.paypal`: buyer approval, or a vaulted PayPal wallet."""

    model_config = _REQUEST

    vault_id: str | None = None
    experience_context: ExperienceContext | None = None


class CardSource(BaseModel):
    """`payment_source.card`: a vaulted card (we never see card numbers)."""

    model_config = _REQUEST

    vault_id: str


class PaymentSource(BaseModel):
    """`payment_source` of an order."""

    model_config = _REQUEST

    paypal: PayPalWalletSource | None = None
    card: CardSource | None = None


class OrderRequest(BaseModel):
    """POST /v2/checkout/orders."""

    model_config = _REQUEST

    intent: Literal["CAPTURE", "AUTHORIZE"]
    purchase_units: list[PurchaseUnitRequest]
    payment_source: PaymentSource


class CaptureRequest(BaseModel):
    """POST /v2/payments/authorizations/{id}/capture."""

    model_config = _REQUEST

    amount: Amount
    final_capture: bool
    invoice_id: str


class RefundRequest(BaseModel):
    """POST /v2/payments/captures/{id}/refund."""

    model_config = _REQUEST

    amount: Amount
    invoice_id: str
    custom_id: str
    note_to_payer: str | None = None


# -- responses ------------------------------------------------------------------------------------


class Money(BaseModel):
    """A `money` object in an answer."""

    model_config = _RESPONSE

    currency_code: str
    value: str


class Link(BaseModel):
    """A HATEOAS link."""

    model_config = _RESPONSE

    href: str
    rel: str
    method: str | None = None


class ProcessorResponse(BaseModel):
    """Card processor details of a capture or authorization."""

    model_config = _RESPONSE

    response_code: str | None = None
    avs_code: str | None = None
    cvv_code: str | None = None
    payment_advice_code: str | None = None


class StatusDetails(BaseModel):
    """`status_details` of a capture, authorization or refund."""

    model_config = _RESPONSE

    reason: str | None = None


class Breakdown(BaseModel):
    """`seller_receivable_breakdown` of a capture."""

    model_config = _RESPONSE

    paypal_fee: Money | None = None


class RelatedIds(BaseModel):
    """`supplementary_data.related_ids`."""

    model_config = _RESPONSE

    order_id: str | None = None
    authorization_id: str | None = None
    capture_id: str | None = None


class Supplementary(BaseModel):
    """`supplementary_data` of a Payments v2 resource."""

    model_config = _RESPONSE

    related_ids: RelatedIds = Field(default_factory=RelatedIds)


class Transaction(BaseModel):
    """What captures, authorizations and refunds share."""

    model_config = _RESPONSE

    id: str
    status: str = ""
    amount: Money | None = None
    invoice_id: str | None = None
    custom_id: str | None = None
    status_details: StatusDetails | None = None
    processor_response: ProcessorResponse | None = None
    supplementary_data: Supplementary = Field(default_factory=Supplementary)
    links: list[Link] = Field(default_factory=list)


class Capture(Transaction):
    """A captured payment."""

    final_capture: bool | None = None
    seller_receivable_breakdown: Breakdown | None = None


class Authorization(Transaction):
    """An authorized payment."""

    expiration_time: datetime | None = None


class Refund(Transaction):
    """A refund."""


class Payments(BaseModel):
    """`purchase_units[].payments`."""

    model_config = _RESPONSE

    authorizations: list[Authorization] = Field(default_factory=list)
    captures: list[Capture] = Field(default_factory=list)
    refunds: list[Refund] = Field(default_factory=list)


class PurchaseUnit(BaseModel):
    """A purchase unit of an order."""

    model_config = _RESPONSE

    reference_id: str | None = None
    amount: Money | None = None
    custom_id: str | None = None
    invoice_id: str | None = None
    payments: Payments = Field(default_factory=Payments)


class Order(BaseModel):
    """An order (create, get, capture and authorize all answer with one)."""

    model_config = _RESPONSE

    id: str
    status: str = ""
    intent: str | None = None
    purchase_units: list[PurchaseUnit] = Field(default_factory=list)
    links: list[Link] = Field(default_factory=list)


class ErrorDetail(BaseModel):
    """One `details` entry of an error."""

    model_config = _RESPONSE

    issue: str | None = None
    field: str | None = None
    description: str | None = None


class ErrorBody(BaseModel):
    """A 4xx/5xx answer."""

    model_config = _RESPONSE

    name: str | None = None
    message: str | None = None
    debug_id: str | None = None
    details: list[ErrorDetail] = Field(default_factory=list)
    links: list[Link] = Field(default_factory=list)


class AccessToken(BaseModel):
    """POST /v1/oauth2/token."""

    model_config = _RESPONSE

    access_token: str
    token_type: str
    expires_in: int


class VerificationAnswer(BaseModel):
    """POST /v1/notifications/verify-webhook-signature."""

    model_config = _RESPONSE

    verification_status: str


class Event(BaseModel):
    """A webhook notification."""

    model_config = _RESPONSE

    id: str
    event_type: str
    create_time: datetime | None = None
    resource_type: str | None = None
    resource: dict[str, Any] = Field(default_factory=dict)
