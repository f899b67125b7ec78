"""Graceful shutdown: count running operations, refuse new ones once closing starts, and
wait (bounded) for the running ones before the database goes away."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

from gatewayhub.errors import ShuttingDown


class InFlight:
    """The operations running now, and whether new ones are still welcome."""

    def __init__(self) -> None:
        self.running = 0
        self.closing = False
        self._idle = asyncio.Event()
        self._idle.set()

    def open(self) -> None:
        """Take operations again (after a restart)."""
        self.closing = False

    @contextmanager
    def operation(self) -> Iterator[None]:
        """Around one operation; raises `ShuttingDown` once closing has begun."""
        if self.closing:
            raise ShuttingDown(
                "the gateway is shutting down and starts no new operations; "
                "retry on another instance"
            )
        self.running += 1
        self._idle.clear()
        try:
            yield
        finally:
            self.running -= 1
            if self.running == 0:
                self._idle.set()

    async def drain(self, grace: float) -> int:
        """Refuse new operations, wait up to `grace` seconds for the running ones; returns
        how many were still running when the wait ended."""
        self.closing = True
        try:
            async with asyncio.timeout(grace):
                await self._idle.wait()
        except TimeoutError:
            pass
        return self.running
