"""Delivering merchant webhooks: outbox -> one delivery per endpoint -> signed POSTs.

One pass (`run_once`) fans pending outbox rows out to the endpoints whose filter matches, then
leases the due deliveries and sends them, `concurrency` at a time. Any number of dispatchers
(tasks, processes, gateway instances) can run on one database: the lease decides who sends.
Delivery is at least once - a dispatcher that dies after the receiver answered but before the
answer was recorded leaves the delivery to be sent again when its lease runs out - and every
try of one event carries the same `webhook-id`, on which receivers deduplicate.

Outcomes: 2xx delivered; 410 Gone disables the endpoint; anything else (other statuses,
timeouts, connection errors, a URL that now resolves to a private address) is retried on the
schedule of `gatewayhub.outbound.schedule` until the retry window closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from datetime import datetime, timedelta

import httpx

from gatewayhub.clock import Clock
from gatewayhub.config import WebhooksConfig
from gatewayhub.errors import ConfigError
from gatewayhub.outbound import events
from gatewayhub.outbound.schedule import next_attempt
from gatewayhub.outbound.sealing import SecretBox
from gatewayhub.outbound.ssrf import Resolver, UnsafeURL, check_url
from gatewayhub.outbound.store import ClaimedDelivery, OutboundStore
from gatewayhub.webhooks.standard import sign_headers

log = logging.getLogger("gatewayhub.outbound")
USER_AGENT = "gatewayhub-webhooks/1"
_FAN_OUT_BATCH = 200


class Dispatcher:
    """Fans out the outbox and delivers due webhooks."""

    def __init__(
        self,
        store: OutboundStore,
        box: SecretBox,
        settings: WebhooksConfig,
        client: httpx.AsyncClient,
        clock: Clock,
        resolver: Resolver,
        rng: random.Random | None = None,
    ) -> None:
        self._store = store
        self._box = box
        self._settings = settings
        self._client = client
        self._clock = clock
        self._resolver = resolver
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not secrecy

    async def fan_out(self) -> int:
        """Turn every pending outbox row into deliveries; returns how many rows."""
        window = timedelta(seconds=self._settings.retry_window_seconds)
        total = 0
        while True:
            done = await self._store.fan_out(self._clock.now(), window, _FAN_OUT_BATCH)
            total += done
            if done < _FAN_OUT_BATCH:
                return total

    async def deliver_due(self) -> int:
        """Lease up to `concurrency` due deliveries and send them; returns how many."""
        lease = timedelta(seconds=self._settings.lease_seconds)
        claimed = await self._store.claim(self._clock.now(), lease, self._settings.concurrency)
        if claimed:
            await asyncio.gather(*(self._deliver(d) for d in claimed))
        return len(claimed)

    async def run_once(self) -> int:
        """Fan out, then send what is due; returns the work done (0: nothing to do)."""
        return await self.fan_out() + await self.deliver_due()

    async def run(self, wake: asyncio.Event) -> None:
        """Work until cancelled; sleep `poll_seconds` (or until `wake`) when idle."""
        while True:
            try:
                busy = await self.run_once()
            except Exception:
                log.exception("webhook dispatcher failed; retrying")
                busy = 0
            if not busy:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._settings.poll_seconds):
                        await wake.wait()
                wake.clear()

    async def _deliver(self, delivery: ClaimedDelivery) -> None:
        try:
            async with asyncio.timeout(self._settings.timeout_seconds):
                status, error = await self._send(delivery)
        except TimeoutError:
            status, error = None, f"no answer within {self._settings.timeout_seconds:g}s"
        now = self._clock.now()
        if error is None:
            await self._store.record(
                delivery, now=now, status_code=status, error=None, retry_at=None
            )
            log.info("webhook %s delivered to %s", delivery.event_id, delivery.endpoint_id)
            return
        if status == 410:
            reason = "the endpoint answered 410 Gone"
            await self._store.record(
                delivery,
                now=now,
                status_code=status,
                error=error,
                retry_at=None,
                disable_reason=reason,
            )
            log.warning("webhook endpoint %s disabled: %s", delivery.endpoint_id, reason)
            return
        retry_at = self._retry_at(now, delivery)
        if retry_at is None:
            error = f"gave up after {delivery.tries} tries: {error}"
        await self._store.record(
            delivery, now=now, status_code=status, error=error, retry_at=retry_at
        )
        log.warning(
            "webhook %s to %s failed (try %d): %s",
            delivery.event_id,
            delivery.endpoint_id,
            delivery.tries,
            error,
        )

    def _retry_at(self, now: datetime, delivery: ClaimedDelivery) -> datetime | None:
        return next_attempt(
            now,
            delivery.tries,
            delivery.give_up_at,
            self._settings.retry_schedule,
            self._settings.jitter,
            self._rng,
        )

    async def _send(self, delivery: ClaimedDelivery) -> tuple[int | None, str | None]:
        """POST one delivery; (status code, error) with error None on 2xx."""
        try:
            secret = self._box.open(delivery.sealed_secret, delivery.endpoint_id)
            previous = (
                [self._box.open(delivery.previous_sealed_secret, delivery.endpoint_id)]
                if delivery.previous_sealed_secret is not None
                else []
            )
        except ConfigError as exc:
            # A configuration fault of ours (key removed): keep retrying until it is fixed.
            log.error("webhook endpoint %s: %s", delivery.endpoint_id, exc)  # noqa: TRY400 - no traceback needed
            return None, "the endpoint's signing secret cannot be opened (configuration)"
        try:
            # Again at every delivery: the name may resolve elsewhere now (DNS rebinding).
            target = await check_url(
                delivery.url, allow_private=delivery.allow_private, resolver=self._resolver
            )
        except UnsafeURL as exc:
            return None, f"refused: {exc.reason}"
        url, headers, extensions = target.pinned()
        body = events.body(
            delivery.event_id, delivery.event_type, delivery.event_created_at, delivery.payload
        )
        headers.update(
            sign_headers(
                secret, delivery.event_id, int(self._clock.now().timestamp()), body, previous
            )
        )
        headers["content-type"] = "application/json"
        headers["user-agent"] = USER_AGENT
        try:
            async with self._client.stream(
                "POST", url, content=body, headers=headers, extensions=extensions
            ) as response:
                # The body is never read: only the status matters, and it may be large.
                status = response.status_code
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__}: {exc}"[:500]
        if 200 <= status < 300:
            return status, None
        return status, f"HTTP {status}"
