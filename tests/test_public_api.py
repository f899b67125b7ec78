"""The public API is deliberate: changing it must change this test."""

from __future__ import annotations

import gatewayhub

PUBLIC = {
    "Hub",
    "HubConfig",
    "PaymentPage",
    "default_config",
    "load_config",
    "parse_config",
    "Money",
    "MoneyError",
    "AuthorizeRequest",
    "PaymentMethod",
    "PaymentMethodType",
    "CardBrand",
    "Funding",
    "CaptureMode",
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
}


def test_all_is_the_public_api() -> None:
    assert set(gatewayhub.__all__) == PUBLIC
    assert len(gatewayhub.__all__) == len(PUBLIC), "no duplicates"
    for name in gatewayhub.__all__:
        assert getattr(gatewayhub, name) is not None


def test_every_error_has_a_stable_code() -> None:
    codes = {
        getattr(gatewayhub, n).code
        for n in gatewayhub.__all__
        if isinstance(getattr(gatewayhub, n), type)
        and issubclass(getattr(gatewayhub, n), gatewayhub.GatewayError)
    }
    assert {
        "validation_error",
        "not_found",
        "invalid_state",
        "idempotency_conflict",
        "request_in_progress",
        "no_eligible_provider",
        "operation_pending",
        "not_sent",
        "outcome_unknown",
    } <= codes
