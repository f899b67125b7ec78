"""gatewayhub's adapter for Checkout.com's Unified Payments API (NAS accounts)."""
