"""Fee and route simulation: the vectorized engine against a plain per-payment loop.

    .venv/bin/python benchmarks/simulation.py [--payments 1000000] [--loop-sample 50000]

Both sides run the shipped sample scenario restricted to four strategies (plus the
single-provider baseline every run includes) over the same generated history:

- vectorized: `engine.run` (market matrices, ranking, attempts, billing, summary), in a
  fresh process so its peak RSS is its own; routing + attempts alone (`engine.route_all`)
  in another fresh process;
- plain loop: `reference.route_one_by_one`, i.e. `Router.route`, `CompiledFees.quote` and
  `retry.decide` once per payment and strategy. It is timed on an evenly spaced subsample
  and extrapolated linearly (its cost per payment does not depend on the history's size).
  Billing and the summary are the same vectorized code for both, so the like-for-like
  comparison is routing + attempts; the end-to-end figure adds them to the loop.

It also times reading the same history back from CSV (what `--input` costs), which the
engine figures do not include.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from gatewayhub.simulation import (
    SAMPLE_SCENARIO,
    load_scenario,
    read_history,
    write_history,
)
from gatewayhub.simulation.engine import route_all, run
from gatewayhub.simulation.generator import generate
from gatewayhub.simulation.reference import route_one_by_one

STRATEGIES = ("least cost", "success rate", "expected value", "rules + least cost")


def _setup(payments: int, seed: int) -> tuple[Any, Any]:
    scenario = load_scenario(SAMPLE_SCENARIO)
    scenario = scenario.model_copy(
        update={"strategies": [s for s in scenario.strategies if s.name in STRATEGIES]}
    )
    return scenario.plan(), generate(payments, seed=seed)


def _vectorized(payments: int, seed: int, queue: Any) -> None:
    plan, txns = _setup(payments, seed)
    start = time.perf_counter()
    result = run(plan, txns, seed)
    total = time.perf_counter() - start
    queue.put(
        {
            "total_s": total,
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "strategies": [s.name for s in result.strategies],
            "approval": {s.name: round(s.approval_rate, 4) for s in result.strategies},
        }
    )


def _routing(payments: int, seed: int, queue: Any) -> None:
    plan, txns = _setup(payments, seed)
    start = time.perf_counter()
    route_all(plan, txns, seed)
    queue.put({"routing_s": time.perf_counter() - start})


def _loop(payments: int, seed: int, sample: int, queue: Any) -> None:
    plan, txns = _setup(payments, seed)
    step = max(1, payments // sample)
    subset = txns.take(np.arange(0, payments, step))
    start = time.perf_counter()
    loop = route_one_by_one(plan, subset, seed)
    seconds = time.perf_counter() - start
    vectorized = route_all(plan, subset, seed)
    agree = all(
        np.array_equal(loop[name].provider, vectorized[name].provider)
        and np.array_equal(loop[name].fee, vectorized[name].fee)
        for name in loop
    )
    queue.put({"sample": len(subset), "seconds": seconds, "agree": agree})


def _reading(payments: int, seed: int, queue: Any) -> None:
    _, txns = _setup(payments, seed)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "history.csv"
        write_history(txns, path)
        start = time.perf_counter()
        history = read_history(path)
        seconds = time.perf_counter() - start
    queue.put({"rows": len(history.transactions), "seconds": seconds})


def _in_child(target: Any, *args: Any) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=target, args=(*args, queue))
    process.start()
    out: dict[str, Any] = queue.get()
    process.join()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payments", type=int, default=1_000_000)
    parser.add_argument("--loop-sample", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    vec = _in_child(_vectorized, args.payments, args.seed)
    vec.update(_in_child(_routing, args.payments, args.seed))
    reading = _in_child(_reading, args.payments, args.seed)
    loop = _in_child(_loop, args.payments, args.seed, args.loop_sample)
    runs = len(vec["strategies"])
    loop_routing = loop["seconds"] * args.payments / loop["sample"]
    shared = vec["total_s"] - vec["routing_s"]
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]},"
        f" numpy {np.__version__}, load average {load}"
    )
    print(f"payments: {args.payments:,}; strategies: {runs - 1} + baseline = {runs} passes")
    print(f"vectorized, end to end:        {vec['total_s']:8.2f} s")
    print(f"  of which routing + attempts: {vec['routing_s']:8.2f} s")
    print(f"  peak RSS of the process:     {vec['peak_rss_mib']:8.0f} MiB")
    print(
        f"plain loop on {loop['sample']:,} payments:  {loop['seconds']:8.2f} s "
        f"(same outcomes as the engine: {'yes' if loop['agree'] else 'NO'})"
    )
    print(f"  extrapolated to {args.payments:,}:  {loop_routing:8.2f} s routing + attempts")
    print(f"speed-up, routing + attempts:  {loop_routing / vec['routing_s']:8.1f} x")
    print(
        f"speed-up, end to end:          "
        f"{(loop_routing + shared) / vec['total_s']:8.1f} x  (loop + the same billing/summary)"
    )
    print(
        f"reading the history from CSV:  {reading['seconds']:8.2f} s "
        f"({reading['rows'] / reading['seconds']:,.0f} rows/s, not in the figures above)"
    )
    print(json.dumps({"vectorized": vec, "loop": loop, "reading": reading}, indent=None))


if __name__ == "__main__":
    main()
