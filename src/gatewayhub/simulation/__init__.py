"""Fee and route simulation: what each routing policy would have cost, approved and earned.

Replay a transaction history (CSV / JSON Lines) or a generated one through the live router,
fee model and retry rules, under a scenario (providers, prices, approval models, outages),
and compare strategies. `simulate()` is the SDK entry point; `gatewayhub simulate` the CLI;
`gatewayhub.simulation.api.run_simulation_request` the bounded HTTP form.

Needs the optional extra: pip install 'gatewayhub[simulation]' (numpy, matplotlib).
"""

from __future__ import annotations

try:
    import numpy  # noqa: F401 - fail early with an install hint
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "gatewayhub.simulation needs numpy and matplotlib: pip install 'gatewayhub[simulation]'"
    ) from exc

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gatewayhub.simulation import generator
from gatewayhub.simulation.engine import CHUNK, ProgressCallback, run
from gatewayhub.simulation.generator import GeneratorProfile, generate, load_profile
from gatewayhub.simulation.history import (
    History,
    HistoryError,
    OnError,
    read_history,
    write_history,
)
from gatewayhub.simulation.result import (
    Breakdown,
    Daily,
    ObservedSummary,
    ProviderShare,
    SimulationResult,
    StrategyResult,
)
from gatewayhub.simulation.rows import RowError
from gatewayhub.simulation.scenario import Scenario, load_scenario, parse_scenario
from gatewayhub.simulation.transactions import Transactions

SAMPLES = Path(__file__).parent / "samples"
SAMPLE_SCENARIO = SAMPLES / "scenario.toml"
SAMPLE_HISTORY = SAMPLES / "history.csv"

__all__ = [
    "simulate",
    "Scenario",
    "load_scenario",
    "parse_scenario",
    "Transactions",
    "History",
    "HistoryError",
    "RowError",
    "read_history",
    "write_history",
    "GeneratorProfile",
    "generate",
    "load_profile",
    "SimulationResult",
    "StrategyResult",
    "ProviderShare",
    "Breakdown",
    "Daily",
    "ObservedSummary",
    "SAMPLE_SCENARIO",
    "SAMPLE_HISTORY",
]


def simulate(
    scenario: Scenario | Mapping[str, Any] | str | Path,
    history: Transactions | History | str | Path | None = None,
    *,
    generate: int | None = None,
    profile: GeneratorProfile | None = None,
    seed: int = 0,
    on_error: OnError = "stop",
    progress: ProgressCallback | None = None,
    keep_outcomes: bool = False,
    chunk_size: int = CHUNK,
) -> SimulationResult:
    """Run every strategy of `scenario` over a history (a file, or already read) or over
    `generate` synthetic payments, and return the comparison.

    Deterministic: the same inputs and `seed` give the same result.
    """
    if isinstance(scenario, Scenario):
        loaded = scenario
    elif isinstance(scenario, Mapping):
        loaded = parse_scenario(dict(scenario))
    else:
        loaded = load_scenario(scenario)
    if (history is None) == (generate is None):
        raise ValueError("give either a history or generate=<number of payments>")
    if generate is not None:
        txns = generator.generate(generate, profile, seed)
    elif isinstance(history, Transactions):
        txns = history
    elif isinstance(history, History):
        txns = history.transactions
    else:
        assert history is not None
        txns = read_history(history, on_error=on_error).transactions
    return run(
        loaded.plan(),
        txns,
        seed,
        chunk_size=chunk_size,
        progress=progress,
        keep_outcomes=keep_outcomes,
    )
