"""gatewayhub's Adyen adapter (Checkout API v71, standard notification webhooks)."""
