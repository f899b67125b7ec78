"""The background job that settles unknown outcomes, on a bounded schedule, with an alert.

A payment with an attempt whose outcome is unknown (a timeout, a lost answer, a crash between
the provider call and the record) is looked up at its provider with the attempt's own key
(`PaymentService.sync`); the provider's webhook may settle it first. Each pass claims overdue
payments through the database (`Store.claim_unresolved`: a lease, `FOR UPDATE SKIP LOCKED`
on PostgreSQL), so instances sharing the database never look one payment up at once. After
a lookup that left a payment unresolved, its lease is moved to the next lookup
(`Store.reconcile_later`): twice the previous wait, up to `backoff_max`. The lease is the
schedule, so every instance honours it; the count of lookups is this instance's (another
instance, or a restarted one, starts the doubling again - harmless, only sooner).

A payment whose oldest open attempt is older than `alert_after` is logged at ERROR with its
id on every lookup that fails to settle it, and counted in `unresolved_past_bound` (the
gauge `reconciler_unresolved`): money whose fate nobody knows needs a person.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from gatewayhub.clock import Clock
from gatewayhub.errors import ProviderError
from gatewayhub.service import PaymentService

log = logging.getLogger("gatewayhub.reconciler")
# How many overdue payments one pass reads to find the due ones among those backing off.
_SCAN = 2000
_NEVER = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(slots=True)
class _Backoff:
    tries: int
    next_at: datetime


@dataclass(frozen=True, slots=True)
class ReconcilePass:
    """What one pass did."""

    looked_up: int
    resolved: int
    unresolved_past_bound: int


class Reconciler:
    """Settles overdue payments with bounded back-off and alerts on the ones that stay open."""

    def __init__(
        self,
        service: PaymentService,
        clock: Clock,
        *,
        after: timedelta = timedelta(seconds=30),
        waiting_after: timedelta = timedelta(minutes=10),
        backoff_initial: timedelta = timedelta(seconds=10),
        backoff_max: timedelta = timedelta(minutes=5),
        alert_after: timedelta = timedelta(minutes=15),
        lease: timedelta = timedelta(seconds=60),
        batch: int = 100,
        concurrency: int = 4,
    ) -> None:
        self.service = service
        self.clock = clock
        self.after = after
        self.waiting_after = waiting_after
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.alert_after = alert_after
        # Held while a pass looks the payment up; then replaced by the back-off, or moot.
        self.lease = lease
        self.batch = batch
        # Lookups of different payments run side by side: one slow provider (timeouts, a
        # lookup retried) must not hold up every other payment's settlement.
        self._slots = asyncio.Semaphore(concurrency)
        self.unresolved_past_bound = 0
        self._backoff: dict[str, _Backoff] = {}

    def next_lookup(self, payment_id: str) -> datetime | None:
        """When `payment_id` is looked up next, if it is backing off."""
        entry = self._backoff.get(payment_id)
        return entry.next_at if entry else None

    async def run_once(self) -> ReconcilePass:
        """One pass: claim the due overdue payments, look them up, refresh the alert gauge."""
        now = self.clock.now()
        store = self.service.store
        due = await store.claim_unresolved(
            now, now - self.after, now - self.waiting_after, self.lease, self.batch
        )
        stuck = set(await store.unresolved(now - self.alert_after, _NEVER, _SCAN))
        settled = await asyncio.gather(*(self._settle(p, p in stuck) for p in due))
        stuck -= {p for p, done in zip(due, settled, strict=True) if done}
        self.unresolved_past_bound = len(stuck)
        # Payments this instance no longer sees were settled elsewhere (a webhook, another
        # instance): forget their back-off once it is long past.
        forget = now - 2 * self.backoff_max
        for gone in [p for p, b in self._backoff.items() if b.next_at < forget]:
            del self._backoff[gone]
        return ReconcilePass(len(due), sum(settled), len(stuck))

    async def _settle(self, payment_id: str, stuck: bool) -> bool:
        """Look one payment up; True when nothing of it is left open."""
        async with self._slots:
            try:
                payment = await self.service.sync(None, payment_id)
                settled = not payment.open_attempts()
            except ProviderError as exc:
                log.warning("reconciling %s failed: %s", payment_id, exc)
                settled = False
        if settled:
            self._backoff.pop(payment_id, None)
            return True
        tries = self._backoff[payment_id].tries + 1 if payment_id in self._backoff else 1
        wait = min(self.backoff_initial * 2 ** (tries - 1), self.backoff_max)
        next_at = self.clock.now() + wait
        self._backoff[payment_id] = _Backoff(tries, next_at)
        await self.service.store.reconcile_later(payment_id, next_at)
        if stuck:
            log.error(
                "payment %s: outcome still unknown after more than %ds (%d lookups); "
                "needs attention",
                payment_id,
                self.alert_after.total_seconds(),
                tries,
            )
        return False
