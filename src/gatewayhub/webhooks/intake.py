"""Provider webhooks in: verify, store once, acknowledge, then apply from the inbox.

`receive` does the part the provider waits for: signature check on the raw bytes, parsing,
and storing each event in the inbox (deduplicated by account and event id) before the
acknowledgement is returned. `process` applies stored events to payments later, so a crash
after the acknowledgement loses nothing: unprocessed items stay in the inbox, and an item
whose lease expired is taken up again.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from gatewayhub.clock import Clock
from gatewayhub.errors import Decision, Decline, DeclineCode, NotFound
from gatewayhub.models import EventKind, ProviderEvent, WebhookAck
from gatewayhub.money import Money
from gatewayhub.service import PaymentService
from gatewayhub.storage.store import InboxItem, Store

log = logging.getLogger("gatewayhub.webhooks")
# A webhook can overtake the response it is about (the provider sends it before answering):
# its payment is then not findable yet. Such items wait and are tried again, this many times.
_ORPHAN_TRIES = 20


def encode_event(event: ProviderEvent) -> str:
    """The inbox form of an event (our own JSON: raw provider bodies are not kept)."""
    data: dict[str, Any] = {
        "event_id": event.event_id,
        "kind": event.kind.value,
        "raw_type": event.raw_type,
        "provider_reference": event.provider_reference,
        "attempt_key": event.attempt_key,
        "payment_id": event.payment_id,
        "refund_reference": event.refund_reference,
        "refund_id": event.refund_id,
        "occurred_at": event.occurred_at.isoformat() if event.occurred_at else None,
    }
    for name in ("money", "captured"):
        value = getattr(event, name)
        if value is not None:
            data[name] = {"amount": value.amount, "currency": value.currency}
    if event.decline is not None:
        d = event.decline
        data["decline"] = {
            "code": d.code.value,
            "decision": d.decision.value,
            "provider_code": d.provider_code,
            "message": d.message,
            "hard": d.hard,
        }
    return json.dumps(data, separators=(",", ":"))


def decode_event(text: str) -> ProviderEvent:
    """Back from `encode_event`."""
    data = json.loads(text)
    money = data.get("money")
    captured = data.get("captured")
    decline = data.get("decline")
    occurred = data.get("occurred_at")
    return ProviderEvent(
        event_id=data["event_id"],
        kind=EventKind(data["kind"]),
        raw_type=data["raw_type"],
        provider_reference=data.get("provider_reference"),
        attempt_key=data.get("attempt_key"),
        payment_id=data.get("payment_id"),
        money=Money(money["amount"], money["currency"]) if money else None,
        captured=Money(captured["amount"], captured["currency"]) if captured else None,
        refund_reference=data.get("refund_reference"),
        refund_id=data.get("refund_id"),
        decline=Decline(
            DeclineCode(decline["code"]),
            Decision(decline["decision"]),
            decline["provider_code"],
            decline["message"],
            decline["hard"],
        )
        if decline
        else None,
        occurred_at=datetime.fromisoformat(occurred) if occurred else None,
    )


class WebhookIntake:
    """Receives provider webhooks and works the inbox."""

    def __init__(
        self,
        service: PaymentService,
        store: Store,
        clock: Clock,
        lease: timedelta = timedelta(seconds=30),
        concurrency: int = 4,
    ) -> None:
        self.service = service
        self.store = store
        self.clock = clock
        self.lease = lease
        # Items are applied side by side: each takes a few database round trips, and one
        # after the other they fell minutes behind the webhooks arriving under load (the
        # chaos run). Two events of one payment may run together: the payment's version
        # check makes the later one reload and apply again.
        self.concurrency = concurrency

    async def receive(
        self, account: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[WebhookAck, int]:
        """Verify, parse and store; returns the acknowledgement and how many events were new.

        Raises `NotFound` for an unknown account and `WebhookVerificationError` when the
        signature, timestamp or body does not hold (a `ProviderError` when the adapter could
        not fetch what verification needs); nothing is stored then."""
        provider_account = self.service.accounts.get(account)
        if provider_account is None:
            raise NotFound(f"no provider account {account!r}")
        adapter = provider_account.adapter
        await adapter.verify_webhook_async(headers, body)
        events = list(adapter.parse_webhook(headers, body))
        fresh = await self.store.inbox_add(
            account, [(e.event_id, e.raw_type, encode_event(e)) for e in events], self.clock.now()
        )
        return adapter.webhook_ack(events), sum(fresh)

    async def process(self, limit: int = 50) -> int:
        """Apply up to `limit` stored events; returns how many were settled."""
        items = await self.store.inbox_claim(self.clock.now(), self.lease, limit)
        slots = asyncio.Semaphore(self.concurrency)

        async def settle(item: InboxItem) -> None:
            async with slots:
                await self._settle(item)

        await asyncio.gather(*(settle(item) for item in items))
        return len(items)

    async def _settle(self, item: InboxItem) -> None:
        try:
            await self._apply(item)
        except Exception as exc:
            # One broken event must not hold up the others: it is retried with back-off
            # and parked as failed (visible, alerting) once it keeps failing.
            log.exception("applying %s event %s failed", item.account, item.event_id)
            now = self.clock.now()
            if item.tries >= _ORPHAN_TRIES:
                await self.store.inbox_finish(item.id, "failed", now, repr(exc))
            else:
                wait = timedelta(seconds=min(2**item.tries, 300))
                await self.store.inbox_retry_later(item.id, now + wait, repr(exc))

    async def _apply(self, item: InboxItem) -> None:
        event = decode_event(item.body)
        now = self.clock.now()
        if event.kind is EventKind.UNHANDLED:
            await self.store.inbox_finish(item.id, "ignored", now)
            return
        payment_id = await self.store.find_payment_id(
            item.account,
            provider_reference=event.provider_reference,
            attempt_key=event.attempt_key,
            payment_id=event.payment_id,
        )
        if payment_id is None:
            if item.tries >= _ORPHAN_TRIES:
                log.warning(
                    "%s event %s matches no payment; giving up", item.account, event.event_id
                )
                await self.store.inbox_finish(item.id, "orphaned", now, "no matching payment")
            else:
                wait = timedelta(seconds=min(2**item.tries, 300))
                await self.store.inbox_retry_later(item.id, now + wait, "no matching payment yet")
            return
        try:
            changed = await self.service.apply_event(item.account, payment_id, event)
        except NotFound:
            await self.store.inbox_finish(item.id, "orphaned", now, "payment vanished")
            return
        await self.store.inbox_finish(
            item.id, "processed" if changed else "ignored", self.clock.now()
        )
