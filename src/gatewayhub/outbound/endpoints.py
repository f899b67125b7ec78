"""The merchant-facing API of outbound webhooks: endpoints and their deliveries.

Every call names the merchant; an id that belongs to another merchant is `NotFound`, exactly
like an id that does not exist. The HTTP layer calls these methods (through `Hub.endpoints`).
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from gatewayhub.clock import Clock
from gatewayhub.config import WebhooksConfig
from gatewayhub.errors import InvalidRequest, InvalidState, NotFound
from gatewayhub.ids import new_id
from gatewayhub.outbound.events import check_filter
from gatewayhub.outbound.sealing import SecretBox, new_signing_secret
from gatewayhub.outbound.ssrf import Resolver, check_url
from gatewayhub.outbound.store import OutboundStore
from gatewayhub.outbound.views import (
    DeliveryStatus,
    DeliveryView,
    EndpointView,
    RegisteredEndpoint,
)


@dataclass(frozen=True, slots=True)
class DeliveryPage:
    """One page of deliveries, newest first; pass `next_cursor` as `before` for the next."""

    items: builtins.list[DeliveryView]
    next_cursor: str | None


# A day for a receiver to deploy the new secret while both sign; a week at most, so a
# rotated-out secret does not live on indefinitely.
DEFAULT_PREVIOUS_SECRET_VALIDITY = timedelta(hours=24)
MAX_PREVIOUS_SECRET_VALIDITY = timedelta(days=7)


def _merchant(merchant_id: str) -> str:
    if not merchant_id or len(merchant_id) > 64:
        raise InvalidRequest("must be 1 to 64 characters", field="merchant_id")
    return merchant_id


class Endpoints:
    """Register, list, disable and delete webhook endpoints; inspect and redeliver."""

    def __init__(
        self,
        store: OutboundStore,
        box: SecretBox,
        settings: WebhooksConfig,
        clock: Clock,
        resolver: Resolver,
    ) -> None:
        self._store = store
        self._box = box
        self._settings = settings
        self._clock = clock
        self._resolver = resolver

    @property
    def _window(self) -> timedelta:
        return timedelta(seconds=self._settings.retry_window_seconds)

    async def register(
        self,
        merchant_id: str,
        url: str,
        events: Iterable[str] | None = None,
        *,
        description: str | None = None,
        allow_private: bool | None = None,
    ) -> RegisteredEndpoint:
        """Add an endpoint receiving `events` (None: every type). The answer carries the
        `whsec_` signing secret; it is never shown again.

        `allow_private` (default: the `allow_private_webhook_urls` setting) lets the URL point
        at private and loopback addresses; it is for trusted callers only - never take it
        from a merchant's request."""
        _merchant(merchant_id)
        chosen = check_filter(events)
        if description is not None and len(description) > 255:
            raise InvalidRequest("at most 255 characters", field="description")
        private = (
            self._settings.allow_private_webhook_urls if allow_private is None else allow_private
        )
        await check_url(url, allow_private=private, resolver=self._resolver)
        now = self._clock.now()
        endpoint_id = new_id("ep", now)
        secret = new_signing_secret()
        row = await self._store.add_endpoint(
            {
                "id": endpoint_id,
                "merchant_id": merchant_id,
                "url": url,
                "description": description,
                "secret": self._box.seal(secret, endpoint_id),
                "events": chosen,
                "allow_private": private,
                "enabled": True,
                "disabled_reason": None,
                "created_at": now,
                "updated_at": now,
            }
        )
        return RegisteredEndpoint(EndpointView.of(row), secret)

    async def list(self, merchant_id: str) -> builtins.list[EndpointView]:
        """The merchant's endpoints, oldest first."""
        return [EndpointView.of(r) for r in await self._store.endpoints(_merchant(merchant_id))]

    async def get(self, merchant_id: str, endpoint_id: str) -> EndpointView:
        """One endpoint (`NotFound` for another merchant's)."""
        row = await self._store.endpoint(_merchant(merchant_id), endpoint_id)
        if row is None:
            raise NotFound(f"no webhook endpoint {endpoint_id}")
        return EndpointView.of(row)

    async def signing_secret(self, merchant_id: str, endpoint_id: str) -> str:
        """The endpoint's `whsec_` secret, for repeating its registration's answer to the
        same request (an Idempotency-Key replay over HTTP); never for listings."""
        row = await self._store.endpoint(_merchant(merchant_id), endpoint_id)
        if row is None:
            raise NotFound(f"no webhook endpoint {endpoint_id}")
        return self._box.open(row["secret"], endpoint_id)

    async def delete(self, merchant_id: str, endpoint_id: str) -> None:
        """Remove an endpoint and its delivery records; nothing more is sent to it."""
        if not await self._store.delete_endpoint(_merchant(merchant_id), endpoint_id):
            raise NotFound(f"no webhook endpoint {endpoint_id}")

    async def disable(
        self, merchant_id: str, endpoint_id: str, reason: str = "disabled by the merchant"
    ) -> EndpointView:
        """Stop sending to an endpoint; its pending deliveries are marked failed."""
        row = await self._store.set_enabled(
            _merchant(merchant_id), endpoint_id, False, reason[:255], self._clock.now()
        )
        if row is None:
            raise NotFound(f"no webhook endpoint {endpoint_id}")
        return EndpointView.of(row)

    async def enable(self, merchant_id: str, endpoint_id: str) -> EndpointView:
        """Send to an endpoint again (new events; failed ones need `redeliver`). The URL is
        checked again, as at registration."""
        row = await self._store.endpoint(_merchant(merchant_id), endpoint_id)
        if row is None:
            raise NotFound(f"no webhook endpoint {endpoint_id}")
        await check_url(row["url"], allow_private=row["allow_private"], resolver=self._resolver)
        updated = await self._store.set_enabled(
            merchant_id, endpoint_id, True, None, self._clock.now()
        )
        if updated is None:
            raise NotFound(f"no webhook endpoint {endpoint_id}")
        return EndpointView.of(updated)

    async def rotate_secret(
        self,
        merchant_id: str,
        endpoint_id: str,
        previous_valid_for: timedelta = DEFAULT_PREVIOUS_SECRET_VALIDITY,
    ) -> RegisteredEndpoint:
        """Give the endpoint a new `whsec_` secret, shown in the answer only. For
        `previous_valid_for` (at most 7 days) the secret it replaces signs every delivery
        too, so a receiver can switch secrets without rejecting one. Zero retires the old
        secret at once (a leaked secret), and any earlier one still signing with it.

        With an overlap, `InvalidState` while an earlier rotation's overlap runs: its new
        secret may not be deployed yet, and demoting it would drop the one still in use."""
        _merchant(merchant_id)
        if not timedelta(0) <= previous_valid_for <= MAX_PREVIOUS_SECRET_VALIDITY:
            raise InvalidRequest(
                f"must be between 0 and {MAX_PREVIOUS_SECRET_VALIDITY.total_seconds():.0f} seconds",
                field="previous_secret_expires_in",
            )
        now = self._clock.now()
        secret = new_signing_secret()
        row = await self._store.rotate_secret(
            merchant_id,
            endpoint_id,
            self._box.seal(secret, endpoint_id),
            now + previous_valid_for if previous_valid_for else None,
            now,
        )
        if row is None:
            current = await self.get(merchant_id, endpoint_id)  # NotFound if there is none
            until = current.previous_secret_expires_at  # None: another rotation just ended it
            raise InvalidState(
                "an earlier rotation's overlap is still running"
                + (f" (its old secret signs until {until:%Y-%m-%dT%H:%M:%SZ})" if until else "")
                + "; rotate again after it ends, or with previous_secret_expires_in 0 to retire "
                "the old secrets now"
            )
        return RegisteredEndpoint(EndpointView.of(row), secret)

    async def deliveries(
        self,
        merchant_id: str,
        endpoint_id: str,
        *,
        status: DeliveryStatus | str | None = None,
        limit: int = 20,
        before: str | None = None,
    ) -> DeliveryPage:
        """An endpoint's deliveries, newest first."""
        if not 1 <= limit <= 100:
            raise InvalidRequest("must be between 1 and 100", field="limit")
        try:
            wanted = DeliveryStatus(status) if status is not None else None
        except ValueError:
            raise InvalidRequest(
                f"must be one of {[s.value for s in DeliveryStatus]}", field="status"
            ) from None
        await self.get(merchant_id, endpoint_id)
        rows = await self._store.deliveries(
            merchant_id, endpoint_id, status=wanted, limit=limit + 1, before=before
        )
        items = [DeliveryView.of(r) for r in rows[:limit]]
        return DeliveryPage(items, items[-1].id if len(rows) > limit else None)

    async def redeliver(self, merchant_id: str, delivery_id: str) -> DeliveryView:
        """Send one delivery again, delivered or failed, with a fresh retry window. The
        webhook-id stays the event's id, so a receiver that saw it already can tell."""
        rows, disabled = await self._store.redeliver(
            _merchant(merchant_id),
            delivery_id=delivery_id,
            now=self._clock.now(),
            window=self._window,
        )
        if disabled:
            raise InvalidState(f"the endpoint of {delivery_id} is disabled; enable it first")
        if not rows:
            raise NotFound(f"no webhook delivery {delivery_id}")
        return DeliveryView.of(rows[0])

    async def redeliver_event(self, merchant_id: str, event_id: str) -> builtins.list[DeliveryView]:
        """Send one event again to every enabled endpoint that it was sent to."""
        rows, disabled = await self._store.redeliver(
            _merchant(merchant_id), event_id=event_id, now=self._clock.now(), window=self._window
        )
        if not rows and not disabled:
            raise NotFound(f"no webhook event {event_id}")
        if not rows:
            raise InvalidState(f"every endpoint that received {event_id} is disabled")
        return [DeliveryView.of(r) for r in rows]
