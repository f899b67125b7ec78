"""When to try a failed webhook delivery again (pure; time and randomness come in).

Like Standard Webhooks senders (Svix): 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, then every 10 h,
each delay spread by +-`jitter` so that many deliveries failing together do not come back
together; after the retry window (3 days by default) the delivery is given up.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta


def retry_delay(tries: int, schedule: Sequence[float], jitter: float, rng: random.Random) -> float:
    """Seconds to wait after the `tries`-th failed try (1-based); the last step repeats."""
    base = schedule[min(tries, len(schedule)) - 1]
    return base * rng.uniform(1 - jitter, 1 + jitter)


def next_attempt(
    failed_at: datetime,
    tries: int,
    give_up_at: datetime,
    schedule: Sequence[float],
    jitter: float,
    rng: random.Random,
) -> datetime | None:
    """When to try again after a failure, or None when that would be past `give_up_at`."""
    when = failed_at + timedelta(seconds=retry_delay(tries, schedule, jitter, rng))
    return when if when <= give_up_at else None
