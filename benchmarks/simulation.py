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
import re
import resource
import subprocess
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
    start = time.perf_counter()
    generate(payments, seed=seed)
    generating = time.perf_counter() - start
    _, txns = _setup(payments, seed)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "history.csv"
        write_history(txns, path)
        start = time.perf_counter()
        history = read_history(path)
        seconds = time.perf_counter() - start
    queue.put({"rows": len(history.transactions), "seconds": seconds, "generate_s": generating})


def _in_child(target: Any, *args: Any) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=target, args=(*args, queue))
    process.start()
    out: dict[str, Any] = queue.get()
    process.join()
    return out


def collect(payments: int, seed: int, loop_sample: int) -> dict[str, Any]:
    """Every figure, each side in a fresh process."""
    vec = _in_child(_vectorized, payments, seed)
    vec.update(_in_child(_routing, payments, seed))
    reading = _in_child(_reading, payments, seed)
    loop = _in_child(_loop, payments, seed, loop_sample)
    loop_routing = loop["seconds"] * payments / loop["sample"]
    shared = vec["total_s"] - vec["routing_s"]
    return {
        "payments": payments,
        "vectorized": vec,
        "loop": loop,
        "reading": reading,
        "loop_routing_s": loop_routing,
        "speedup_routing": loop_routing / vec["routing_s"],
        "speedup_end_to_end": (loop_routing + shared) / vec["total_s"],
    }


def whole_command(payments: int, seed: int) -> tuple[float, float] | None:
    """Wall seconds and peak RSS (MiB) of `gatewayhub simulate` with the sample scenario's
    strategies, imports and generation included (`/usr/bin/time -v`)."""
    cli = Path(sys.executable).parent / "gatewayhub"
    if not Path("/usr/bin/time").exists() or not cli.exists():
        return None
    with tempfile.TemporaryDirectory() as directory:
        run = subprocess.run(
            [
                "/usr/bin/time",
                "-v",
                str(cli),
                "simulate",
                "--generate",
                str(payments),
                "--seed",
                str(seed),
                "--quiet",
                "--json",
                str(Path(directory) / "out.json"),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    wall = re.search(
        r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)", run.stderr
    )
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", run.stderr)
    if wall is None or rss is None:
        return None
    hours, minutes, seconds = wall.groups()
    return int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds), int(rss.group(1)) / 1024


def section(r: dict[str, Any], loop_sample: int, command: tuple[float, float] | None) -> str:
    """The "Fee and route simulation" section of docs/benchmarks.md."""
    vec, loop, reading, payments = r["vectorized"], r["loop"], r["reading"], r["payments"]
    passes = len(vec["strategies"])
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    flags = (
        ""
        if (payments, loop_sample) == (1_000_000, 50_000)
        else f" --payments {payments} --loop-sample {loop_sample}"
    )
    lines = [
        "## Fee and route simulation",
        "",
        "Command (from a checkout with `pip install -e '.[simulation]'`):",
        "",
        "```",
        f".venv/bin/python benchmarks/simulation.py{flags}"
        + ("" if flags else "            # --payments 1000000 --loop-sample 50000"),
        "```",
        "",
        f"What it runs: {payments:,} generated payments (`generate(seed=1)`: five currencies incl. JPY and",
        "KWD, card / PayPal / SEPA, 30% cross-border) through the shipped sample scenario restricted",
        "to four strategies (least cost, success rate, expected value, rules + least cost) plus the",
        f"single-provider baseline every run includes: {passes} routing passes over 4 providers, with an",
        "outage, a degraded day and volume tiers. Each side runs in a fresh process.",
        "",
        "* **vectorized**: `engine.run`, everything (market matrices, ranking, attempts, tiers and",
        "  refunds, summary); routing + attempts alone (`engine.route_all`) in another process.",
        "* **plain loop**: `reference.route_one_by_one`, i.e. `Router.route`, `CompiledFees.quote`",
        f"  and `retry.decide` once per payment and strategy, on an evenly spaced subsample ({loop['sample']:,}),",
        f"  extrapolated linearly to {payments:,}. It gave "
        + (
            "the same outcome as the engine for every"
            if loop["agree"]
            else "**a different outcome from the engine for some**"
        ),
        "  payment of the subsample. Billing and the summary are the same code for both sides, so",
        '  the like-for-like figure is routing + attempts; "end to end" adds them to the loop.',
        "",
        f"Measured {time.strftime('%Y-%m-%d')} on this machine: {platform.machine()}, {os.cpu_count()} CPUs shared with other jobs (load",
        f"average {load} at the end), Python {sys.version.split()[0]}, numpy {np.__version__}.",
        "",
        "| | time | peak memory |",
        "|---|---|---|",
        f"| vectorized, end to end, {payments:,} payments x {passes} passes | **{vec['total_s']:.2f} s** | **{vec['peak_rss_mib']:.0f} MiB** RSS (whole process, history included) |",
        f"| of which routing + attempts | {vec['routing_s']:.2f} s | |",
        f"| plain loop, {loop['sample']:,} payments x {passes} passes | {loop['seconds']:.2f} s | |",
        f"| plain loop, extrapolated to {payments:,} | {r['loop_routing_s']:.0f} s | |",
        f"| speed-up, routing + attempts | **{r['speedup_routing']:.0f}x** | |",
        f"| speed-up, end to end | **{r['speedup_end_to_end']:.0f}x** | |",
        "",
        "Targets: under 15 s, under 2 GiB, at least 20x the plain loop (for 1,000,000 payments).",
        "",
        "Around the engine, not in the figures above:",
        "",
        f"* generating the {payments:,}-payment history: {reading['generate_s']:.1f} s;",
        f"* reading the same history back from CSV (`read_history`, every field validated): {reading['seconds']:.1f} s,",
        f"  about {reading['rows'] / reading['seconds']:,.0f} rows per second;",
    ]
    if command is not None:
        lines += [
            f"* the whole command `gatewayhub simulate --generate {payments} --seed 1 --quiet --json out.json`",
            "  with the sample scenario's seven strategies plus the baseline (8 passes), imports and",
            f"  generation included: {command[0]:.1f} s wall, {command[1]:.0f} MiB peak RSS (`/usr/bin/time -v`).",
        ]
    return "\n".join(lines) + "\n"


def report(quick: bool = False) -> str:
    """This benchmark's section of docs/benchmarks.md."""
    payments, sample = (100_000, 5_000) if quick else (1_000_000, 50_000)
    return section(collect(payments, 1, sample), sample, whole_command(payments, 1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payments", type=int, default=1_000_000)
    parser.add_argument("--loop-sample", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    r = collect(args.payments, args.seed, args.loop_sample)
    vec, loop, reading = r["vectorized"], r["loop"], r["reading"]
    runs = len(vec["strategies"])
    loop_routing = r["loop_routing_s"]
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
    print(f"speed-up, routing + attempts:  {r['speedup_routing']:8.1f} x")
    print(
        f"speed-up, end to end:          "
        f"{r['speedup_end_to_end']:8.1f} x  (loop + the same billing/summary)"
    )
    print(
        f"reading the history from CSV:  {reading['seconds']:8.2f} s "
        f"({reading['rows'] / reading['seconds']:,.0f} rows/s, not in the figures above)"
    )
    print(json.dumps({"vectorized": vec, "loop": loop, "reading": reading}, indent=None))


if __name__ == "__main__":
    main()
