"""gatewayhub's Alipay Open Platform adapter (classic gateway, RSA2)."""
