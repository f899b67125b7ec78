"""Razorpay's HMAC-SHA256 signatures: lowercase hex over UTF-8 text, keyed with a secret.

    checkout callback   key_secret      "{razorpay_order_id}|{razorpay_payment_id}"
    payment link        key_secret      "{plink_id}|{reference_id}|{status}|{razorpay_payment_id}"
    subscription        key_secret      "{razorpay_payment_id}|{razorpay_subscription_id}"
    webhook             webhook secret  the raw request body, exactly as received

The checkout callback is how a merchant learns the customer paid: Razorpay's Checkout hands
the browser `razorpay_order_id`, `razorpay_payment_id` and `razorpay_signature`, the browser
posts them to the merchant, and the merchant checks them here before trusting them. Every
comparison is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac


def hmac_hex(secret: str, message: bytes) -> str:
    """Lowercase hex HMAC-SHA256 of `message` keyed with the UTF-8 bytes of `secret`."""
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _matches(secret: str, message: bytes, signature: str) -> bool:
    # Bytes on both sides: compare_digest refuses non-ASCII str, and a signature is
    # untrusted input that may contain anything.
    return hmac.compare_digest(hmac_hex(secret, message).encode(), signature.encode())


def verify_payment_signature(
    key_secret: str, order_id: str, payment_id: str, signature: str
) -> bool:
    """True when `signature` is Razorpay's signature of a Checkout payment on an order."""
    return _matches(key_secret, f"{order_id}|{payment_id}".encode(), signature)


def verify_payment_link_signature(
    key_secret: str,
    payment_link_id: str,
    reference_id: str,
    status: str,
    payment_id: str,
    signature: str,
) -> bool:
    """True when `signature` signs a Payment Link callback's four fields."""
    message = f"{payment_link_id}|{reference_id}|{status}|{payment_id}".encode()
    return _matches(key_secret, message, signature)


def verify_subscription_signature(
    key_secret: str, payment_id: str, subscription_id: str, signature: str
) -> bool:
    """True when `signature` signs a Subscription checkout callback."""
    return _matches(key_secret, f"{payment_id}|{subscription_id}".encode(), signature)


def webhook_signature_matches(secret: str, body: bytes, signature: str) -> bool:
    """True when `signature` (the `X-Razorpay-Signature` header) signs the raw `body`."""
    return _matches(secret, body, signature)
