"""Provider health: circuit breakers (technical failures only) and approval-rate windows.

`Health` is what the payment service needs; `LocalHealth` is the in-process implementation
and `gatewayhub.shared.SharedHealth` the one shared by several instances through Redis.
Declines never count as failures: a provider that says "insufficient funds" is working.
Time comes from the injected clock, so breaker timing is testable.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from gatewayhub.clock import Clock


class BreakerState(StrEnum):
    """Closed: calls flow. Open: the account is skipped. Half-open: a probe is allowed."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True, slots=True)
class BreakerSettings:
    """Open after `consecutive_failures` in a row, or when at least `min_calls` of the last
    `window` calls failed at `failure_ratio` or more; stay open `open_seconds`."""

    consecutive_failures: int = 5
    window: int = 20
    min_calls: int = 10
    failure_ratio: float = 0.5
    open_seconds: float = 30.0
    half_open_probes: int = 1


@dataclass(slots=True)
class CircuitBreaker:
    """One account's breaker."""

    settings: BreakerSettings
    state: BreakerState = BreakerState.CLOSED
    opened_at: float = 0.0
    consecutive: int = 0
    recent: deque[bool] = field(default_factory=deque)
    probes: int = 0

    def current(self, now: float) -> BreakerState:
        """The state at `now` (an open breaker turns half-open when its time is up)."""
        if self.state is BreakerState.OPEN and now - self.opened_at >= self.settings.open_seconds:
            self.state = BreakerState.HALF_OPEN
            self.probes = 0
        return self.state

    def blocked(self, now: float) -> bool:
        """Should calls skip this account now?"""
        state = self.current(now)
        if state is BreakerState.OPEN:
            return True
        return state is BreakerState.HALF_OPEN and self.probes >= self.settings.half_open_probes

    def begin(self, now: float) -> None:
        """A call is starting (counted as a probe while half-open)."""
        if self.current(now) is BreakerState.HALF_OPEN:
            self.probes += 1

    def record(self, ok: bool, now: float) -> None:
        """Count a call's technical outcome."""
        settings = self.settings
        self.recent.append(ok)
        if len(self.recent) > settings.window:
            self.recent.popleft()
        self.consecutive = 0 if ok else self.consecutive + 1
        state = self.current(now)
        if state is BreakerState.HALF_OPEN:
            if ok:
                self._close()
            else:
                self._open(now)
            return
        if ok or state is BreakerState.OPEN:
            return
        failures = self.recent.count(False)
        ratio_tripped = (
            len(self.recent) >= settings.min_calls
            and failures / len(self.recent) >= settings.failure_ratio
        )
        if self.consecutive >= settings.consecutive_failures or ratio_tripped:
            self._open(now)

    def _open(self, now: float) -> None:
        self.state = BreakerState.OPEN
        self.opened_at = now
        self.probes = 0

    def _close(self) -> None:
        self.state = BreakerState.CLOSED
        self.consecutive = 0
        self.recent.clear()
        self.probes = 0


@dataclass(slots=True)
class ApprovalWindow:
    """Approvals and attempts in time buckets over a sliding horizon."""

    bucket_seconds: float
    buckets: int
    counts: dict[int, list[int]] = field(default_factory=dict)

    def add(self, approved: bool, now: float) -> None:
        """Count one authorization outcome."""
        index = int(now // self.bucket_seconds)
        cell = self.counts.get(index)
        if cell is None:
            cell = self.counts[index] = [0, 0]
            oldest = index - self.buckets
            for stale in [k for k in self.counts if k <= oldest]:
                del self.counts[stale]
        cell[0] += approved
        cell[1] += 1

    def totals(self, now: float) -> tuple[int, int]:
        """(approved, attempts) inside the horizon."""
        oldest = int(now // self.bucket_seconds) - self.buckets
        approved = total = 0
        for index, (a, t) in self.counts.items():
            if index > oldest:
                approved += a
                total += t
        return approved, total


@dataclass(frozen=True, slots=True)
class HealthSettings:
    """Breaker settings and how approval rates are estimated.

    Approval rates are smoothed toward `prior_rate` as if `prior_weight` payments had been
    seen, so a new account is neither trusted nor shunned after its first few payments.
    """

    breaker: BreakerSettings = BreakerSettings()
    window_seconds: float = 900.0
    bucket_seconds: float = 30.0
    prior_rate: float = 0.85
    prior_weight: float = 20.0


class Health(Protocol):
    """Provider health as the payment service reads and feeds it (routing reads the first two)."""

    def unavailable(self, account: str) -> str | None:
        """None when calls may go to `account`, else its breaker state."""
        ...

    def approval(self, account: str, segment: str) -> tuple[float, int]:
        """Smoothed approval rate of `account` for `segment`, and its sample size."""
        ...

    def begin_call(self, account: str) -> None:
        """A provider call is about to start."""
        ...

    def record_call(self, account: str, ok: bool, seconds: float | None = None) -> None:
        """A call ended: `ok` False for technical failures (never for declines)."""
        ...

    def record_outcome(self, account: str, segment: str, approved: bool) -> None:
        """An authorization was approved or declined."""
        ...

    def snapshot(self, account: str) -> dict[str, Any]:
        """State for dashboards and `GET /v1/providers`."""
        ...


class LocalHealth:
    """Health state kept in this process."""

    def __init__(self, clock: Clock, settings: HealthSettings | None = None) -> None:
        self.clock = clock
        self.settings = settings or HealthSettings()
        self._breakers: dict[str, CircuitBreaker] = {}
        self._windows: dict[tuple[str, str], ApprovalWindow] = {}
        self._latency: dict[str, float] = {}

    def _breaker(self, account: str) -> CircuitBreaker:
        breaker = self._breakers.get(account)
        if breaker is None:
            breaker = self._breakers[account] = CircuitBreaker(self.settings.breaker)
        return breaker

    # -- HealthView ---------------------------------------------------------------------------

    def unavailable(self, account: str) -> str | None:
        """None when calls may go to `account`, else its breaker state."""
        breaker = self._breakers.get(account)
        if breaker is None or not breaker.blocked(self.clock.monotonic()):
            return None
        return breaker.state.value

    def approval(self, account: str, segment: str) -> tuple[float, int]:
        """Smoothed approval rate of `account` for `segment`, and its sample size."""
        window = self._windows.get((account, segment))
        approved, total = window.totals(self.clock.monotonic()) if window else (0, 0)
        s = self.settings
        return (approved + s.prior_rate * s.prior_weight) / (total + s.prior_weight), total

    # -- recording ----------------------------------------------------------------------------

    def begin_call(self, account: str) -> None:
        """A provider call is about to start."""
        self._breaker(account).begin(self.clock.monotonic())

    def record_call(self, account: str, ok: bool, seconds: float | None = None) -> None:
        """A call ended: `ok` False for technical failures (never for declines)."""
        self._breaker(account).record(ok, self.clock.monotonic())
        if seconds is not None:
            previous = self._latency.get(account)
            self._latency[account] = seconds if previous is None else previous * 0.9 + seconds * 0.1

    def record_outcome(self, account: str, segment: str, approved: bool) -> None:
        """An authorization was approved or declined."""
        key = (account, segment)
        window = self._windows.get(key)
        if window is None:
            s = self.settings
            window = self._windows[key] = ApprovalWindow(
                s.bucket_seconds, int(s.window_seconds // s.bucket_seconds)
            )
        window.add(approved, self.clock.monotonic())

    def snapshot(self, account: str) -> dict[str, Any]:
        """State for dashboards and `GET /v1/providers`."""
        now = self.clock.monotonic()
        breaker = self._breakers.get(account)
        approved = total = 0
        for (acct, _), window in self._windows.items():
            if acct == account:
                a, t = window.totals(now)
                approved += a
                total += t
        return {
            "account": account,
            "circuit": breaker.current(now).value if breaker else BreakerState.CLOSED.value,
            "approval_rate": approved / total if total else None,
            "payments": total,
            "latency_ms": round(self._latency[account] * 1000, 1)
            if account in self._latency
            else None,
        }
