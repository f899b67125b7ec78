"""Errors, the canonical decline vocabulary, and what to do after each outcome.

Declines are values (`Decline`, carried by a provider result); failures are exceptions.

    GatewayError
    ├── InvalidRequest            bad input; raised before anything is stored or sent
    ├── ConfigError               a config file or setting that cannot work
    ├── NotFound                  no such payment/refund for this merchant
    ├── InvalidState              the operation is not allowed in the payment's state
    ├── IdempotencyError
    │   ├── IdempotencyConflict   same key, different request
    │   └── RequestInProgress     same key, first request still running
    ├── NoEligibleProvider        routing found nowhere to send the payment
    ├── OperationPending          the provider's answer is unknown; the reconciler will settle it
    ├── ShuttingDown              the gateway is closing and takes no new operations
    └── ProviderError             raised by adapters (the transport or the provider failed)
        ├── NotSent               the provider certainly did not act: safe to retry or fail over
        └── OutcomeUnknown        the provider may have acted: replay with the same key or look up
            └── IntegrityError    the provider answered with an amount/currency we did not send
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class DeclineCode(StrEnum):
    """The closed vocabulary every provider code maps into. Extend deliberately."""

    INSUFFICIENT_FUNDS = "insufficient_funds"
    EXPIRED_CARD = "expired_card"
    INCORRECT_CVC = "incorrect_cvc"
    INVALID_CARD = "invalid_card"
    CARD_BLOCKED = "card_blocked"
    FRAUD_SUSPECTED = "fraud_suspected"
    DO_NOT_HONOR = "do_not_honor"
    GENERIC_DECLINE = "generic_decline"
    ISSUER_UNAVAILABLE = "issuer_unavailable"
    PROCESSING_ERROR = "processing_error"
    AUTHENTICATION_REQUIRED = "authentication_required"
    LIMIT_EXCEEDED = "limit_exceeded"
    CURRENCY_NOT_SUPPORTED = "currency_not_supported"
    INVALID_REQUEST = "invalid_request"
    PROVIDER_AUTH_FAILED = "provider_auth_failed"
    RATE_LIMITED = "rate_limited"
    PROVIDER_UNAVAILABLE = "provider_unavailable"
    OUTCOME_UNKNOWN = "outcome_unknown"


class Decision(StrEnum):
    """What the core does next. The router reads decisions, never provider codes."""

    FINAL = "final"  # stop: tell the customer
    RETRY_SAME = "retry_same"  # same provider, same provider idempotency key, after backoff
    FAILOVER = "failover"  # next candidate; only when the money certainly did not move
    RECONCILE = "reconcile"  # look the payment up; never fail over
    STEP_UP = "step_up"  # the customer must authenticate (3-D Secure)


@dataclass(frozen=True, slots=True)
class Decline:
    """A provider's refusal, translated. `hard` declines are never retried nor cascaded."""

    code: DeclineCode
    decision: Decision
    provider_code: str
    message: str = ""
    hard: bool = False
    advice: str | None = None


class GatewayError(Exception):
    """Base of every error gatewayhub raises on purpose."""

    code: str = "gateway_error"


class InvalidRequest(GatewayError):
    """Bad input, found before anything was stored or sent. `field` names the culprit."""

    code = "validation_error"

    def __init__(
        self, message: str, *, field: str | None = None, details: list[dict[str, str]] | None = None
    ) -> None:
        super().__init__(message if field is None else f"{field}: {message}")
        self.field = field
        self.reason = message
        self.details = details or [{"field": field or "", "message": message}]


class ConfigError(GatewayError):
    """A configuration that cannot work (unknown provider, missing credential, ...)."""

    code = "config_error"


class NotFound(GatewayError):
    """No such resource for this merchant (other merchants' ids look the same as missing)."""

    code = "not_found"


class InvalidState(GatewayError):
    """The payment's state does not allow the operation (capture after void, over-refund...)."""

    code = "invalid_state"


class IdempotencyError(GatewayError):
    """A client idempotency key was reused in a way that cannot be answered."""


class IdempotencyConflict(IdempotencyError):
    """The key was first used with a different request."""

    code = "idempotency_conflict"


class RequestInProgress(IdempotencyError):
    """The first request with this key is still running; retry later."""

    code = "request_in_progress"


class NoEligibleProvider(GatewayError):
    """No configured provider can take this payment; `reasons` says why each was excluded."""

    code = "no_eligible_provider"

    def __init__(self, message: str, reasons: dict[str, str]) -> None:
        super().__init__(message)
        self.reasons = reasons


class OperationPending(GatewayError):
    """The provider may have acted but did not say; the operation is left for reconciliation."""

    code = "operation_pending"

    def __init__(self, message: str, payment_id: str) -> None:
        super().__init__(message)
        self.payment_id = payment_id


class ShuttingDown(GatewayError):
    """The gateway is closing: it finishes running operations but starts no new ones."""

    code = "shutting_down"


class ProviderError(GatewayError):
    """Raised by adapters when the provider or the network failed (not a decline).

    `decline_code` classifies the failure in the canonical vocabulary; `retry_after` carries
    a provider's explicit back-off (seconds) when it sent one.
    """

    code = "provider_error"

    def __init__(
        self,
        message: str,
        *,
        decline_code: DeclineCode = DeclineCode.PROVIDER_UNAVAILABLE,
        retry_after: float | None = None,
        status_code: int | None = None,
    ) -> None:
        super().__init__(message)
        self.decline_code = decline_code
        self.retry_after = retry_after
        self.status_code = status_code


class NotSent(ProviderError):
    """The request certainly did not reach the provider, or was refused before any effect."""

    code = "not_sent"


class OutcomeUnknown(ProviderError):
    """The request may have taken effect. Only the same provider can settle it."""

    code = "outcome_unknown"


class IntegrityError(OutcomeUnknown):
    """The provider echoed an amount or currency other than the one sent."""

    code = "integrity_error"
