"""The event types merchants can receive, and the JSON body each webhook carries.

Every payment status change writes `payment.<status>` to the outbox in the same transaction as
the change (gatewayhub.payment); refunds add `refund.succeeded` / `refund.failed`; an attempt
whose outcome was unknown and is now settled adds `payment.unknown_outcome_resolved`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from gatewayhub.errors import InvalidRequest
from gatewayhub.models import PaymentStatus
from gatewayhub.payment import UNKNOWN_OUTCOME_RESOLVED

EVENT_TYPES: frozenset[str] = frozenset(
    {f"payment.{s.value}" for s in PaymentStatus if s is not PaymentStatus.PENDING}
    | {"refund.succeeded", "refund.failed", UNKNOWN_OUTCOME_RESOLVED}
)
"""Every type that can be sent (a payment is created pending: there is no payment.pending)."""


def check_filter(events: Iterable[str] | None) -> list[str] | None:
    """A validated, sorted, de-duplicated event filter (None: every type)."""
    if events is None:
        return None
    chosen = sorted(set(events))
    if not chosen:
        raise InvalidRequest(
            "list at least one event type, or leave the filter out for every type",
            field="events",
        )
    unknown = [e for e in chosen if e not in EVENT_TYPES]
    if unknown:
        raise InvalidRequest(
            f"unknown event types {unknown}; known: {sorted(EVENT_TYPES)}", field="events"
        )
    return chosen


def matches(events: list[str] | None, event_type: str) -> bool:
    """Does an endpoint with filter `events` receive `event_type`?"""
    return events is None or event_type in events


def body(event_id: str, event_type: str, created_at: datetime, data: dict[str, Any]) -> bytes:
    """The webhook body: the same bytes on every try of one event."""
    return json.dumps(
        {
            "id": event_id,
            "type": event_type,
            "timestamp": created_at.isoformat().replace("+00:00", "Z"),
            "data": data,
        },
        separators=(",", ":"),
        sort_keys=True,
    ).encode()
