"""What `gatewayhub simulate` does (the options are declared in `gatewayhub.cli`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from gatewayhub.errors import ConfigError
from gatewayhub.simulation import SAMPLE_HISTORY, SAMPLE_SCENARIO
from gatewayhub.simulation.engine import ProgressCallback, run
from gatewayhub.simulation.export import write_csv, write_json
from gatewayhub.simulation.generator import generate, load_profile
from gatewayhub.simulation.history import OnError, read_history, write_history
from gatewayhub.simulation.scenario import load_scenario
from gatewayhub.simulation.tables import print_result
from gatewayhub.simulation.transactions import Transactions

# Below this many payments a run takes well under a second: no progress bar.
PROGRESS_FROM = 100_000


@dataclass(frozen=True)
class Options:
    """The command line, parsed."""

    scenario: Path | None
    input: Path | None
    format: str | None
    on_error: OnError
    generate: int | None
    profile: Path | None
    sample: bool
    seed: int
    out: Path | None
    html: Path | None
    json: Path | None
    csv: Path | None
    charts: Path | None
    save_history: Path | None
    quiet: bool


def _history(options: Options, console: Console) -> Transactions:
    sources = [options.input is not None, options.generate is not None, options.sample]
    if sum(sources) != 1:
        raise ConfigError("give exactly one of --input FILE, --generate N or --sample")
    if options.generate is not None:
        profile = load_profile(options.profile) if options.profile else None
        return generate(options.generate, profile, options.seed)
    path = options.input if options.input is not None else SAMPLE_HISTORY
    with console.status(f"reading {path}"):
        history = read_history(path, on_error=options.on_error, format=options.format)
    if history.errors:
        console.print(f"[yellow]{history.bad_rows} bad rows skipped[/yellow], the first ones:")
        for error in history.errors[:10]:
            console.print(f"  {error}")
    return history.transactions


def execute(options: Options, console: Console) -> None:
    """Run the simulation, print the tables, write what was asked for."""
    # Piped into a file or a CI log there is no terminal width: do not squeeze the tables.
    if not console.is_terminal:
        console = Console(width=160, file=console.file)
    scenario_path = options.scenario or SAMPLE_SCENARIO
    scenario = load_scenario(scenario_path)
    if options.scenario is None and not options.quiet:
        console.print(f"[dim]scenario: the shipped sample ({scenario_path})[/dim]")
    txns = _history(options, console)
    if options.save_history is not None:
        write_history(txns, options.save_history)
        console.print(f"history written to {options.save_history}")
    plan = scenario.plan()
    if options.quiet or len(txns) < PROGRESS_FROM:
        result = run(plan, txns, options.seed)
    else:
        with Progress(
            TextColumn("simulating [bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as bar:
            task = bar.add_task("", total=None)

            def advance(done: int, total: int, label: str) -> None:
                bar.update(task, completed=done, total=total, description=label)

            callback: ProgressCallback = advance
            result = run(plan, txns, options.seed, progress=callback)
    if not options.quiet:
        print_result(result, console)
    _write(options, result, console)


def _write(options: Options, result: object, console: Console) -> None:
    from gatewayhub.simulation.charts import write_charts  # noqa: PLC0415 - matplotlib is slow to import
    from gatewayhub.simulation.report import write_html  # noqa: PLC0415
    from gatewayhub.simulation.result import SimulationResult  # noqa: PLC0415

    assert isinstance(result, SimulationResult)
    out = options.out
    targets = {
        "html": options.html or (out / "report.html" if out else None),
        "json": options.json or (out / "result.json" if out else None),
        "csv": options.csv or (out / "csv" if out else None),
        "charts": options.charts or (out / "charts" if out else None),
    }
    written: list[Path] = []
    if targets["html"] is not None:
        written.append(write_html(result, targets["html"]))
    if targets["json"] is not None:
        written.append(write_json(result, targets["json"]))
    if targets["csv"] is not None:
        written.extend(write_csv(result, targets["csv"]))
    if targets["charts"] is not None:
        written.extend(write_charts(result, targets["charts"]))
    for path in written:
        console.print(f"wrote {path}")
