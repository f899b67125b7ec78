"""gatewayhub's adapter for PayPal: Orders v2 and Payments v2, OAuth2 client credentials."""
