"""Outbound webhooks: gatewayhub telling merchants what happened to their payments.

    registered = await hub.endpoints.register("merchant_1", "https://shop.example/hooks",
                                              ["payment.captured", "refund.succeeded"])
    registered.secret          # whsec_..., shown once: the merchant verifies with it

Events come from the outbox the payment core writes with every change; the dispatcher
(started by `Hub.start`) signs them per Standard Webhooks and delivers them at least once,
with retries over three days. See docs/webhooks.md.
"""

from gatewayhub.outbound.dispatcher import Dispatcher
from gatewayhub.outbound.endpoints import DeliveryPage, Endpoints
from gatewayhub.outbound.events import EVENT_TYPES
from gatewayhub.outbound.sealing import SecretBox, new_encryption_key
from gatewayhub.outbound.ssrf import UnsafeURL, check_url, system_resolver
from gatewayhub.outbound.views import DeliveryStatus, DeliveryView, EndpointView, RegisteredEndpoint

__all__ = [
    "Endpoints",
    "Dispatcher",
    "DeliveryPage",
    "DeliveryStatus",
    "DeliveryView",
    "EndpointView",
    "RegisteredEndpoint",
    "EVENT_TYPES",
    "SecretBox",
    "new_encryption_key",
    "UnsafeURL",
    "check_url",
    "system_resolver",
]
