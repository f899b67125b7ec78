"""The payment state machine: which status may follow which, and never backwards.

Commands (capture, void, refund) that the current status does not allow are refused with
`InvalidState`. A provider event that would move a payment backwards (an "authorized" webhook
arriving after the capture) finds no allowed transition and is ignored, which makes
out-of-order and duplicate deliveries harmless.
"""

from __future__ import annotations

from types import MappingProxyType

from gatewayhub.errors import InvalidState
from gatewayhub.models import PaymentStatus as S

_NEXT: MappingProxyType[S, frozenset[S]] = MappingProxyType(
    {
        S.PENDING: frozenset(
            {S.PROCESSING, S.REQUIRES_ACTION, S.AUTHORIZED, S.CAPTURED, S.FAILED, S.CANCELED}
        ),
        S.PROCESSING: frozenset(
            {S.REQUIRES_ACTION, S.AUTHORIZED, S.CAPTURED, S.FAILED, S.CANCELED}
        ),
        S.REQUIRES_ACTION: frozenset(
            {S.PROCESSING, S.AUTHORIZED, S.CAPTURED, S.FAILED, S.CANCELED}
        ),
        S.AUTHORIZED: frozenset({S.PARTIALLY_CAPTURED, S.CAPTURED, S.CANCELED}),
        S.PARTIALLY_CAPTURED: frozenset(
            {S.PARTIALLY_CAPTURED, S.CAPTURED, S.PARTIALLY_REFUNDED, S.REFUNDED}
        ),
        S.CAPTURED: frozenset({S.PARTIALLY_REFUNDED, S.REFUNDED}),
        S.PARTIALLY_REFUNDED: frozenset({S.PARTIALLY_REFUNDED, S.REFUNDED}),
        S.REFUNDED: frozenset(),
        S.CANCELED: frozenset(),
        S.FAILED: frozenset(),
    }
)

CAPTURABLE = frozenset({S.AUTHORIZED, S.PARTIALLY_CAPTURED})
REFUNDABLE = frozenset({S.PARTIALLY_CAPTURED, S.CAPTURED, S.PARTIALLY_REFUNDED})
VOIDABLE = frozenset({S.AUTHORIZED, S.REQUIRES_ACTION})
UNSETTLED = frozenset({S.PENDING, S.PROCESSING, S.REQUIRES_ACTION})


def allowed(current: S, target: S) -> bool:
    """May a payment in `current` move to `target`? (Repeating a partial state is allowed.)"""
    return target in _NEXT[current]


def ensure_allowed(current: S, target: S, action: str) -> None:
    """Raise `InvalidState` unless `current` -> `target` is allowed."""
    if not allowed(current, target):
        raise InvalidState(f"cannot {action} a payment that is {current.value}")
