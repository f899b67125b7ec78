"""Stripe's codes in gatewayhub's vocabulary, and what each error answer means.

One table keyed by Stripe's `decline_code` (when present) or `code`; hard declines are
marked there, and `advice_code=do_not_try_again` makes any decline hard (core rule).
`advice_code=try_again_later` turns a soft decline into a same-provider retry, as Stripe
advises; the core's card-network retry limit still caps it.
"""

from __future__ import annotations

from collections.abc import Mapping

from gatewayhub.declines import decline_table
from gatewayhub.errors import Decision, DeclineCode
from gatewayhub_stripe.wire import RefundReason

C = DeclineCode

CODES = decline_table(
    {
        # card_error `code` values (HTTP 402)
        "card_declined": C.GENERIC_DECLINE,
        "expired_card": C.EXPIRED_CARD,
        "incorrect_cvc": C.INCORRECT_CVC,
        "invalid_cvc": C.INCORRECT_CVC,
        "incorrect_number": C.INVALID_CARD,
        "invalid_number": C.INVALID_CARD,
        "invalid_expiry_month": C.INVALID_CARD,
        "invalid_expiry_year": C.INVALID_CARD,
        "processing_error": C.PROCESSING_ERROR,
        "authentication_required": C.AUTHENTICATION_REQUIRED,
        "card_decline_rate_limit_exceeded": (C.LIMIT_EXCEEDED, Decision.FINAL, True),
        # `decline_code` values
        "generic_decline": C.GENERIC_DECLINE,
        "insufficient_funds": C.INSUFFICIENT_FUNDS,
        "do_not_honor": C.DO_NOT_HONOR,
        "lost_card": C.CARD_BLOCKED,
        "stolen_card": C.CARD_BLOCKED,
        "pickup_card": C.CARD_BLOCKED,
        "restricted_card": C.CARD_BLOCKED,
        "fraudulent": C.FRAUD_SUSPECTED,
        "merchant_blacklist": C.FRAUD_SUSPECTED,
        "security_violation": C.FRAUD_SUSPECTED,
        "card_velocity_exceeded": C.LIMIT_EXCEEDED,
        "withdrawal_count_limit_exceeded": C.LIMIT_EXCEEDED,
        "issuer_not_available": C.ISSUER_UNAVAILABLE,
        "try_again_later": C.ISSUER_UNAVAILABLE,
        "reenter_transaction": C.PROCESSING_ERROR,
        "currency_not_supported": C.CURRENCY_NOT_SUPPORTED,
        "card_not_supported": C.GENERIC_DECLINE,
        "transaction_not_allowed": C.GENERIC_DECLINE,
        "not_permitted": C.GENERIC_DECLINE,
        "invalid_account": C.INVALID_CARD,
        "invalid_amount": C.INVALID_REQUEST,
        "testmode_decline": C.INVALID_REQUEST,
        "live_mode_test_card": C.INVALID_REQUEST,
        # refund `failure_reason` values
        "expired_or_canceled_card": C.EXPIRED_CARD,
        "lost_or_stolen_card": C.CARD_BLOCKED,
        "declined": C.GENERIC_DECLINE,
        "charge_for_pending_refund_disputed": C.PROCESSING_ERROR,
        "merchant_request": C.INVALID_REQUEST,
        "unknown": C.GENERIC_DECLINE,
        # invalid_request_error codes we expect on modifications
        "charge_already_captured": C.INVALID_REQUEST,
        "charge_already_refunded": C.INVALID_REQUEST,
        "payment_intent_unexpected_state": C.INVALID_REQUEST,
        "amount_too_large": C.INVALID_REQUEST,
        "amount_too_small": C.INVALID_REQUEST,
        "resource_missing": C.INVALID_REQUEST,
        "parameter_invalid_integer": C.INVALID_REQUEST,
        "parameter_missing": C.INVALID_REQUEST,
        "parameter_unknown": C.INVALID_REQUEST,
        "invalid_charge_amount_no_decimal_compatible": C.INVALID_REQUEST,
    }
)

# Stripe's advice that a soft decline may succeed later on the same provider.
RETRY_LATER_ADVICE = "try_again_later"
# Refund reasons Stripe accepts as `reason`; any other text travels in metadata only.
REFUND_REASONS: Mapping[str, RefundReason] = {
    "duplicate": "duplicate",
    "fraudulent": "fraudulent",
    "requested_by_customer": "requested_by_customer",
}
