"""Circuit breakers and approval rates shared by every gateway instance through Redis.

The payment path never waits for Redis. It reads a local copy of the shared state and
appends outcomes to a local buffer; a background task exchanges both with Redis every
`refresh_seconds` in one pipelined round trip (two when there are approval windows to
read). An outage seen by one instance therefore steers every instance within about two
refresh intervals.

This instance also keeps its own `LocalHealth`, updated on every call:

- an account is skipped when either this instance's own breaker or the shared one is open,
  so the instance that sees failures reacts at once, before its next exchange;
- when Redis is down, routing reads only the local state (one warning per outage, from
  `RedisLink`), and outcomes are not buffered for later: local state already has them.

Breaker transitions in Redis are made by a Lua script from batches of outcomes, with the
same rules as `CircuitBreaker` (open on a failure streak or ratio, half-open after
`open_seconds`, closed by a successful probe). Shared times are wall-clock seconds from the
injected clock, since instances do not share a monotonic clock. Half-open probes are
counted per instance: each instance may send `half_open_probes` probes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from gatewayhub.clock import Clock
from gatewayhub.health import BreakerState, HealthSettings, LocalHealth
from gatewayhub.shared.link import RedisLink, SharedStateUnavailable

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger("gatewayhub.shared")
_BREAKER_TTL = 86_400

# KEYS[1]: the account's breaker hash. ARGV: now, consecutive_failures, window, min_calls,
# failure_ratio, open_seconds, ttl, outcomes ("1" ok / "0" failure, oldest first).
_RECORD_CALLS = """
local now = tonumber(ARGV[1])
local streak_limit = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local min_calls = tonumber(ARGV[4])
local ratio = tonumber(ARGV[5])
local open_seconds = tonumber(ARGV[6])
local outcomes = ARGV[8]
local v = redis.call('HMGET', KEYS[1], 'state', 'opened_at', 'consecutive', 'recent')
local state = v[1] or 'closed'
local opened_at = tonumber(v[2]) or 0
local consecutive = tonumber(v[3]) or 0
local recent = v[4] or ''
for i = 1, #outcomes do
  local ok = string.sub(outcomes, i, i) == '1'
  recent = recent .. (ok and '1' or '0')
  if #recent > window then recent = string.sub(recent, #recent - window + 1) end
  if ok then consecutive = 0 else consecutive = consecutive + 1 end
  if state == 'open' and now - opened_at >= open_seconds then state = 'half_open' end
  if state == 'half_open' then
    if ok then
      state = 'closed'; consecutive = 0; recent = ''
    else
      state = 'open'; opened_at = now
    end
  elseif state == 'closed' and not ok then
    local _, failures = string.gsub(recent, '0', '')
    if consecutive >= streak_limit or (#recent >= min_calls and failures / #recent >= ratio) then
      state = 'open'; opened_at = now
    end
  end
end
redis.call('HSET', KEYS[1], 'state', state, 'opened_at', string.format('%.6f', opened_at),
  'consecutive', consecutive, 'recent', recent)
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[7]))
return state
"""


class SharedHealth:
    """Health state shared through Redis, with the `LocalHealth` interface."""

    def __init__(
        self,
        clock: Clock,
        settings: HealthSettings | None,
        link: RedisLink,
        accounts: Iterable[str] = (),
        *,
        refresh_seconds: float = 0.5,
    ) -> None:
        self.clock = clock
        self.settings = settings or HealthSettings()
        self.link = link
        self.local = LocalHealth(clock, self.settings)
        self.refresh_seconds = refresh_seconds
        self._accounts = set(accounts)
        self._record = link.client.register_script(_RECORD_CALLS)
        self._segments_key = link.key("approval")
        # What this instance saw since the last exchange.
        self._calls: dict[str, list[str]] = {}
        self._outcomes: dict[tuple[str, str, int], list[int]] = {}
        # The shared state as last read: breaker (state, opened_at) and approval totals.
        self._breakers: dict[str, tuple[str, float]] = {}
        self._approval: dict[tuple[str, str], tuple[int, int]] = {}
        self._stale: list[tuple[str, list[str]]] = []
        self._gone: list[str] = []
        # Probes this instance began on a shared half-open breaker, by the opening they follow.
        self._probes: dict[str, tuple[float, int]] = {}
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        """Read the shared state once, then keep exchanging it in the background."""
        await self.sync()
        if self._task is None:
            self._closing = False
            self._task = asyncio.create_task(self._run(), name="gatewayhub-shared-health")

    async def close(self) -> None:
        """Stop the exchange and send what is still buffered (best effort)."""
        if self._task is not None:
            # The flag, not only the cancellation, ends the loop: redis-py may turn a
            # cancellation inside a command into a connection error, which the loop survives.
            self._closing = True
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                async with asyncio.timeout(self.link.timeout * 4 + self.refresh_seconds):
                    await self._task
            self._task = None
        # Bounded like every exchange, also should a dying connection not honour its timeout.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.link.timeout * 4):
                await self.sync()

    async def _run(self) -> None:
        while not self._closing:
            await asyncio.sleep(self.refresh_seconds)
            try:
                await self.sync()
            except Exception:
                log.exception("shared health exchange failed; retrying")

    # -- HealthView ---------------------------------------------------------------------------

    def unavailable(self, account: str) -> str | None:
        """None when calls may go to `account`, else the state of the breaker that blocks it."""
        local = self.local.unavailable(account)
        if local is not None or not self.link.up:
            return local
        shared = self._breakers.get(account)
        if shared is None or shared[0] == BreakerState.CLOSED:
            return None
        state, opened_at = shared
        if state == BreakerState.OPEN and self._now() - opened_at < self._open_seconds():
            return BreakerState.OPEN.value
        probes = self._probes.get(account)
        limit = self.settings.breaker.half_open_probes
        if probes is not None and probes[0] == opened_at and probes[1] >= limit:
            return BreakerState.HALF_OPEN.value
        return None

    def approval(self, account: str, segment: str) -> tuple[float, int]:
        """Smoothed approval rate of `account` for `segment` over every instance."""
        if not self.link.up:
            return self.local.approval(account, segment)
        approved, total = self._approval.get((account, segment), (0, 0))
        s = self.settings
        return (approved + s.prior_rate * s.prior_weight) / (total + s.prior_weight), total

    # -- recording ----------------------------------------------------------------------------

    def begin_call(self, account: str) -> None:
        """A provider call is about to start (a probe, when the shared breaker is half-open)."""
        self.local.begin_call(account)
        shared = self._breakers.get(account)
        if shared is not None and shared[0] != BreakerState.CLOSED:
            state, opened_at = shared
            if state != BreakerState.OPEN or self._now() - opened_at >= self._open_seconds():
                previous = self._probes.get(account)
                count = previous[1] if previous and previous[0] == opened_at else 0
                self._probes[account] = (opened_at, count + 1)

    def record_call(self, account: str, ok: bool, seconds: float | None = None) -> None:
        """A call ended: `ok` False for technical failures (never for declines)."""
        self.local.record_call(account, ok, seconds)
        if self.link.up:
            self._calls.setdefault(account, []).append("1" if ok else "0")

    def record_outcome(self, account: str, segment: str, approved: bool) -> None:
        """An authorization was approved or declined."""
        self.local.record_outcome(account, segment, approved)
        if self.link.up:
            bucket = int(self._now() // self.settings.bucket_seconds)
            cell = self._outcomes.setdefault((account, segment, bucket), [0, 0])
            cell[0] += approved
            cell[1] += 1

    def snapshot(self, account: str) -> dict[str, Any]:
        """State for dashboards: the shared view while Redis answers, else this instance's."""
        view = self.local.snapshot(account)
        if not self.link.up:
            return {**view, "shared": False}
        blocked = self.unavailable(account)
        shared = self._breakers.get(account)
        circuit = blocked or (
            BreakerState.HALF_OPEN.value
            if shared is not None and shared[0] != BreakerState.CLOSED
            else BreakerState.CLOSED.value
        )
        approved = total = 0
        for (acct, _), (a, t) in self._approval.items():
            if acct == account:
                approved += a
                total += t
        return {
            **view,
            "circuit": circuit,
            "approval_rate": approved / total if total else None,
            "payments": total,
            "shared": True,
        }

    # -- the exchange with Redis ------------------------------------------------------------

    async def sync(self) -> None:
        """Send what this instance saw and read what every instance saw; on a Redis failure
        the buffered outcomes are dropped (local state has them) and routing goes local."""
        calls, self._calls = self._calls, {}
        outcomes, self._outcomes = self._outcomes, {}
        stale, self._stale = self._stale, []
        gone, self._gone = self._gone, []
        self._accounts.update(calls)
        try:
            await self.link.call(lambda c: self._exchange(c, calls, outcomes, stale, gone))
        except SharedStateUnavailable:
            self._probes.clear()

    async def _exchange(
        self,
        client: Redis,
        calls: dict[str, list[str]],
        outcomes: dict[tuple[str, str, int], list[int]],
        stale: list[tuple[str, list[str]]],
        gone: list[str],
    ) -> None:
        now = self._now()
        b = self.settings.breaker
        ttl = int(self.settings.window_seconds + self.settings.bucket_seconds) + 1
        accounts = sorted(self._accounts)
        async with client.pipeline(transaction=False) as pipe:
            for account, seen in calls.items():
                args: list[str | int | float] = [
                    now,
                    b.consecutive_failures,
                    b.window,
                    b.min_calls,
                    b.failure_ratio,
                    b.open_seconds,
                    _BREAKER_TTL,
                    "".join(seen),
                ]
                await self._record(keys=[self._breaker_key(account)], args=args, client=pipe)
            for (account, segment, bucket), (approved, total) in outcomes.items():
                key = self._window_key(account, segment)
                pipe.hincrby(key, f"{bucket}:a", approved)
                pipe.hincrby(key, f"{bucket}:t", total)
                pipe.expire(key, ttl)
                pipe.sadd(self._segments_key, f"{account}:{segment}")
            for key, fields in stale:
                pipe.hdel(key, *fields)
            if gone:
                pipe.srem(self._segments_key, *gone)
            for account in accounts:
                pipe.hmget(self._breaker_key(account), "state", "opened_at")
            pipe.smembers(self._segments_key)
            replies = await pipe.execute()
        breakers = replies[len(replies) - len(accounts) - 1 : -1]
        self._breakers = {
            account: (state or BreakerState.CLOSED.value, float(opened_at or 0))
            for account, (state, opened_at) in zip(accounts, breakers, strict=True)
        }
        members = sorted(replies[-1])
        if not members:
            self._approval = {}
            return
        async with client.pipeline(transaction=False) as pipe:
            for member in members:
                account, _, segment = member.partition(":")
                pipe.hgetall(self._window_key(account, segment))
            windows = await pipe.execute()
        self._approval = self._totals(members, windows, now)

    def _totals(
        self, members: list[str], windows: list[dict[str, str]], now: float
    ) -> dict[tuple[str, str], tuple[int, int]]:
        oldest = int(now // self.settings.bucket_seconds) - int(
            self.settings.window_seconds // self.settings.bucket_seconds
        )
        totals: dict[tuple[str, str], tuple[int, int]] = {}
        for member, window in zip(members, windows, strict=True):
            account, _, segment = member.partition(":")
            if not window:
                self._gone.append(member)  # the window expired: forget the segment
                continue
            approved = total = 0
            expired = []
            for field, value in window.items():
                bucket, _, kind = field.partition(":")
                if int(bucket) <= oldest:
                    expired.append(field)
                elif kind == "a":
                    approved += int(value)
                else:
                    total += int(value)
            if expired:
                self._stale.append((self._window_key(account, segment), expired))
            totals[(account, segment)] = (approved, total)
        return totals

    # -- plumbing -----------------------------------------------------------------------------

    def _now(self) -> float:
        return self.clock.now().timestamp()

    def _open_seconds(self) -> float:
        return self.settings.breaker.open_seconds

    def _breaker_key(self, account: str) -> str:
        return self.link.key("breaker", account)

    def _window_key(self, account: str, segment: str) -> str:
        return self.link.key("window", account, segment)
