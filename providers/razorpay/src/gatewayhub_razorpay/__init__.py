"""gatewayhub adapter for Razorpay (Payments API v1: Orders, Standard Checkout, captures,
refunds, signed webhooks). The checkout-callback signature check a merchant needs is
`gatewayhub_razorpay.signatures.verify_payment_signature` (or the adapter method
`RazorpayProvider.verify_payment_signature`)."""

from gatewayhub_razorpay.provider import RazorpayProvider, RazorpaySettings
from gatewayhub_razorpay.signatures import (
    verify_payment_link_signature,
    verify_payment_signature,
    verify_subscription_signature,
)

__all__ = [
    "RazorpayProvider",
    "RazorpaySettings",
    "verify_payment_link_signature",
    "verify_payment_signature",
    "verify_subscription_signature",
]
