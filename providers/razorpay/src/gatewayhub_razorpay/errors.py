"""Razorpay's failure codes in gatewayhub's vocabulary: one plain table.

A failed payment carries `error_code` (BAD_REQUEST_ERROR, GATEWAY_ERROR, SERVER_ERROR) and the
precise `error_reason` (razorpay/markdown-docs `errors/payments/{cards,upi}.md`); the table is
keyed by the reason, and by the code when no reason came. Error bodies of refused API calls
use the same table (`input_validation_failed`, ...). Reasons missing here become a final
generic decline, logged and counted, so the table grows.
"""

from __future__ import annotations

from gatewayhub.declines import decline_table
from gatewayhub.errors import Decision, DeclineCode

C = DeclineCode

# Our own code for amounts Razorpay cannot take (three-decimal currencies must end in 0).
AMOUNT_PRECISION = "gatewayhub_amount_precision"
# ... and for a refund asked of an order that has no captured payment.
NO_CAPTURED_PAYMENT = "gatewayhub_no_captured_payment"

CODES = decline_table(
    {
        # error_reason of failed payments
        "insufficient_funds": C.INSUFFICIENT_FUNDS,
        "card_expired": C.EXPIRED_CARD,
        "incorrect_cvv": C.INCORRECT_CVC,
        "card_declined": C.DO_NOT_HONOR,
        "payment_failed": C.GENERIC_DECLINE,
        "payment_declined": C.GENERIC_DECLINE,
        "payment_risk_check_failed": C.FRAUD_SUSPECTED,
        "debit_instrument_blocked": C.CARD_BLOCKED,
        "debit_instrument_inactive": (C.INVALID_CARD, Decision.FINAL, False),
        "card_not_enrolled": (C.INVALID_CARD, Decision.FINAL, False),
        "card_disabled_for_online_payments": (C.INVALID_CARD, Decision.FINAL, False),
        "transaction_limit_exceeded": C.LIMIT_EXCEEDED,
        "authentication_failed": (C.AUTHENTICATION_REQUIRED, Decision.FINAL),
        "incorrect_otp": (C.AUTHENTICATION_REQUIRED, Decision.FINAL),
        "payment_cancelled": C.GENERIC_DECLINE,
        "payment_timed_out": C.GENERIC_DECLINE,
        "payment_collect_request_expired": C.GENERIC_DECLINE,
        "invalid_vpa": (C.INVALID_CARD, Decision.FINAL, False),
        "vpa_resolution_failed": C.PROCESSING_ERROR,
        "credit_failed": C.PROCESSING_ERROR,
        "bank_technical_error": C.ISSUER_UNAVAILABLE,
        "gateway_technical_error": C.PROCESSING_ERROR,
        # error bodies of refused API calls (nothing moved)
        # (Razorpay's own advice: a validation refusal is a bug, but nothing moved, so
        # another provider may take the payment)
        "input_validation_failed": (C.INVALID_REQUEST, Decision.FAILOVER),
        "BAD_REQUEST_ERROR": C.INVALID_REQUEST,
        "GATEWAY_ERROR": C.PROCESSING_ERROR,
        "SERVER_ERROR": C.PROCESSING_ERROR,
        # a refund Razorpay marked failed (e.g. a normal refund of a payment > 6 months old)
        "refund_failed": (C.PROCESSING_ERROR, Decision.FINAL),
        # ours: refused before sending, another provider may take the amount
        AMOUNT_PRECISION: (C.INVALID_REQUEST, Decision.FAILOVER),
        NO_CAPTURED_PAYMENT: C.INVALID_REQUEST,
    }
)
