"""gatewayhub: one async interface over many payment providers.

from gatewayhub import Hub

async with Hub() as hub:  # three local sandbox providers, SQLite in ./gatewayhub.db
    payment = await hub.authorize(amount=1050, currency="EUR", payment_method="tok_visa",
                                  idempotency_key="order-17")
"""

from gatewayhub.config import HubConfig, default_config, load_config, parse_config
from gatewayhub.errors import (
    ConfigError,
    Decision,
    Decline,
    DeclineCode,
    GatewayError,
    IdempotencyConflict,
    IdempotencyError,
    InvalidRequest,
    InvalidState,
    NoEligibleProvider,
    NotFound,
    NotSent,
    OperationPending,
    OutcomeUnknown,
    ProviderError,
    RequestInProgress,
    ShuttingDown,
)
from gatewayhub.hub import Hub, PaymentPage
from gatewayhub.models import (
    AttemptStatus,
    AuthorizeRequest,
    CaptureMode,
    CardBrand,
    Funding,
    Operation,
    PaymentMethod,
    PaymentMethodType,
    PaymentStatus,
    RefundStatus,
)
from gatewayhub.money import Money, MoneyError
from gatewayhub.routing import RouteDecision, Strategy
from gatewayhub.views import AttemptView, EventView, PaymentView, RefundView

__version__ = "0.1.0"

__all__ = [
    # the SDK
    "Hub",
    "HubConfig",
    "PaymentPage",
    "default_config",
    "load_config",
    "parse_config",
    # money and requests
    "Money",
    "MoneyError",
    "AuthorizeRequest",
    "PaymentMethod",
    "PaymentMethodType",
    "CardBrand",
    "Funding",
    "CaptureMode",
    # what comes back
    "PaymentView",
    "AttemptView",
    "RefundView",
    "EventView",
    "PaymentStatus",
    "AttemptStatus",
    "RefundStatus",
    "Operation",
    "RouteDecision",
    "Strategy",
    # declines and errors
    "Decline",
    "DeclineCode",
    "Decision",
    "GatewayError",
    "InvalidRequest",
    "ConfigError",
    "NotFound",
    "InvalidState",
    "IdempotencyError",
    "IdempotencyConflict",
    "RequestInProgress",
    "NoEligibleProvider",
    "OperationPending",
    "ShuttingDown",
    "ProviderError",
    "NotSent",
    "OutcomeUnknown",
]
