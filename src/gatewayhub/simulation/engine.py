"""The vectorized engine: market, ranking, attempts and billing, chunk by chunk.

for each chunk of payments (bounded memory):
    market matrices (eligibility, fees, approval, availability, draws)   once
    for each strategy: rank (as Router.route) -> attempts (as retry.decide)
for each strategy: bill (volume tiers, refunds, net revenue)
summarize (exact integer sums, converted once per currency)
"""

from __future__ import annotations

from collections.abc import Callable

from gatewayhub.simulation.aggregate import summarize
from gatewayhub.simulation.attempts import Outcomes, run_attempts
from gatewayhub.simulation.billing import bill, unknown_fixed_fees
from gatewayhub.simulation.market import Market
from gatewayhub.simulation.ranking import rank
from gatewayhub.simulation.result import SimulationResult
from gatewayhub.simulation.scenario import Plan
from gatewayhub.simulation.transactions import Transactions

ProgressCallback = Callable[[int, int, str], None]
"""Called as (steps done, total steps, what is being done)."""

CHUNK = 131_072


def max_attempts(plan: Plan) -> int:
    """The most providers any strategy may try for one payment."""
    return min(len(plan.accounts), max(s.retry.max_providers for s in plan.strategies))


def route_all(
    plan: Plan,
    txns: Transactions,
    seed: int,
    *,
    chunk_size: int = CHUNK,
    progress: ProgressCallback | None = None,
) -> dict[str, Outcomes]:
    """Per strategy, the outcome of every payment (before billing)."""
    market = Market(plan, txns, seed, max_attempts(plan))
    n = len(txns)
    outcomes = {s.name: Outcomes.empty(n) for s in plan.strategies}
    chunks = max(1, -(-n // chunk_size))
    steps = chunks * len(plan.strategies)
    done = 0
    for start in range(0, n, chunk_size):
        chunk = market.chunk(start, min(start + chunk_size, n))
        for strategy in plan.strategies:
            ranking = rank(strategy.router, market, chunk)
            run_attempts(market, chunk, ranking, strategy.retry, outcomes[strategy.name])
            done += 1
            if progress is not None:
                progress(done, steps, strategy.name)
    return outcomes


def run(
    plan: Plan,
    txns: Transactions,
    seed: int = 0,
    *,
    chunk_size: int = CHUNK,
    progress: ProgressCallback | None = None,
    keep_outcomes: bool = False,
) -> SimulationResult:
    """Simulate every strategy of `plan` over `txns`."""
    strategies = len(plan.strategies)
    routing_steps = max(1, -(-len(txns) // chunk_size)) * strategies
    total = routing_steps + strategies + 1

    def report(done: int, label: str) -> None:
        if progress is not None:
            progress(done, total, label)

    outcomes = route_all(
        plan,
        txns,
        seed,
        chunk_size=chunk_size,
        progress=(lambda done, _, label: report(done, label)) if progress else None,
    )
    notes = [*txns.notes, *unknown_fixed_fees(plan, txns)]
    for i, strategy in enumerate(plan.strategies, start=1):
        bill(plan, txns, outcomes[strategy.name], seed, notes)
        report(routing_steps + i, f"billing {strategy.name}")
    result = summarize(plan, txns, outcomes, seed, notes)
    report(total, "summary")
    if keep_outcomes:
        result.outcomes = outcomes
    return result
