"""gatewayhub adapter for TrueLayer Payments API v3 (open-banking pay-ins into a merchant
account): OAuth2 client credentials, `Tl-Signature` request signing (ES512 detached JWS),
hosted payment page, refunds, and webhooks verified against an allow-listed JWKS."""

from gatewayhub_truelayer.provider import TrueLayerProvider, TrueLayerSettings

__all__ = ["TrueLayerProvider", "TrueLayerSettings"]
