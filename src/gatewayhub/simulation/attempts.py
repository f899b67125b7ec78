"""What happens after routing: attempts in candidate order, with the live retry rules.

The verdicts come from `gatewayhub.retry.decide` itself, asked once per kind of outcome:

- the provider is down: the call is "not sent" (a connect error) after the policy's tries,
  and `decide` says fail over (the money did not move);
- a soft decline (do not honor: final, not hard): `decide` fails over only when the policy
  cascades soft declines and the cascade budget is not spent; the next provider then
  approves with its usual chance times the scenario's `cascade_approval_factor`;
- a hard decline (card blocked): never retried nor cascaded.

At most `max_providers` candidates are tried, as in the payment service.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gatewayhub.declines import DEFAULTS
from gatewayhub.errors import Decline, DeclineCode, NotSent
from gatewayhub.models import PaymentResult, ProviderStatus
from gatewayhub.retry import Action, RetryPolicy, decide
from gatewayhub.simulation.market import Chunk, Market
from gatewayhub.simulation.ranking import Ranking
from gatewayhub.simulation.transactions import I8, I32, I64, Bool

DECLINED, APPROVED, NO_ROUTE, UNAVAILABLE = 0, 1, 2, 3


def _decline(code: DeclineCode) -> Decline:
    decision, hard = DEFAULTS[code]
    return Decline(code, decision, "simulated", hard=hard)


SOFT_DECLINE = _decline(DeclineCode.DO_NOT_HONOR)
HARD_DECLINE = _decline(DeclineCode.CARD_BLOCKED)


def outage_error() -> NotSent:
    """What a call to a provider that is down raises (a connect error: nothing was sent)."""
    return NotSent("simulated outage", decline_code=DeclineCode.PROVIDER_UNAVAILABLE)


def declined(decline: Decline) -> PaymentResult:
    """A declined provider answer."""
    return PaymentResult(status=ProviderStatus.DECLINED, decline=decline)


@dataclass(frozen=True)
class Verdicts:
    """`decide`'s action for each kind of outcome; soft declines by cascades so far."""

    down: Action
    soft: tuple[Action, ...]
    hard: Action

    @classmethod
    def of(cls, policy: RetryPolicy) -> Verdicts:
        """Ask the live retry rules."""
        down = decide(
            outage_error(), tries=policy.tries_per_attempt, policy=policy, remaining=0
        ).action
        soft = tuple(
            decide(
                declined(SOFT_DECLINE),
                tries=1,
                policy=policy,
                remaining=policy.deadline,
                cascades=c,
            ).action
            for c in range(policy.max_providers + 1)
        )
        hard = decide(
            declined(HARD_DECLINE), tries=1, policy=policy, remaining=policy.deadline
        ).action
        return cls(down, soft, hard)


@dataclass
class Outcomes:
    """Per payment, one strategy: what happened and what it cost (minor units of the
    payment's currency). Fees are those of the approving provider, 0 otherwise."""

    status: I8
    provider: I8  # approving provider column, -1 when none
    first: I8  # first candidate, -1 when none
    attempts: I8
    latency_ms: I32
    fee: I64
    fx: I64
    fixed: I64
    refunded: Bool
    refund_cost: I64
    net: I64

    @classmethod
    def empty(cls, n: int) -> Outcomes:
        """Room for `n` payments."""
        return cls(
            status=np.zeros(n, dtype=np.int8),
            provider=np.full(n, -1, dtype=np.int8),
            first=np.full(n, -1, dtype=np.int8),
            attempts=np.zeros(n, dtype=np.int8),
            latency_ms=np.zeros(n, dtype=np.int32),
            fee=np.zeros(n, dtype=np.int64),
            fx=np.zeros(n, dtype=np.int64),
            fixed=np.zeros(n, dtype=np.int64),
            refunded=np.zeros(n, dtype=np.bool_),
            refund_cost=np.zeros(n, dtype=np.int64),
            net=np.zeros(n, dtype=np.int64),
        )


def run_attempts(
    market: Market, chunk: Chunk, ranking: Ranking, policy: RetryPolicy, out: Outcomes
) -> None:
    """Try the candidates of every payment of `chunk`; write into `out` at its rows."""
    verdicts = Verdicts.of(policy)
    soft_fails_over = np.array([a is Action.FAILOVER for a in verdicts.soft], dtype=np.bool_)
    hard_fails_over = verdicts.hard is Action.FAILOVER
    down_fails_over = verdicts.down is Action.FAILOVER
    n = chunk.size
    count = ranking.count.astype(np.int64)
    active = count > 0
    cascades = np.zeros(n, dtype=np.int64)
    after_soft = np.zeros(n, dtype=np.bool_)
    recovery = market.plan.scenario.cascade_approval_factor
    attempts = np.zeros(n, dtype=np.int8)
    reached = np.zeros(n, dtype=np.bool_)
    latency = np.zeros(n, dtype=np.int32)
    provider = np.full(n, -1, dtype=np.int8)
    avail = chunk.availability
    for k in range(min(market.providers, policy.max_providers)):
        rows = np.flatnonzero(active & (count > k))
        active[count <= k] = False
        if len(rows) == 0:
            break
        cols = ranking.order[rows, k].astype(np.int64)
        attempts[rows] += 1
        down = avail.down[rows, cols]
        latency[rows] += np.where(
            down, avail.failure_ms[rows, cols], avail.latency_ms[rows, cols]
        ).astype(np.int32)
        if not down_fails_over:
            active[rows[down]] = False
        up_rows, up_cols = rows[~down], cols[~down]
        reached[up_rows] = True
        chance = chunk.true_approval[up_rows, up_cols]
        chance = np.where(after_soft[up_rows], chance * recovery, chance)
        ok = chunk.u_approve[up_rows, k] < chance
        won = up_rows[ok]
        provider[won] = up_cols[ok]
        active[won] = False
        lost_rows, lost_cols = up_rows[~ok], up_cols[~ok]
        soft = chunk.u_soft[lost_rows, k] < market.soft_share[lost_cols]
        fails_over = np.where(soft, soft_fails_over[cascades[lost_rows]], hard_fails_over)
        # A soft decline's decision is final: cascading it spends the cascade budget.
        cascaded = lost_rows[soft & fails_over]
        cascades[cascaded] += 1
        after_soft[cascaded] = True
        active[lost_rows[~fails_over]] = False

    _record(out, chunk, ranking, provider, reached, attempts, latency)


def _record(
    out: Outcomes,
    chunk: Chunk,
    ranking: Ranking,
    provider: I8,
    reached: Bool,
    attempts: I8,
    latency: I32,
) -> None:
    """Write one chunk's outcomes into `out`, with the approving provider's fee parts."""
    sl = slice(chunk.start, chunk.stop)
    count = ranking.count
    approved = provider >= 0
    out.status[sl] = np.where(
        approved,
        APPROVED,
        np.where(count == 0, NO_ROUTE, np.where(reached, DECLINED, UNAVAILABLE)),
    )
    out.provider[sl] = provider
    out.first[sl] = np.where(count > 0, ranking.order[:, 0], -1)
    out.attempts[sl] = attempts
    out.latency_ms[sl] = latency
    won = np.flatnonzero(approved)
    cols = provider[won].astype(np.int64)
    out.fee[sl][won] = chunk.fee[won, cols]
    out.fx[sl][won] = chunk.fx[won, cols]
    out.fixed[sl][won] = chunk.fixed[won, cols]
