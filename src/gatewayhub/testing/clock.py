"""A clock that only moves when told to (sleeping moves it, instantly)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class FixedClock:
    """Deterministic time for tests: `sleep` advances the clock without waiting."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
        self._monotonic = 1000.0
        self.slept: list[float] = []

    def now(self) -> datetime:
        """The fixed current time."""
        return self._now

    def monotonic(self) -> float:
        """Seconds since an arbitrary origin, advanced with `now`."""
        return self._monotonic

    async def sleep(self, seconds: float) -> None:
        """Advance by `seconds` and record the request (tests assert on back-off)."""
        self.slept.append(seconds)
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self._now += timedelta(seconds=seconds)
        self._monotonic += seconds
