"""The sandbox's codes in gatewayhub's vocabulary: one plain table."""

from __future__ import annotations

from gatewayhub.declines import decline_table
from gatewayhub.errors import Decision, DeclineCode

C = DeclineCode

CODES = decline_table(
    {
        "insufficient_funds": C.INSUFFICIENT_FUNDS,
        "expired_card": C.EXPIRED_CARD,
        "incorrect_cvc": C.INCORRECT_CVC,
        "incorrect_number": C.INVALID_CARD,
        "lost_card": C.CARD_BLOCKED,
        "stolen_card": C.CARD_BLOCKED,
        "fraudulent": C.FRAUD_SUSPECTED,
        "do_not_honor": C.DO_NOT_HONOR,
        "do_not_honor_never_retry": C.DO_NOT_HONOR,
        "generic_decline": C.GENERIC_DECLINE,
        "issuer_not_available": C.ISSUER_UNAVAILABLE,
        "processing_error": C.PROCESSING_ERROR,
        "authentication_required": C.AUTHENTICATION_REQUIRED,
        "authentication_failed": (C.AUTHENTICATION_REQUIRED, Decision.FINAL),
        "card_velocity_exceeded": C.LIMIT_EXCEEDED,
        "currency_not_supported": C.CURRENCY_NOT_SUPPORTED,
        "parameter_invalid": C.INVALID_REQUEST,
        "token_invalid": C.INVALID_REQUEST,
        "amount_too_large": C.INVALID_REQUEST,
        "charge_not_capturable": C.INVALID_REQUEST,
        "charge_not_voidable": C.INVALID_REQUEST,
        "charge_not_refundable": C.INVALID_REQUEST,
        "charge_for_pending_refund_disputed": C.PROCESSING_ERROR,
    }
)
