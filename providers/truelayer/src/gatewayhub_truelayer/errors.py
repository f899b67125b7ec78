"""TrueLayer's failure reasons and problem titles in gatewayhub's vocabulary.

`failure_reason` of failed payments and refunds (docs.truelayer.com "payment statuses"; the
list is open-ended: TrueLayer documents example values, others appear) and the `title` of
RFC 7807 error bodies (docs "error types"). Missing reasons become a final generic decline,
logged and counted.
"""

from __future__ import annotations

from gatewayhub.declines import decline_table
from gatewayhub.errors import Decision, DeclineCode

C = DeclineCode

# Our own code: the payer's name and email/phone (required by TrueLayer) were not given.
USER_DETAILS_MISSING = "gatewayhub_user_details_missing"

CODES = decline_table(
    {
        # failure_reason of a failed payment
        "authorization_failed": (C.AUTHENTICATION_REQUIRED, Decision.FINAL),
        "not_authorized": (C.AUTHENTICATION_REQUIRED, Decision.FINAL),
        "user_canceled_at_provider": C.GENERIC_DECLINE,
        "canceled": C.GENERIC_DECLINE,
        "cancelled": C.GENERIC_DECLINE,
        "expired": C.GENERIC_DECLINE,
        "rejected": C.DO_NOT_HONOR,
        "provider_rejected": C.DO_NOT_HONOR,
        "verification_declined": C.DO_NOT_HONOR,
        "blocked": C.FRAUD_SUSPECTED,
        "insufficient_funds": C.INSUFFICIENT_FUNDS,
        "payment_limit_exceeded": C.LIMIT_EXCEEDED,
        "invalid_account_details": (C.INVALID_REQUEST, Decision.FINAL),
        "provider_error": C.ISSUER_UNAVAILABLE,
        "scheme_unavailable": C.ISSUER_UNAVAILABLE,
        "internal_server_error": C.PROCESSING_ERROR,
        "failed": C.GENERIC_DECLINE,
        # titles of problem+json refusals (nothing moved)
        "Invalid Parameters": (C.INVALID_REQUEST, Decision.FAILOVER),
        "Invalid State": (C.INVALID_REQUEST, Decision.FINAL),
        "Not Found": (C.INVALID_REQUEST, Decision.FINAL),
        "Idempotency-Key Reuse": (C.INVALID_REQUEST, Decision.FINAL),
        "Forbidden": (C.PROVIDER_AUTH_FAILED, Decision.FAILOVER),
        # ours: refused before sending; another provider may take the payment
        USER_DETAILS_MISSING: (C.INVALID_REQUEST, Decision.FAILOVER),
    }
)
