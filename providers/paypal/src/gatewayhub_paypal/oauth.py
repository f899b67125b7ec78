"""PayPal access tokens: OAuth2 client credentials, cached until shortly before they expire.

PayPal rate-limits integrations that ask for a token per call, so one token serves every
request of an account until `margin` seconds before its `expires_in` runs out (typically
32400 s). Concurrent callers wait for a single refresh instead of each fetching one. Time is
the injected clock's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from gatewayhub.clock import Clock
from gatewayhub_paypal import wire


@dataclass(frozen=True, slots=True)
class _Token:
    value: str
    refresh_at: datetime


class AccessTokens:
    """The bearer token of one PayPal account."""

    def __init__(
        self,
        fetch: Callable[[], Awaitable[wire.AccessToken]],
        clock: Clock,
        margin: timedelta = timedelta(minutes=5),
    ) -> None:
        self._fetch = fetch
        self._clock = clock
        self._margin = margin
        self._token: _Token | None = None
        self._lock = asyncio.Lock()

    def _fresh(self) -> str | None:
        token = self._token
        if token is not None and self._clock.now() < token.refresh_at:
            return token.value
        return None

    async def bearer(self) -> str:
        """A valid token, fetched when none is cached or the cached one is about to expire."""
        value = self._fresh()
        if value is not None:
            return value
        async with self._lock:
            value = self._fresh()  # another task may have refreshed while we waited
            if value is not None:
                return value
            answer = await self._fetch()
            lifetime = timedelta(seconds=answer.expires_in)
            # A token shorter-lived than twice the margin is still used for half its life.
            early = min(self._margin, lifetime / 2)
            self._token = _Token(answer.access_token, self._clock.now() + lifetime - early)
            return answer.access_token

    def discard(self, value: str) -> None:
        """Forget `value` (PayPal refused it); a newer token fetched meanwhile is kept."""
        if self._token is not None and self._token.value == value:
            self._token = None
