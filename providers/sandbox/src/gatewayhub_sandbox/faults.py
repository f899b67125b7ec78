"""Seeded fault injection: which requests and webhooks of an emulator go wrong, and how.

A `FaultPlan` gives a probability per fault kind. Each decision is a pure function of the
plan's seed and the identity of what is decided about (the request's method, path and
idempotency key and how often that key was seen; the webhook's type and charge), so one
seed injects the same faults into the same requests whatever the interleaving of the run.
A request can also ask for one fault with the `Sandbox-Fault` header (tests do this).

Request faults, in the order their probabilities are laid end to end:

    error_before     HTTP 500, nothing done (not stored: a replay runs the request)
    reset_before     the connection drops before anything is done
    slow             the request waits `slow_seconds` before it is done (past the
                     client's deadline, so the client gives up while the work still happens)
    error_after      the work is done, the answer is HTTP 500 (a replay returns the result)
    reset_after      the work is done, the connection drops before the answer
    timeout_after    the work is done, the answer hangs for `hang_seconds`

Instance faults: `rate_limit_storm` (a request starts `storm_seconds` of HTTP 429 for every
call) and `outages` (windows, in seconds after the plan was installed, of 503
`service_unavailable`, which the adapter reads as "not sent").

Webhook faults: `webhook_lost` (never sent), `webhook_duplicated` (sent twice),
`webhook_delayed` (sent up to `webhook_delay_max_ms` late), `webhook_reordered` (held back
until the charge's next event has gone, or `reorder_hold_ms`).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

RequestFault = Literal[
    "error_before", "reset_before", "slow", "error_after", "reset_after", "timeout_after"
]
WebhookFault = Literal["webhook_lost", "webhook_duplicated", "webhook_delayed", "webhook_reordered"]
REQUEST_FAULTS: tuple[RequestFault, ...] = (
    "error_before",
    "reset_before",
    "slow",
    "error_after",
    "reset_after",
    "timeout_after",
)
# Faults that happen before the request does anything: the only ones a GET can meet.
BEFORE_FAULTS = frozenset({"error_before", "reset_before", "slow"})
WEBHOOK_FAULTS: tuple[WebhookFault, ...] = (
    "webhook_lost",
    "webhook_duplicated",
    "webhook_delayed",
    "webhook_reordered",
)
FAULT_HEADER = "sandbox-fault"
K = TypeVar("K", bound=str)

Probability = float


class Outage(BaseModel):
    """The instance is down from `start` seconds after the plan was installed, for
    `duration` seconds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: float = Field(ge=0)
    duration: float = Field(gt=0)


class FaultPlan(BaseModel):
    """What goes wrong, how often, and for how long (all off by default)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    seed: int = 0
    error_before: Probability = Field(default=0.0, ge=0, le=1)
    reset_before: Probability = Field(default=0.0, ge=0, le=1)
    slow: Probability = Field(default=0.0, ge=0, le=1)
    error_after: Probability = Field(default=0.0, ge=0, le=1)
    reset_after: Probability = Field(default=0.0, ge=0, le=1)
    timeout_after: Probability = Field(default=0.0, ge=0, le=1)
    rate_limit_storm: Probability = Field(default=0.0, ge=0, le=1)
    webhook_lost: Probability = Field(default=0.0, ge=0, le=1)
    webhook_duplicated: Probability = Field(default=0.0, ge=0, le=1)
    webhook_delayed: Probability = Field(default=0.0, ge=0, le=1)
    webhook_reordered: Probability = Field(default=0.0, ge=0, le=1)
    outages: tuple[Outage, ...] = ()
    slow_seconds: float = Field(default=2.0, ge=0)
    hang_seconds: float = Field(default=2.0, ge=0)
    storm_seconds: float = Field(default=0.5, gt=0)
    webhook_delay_max_ms: float = Field(default=500.0, ge=0)
    reorder_hold_ms: float = Field(default=300.0, ge=0)

    @model_validator(mode="after")
    def _sums(self) -> FaultPlan:
        for group in (REQUEST_FAULTS, WEBHOOK_FAULTS):
            total = sum(getattr(self, kind) for kind in group)
            if total > 1:
                raise ValueError(f"the probabilities of {', '.join(group)} add up to {total} > 1")
        return self


def roll(seed: int, what: str, identity: str) -> float:
    """A uniform number in [0, 1) fixed by (seed, what, identity)."""
    digest = hashlib.sha256(f"{seed}|{what}|{identity}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


class FaultInjector:
    """Decides faults by the plan and counts what it injected."""

    def __init__(self, plan: FaultPlan, installed_at: float) -> None:
        self.plan = plan
        self.installed_at = installed_at
        self.injected: Counter[str] = Counter()
        self._seen: Counter[str] = Counter()
        self._storm_until = float("-inf")

    def install(self, plan: FaultPlan, now: float) -> None:
        """Replace the plan; outage windows count from `now`. Counts are kept."""
        self.plan = plan
        self.installed_at = now
        self._storm_until = float("-inf")

    def down(self, now: float) -> bool:
        """Inside an outage window (each refused call is counted)."""
        elapsed = now - self.installed_at
        for outage in self.plan.outages:
            if outage.start <= elapsed < outage.start + outage.duration:
                self.injected["outage"] += 1
                return True
        return False

    def storming(self, identity: str, now: float) -> bool:
        """In a 429 storm, or starting one with this request (each 429 is counted)."""
        if now < self._storm_until:
            self.injected["rate_limited"] += 1
            return True
        if self.plan.rate_limit_storm and (
            roll(self.plan.seed, "storm", identity) < self.plan.rate_limit_storm
        ):
            self._storm_until = now + self.plan.storm_seconds
            self.injected["rate_limit_storm"] += 1
            self.injected["rate_limited"] += 1
            return True
        return False

    def identity(self, method: str, path: str, key: str | None) -> str:
        """A request's identity: what it is, and how often the same request came before."""
        base = f"{method} {path} {key or ''}"
        self._seen[base] += 1
        return f"{base} #{self._seen[base]}"

    def request_fault(
        self, identity: str, *, forced: str | None, effects: bool
    ) -> RequestFault | None:
        """The fault this request meets (None: none). `effects` is False for calls that
        change nothing (GETs), which only meet faults from before the work."""
        if forced is not None:
            if forced not in REQUEST_FAULTS:
                return None
            kind: RequestFault | None = forced
        else:
            kind = self._pick(REQUEST_FAULTS, "request", identity)
        if kind is None or (not effects and kind not in BEFORE_FAULTS):
            return None
        self.injected[kind] += 1
        return kind

    def webhook_fault(self, identity: str) -> WebhookFault | None:
        """What happens to the webhook `identity` on its way (None: delivered once, at once)."""
        kind = self._pick(WEBHOOK_FAULTS, "webhook", identity)
        if kind is not None:
            self.injected[kind] += 1
        return kind

    def webhook_delay(self, identity: str) -> float:
        """Seconds a delayed webhook waits."""
        return roll(self.plan.seed, "delay", identity) * self.plan.webhook_delay_max_ms / 1000

    def _pick(self, kinds: tuple[K, ...], what: str, identity: str) -> K | None:
        point = roll(self.plan.seed, what, identity)
        edge = 0.0
        for kind in kinds:
            edge += getattr(self.plan, kind)
            if point < edge:
                return kind
        return None
