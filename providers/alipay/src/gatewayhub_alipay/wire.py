"""Alipay's wire objects. `biz_content` models are ours (extra fields forbidden); answers and
notifications are Alipay's (extra fields ignored: Alipay adds fields without notice).
Statuses and codes stay strings; the tables in `transform` and `errors` map them, with an
explicit fallback for values we do not know."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore")


# -- biz_content of each method ---------------------------------------------------------------


class RedirectPay(_Request):
    """alipay.trade.page.pay / wap.pay / app.pay: built and signed here, paid in Alipay's
    cashier. `time_expire` ("yyyy-MM-dd HH:mm:ss", Beijing time) bounds how long the signed
    URL or order string stays payable."""

    out_trade_no: str
    total_amount: str
    subject: str
    product_code: str
    time_expire: str


class Precreate(_Request):
    """alipay.trade.precreate (face-to-face QR). `timeout_express` ("15m") counts from the QR
    code's creation; being relative, a same-key replay sends the same body."""

    out_trade_no: str
    total_amount: str
    subject: str
    timeout_express: str


class TradeRef(_Request):
    """alipay.trade.query / alipay.trade.close."""

    out_trade_no: str


class Refund(_Request):
    """alipay.trade.refund. `out_request_no` identifies one refund: several partial refunds
    need distinct values, and a retry with the same value refunds only once."""

    out_trade_no: str
    refund_amount: str
    out_request_no: str
    refund_reason: str | None = None


class RefundQuery(_Request):
    """alipay.trade.fastpay.refund.query."""

    out_trade_no: str
    out_request_no: str


# -- answers (the `<method>_response` member) ----------------------------------------------------


class Envelope(_Answer):
    """What every answer carries: `code` 10000 is success; errors add `sub_code`."""

    code: str
    msg: str = ""
    sub_code: str | None = None
    sub_msg: str | None = None


class PrecreateAnswer(Envelope):
    """alipay_trade_precreate_response."""

    out_trade_no: str | None = None
    qr_code: str | None = None


class QueryAnswer(Envelope):
    """alipay_trade_query_response."""

    trade_no: str | None = None
    out_trade_no: str | None = None
    trade_status: str | None = None
    total_amount: str | None = None
    send_pay_date: str | None = None


class CloseAnswer(Envelope):
    """alipay_trade_close_response."""

    trade_no: str | None = None
    out_trade_no: str | None = None


class RefundAnswer(Envelope):
    """alipay_trade_refund_response. `refund_fee` is the trade's CUMULATIVE refunded amount,
    not this refund's; `fund_change` Y means this request moved money."""

    trade_no: str | None = None
    out_trade_no: str | None = None
    fund_change: str | None = None
    refund_fee: str | None = None


class RefundQueryAnswer(Envelope):
    """alipay_trade_fastpay_refund_query_response: data present means the refund succeeded;
    `refund_status` is empty or REFUND_SUCCESS then."""

    out_request_no: str | None = None
    refund_amount: str | None = None
    refund_status: str | None = None


# -- asynchronous notification ------------------------------------------------------------------


class Notification(_Answer):
    """The verified form fields of a notify_url POST (trade_status_sync)."""

    notify_id: str
    notify_type: str
    notify_time: str | None = None
    app_id: str
    out_trade_no: str | None = None
    trade_no: str | None = None
    trade_status: str | None = None
    total_amount: str | None = None
    refund_fee: str | None = None
    out_biz_no: str | None = None
    gmt_payment: str | None = None
    gmt_refund: str | None = None
    gmt_close: str | None = None
    seller_id: str | None = None
