"""Checkout.com's codes in gatewayhub's vocabulary: plain tables.

`RESPONSE_CODES` holds the five-digit `response_code` of a processed payment (HTTP 201 with
`approved: false`, or a webhook): 20xxx soft declines, 30xxx hard declines, 4xxxx risk
responses, 50xxx Checkout.com declines (checkout.com/docs/resources/codes/api-response-codes).
`ERROR_CODES` holds the `error_codes` of a refused request (HTTP 422), plus the adapter's own
refusals, made before anything is sent.
"""

from __future__ import annotations

from gatewayhub.declines import decline_table
from gatewayhub.errors import Decision, DeclineCode

C = DeclineCode
D = Decision

RESPONSE_CODES = decline_table(
    {
        "20001": C.DO_NOT_HONOR,  # refer to card issuer
        "20002": C.DO_NOT_HONOR,  # refer to card issuer - special conditions
        "20003": (C.INVALID_REQUEST, D.FAILOVER),  # invalid merchant: our account, not the card
        "20005": C.DO_NOT_HONOR,
        "20012": C.GENERIC_DECLINE,  # invalid transaction
        "20013": C.INVALID_REQUEST,  # invalid value/amount
        "20014": C.INVALID_CARD,  # invalid account number
        "20046": C.DO_NOT_HONOR,  # bank decline
        "20051": C.INSUFFICIENT_FUNDS,
        "20054": C.EXPIRED_CARD,
        "20057": C.GENERIC_DECLINE,  # transaction not permitted to cardholder
        "20058": C.GENERIC_DECLINE,  # transaction not permitted to terminal
        "20059": C.FRAUD_SUSPECTED,
        "20061": C.LIMIT_EXCEEDED,  # activity amount limit exceeded
        "20062": C.CARD_BLOCKED,  # restricted card
        "20065": C.LIMIT_EXCEEDED,  # withdrawal frequency limit
        "20068": C.PROCESSING_ERROR,  # response received too late / timeout
        "20087": C.INCORRECT_CVC,  # bad track data (invalid CVV and/or expiry)
        "20091": C.ISSUER_UNAVAILABLE,
        "20096": C.PROCESSING_ERROR,  # system malfunction
        "20106": C.CURRENCY_NOT_SUPPORTED,
        "20150": (C.AUTHENTICATION_REQUIRED, D.FINAL),  # card not 3DS enabled
        "20151": (C.AUTHENTICATION_REQUIRED, D.FINAL),  # cardholder failed 3DS
        "20152": (C.AUTHENTICATION_REQUIRED, D.FINAL),  # 3DS not completed within 15 minutes
        "20153": C.PROCESSING_ERROR,  # 3DS system malfunction
        "20154": C.AUTHENTICATION_REQUIRED,  # 3DS authentication required
        "20155": (C.AUTHENTICATION_REQUIRED, D.FINAL),  # invalid authentication result
        "200E3": C.PROCESSING_ERROR,  # system busy
        "200N7": C.INCORRECT_CVC,  # decline for CVV2 failure
        "200R1": (C.DO_NOT_HONOR, D.FINAL, True),  # stop payment order for this authorization
        "200R3": (C.DO_NOT_HONOR, D.FINAL, True),  # stop payment order for all authorizations
        "30004": C.CARD_BLOCKED,  # pick up card
        "30007": C.CARD_BLOCKED,  # pick up card - special conditions
        "30015": C.INVALID_CARD,  # no such issuer
        "30033": C.EXPIRED_CARD,  # expired card - pick up
        "30034": C.FRAUD_SUSPECTED,  # suspected fraud - pick up
        "30036": C.CARD_BLOCKED,  # restricted card - pick up
        "30041": C.CARD_BLOCKED,  # lost card
        "30043": C.CARD_BLOCKED,  # stolen card
        "30046": (C.INVALID_CARD, D.FINAL, True),  # closed account
        "41101": C.FRAUD_SUSPECTED,  # client-level risk rule
        "41301": C.FRAUD_SUSPECTED,  # fraud score over the client threshold
        "42101": C.FRAUD_SUSPECTED,  # entity-level risk rule
        "42301": C.FRAUD_SUSPECTED,
        "43101": C.FRAUD_SUSPECTED,  # Checkout.com risk: potential fraud
        "43102": C.FRAUD_SUSPECTED,
        "43301": C.FRAUD_SUSPECTED,
        "43401": C.AUTHENTICATION_REQUIRED,  # risk engine demands 3DS
        "50003": C.INSUFFICIENT_FUNDS,  # balance insufficient (refunds)
    }
)

ERROR_CODES = decline_table(
    {
        "amount_invalid": C.INVALID_REQUEST,
        "capture_value_greater_than_authorized": C.INVALID_REQUEST,
        "card_expired": C.EXPIRED_CARD,
        "card_number_invalid": C.INVALID_CARD,
        "currency_invalid": C.CURRENCY_NOT_SUPPORTED,
        "currency_not_supported": C.CURRENCY_NOT_SUPPORTED,
        "cvv_invalid": C.INCORRECT_CVC,
        "payment_expired": C.INVALID_REQUEST,
        "payment_source_required": C.INVALID_REQUEST,
        "processing_channel_id_invalid": (C.INVALID_REQUEST, D.FAILOVER),
        "processing_channel_id_required": (C.INVALID_REQUEST, D.FAILOVER),
        "refund_amount_exceeds_balance": C.INVALID_REQUEST,
        "token_expired": C.INVALID_REQUEST,
        "token_in_use": C.INVALID_REQUEST,
        "token_invalid": C.INVALID_REQUEST,
        # The adapter's own refusals (nothing was sent):
        "amount_not_representable": (C.CURRENCY_NOT_SUPPORTED, D.FAILOVER),
        "source_not_supported": C.INVALID_REQUEST,
        # HTTP 403/404 on a payment action: the payment's state or id does not allow it.
        "action_not_allowed": C.INVALID_REQUEST,
        "payment_not_found": C.INVALID_REQUEST,
    }
)
