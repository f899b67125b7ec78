"""WeChat Pay API v3 objects. Request bodies are ours (extra fields forbidden); answers and
notifications are WeChat's (extra fields ignored). States stay strings; the tables in
`transform` map them with an explicit fallback."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore")


# -- requests ------------------------------------------------------------------------------------


class Amount(_Request):
    """An order amount: integer fen."""

    total: int
    currency: str


class Payer(_Request):
    """The JSAPI payer: their openid under our appid."""

    openid: str


class Order(_Request):
    """POST /v3/pay/transactions/native and /jsapi (jsapi adds `payer`)."""

    appid: str
    mchid: str
    description: str
    out_trade_no: str
    time_expire: str
    attach: str
    notify_url: str
    amount: Amount
    payer: Payer | None = None


class Close(_Request):
    """POST /v3/pay/transactions/out-trade-no/{out_trade_no}/close."""

    mchid: str


class RefundAmount(_Request):
    """A refund's amounts: this refund and the original order's total, in fen."""

    refund: int
    total: int
    currency: str


class Refund(_Request):
    """POST /v3/refund/domestic/refunds."""

    out_trade_no: str
    out_refund_no: str
    reason: str | None = None
    notify_url: str | None = None
    amount: RefundAmount


# -- answers -------------------------------------------------------------------------------------


class NativeAnswer(_Answer):
    """Native order: the URL to render as a QR code."""

    code_url: str


class PrepayAnswer(_Answer):
    """JSAPI order: the prepay session id."""

    prepay_id: str


class TransactionAmount(_Answer):
    """A transaction's amounts (fen)."""

    total: int
    currency: str = "CNY"
    payer_total: int | None = None


class Transaction(_Answer):
    """An order as queried, and the plaintext of a TRANSACTION.* notification."""

    out_trade_no: str
    trade_state: str
    trade_state_desc: str | None = None
    transaction_id: str | None = None
    attach: str | None = None
    success_time: str | None = None
    amount: TransactionAmount | None = None


class RefundAnswerAmount(_Answer):
    """A refund's amounts (fen)."""

    refund: int
    total: int | None = None
    currency: str = "CNY"


class RefundAnswer(_Answer):
    """A refund as created or queried."""

    refund_id: str
    out_refund_no: str
    out_trade_no: str | None = None
    status: str
    amount: RefundAnswerAmount


class RefundResource(_Answer):
    """The plaintext of a REFUND.* notification."""

    out_trade_no: str
    out_refund_no: str
    refund_id: str
    refund_status: str
    success_time: str | None = None
    amount: RefundAnswerAmount


class ErrorBody(_Answer):
    """A 4xx/5xx body."""

    code: str
    message: str = ""


# -- notifications -------------------------------------------------------------------------------


class Resource(_Answer):
    """The encrypted part of a notification."""

    algorithm: str
    ciphertext: str
    nonce: str
    associated_data: str = ""
    original_type: str | None = None


class Notification(_Answer):
    """A notification envelope (signed, not encrypted)."""

    id: str
    create_time: str | None = None
    event_type: str
    resource_type: str | None = None
    summary: str | None = None
    resource: Resource
