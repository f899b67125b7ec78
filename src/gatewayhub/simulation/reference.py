"""The plain per-payment loop: `Router.route`, `CompiledFees.quote` and `retry.decide` called
for one payment at a time, exactly as the live gateway would.

It is the yardstick of the vectorized engine: the agreement tests require both to produce
the same outcome for every payment, and `benchmarks/simulation.py` times both side by side.
It draws the same per-payment numbers (`draws`), so the two are comparable payment by
payment.
"""

from __future__ import annotations

import numpy as np

from gatewayhub.errors import Decision
from gatewayhub.retry import Action, RetryPolicy, decide
from gatewayhub.routing import RouteRequest
from gatewayhub.simulation import draws
from gatewayhub.simulation.attempts import (
    APPROVED,
    DECLINED,
    HARD_DECLINE,
    NO_ROUTE,
    SOFT_DECLINE,
    UNAVAILABLE,
    Outcomes,
    declined,
    outage_error,
)
from gatewayhub.simulation.availability import Availability, ScenarioHealth
from gatewayhub.simulation.engine import ProgressCallback, max_attempts
from gatewayhub.simulation.scenario import Plan, PlannedStrategy
from gatewayhub.simulation.transactions import Transactions


def requests(txns: Transactions) -> list[RouteRequest]:
    """One live route request per payment."""
    return [
        RouteRequest(
            payment_id=txns.ids[i],
            amount=int(txns.amount[i]),
            currency=txns.currencies[txns.currency[i]],
            method=txns.methods[txns.method[i]],
            brand=txns.brands[txns.brand[i]],
            issuer_country=txns.countries[txns.issuer[i]],
        )
        for i in range(len(txns))
    ]


def route_one_by_one(
    plan: Plan,
    txns: Transactions,
    seed: int,
    *,
    progress: ProgressCallback | None = None,
) -> dict[str, Outcomes]:
    """Per strategy, the outcome of every payment (before billing), one payment at a time."""
    rows = np.arange(len(txns), dtype=np.int64)
    attempts = range(max_attempts(plan))
    u_approve = [draws.uniforms(seed, draws.APPROVE + k, rows).tolist() for k in attempts]
    u_soft = [draws.uniforms(seed, draws.SOFT + k, rows).tolist() for k in attempts]
    reqs = requests(txns)
    outcomes = {}
    for done, strategy in enumerate(plan.strategies, start=1):
        outcomes[strategy.name] = _strategy(plan, txns, strategy, reqs, u_approve, u_soft)
        if progress is not None:
            progress(done, len(plan.strategies), strategy.name)
    return outcomes


def _strategy(
    plan: Plan,
    txns: Transactions,
    strategy: PlannedStrategy,
    reqs: list[RouteRequest],
    u_approve: list[list[float]],
    u_soft: list[list[float]],
) -> Outcomes:
    availability = Availability(plan)
    health = ScenarioHealth(plan, availability)
    index = {account: i for i, account in enumerate(plan.accounts)}
    out = Outcomes.empty(len(reqs))
    timestamps = txns.timestamp.tolist()
    card_types = [txns.card_types[c] for c in txns.card_type.tolist()]
    for i, req in enumerate(reqs):
        t = timestamps[i]
        decision = strategy.router.route(req, health.at(t))
        columns = [index[c.account] for c in decision.candidates]
        out.first[i] = columns[0] if columns else -1
        _attempt(plan, strategy.retry, availability, req, card_types[i], t, columns, i, out,
                 u_approve, u_soft)  # fmt: skip
    return out


def _attempt(
    plan: Plan,
    policy: RetryPolicy,
    availability: Availability,
    req: RouteRequest,
    card_type: str | None,
    t: int,
    columns: list[int],
    i: int,
    out: Outcomes,
    u_approve: list[list[float]],
    u_soft: list[list[float]],
) -> None:
    cascades = attempts = latency = 0
    after_soft = reached = False
    recovery = plan.scenario.cascade_approval_factor
    for k, p in enumerate(columns[: policy.max_providers]):
        attempts += 1
        if availability.down(p, t):
            latency += availability.failure_ms(p, t)
            verdict = decide(
                outage_error(), tries=policy.tries_per_attempt, policy=policy, remaining=0
            )
            if verdict.action is Action.FAILOVER:
                continue
            break
        reached = True
        latency += availability.latency_ms(p, t)
        provider = plan.provider(p)
        country = plan.profiles[p].fees.country
        cross = req.issuer_country is not None and country is not None
        cross = cross and req.issuer_country != country
        chance = provider.approval.payment_rate(req.segment, cross, req.brand, card_type)
        chance = chance * availability.factor(p, t)
        if after_soft:
            chance = chance * recovery
        if u_approve[k][i] < chance:
            quote = plan.profiles[p].fees.quote(
                req.amount, req.currency, req.method, req.issuer_country
            )
            out.provider[i] = p
            out.fee[i], out.fx[i], out.fixed[i] = quote.total, quote.fx, quote.fixed
            break
        soft = u_soft[k][i] < provider.approval.soft_decline_share
        result = declined(SOFT_DECLINE if soft else HARD_DECLINE)
        verdict = decide(
            result, tries=1, policy=policy, remaining=policy.deadline, cascades=cascades
        )
        if verdict.action is not Action.FAILOVER:
            break
        if result.decline is not None and result.decline.decision is Decision.FINAL:
            cascades += 1
        after_soft = soft
    out.attempts[i] = attempts
    out.latency_ms[i] = latency
    if out.provider[i] >= 0:
        out.status[i] = APPROVED
    elif not columns:
        out.status[i] = NO_ROUTE
    else:
        out.status[i] = DECLINED if reached else UNAVAILABLE
