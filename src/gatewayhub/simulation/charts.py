"""PNG charts of a result (matplotlib, Agg canvas: no display, no pyplot global state).

cost_per_strategy     fees per strategy, the FX part stacked on top
provider_share        share of approved volume per provider, day by day, per strategy
cumulative_savings    net revenue gained against the baseline, accumulated day by day
frontier              approval rate against fee rate: the cost/approval frontier
overview              the four on one page (the README picture)
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from gatewayhub.money import Money
from gatewayhub.simulation.result import SimulationResult, StrategyResult

_PROVIDER_COLORS = [
    "#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3",
    "#937860", "#DA8BC3", "#8C8C8C", "#CCB974", "#64B5CD",
]  # fmt: skip


def _major(result: SimulationResult, minor: int) -> float:
    # Charts plot floats; the figures in tables and exports stay exact.
    return float(Money(minor, result.reporting_currency).to_decimal())


def _png(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    return buffer.getvalue()


def _cost(ax: Axes, result: SimulationResult) -> None:
    names = [s.name for s in result.strategies]
    fx = [_major(result, s.fx_cost) for s in result.strategies]
    other = [_major(result, s.fees - s.fx_cost) for s in result.strategies]
    y = range(len(names))
    ax.barh(y, other, color="#4C72B0", label="fees (without FX)")
    ax.barh(y, fx, left=other, color="#DD8452", label="FX markup")
    for i, s in enumerate(result.strategies):
        ax.text(other[i] + fx[i], i, f"  {s.fee_rate * 100:.2f}%", va="center", fontsize=8)
    ax.set_yticks(list(y), names, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(f"fees ({result.reporting_currency})")
    ax.set_title("Cost per strategy (label: fees / approved volume)")
    ax.legend(fontsize=8, loc="lower right")
    ax.margins(x=0.15)


def _share(ax: Axes, result: SimulationResult, s: StrategyResult, legend: bool) -> None:
    days = s.daily.days
    x = range(len(days))
    totals = [sum(v[d] for v in s.daily.provider_volume.values()) for d in x]
    bottom = [0.0] * len(days)
    for i, (account, volumes) in enumerate(s.daily.provider_volume.items()):
        share = [volumes[d] / totals[d] * 100 if totals[d] else 0.0 for d in x]
        top = [b + v for b, v in zip(bottom, share, strict=True)]
        color = _PROVIDER_COLORS[i % len(_PROVIDER_COLORS)]
        ax.fill_between(x, bottom, top, step="mid", color=color, label=account, linewidth=0)
        bottom = top
    ax.set_ylim(0, 100)
    ax.set_xlim(0, max(len(days) - 1, 1))
    ax.set_title(s.name, fontsize=9)
    ticks = list(range(0, len(days), max(1, len(days) // 4)))
    ax.set_xticks(ticks, [days[t][5:] for t in ticks], fontsize=7)
    ax.tick_params(axis="y", labelsize=7)
    if legend:
        ax.legend(fontsize=7, loc="lower left", framealpha=0.8)


def _savings(ax: Axes, result: SimulationResult) -> None:
    base = result.baseline.daily.net_revenue
    days = result.baseline.daily.days
    for s in result.strategies:
        if s.baseline:
            continue
        running, series = 0, []
        for mine, theirs in zip(s.daily.net_revenue, base, strict=True):
            running += mine - theirs
            series.append(_major(result, running))
        ax.plot(range(len(days)), series, label=s.name, linewidth=1.6)
    ax.axhline(0, color="#444444", linewidth=0.8)
    ticks = list(range(0, len(days), max(1, len(days) // 6)))
    ax.set_xticks(ticks, [days[t][5:] for t in ticks], fontsize=8)
    ax.set_ylabel(result.reporting_currency)
    ax.set_title(f"Cumulative net revenue gained vs {result.baseline.name}")
    ax.legend(fontsize=7, loc="upper left")


def _frontier(ax: Axes, result: SimulationResult) -> None:
    points = [(s.fee_rate * 100, s.approval_rate * 100, s) for s in result.strategies]
    for x, y, s in points:
        ax.scatter([x], [y], s=40, color="#C44E52" if s.baseline else "#4C72B0", zorder=3)
    _label(ax, [(x, y, s.name) for x, y, s in points])
    # The frontier: strategies no other one beats on both cost and approval.
    frontier = sorted(
        (x, y)
        for x, y, _ in points
        if not any(ox <= x and oy >= y and (ox, oy) != (x, y) for ox, oy, _ in points)
    )
    ax.plot([p[0] for p in frontier], [p[1] for p in frontier], "--", color="#55A868",
            label="frontier (nothing cheaper approves more)")  # fmt: skip
    ax.set_xlabel("fees / approved volume (%)")
    ax.set_ylabel("approval rate (%)")
    ax.set_title("Approval against cost")
    ax.legend(fontsize=8, loc="lower right")
    ax.margins(0.15)


_OFFSETS = [(5, 4), (5, -11), (5, 15), (5, -22), (-5, 4), (-5, -11), (5, 26), (5, -33)]


def _label(ax: Axes, points: list[tuple[float, float, str]]) -> None:
    """Name each point, moving a label when it would cover one already placed."""
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    span_x, span_y = (max(xs) - min(xs)) or 1.0, (max(ys) - min(ys)) or 1.0
    fig = ax.get_figure(root=True)
    assert isinstance(fig, Figure)
    box = ax.get_position()
    width_in = fig.get_figwidth() * box.width
    height_in = fig.get_figheight() * box.height
    placed: list[tuple[float, float, float, float]] = []
    for x, y, name in points:
        # Where the point sits in the axes (margins of 15% on each side), in inches.
        px = (x - min(xs) + 0.15 * span_x) / (1.3 * span_x) * width_in
        py = (y - min(ys) + 0.15 * span_y) / (1.3 * span_y) * height_in
        text_w, text_h = len(name) * 0.075, 0.13  # 8-point text, roughly
        for dx, dy in _OFFSETS:
            left = px + dx / 72 - (text_w if dx < 0 else 0)
            bottom = py + dy / 72
            rect = (left, bottom, left + text_w, bottom + text_h)
            if not any(
                rect[0] < r[2] and r[0] < rect[2] and rect[1] < r[3] and r[1] < rect[3]
                for r in placed
            ):
                break
        placed.append(rect)
        ax.annotate(
            name,
            (x, y),
            textcoords="offset points",
            xytext=(dx, dy),
            ha="right" if dx < 0 else "left",
            fontsize=8,
        )


def _single(draw: Callable[[Axes], None], size: tuple[float, float]) -> bytes:
    fig = Figure(figsize=size, layout="constrained")
    draw(fig.add_subplot())
    return _png(fig)


def provider_share_png(result: SimulationResult) -> bytes:
    """Small multiples: one stacked share chart per strategy."""
    count = len(result.strategies)
    cols = min(4, count)
    rows = -(-count // cols)
    fig = Figure(figsize=(3.4 * cols, 2.6 * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False)
    for i, s in enumerate(result.strategies):
        _share(axes[i // cols][i % cols], result, s, legend=i == 0)
    for j in range(count, rows * cols):
        axes[j // cols][j % cols].set_visible(False)
    fig.suptitle("Share of approved volume per provider, day by day (%)")
    return _png(fig)


def overview_png(result: SimulationResult) -> bytes:
    """Cost, cumulative savings, frontier, and the best strategy's provider mix."""
    fig = Figure(figsize=(14, 9), layout="constrained")
    (a, b), (c, d) = fig.subplots(2, 2)
    _cost(a, result)
    _savings(b, result)
    _frontier(c, result)
    best = max(result.strategies, key=lambda s: s.net_revenue)
    _share(d, result, best, legend=True)
    d.set_title(f"Provider share per day (%) under the best: {best.name}")
    fig.suptitle(f"{result.scenario}: {result.payments:,} payments", fontsize=13)
    return _png(fig)


def render(result: SimulationResult) -> dict[str, bytes]:
    """Every chart as PNG bytes, by name."""
    return {
        "cost_per_strategy": _single(lambda ax: _cost(ax, result), (8, 4.5)),
        "provider_share": provider_share_png(result),
        "cumulative_savings": _single(lambda ax: _savings(ax, result), (8, 4.5)),
        "frontier": _single(lambda ax: _frontier(ax, result), (7, 5)),
        "overview": overview_png(result),
    }


def write_charts(result: SimulationResult, directory: str | Path) -> list[Path]:
    """Write every chart as `<name>.png` into `directory`; the paths written."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, png in render(result).items():
        path = directory / f"{name}.png"
        path.write_bytes(png)
        written.append(path)
    return written
