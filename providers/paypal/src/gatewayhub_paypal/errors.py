"""PayPal's codes in gatewayhub's vocabulary: plain tables.

`ISSUES` holds `details[].issue` of an error body (HTTP 400 `INVALID_REQUEST`, 422
`UNPROCESSABLE_ENTITY`; the per-operation lists are in the Orders v2 and Payments v2
OpenAPI documents), plus the adapter's own refusals made before sending. `PROCESSOR` holds
`processor_response.response_code` of a card capture or authorization that came back
`DECLINED` (PayPal-Python-Server-SDK `processor_response_code.py`); a network advice code
`03` or `21` in `payment_advice_code` makes any decline hard.
"""

from __future__ import annotations

from gatewayhub.declines import decline_table
from gatewayhub.errors import Decision, DeclineCode

C = DeclineCode
D = Decision

_INVALID = C.INVALID_REQUEST
_OURS = (C.INVALID_REQUEST, D.FAILOVER)  # our PayPal account cannot take it; another may

ISSUES = decline_table(
    {
        # the buyer's funding source or approval
        "INSTRUMENT_DECLINED": C.DO_NOT_HONOR,
        "REDIRECT_PAYER_FOR_ALTERNATE_FUNDING": C.DO_NOT_HONOR,
        "PAYMENT_SOURCE_DECLINED_BY_PROCESSOR": C.DO_NOT_HONOR,
        "PAYER_ACTION_REQUIRED": C.AUTHENTICATION_REQUIRED,
        "ORDER_NOT_APPROVED": C.AUTHENTICATION_REQUIRED,
        "TRANSACTION_REFUSED": C.GENERIC_DECLINE,
        "PAYER_CANNOT_PAY": C.GENERIC_DECLINE,
        "DECLINED_DUE_TO_RELATED_TXN": C.GENERIC_DECLINE,
        "PAYER_ACCOUNT_RESTRICTED": (C.GENERIC_DECLINE, D.FINAL, True),
        "PAYER_ACCOUNT_LOCKED_OR_CLOSED": (C.GENERIC_DECLINE, D.FINAL, True),
        "CARD_EXPIRED": C.EXPIRED_CARD,
        "REFERENCED_CARD_EXPIRED": C.EXPIRED_CARD,
        "INVALID_SECURITY_CODE_LENGTH": C.INCORRECT_CVC,
        "PAYMENT_SOURCE_INFO_CANNOT_BE_VERIFIED": C.INVALID_CARD,
        "MAX_NUMBER_OF_PAYMENT_ATTEMPTS_EXCEEDED": C.LIMIT_EXCEEDED,
        "TRANSACTION_LIMIT_EXCEEDED": C.LIMIT_EXCEEDED,
        "COMPLIANCE_VIOLATION": C.FRAUD_SUSPECTED,
        "PAYEE_BLOCKED_TRANSACTION": C.FRAUD_SUSPECTED,
        "TRANSACTION_BLOCKED_BY_PAYEE": C.FRAUD_SUSPECTED,
        # our (the payee's) account or setup
        "PAYEE_ACCOUNT_RESTRICTED": _OURS,
        "PAYEE_ACCOUNT_LOCKED_OR_CLOSED": _OURS,
        "PAYEE_ACCOUNT_INVALID": _OURS,
        "TRANSACTION_RECEIVING_LIMIT_EXCEEDED": (C.LIMIT_EXCEEDED, D.FAILOVER),
        "NOT_ENABLED_FOR_CARD_PROCESSING": _OURS,
        "PAYEE_NOT_ENABLED_FOR_CARD_PROCESSING": _OURS,
        "AUTH_CAPTURE_NOT_ENABLED": _OURS,
        "CARD_BRAND_NOT_SUPPORTED": _OURS,
        "CARD_TYPE_NOT_SUPPORTED": _OURS,
        "DECIMAL_PRECISION": C.CURRENCY_NOT_SUPPORTED,
        "DECIMALS_NOT_SUPPORTED": C.CURRENCY_NOT_SUPPORTED,
        "INVALID_CURRENCY_CODE": C.CURRENCY_NOT_SUPPORTED,
        "CURRENCY_NOT_SUPPORTED_FOR_CARD_TYPE": C.CURRENCY_NOT_SUPPORTED,
        "CURRENCY_NOT_SUPPORTED_FOR_COUNTRY": C.CURRENCY_NOT_SUPPORTED,
        # the request
        "DUPLICATE_INVOICE_ID": _INVALID,
        "TOKEN_EXPIRED": _INVALID,
        "TOKEN_ID_NOT_FOUND": _INVALID,
        "PAYMENT_SOURCE_CANNOT_BE_USED": _INVALID,
        "AGREEMENT_ALREADY_CANCELLED": _INVALID,
        "BILLING_AGREEMENT_NOT_FOUND": _INVALID,
        "ORDER_EXPIRED": _INVALID,
        "ORDER_COMPLETED_OR_VOIDED": _INVALID,
        "MISSING_REQUIRED_PARAMETER": _INVALID,
        "INVALID_PARAMETER_VALUE": _INVALID,
        "INVALID_PARAMETER_SYNTAX": _INVALID,
        "INVALID_STRING_LENGTH": _INVALID,
        "MALFORMED_REQUEST_JSON": _INVALID,
        "RETURN_URL_REQUIRED": _INVALID,  # buyer approval needs the payment's return_url
        "CANCEL_URL_REQUIRED": _INVALID,
        # captures of an authorization
        "AUTHORIZATION_EXPIRED": _INVALID,
        "AUTHORIZATION_VOIDED": _INVALID,
        "AUTHORIZATION_DENIED": _INVALID,
        "AUTHORIZATION_ALREADY_CAPTURED": _INVALID,
        "MAX_CAPTURE_AMOUNT_EXCEEDED": _INVALID,
        "MAX_CAPTURE_COUNT_EXCEEDED": _INVALID,
        "AUTH_CAPTURE_CURRENCY_MISMATCH": _INVALID,
        # voids
        "PREVIOUSLY_CAPTURED": _INVALID,
        "CANNOT_BE_VOIDED": _INVALID,
        # refunds
        "CAPTURE_FULLY_REFUNDED": _INVALID,
        "REFUND_AMOUNT_EXCEEDED": _INVALID,
        "REFUND_AMOUNT_TOO_LOW": _INVALID,
        "REFUND_NOT_ALLOWED": _INVALID,
        "REFUND_TIME_LIMIT_EXCEEDED": _INVALID,
        "PARTIAL_REFUND_NOT_ALLOWED": _INVALID,
        "MAX_NUMBER_OF_REFUNDS_EXCEEDED": _INVALID,
        "REFUND_CAPTURE_CURRENCY_MISMATCH": _INVALID,
        "REFUND_NOT_PERMITTED_DUE_TO_CHARGEBACK": _INVALID,
        "TRANSACTION_DISPUTED": _INVALID,
        "REFUND_IS_RESTRICTED": _INVALID,
        "REFUND_FAILED_INSUFFICIENT_FUNDS": C.INSUFFICIENT_FUNDS,
        "PENDING_CAPTURE": C.PROCESSING_ERROR,
        # the adapter's own refusals (nothing was sent)
        "amount_not_representable": (C.CURRENCY_NOT_SUPPORTED, D.FAILOVER),
        "order_not_found": _INVALID,
        "no_authorization": _INVALID,
        "no_capture": _INVALID,
    }
)

PROCESSOR = decline_table(
    {
        "00N7": C.INCORRECT_CVC,  # CVV2 failure, possible retry with CVV
        "0500": C.DO_NOT_HONOR,
        "1330": C.INVALID_CARD,  # invalid account
        "5100": C.GENERIC_DECLINE,
        "5110": C.INCORRECT_CVC,  # CVV2 failure
        "5120": C.INSUFFICIENT_FUNDS,
        "5140": (C.INVALID_CARD, D.FINAL, True),  # card closed
        "5150": C.CARD_BLOCKED,  # pick up card, special conditions
        "5180": C.CARD_BLOCKED,  # invalid or restricted card
        "5400": C.EXPIRED_CARD,
        "5650": C.AUTHENTICATION_REQUIRED,  # declined, SCA required
        "5710": C.LIMIT_EXCEEDED,  # transaction attempts exceed the limit
        "5910": (C.ISSUER_UNAVAILABLE, D.FINAL, True),  # issuer not available, not retriable
        "5920": C.ISSUER_UNAVAILABLE,  # issuer not available, retriable
        "7710": (C.AUTHENTICATION_REQUIRED, D.FINAL),  # authentication failed
        "8110": C.PROCESSING_ERROR,  # retriable communication error
        "9100": C.PROCESSING_ERROR,  # declined, please retry
        "9500": C.FRAUD_SUSPECTED,
        "9520": C.CARD_BLOCKED,  # lost or stolen
        "PPRN": (C.GENERIC_DECLINE, D.FINAL, True),  # reattempt not permitted
    }
)
