"""WeChat Pay's error codes in gatewayhub's vocabulary, as one table.

WeChat's rule: 4xx = the request was refused (business or parameter error, nothing done);
500/501/503 = WeChat-side failure, retry with the same parameters. So 401 and 429 are "not
sent", 5xx is "outcome unknown" (`classify_http_failure`), and the 400/403/404 bodies
`{"code": ..., "message": ...}` are declines looked up here. A code missing from the table is
a final generic decline, logged and counted by the core.
"""

from __future__ import annotations

from gatewayhub.declines import decline_table
from gatewayhub.errors import Decision, DeclineCode

C = DeclineCode
# Our own codes for requests the adapter refuses without calling WeChat Pay.
UNKNOWN_FLOW = "gatewayhub.unknown_flow"
NOT_CNY = "gatewayhub.currency_not_cny"

CODES = decline_table(
    {
        # Configuration: the account cannot take this request; nothing moved.
        "APPID_MCHID_NOT_MATCH": (C.PROVIDER_AUTH_FAILED, Decision.FAILOVER),
        "MCH_NOT_EXISTS": (C.PROVIDER_AUTH_FAILED, Decision.FAILOVER),
        "NO_AUTH": (C.PROVIDER_AUTH_FAILED, Decision.FAILOVER),
        "SIGN_ERROR": (C.PROVIDER_AUTH_FAILED, Decision.FAILOVER),
        "PARAM_ERROR": (C.INVALID_REQUEST, Decision.FAILOVER),
        # The same out_trade_no was already used (perhaps with other parameters), or the
        # order was paid meanwhile: look it up, never create another.
        "OUT_TRADE_NO_USED": (C.INVALID_REQUEST, Decision.RECONCILE),
        "ORDERPAID": (C.INVALID_REQUEST, Decision.RECONCILE),
        "ORDER_PAID": (C.INVALID_REQUEST, Decision.RECONCILE),
        "INVALID_REQUEST": C.INVALID_REQUEST,
        "ORDER_CLOSED": C.INVALID_REQUEST,
        "ORDER_NOT_EXIST": C.INVALID_REQUEST,
        "ORDERNOTEXIST": C.INVALID_REQUEST,
        "RESOURCE_NOT_EXISTS": C.INVALID_REQUEST,
        "TRADE_OVERDUE": C.INVALID_REQUEST,
        # Refunds come out of the merchant's balance.
        "NOT_ENOUGH": C.INSUFFICIENT_FUNDS,
        "NOTENOUGH": C.INSUFFICIENT_FUNDS,
        # The payer's account cannot take the refund: retrying the same request cannot help.
        "USER_ACCOUNT_ABNORMAL": (C.PROCESSING_ERROR, Decision.FINAL),
        "FREQUENCY_LIMITED": C.RATE_LIMITED,
        # A refund WeChat closed without paying it out (refund status CLOSED).
        "REFUND_CLOSED": (C.PROCESSING_ERROR, Decision.FINAL),
        # A 付款码 payment the bank refused (trade_state PAYERROR).
        "PAYERROR": C.GENERIC_DECLINE,
        UNKNOWN_FLOW: C.INVALID_REQUEST,
        NOT_CNY: C.CURRENCY_NOT_SUPPORTED,
    }
)
