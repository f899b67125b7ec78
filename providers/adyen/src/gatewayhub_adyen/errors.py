"""Adyen's refusal reasons in gatewayhub's vocabulary: one plain table.

A refused payment is HTTP 200 with `resultCode` Refused/Error/Cancelled, `refusalReasonCode`
(a number as a string) and `refusalReason` (its text). The synchronous answer is translated
by code; a webhook carries only the text (`reason`), which `REASON_TEXT` turns back into the
code. Codes per docs.adyen.com/development-resources/refusal-reasons (2-22 confirmed there;
23-46 from the Adyen sheet, see the README).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from gatewayhub.declines import decline_table
from gatewayhub.errors import Decision, DeclineCode
from gatewayhub_adyen.wire import RefundReason

C = DeclineCode

# refusalReasonCode -> (refusalReason text, canonical decline)
REFUSALS: Mapping[
    str,
    tuple[str, DeclineCode | tuple[DeclineCode, Decision] | tuple[DeclineCode, Decision, bool]],
] = MappingProxyType(
    {
        "2": ("Refused", C.GENERIC_DECLINE),
        "3": ("Referral", C.GENERIC_DECLINE),
        # a technical failure at the acquirer: nothing moved, another acquirer may do better
        "4": ("Acquirer Error", (C.PROCESSING_ERROR, Decision.FAILOVER)),
        "5": ("Blocked Card", C.CARD_BLOCKED),
        "6": ("Expired Card", C.EXPIRED_CARD),
        "7": ("Invalid Amount", C.INVALID_REQUEST),
        "8": ("Invalid Card Number", C.INVALID_CARD),
        "9": ("Issuer Unavailable", C.ISSUER_UNAVAILABLE),
        "10": ("Not supported", C.GENERIC_DECLINE),
        # 3-D Secure was tried and failed: asking again is the customer's call, not ours
        "11": ("3D Not Authenticated", (C.AUTHENTICATION_REQUIRED, Decision.FINAL)),
        "12": ("Not enough balance", C.INSUFFICIENT_FUNDS),
        "14": ("Acquirer Fraud", C.FRAUD_SUSPECTED),
        "15": ("Cancelled", C.GENERIC_DECLINE),
        "16": ("Shopper Cancelled", C.GENERIC_DECLINE),
        "17": ("Invalid Pin", C.GENERIC_DECLINE),
        "18": ("Pin tries exceeded", C.LIMIT_EXCEEDED),
        "19": ("Pin validation not possible", C.GENERIC_DECLINE),
        "20": ("FRAUD", C.FRAUD_SUSPECTED),
        "21": ("Not Submitted", C.INVALID_REQUEST),
        "22": ("FRAUD-CANCELLED", C.FRAUD_SUSPECTED),
        "23": ("Transaction Not Permitted", C.GENERIC_DECLINE),
        "24": ("CVC Declined", C.INCORRECT_CVC),
        "25": ("Restricted Card", C.CARD_BLOCKED),
        "26": ("Revocation Of Auth", (C.DO_NOT_HONOR, Decision.FINAL, True)),
        "27": ("Declined Non Generic", C.DO_NOT_HONOR),
        "28": ("Withdrawal amount exceeded", C.LIMIT_EXCEEDED),
        "29": ("Withdrawal count exceeded", C.LIMIT_EXCEEDED),
        "31": ("Issuer Suspected Fraud", C.FRAUD_SUSPECTED),
        "32": ("AVS Declined", C.GENERIC_DECLINE),
        "38": ("Authentication required", C.AUTHENTICATION_REQUIRED),
        "42": ("3DS Authentication Error", (C.AUTHENTICATION_REQUIRED, Decision.FINAL)),
        "46": (
            "Transaction blocked by Adyen to prevent excessive retry fees",
            (C.LIMIT_EXCEEDED, Decision.FINAL, True),
        ),
    }
)

CODES = decline_table(
    {
        **{code: entry for code, (_, entry) in REFUSALS.items()},
        # a redirect payment the shopper never finished (OFFER_CLOSED webhook)
        "offer_closed": C.GENERIC_DECLINE,
    }
)

# The refusal text of a webhook `reason` (case-insensitive) -> its code.
REASON_TEXT: Mapping[str, str] = MappingProxyType(
    {text.lower(): code for code, (text, _) in REFUSALS.items()}
)

# Adyen `errorCode` meaning "request already processed or in progress": replay later.
IN_PROGRESS = "704"
# `errorType`s of requests refused before any processing.
REFUSED_BEFORE_PROCESSING = frozenset({"validation", "configuration", "security"})

# Refund reasons Adyen takes as `merchantRefundReason` (our free text otherwise stays ours).
REFUND_REASONS: Mapping[str, RefundReason] = MappingProxyType(
    {
        "fraudulent": "FRAUD",
        "fraud": "FRAUD",
        "requested_by_customer": "CUSTOMER REQUEST",
        "customer request": "CUSTOMER REQUEST",
        "return": "RETURN",
        "duplicate": "DUPLICATE",
    }
)


def code_for_reason(reason: str | None) -> str:
    """The refusal code of a webhook's reason text (the text itself when unknown)."""
    text = (reason or "").strip()
    return REASON_TEXT.get(text.lower(), text or "2")
