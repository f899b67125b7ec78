"""The sandbox's magic tokens: each one makes the emulator behave in a documented way.

Any other token starting with `tok_` is approved. The README lists them in a table.
"""

from __future__ import annotations

from types import MappingProxyType

APPROVE = "tok_visa"
THREE_DS = "tok_3ds"
PENDING = "tok_pending"
UNKNOWN_STATUS = "tok_unknown_status"
TIMEOUT_AFTER_CHARGE = "tok_timeout_after_charge"
ERROR_BEFORE_CHARGE = "tok_5xx_before_charge"
ERROR_AFTER_CHARGE = "tok_5xx_after_charge"
RATE_LIMITED = "tok_429"
REFUND_FAILS = "tok_refund_fails"
REFUND_PENDING = "tok_refund_pending"
DECLINE_PREFIX = "tok_decline_"

# The sandbox's own decline codes (what `tok_decline_<code>` produces), with the advice it
# attaches. The adapter maps them into gatewayhub's vocabulary in its errors table.
DECLINES: MappingProxyType[str, tuple[str, str]] = MappingProxyType(
    {
        "insufficient_funds": ("Your card has insufficient funds.", "retry_later"),
        "expired_card": ("Your card has expired.", "do_not_retry"),
        "incorrect_cvc": ("Your card's security code is incorrect.", "confirm_card_data"),
        "incorrect_number": ("Your card number is incorrect.", "do_not_retry"),
        "lost_card": ("Your card was declined.", "do_not_retry"),
        "stolen_card": ("Your card was declined.", "do_not_retry"),
        "fraudulent": ("Your card was declined.", "do_not_retry"),
        "do_not_honor": ("Your card was declined.", "retry_later"),
        "do_not_honor_never_retry": ("Your card was declined.", "do_not_retry"),
        "generic_decline": ("Your card was declined.", "retry_later"),
        "issuer_not_available": ("The issuer could not be reached.", "retry_later"),
        "processing_error": ("An error occurred while processing your card.", "retry_later"),
        "authentication_required": ("The card requires authentication.", "authenticate"),
        "card_velocity_exceeded": ("Your card exceeded its limit.", "retry_later"),
        "brand_new_code": ("A code the adapter has never seen.", "retry_later"),
    }
)


def decline_code(token: str) -> str | None:
    """The decline a token asks for, or None."""
    if token.startswith(DECLINE_PREFIX):
        code = token[len(DECLINE_PREFIX) :]
        return code if code in DECLINES else "generic_decline"
    return None
