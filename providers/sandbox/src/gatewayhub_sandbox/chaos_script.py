"""The script of one chaos-run payment, shared by the SDK and the HTTP arm.

`PaymentScript.draw(seed, index)` draws everything payment `index` will ask for (amount,
capture mode, card, void, partial and final captures, refunds) before its first call, so a
restarted gateway or a retrying merchant sends each idempotency key the same request again,
whatever it observed on the way. `run_script` plays it through a `Merchant`: the calls a
merchant makes, through the SDK (`chaos_worker`) or over HTTP (`chaos_http`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Protocol

from gatewayhub.models import PaymentStatus


@dataclass(frozen=True, slots=True)
class PaymentScript:
    """What payment `index` of a run with `seed` asks for, drawn once."""

    key: str
    amount: int
    manual: bool
    token: str
    after_authorization: float  # < 0.15: void; < 0.3: left authorized; else captured
    split_capture: bool  # a partial capture of `part` before the final one
    part: int
    refunding: bool
    first: int  # the first refund's amount when it is partial
    partial: bool
    again: bool  # a second refund of the rest after a partial one

    @classmethod
    def draw(cls, seed: int, index: int) -> PaymentScript:
        """A pure function of (seed, index)."""
        rng = random.Random(f"{seed}:{index}")  # noqa: S311 - a test script, not security
        amount = rng.randint(100, 50_000)
        manual = rng.random() < 0.6
        token = "tok_decline_insufficient_funds" if rng.random() < 0.03 else "tok_visa"
        after_authorization, split_capture = rng.random(), rng.random() < 0.5
        part = rng.randint(1, amount - 1)
        refunding, first = rng.random() < 0.6, rng.randint(1, amount)
        partial, again = rng.random() < 0.5, rng.random() < 0.3
        return cls(
            key=f"chaos-{seed}-{index}",
            amount=amount,
            manual=manual,
            token=token,
            after_authorization=after_authorization,
            split_capture=split_capture,
            part=part,
            refunding=refunding,
            first=first,
            partial=partial,
            again=again,
        )


@dataclass(frozen=True, slots=True)
class Seen:
    """A payment as an answer showed it."""

    id: str
    status: PaymentStatus
    captured: int


class ScriptEnded(Exception):
    """The script stops here with `outcome` (the gateway refused or could not finish)."""

    def __init__(self, outcome: str) -> None:
        super().__init__(outcome)
        self.outcome = outcome


class Merchant(Protocol):
    """The calls of a script, each retried by the arm as a merchant would, with its key."""

    async def authorize(self, script: PaymentScript) -> Seen:
        """Authorize (capture at once unless the script's capture is manual)."""

    async def capture(self, payment_id: str, amount: int | None, final: bool, key: str) -> Seen:
        """Capture `amount` (the rest when None)."""

    async def void(self, payment_id: str, key: str) -> Seen:
        """Void an authorization."""

    async def refund(self, payment_id: str, amount: int | None, key: str) -> None:
        """Refund `amount` (the rest when None)."""

    async def get(self, payment_id: str) -> Seen:
        """Read the payment."""


async def run_script(merchant: Merchant, script: PaymentScript) -> str:
    """Play `script`; its outcome: the payment's last status, or why the script ended."""
    s, key = script, script.key
    try:
        payment = await merchant.authorize(s)
        if s.manual and payment.status is PaymentStatus.AUTHORIZED:
            if s.after_authorization < 0.15:
                return (await merchant.void(payment.id, f"{key}-void")).status.value
            if s.after_authorization < 0.3:
                return payment.status.value  # left authorized
            if s.split_capture:
                payment = await merchant.capture(payment.id, s.part, False, f"{key}-cap1")
            payment = await merchant.capture(payment.id, None, True, f"{key}-cap2")
        if (
            s.refunding
            and payment.status is PaymentStatus.CAPTURED
            and payment.captured == s.amount
        ):
            await merchant.refund(payment.id, s.first if s.partial else None, f"{key}-ref1")
            if s.partial and s.first < s.amount and s.again:
                await merchant.refund(payment.id, None, f"{key}-ref2")
            payment = await merchant.get(payment.id)
    except ScriptEnded as end:
        return end.outcome
    return payment.status.value
