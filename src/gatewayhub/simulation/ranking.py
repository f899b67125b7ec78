"""`Router.route`'s ranking, for a whole chunk of payments at once.

For each payment the router (1) drops ineligible and unhealthy accounts, (2) applies the first
matching rule (its accounts first, in the rule's order; the others follow only when the rule
allows fallback), then (3) sorts the remaining accounts by one key per strategy, in the order
given, then priority, then account name. Here each key becomes a [payments x providers]
array built from the same numbers the router computes (fee estimates, approval rates, the
CRC-32 hashes of the payment id), and `numpy.lexsort` sorts every row at once. The agreement
test replays payments through `Router.route` and requires the same order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gatewayhub.routing import Router, Strategy
from gatewayhub.simulation.hashing import crc32_suffixed
from gatewayhub.simulation.market import Chunk, Market
from gatewayhub.simulation.transactions import I8, I64, Bool

_PREFERRED, _RANKED, _EXCLUDED = 0, 1, 2
_UNIT = 2.0**-32  # crc32 / 2**32, as the router's _unit_hash


@dataclass(frozen=True)
class Ranking:
    """Per payment: provider columns best first (the first `count` are candidates)."""

    order: I8
    count: I8
    rule: I8  # index of the matching rule, -1 for none


def rank(router: Router, market: Market, chunk: Chunk) -> Ranking:
    """Rank the providers for every payment of `chunk` as `router` would."""
    policy = router.policy
    n, p = chunk.size, market.providers
    eligible = chunk.eligible & ~chunk.availability.breaker_open

    rule_index = np.full(n, -1, dtype=np.int8)
    for r in range(len(policy.rules) - 1, -1, -1):  # backwards, so the first match wins
        rule_index[market.rule_matches(policy.rules[r], policy.fx_rates, chunk)] = r
    klass = np.where(eligible, _RANKED, _EXCLUDED).astype(np.int8)
    use_rank = np.zeros((n, p), dtype=np.int64)
    accounts = market.plan.accounts
    for r, rule in enumerate(policy.rules):
        rows = rule_index == r
        if not rows.any():
            continue
        in_use = np.array([a in rule.use for a in accounts], dtype=np.bool_)
        position = np.array(
            [rule.use.index(a) if a in rule.use else 0 for a in accounts], dtype=np.int64
        )
        sub = eligible[rows]
        rest = _RANKED if rule.fallback else _EXCLUDED
        klass[rows] = np.where(sub & in_use, _PREFERRED, np.where(sub, rest, _EXCLUDED)).astype(
            np.int8
        )
        use_rank[rows] = np.where(in_use, position, 0)

    priority = np.broadcast_to(np.array([pr.priority for pr in market.plan.profiles]), (n, p))
    names = sorted(accounts)
    name_rank = np.broadcast_to(np.array([names.index(a) for a in accounts]), (n, p))
    keys = [_strategy_key(s, router, market, chunk, klass) for s in policy.strategies]
    # lexsort: the last key is the primary one.
    order = np.lexsort([name_rank, priority, *reversed(keys), use_rank, klass], axis=-1)
    count = (klass < _EXCLUDED).sum(axis=1)
    return Ranking(order.astype(np.int8), count.astype(np.int8), rule_index)


def _strategy_key(
    strategy: Strategy, router: Router, market: Market, chunk: Chunk, klass: I8
) -> np.ndarray:
    policy = router.policy
    n, p = chunk.size, market.providers
    if strategy is Strategy.PRIORITY:
        return np.broadcast_to(np.array([pr.priority for pr in market.plan.profiles]), (n, p))
    if strategy is Strategy.LEAST_COST:
        return chunk.fee
    if strategy is Strategy.EXPECTED_VALUE:
        # approval * (amount - fee) in float64, as Python computes float * int.
        return -(chunk.router_approval * (chunk.amount[:, None] - chunk.fee))
    if strategy is Strategy.SUCCESS_RATE:
        bucket = policy.success_rate_bucket or 1e-9
        key = -np.trunc(chunk.router_approval / bucket)
        if policy.exploration > 0:
            explore = chunk.crc.astype(np.float64) * _UNIT < policy.exploration
            if explore.any():
                hashes = np.stack(
                    [crc32_suffixed(chunk.crc[explore], a) for a in market.plan.accounts], axis=1
                )
                key[explore] = hashes.astype(np.float64) * _UNIT
        return key
    return _split_key(market, chunk, klass == _RANKED)


def _split_key(market: Market, chunk: Chunk, ranked: Bool) -> I64:
    """0 for the volume-split arm, 1 for the others: the arm is where crc32(id) modulo the
    ranked accounts' total weight falls on their cumulative weights, in profile order."""
    weights = np.array([pr.weight for pr in market.plan.profiles], dtype=np.int64)
    masked = np.where(ranked, weights, 0)
    total = masked.sum(axis=1)
    point = chunk.crc.astype(np.int64) % np.maximum(total, 1)
    arm = np.argmax(np.cumsum(masked, axis=1) > point[:, None], axis=1)
    key = np.ones(masked.shape, dtype=np.int64)
    has_arm = np.flatnonzero(total > 0)
    key[has_arm, arm[has_arm]] = 0
    return key
