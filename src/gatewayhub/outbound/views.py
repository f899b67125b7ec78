"""What the endpoint API returns: endpoints (the secret only once) and deliveries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class DeliveryStatus(StrEnum):
    """Where one event's delivery to one endpoint is."""

    PENDING = "pending"  # waiting for its first try or a retry
    DELIVERED = "delivered"  # the endpoint answered 2xx
    FAILED = "failed"  # given up: retry window over, or the endpoint was disabled


@dataclass(frozen=True, slots=True)
class EndpointView:
    """A merchant's webhook endpoint, without its secret."""

    id: str
    merchant_id: str
    url: str
    events: list[str] | None  # None: every event type
    enabled: bool
    disabled_reason: str | None
    description: str | None
    # Until when the secret replaced by the last rotation also signs (None: it does not).
    previous_secret_expires_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, m: Any) -> EndpointView:
        """From a `webhook_endpoints` row mapping."""
        return cls(
            id=m["id"],
            merchant_id=m["merchant_id"],
            url=m["url"],
            events=list(m["events"]) if m["events"] is not None else None,
            enabled=m["enabled"],
            disabled_reason=m["disabled_reason"],
            description=m["description"],
            previous_secret_expires_at=m["previous_secret_expires_at"],
            created_at=m["created_at"],
            updated_at=m["updated_at"],
        )


@dataclass(frozen=True, slots=True)
class RegisteredEndpoint:
    """The answer to a registration: the only time the signing secret is shown."""

    endpoint: EndpointView
    secret: str

    def __repr__(self) -> str:
        return f"RegisteredEndpoint(endpoint={self.endpoint!r}, secret='whsec_***')"


@dataclass(frozen=True, slots=True)
class DeliveryView:
    """One event's delivery to one endpoint."""

    id: str
    endpoint_id: str
    event_id: str  # the webhook-id header: the same on every try, for the receiver's dedup
    event_type: str
    status: DeliveryStatus
    tries: int
    next_attempt_at: datetime | None  # None once delivered or failed
    give_up_at: datetime
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, m: Any) -> DeliveryView:
        """From a `webhook_deliveries` row mapping."""
        status = DeliveryStatus(m["status"])
        return cls(
            id=m["id"],
            endpoint_id=m["endpoint_id"],
            event_id=m["event_id"],
            event_type=m["event_type"],
            status=status,
            tries=m["tries"],
            next_attempt_at=m["next_attempt_at"] if status is DeliveryStatus.PENDING else None,
            give_up_at=m["give_up_at"],
            last_attempt_at=m["last_attempt_at"],
            last_status_code=m["last_status_code"],
            last_error=m["last_error"],
            delivered_at=m["delivered_at"],
            created_at=m["created_at"],
        )
