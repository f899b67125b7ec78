"""Alipay's answer codes in gatewayhub's vocabulary: which are failures (exceptions), which are
declines (values), as plain tables.

Every answer carries a gateway `code` (HTTP is 200 even for errors); business refusals are
`code` 40004 with an `ACQ.*` `sub_code`. A decline is looked up by `sub_code`, then by `code`;
anything unmapped becomes a final generic decline, logged and counted by the core.
"""

from __future__ import annotations

from gatewayhub.declines import decline_table
from gatewayhub.errors import Decision, DeclineCode, NotSent, OutcomeUnknown, ProviderError
from gatewayhub_alipay import wire

C = DeclineCode
SUCCESS = "10000"
# Our own codes for requests the adapter refuses without calling Alipay.
UNKNOWN_FLOW = "gatewayhub.unknown_flow"
NOT_CNY = "gatewayhub.currency_not_cny"

# Refused before anything happened: credentials, signature, app id, product not signed.
# No retry can fix these, and nothing moved, so the core may fail over.
AUTH_CODES = frozenset({"20001", "40006"})
AUTH_SUB_CODES = frozenset(
    {
        "isv.invalid-signature",
        "isv.invalid-signature-type",
        "isv.invalid-app-id",
        "isv.missing-signature",
        "isv.missing-app-id",
        "aop.invalid-auth-token",
        "aop.invalid-app-auth-token",
    }
)
# Alipay's "try again with the same parameters": the request may have taken effect.
UNKNOWN_CODES = frozenset({"20000"})
UNKNOWN_SUB_CODES = frozenset({"ACQ.SYSTEM_ERROR", "isp.unknow-error", "aop.unknow-error"})

CODES = decline_table(
    {
        # A trade with this out_trade_no was already paid: look it up, never create another.
        "ACQ.TRADE_HAS_SUCCESS": (C.INVALID_REQUEST, Decision.RECONCILE),
        # The trade is not in a state that allows the operation (paid, closed, finished).
        "ACQ.TRADE_STATUS_ERROR": (C.INVALID_REQUEST, Decision.RECONCILE),
        "ACQ.TRADE_HAS_CLOSE": C.INVALID_REQUEST,
        "ACQ.TRADE_HAS_FINISHED": C.INVALID_REQUEST,
        "ACQ.TRADE_NOT_EXIST": C.INVALID_REQUEST,
        # Same out_trade_no with other parameters: a bug on our side, final for this key.
        "ACQ.CONTEXT_INCONSISTENT": C.INVALID_REQUEST,
        "ACQ.TRADE_BUYER_NOT_MATCH": C.INVALID_REQUEST,
        "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL": C.INVALID_REQUEST,
        "ACQ.BUYER_BALANCE_NOT_ENOUGH": C.INSUFFICIENT_FUNDS,
        # Refunds come out of the merchant's Alipay balance.
        "ACQ.SELLER_BALANCE_NOT_ENOUGH": C.INSUFFICIENT_FUNDS,
        # Parameters Alipay rejects as built: this provider cannot take the request; another
        # one may, and nothing moved.
        "ACQ.INVALID_PARAMETER": (C.INVALID_REQUEST, Decision.FAILOVER),
        "40001": (C.INVALID_REQUEST, Decision.FAILOVER),
        "40002": (C.INVALID_REQUEST, Decision.FAILOVER),
        "40004": C.GENERIC_DECLINE,
        # Refused by the adapter before anything was sent.
        UNKNOWN_FLOW: C.INVALID_REQUEST,
        NOT_CNY: C.CURRENCY_NOT_SUPPORTED,
    }
)


def decline_code(envelope: wire.Envelope) -> str:
    """The code a decline is looked up by. Business refusals (40004) by their `ACQ.*`
    `sub_code`, so an unknown one is counted and the table grows; parameter errors (40001,
    40002) by the gateway `code` unless the sub-code is listed: their many `isv.*` sub-codes
    only name the parameter, and the gateway code already says what to do."""
    sub_code = envelope.sub_code
    if sub_code and (sub_code in CODES or envelope.code not in CODES or envelope.code == "40004"):
        return sub_code
    return envelope.code


def failure(envelope: wire.Envelope, account: str) -> ProviderError | None:
    """The exception an unsuccessful answer means, or None when it is a decline."""
    code, sub_code = envelope.code, envelope.sub_code or ""
    label = f"{account}: Alipay {code} {sub_code} {envelope.sub_msg or envelope.msg}".rstrip()
    if code in AUTH_CODES or sub_code in AUTH_SUB_CODES:
        return NotSent(label, decline_code=DeclineCode.PROVIDER_AUTH_FAILED)
    if code in UNKNOWN_CODES or sub_code in UNKNOWN_SUB_CODES:
        return OutcomeUnknown(label, decline_code=DeclineCode.PROVIDER_UNAVAILABLE)
    return None
