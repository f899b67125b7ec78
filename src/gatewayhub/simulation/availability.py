"""Availability windows (outages, degraded approval, latency) and the health the router sees.

The same windows answer two kinds of question: "at time t, is provider p down?" for the
per-payment reference loop and the `HealthView` handed to `Router.route`, and "for these n
timestamps, which providers are down?" as arrays for the vectorized engine. Both read the
windows in the scenario's order, so factors multiply in the same order and give the same
floats.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from gatewayhub.simulation.scenario import Plan, Window
from gatewayhub.simulation.transactions import F64, I32, I64, Bool

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# What the router is told a segment's approval rate rests on: the model's rate is treated
# as a well-established success-rate window, not a guess from a handful of payments.
OBSERVATIONS = 10_000


def epoch_seconds(moment: datetime) -> int:
    """Whole seconds since 1970-01-01 UTC (floor), without going through a float."""
    return (moment - _EPOCH) // timedelta(seconds=1)


@dataclass(frozen=True, slots=True)
class _Span:
    provider: int
    start: int
    end: int
    window: Window


@dataclass(frozen=True)
class AvailabilityArrays:
    """Per payment (rows) and provider (columns)."""

    down: Bool  # calls fail, not sent
    breaker_open: Bool  # routing skips the provider
    factor: F64  # approval multiplier
    latency_ms: I32  # per call that reaches the provider
    failure_ms: I32  # per call that fails because the provider is down


class Availability:
    """The scenario's windows, indexed by provider column."""

    def __init__(self, plan: Plan) -> None:
        index = {account: i for i, account in enumerate(plan.accounts)}
        self.providers = len(plan.accounts)
        self.base_latency = [plan.provider(i).latency_ms for i in range(self.providers)]
        self.spans = [
            _Span(index[w.provider], epoch_seconds(w.start), epoch_seconds(w.end), w)
            for w in plan.scenario.availability
        ]

    def _active(self, provider: int, t: int, kind: str) -> list[_Span]:
        return [
            s
            for s in self.spans
            if s.provider == provider and s.window.kind == kind and s.start <= t < s.end
        ]

    def down(self, provider: int, t: int) -> bool:
        """Do calls to `provider` fail at `t`?"""
        return bool(self._active(provider, t, "outage"))

    def breaker_open(self, provider: int, t: int) -> bool:
        """Has the circuit breaker of `provider` opened by `t`?"""
        return any(
            t >= s.start + s.window.detect_seconds for s in self._active(provider, t, "outage")
        )

    def factor(self, provider: int, t: int) -> float:
        """The approval multiplier of `provider` at `t`."""
        factor = 1.0
        for span in self._active(provider, t, "degraded"):
            factor *= span.window.approval_factor
        return factor

    def latency_ms(self, provider: int, t: int) -> int:
        """Milliseconds one call to `provider` takes at `t`."""
        extra = sum(s.window.latency_ms for s in self._active(provider, t, "latency"))
        return self.base_latency[provider] + extra

    def failure_ms(self, provider: int, t: int) -> int:
        """Milliseconds lost on a call to `provider` while it is down at `t`."""
        return max((s.window.failure_ms for s in self._active(provider, t, "outage")), default=0)

    def arrays(self, timestamps: I64) -> AvailabilityArrays:
        """All of the above for many timestamps at once."""
        n, p = len(timestamps), self.providers
        down = np.zeros((n, p), dtype=np.bool_)
        breaker = np.zeros((n, p), dtype=np.bool_)
        factor = np.ones((n, p), dtype=np.float64)
        latency = np.tile(np.array(self.base_latency, dtype=np.int32), (n, 1))
        failure = np.zeros((n, p), dtype=np.int32)
        for span in self.spans:
            inside = (timestamps >= span.start) & (timestamps < span.end)
            if not inside.any():
                continue
            col, w = span.provider, span.window
            if w.kind == "outage":
                down[inside, col] = True
                breaker[inside & (timestamps >= span.start + w.detect_seconds), col] = True
                failure[inside, col] = np.maximum(failure[inside, col], w.failure_ms)
            elif w.kind == "degraded":
                factor[inside, col] *= w.approval_factor
            else:
                latency[inside, col] += w.latency_ms
        return AvailabilityArrays(down, breaker, factor, latency, failure)


class ScenarioHealth:
    """The `HealthView` of a scenario at one moment: breakers from outage windows, approval
    rates from the approval models (times any degradation window)."""

    def __init__(self, plan: Plan, availability: Availability) -> None:
        self.plan = plan
        self.availability = availability
        self.index = {account: i for i, account in enumerate(plan.accounts)}
        self.now = 0

    def at(self, timestamp: int) -> ScenarioHealth:
        """Move to `timestamp` (seconds since the epoch)."""
        self.now = timestamp
        return self

    def unavailable(self, account: str) -> str | None:
        """ "open" while an outage window has tripped the breaker, else None."""
        if self.availability.breaker_open(self.index[account], self.now):
            return "open"
        return None

    def approval(self, account: str, segment: str) -> tuple[float, int]:
        """The segment's modelled approval rate at this moment."""
        i = self.index[account]
        rate = self.plan.provider(i).approval.segment_rate(segment)
        return rate * self.availability.factor(i, self.now), OBSERVATIONS
