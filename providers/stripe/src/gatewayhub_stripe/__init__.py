"""gatewayhub's Stripe adapter (PaymentIntents API, form-encoded v1 endpoints)."""
