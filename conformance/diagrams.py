"""State diagrams drawn from a component's transition table: each state a node on a circle,
each edge of the variant an arrow labelled with its trigger and how often the run took it;
edges never taken are dashed and red. And a counterexample's timeline: per operation, both
sides' states (where the component has one) and the virtual time. Pure: data in, a matplotlib
Figure out (Agg)."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import FancyArrowPatch  # noqa: E402

from rustok_sim.model.core.transitions import TransitionTable  # noqa: E402

__all__ = ["save_figure", "state_diagram", "timeline_figure"]


def state_diagram(table: TransitionTable, variant: str, counts: Mapping[tuple[str, str, str], int],
                  title: str) -> Figure:
    edges = [(e.source, e.target, e.trigger) for e in table.for_variant(variant)]
    states = [s for s in table.states() if any(s in (a, b) for a, b, _ in edges)]
    figure = Figure(figsize=(8, 6.5))
    axes = figure.add_subplot()
    axes.set_title(title)
    axes.set_xlim(-1.6, 1.6)
    axes.set_ylim(-1.5, 1.5)
    axes.set_aspect("equal")
    axes.axis("off")
    where = {s: (math.cos(math.pi / 2 + 2 * math.pi * i / len(states)),
                 math.sin(math.pi / 2 + 2 * math.pi * i / len(states))) for i, s in enumerate(states)}
    for state, (x, y) in where.items():
        axes.text(x, y, state, ha="center", va="center", fontsize=11, zorder=3,
                  bbox={"boxstyle": "round,pad=0.5", "facecolor": "#e8eef7", "edgecolor": "#30507a"})
    pair_index: Counter[tuple[str, str]] = Counter()
    per_pair: defaultdict[tuple[str, str], int] = defaultdict(int)
    for source, target, _ in edges:
        per_pair[(source, target)] += 1
    for source, target, trigger in edges:
        k = pair_index[(source, target)]
        pair_index[(source, target)] += 1
        bend = 0.15 + 0.18 * k
        taken = counts.get((source, target, trigger), 0)
        colour, style = ("#30507a", "-") if taken else ("#c0392b", "--")
        (x0, y0), (x1, y1) = where[source], where[target]
        axes.add_patch(FancyArrowPatch((x0, y0), (x1, y1), connectionstyle=f"arc3,rad={bend}",
                                       arrowstyle="-|>", mutation_scale=14, color=colour, linestyle=style,
                                       shrinkA=28, shrinkB=28, zorder=2))
        mx, my = (x0 + x1) / 2, (y0 + y1) / 2
        dx, dy = x1 - x0, y1 - y0
        # the label sits at the bulge of the arc: the midpoint pushed along the normal
        lx, ly = mx + bend * dy * 0.5, my - bend * dx * 0.5
        axes.text(lx, ly, f"{trigger} ({taken})" if taken else f"{trigger} (never)", fontsize=7.5,
                  color=colour, ha="center", va="center", zorder=4,
                  bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.8})
    return figure


def timeline_figure(timeline: Sequence[tuple[float | None, str, str | None, str | None]], title: str,
                    states: Sequence[str] = ()) -> Figure:
    """A counterexample over its operations: the target's and the reference's state after each
    (top, when the component has a state) and the virtual time (bottom); the last operation, the
    one whose outcome differed, is marked."""
    steps = list(range(1, len(timeline) + 1))
    has_states = any(target is not None or reference is not None for _, _, target, reference in timeline)
    figure = Figure(figsize=(max(8.0, 0.45 * len(timeline) + 3), 6.5 if has_states else 3.8))
    grid = figure.add_gridspec(2 if has_states else 1, 1, height_ratios=[3, 2] if has_states else [1])
    clock_axes = figure.add_subplot(grid[-1])
    if has_states:
        axes = figure.add_subplot(grid[0], sharex=clock_axes)
        seen = [s for s in states] + sorted({s for _, _, a, b in timeline for s in (a, b) if s and s not in states})
        level = {state: n for n, state in enumerate(seen)}
        for side, colour, style in (("target", "#c0392b", "-"), ("reference", "#30507a", "--")):
            points: list[tuple[float, int]] = []
            for step, (_, _, target_state, reference_state) in zip(steps, timeline):
                state = target_state if side == "target" else reference_state
                if state is not None:
                    points.append((step, level[state]))
            if points:
                points.append((points[-1][0] + 0.6, points[-1][1]))  # so the last state shows
                axes.step([x for x, _ in points], [y for _, y in points], where="post", color=colour,
                          linestyle=style, linewidth=2, label=side)
        axes.set_yticks(range(len(seen)), seen)
        axes.set_ylim(-0.5, len(seen) - 0.5)
        axes.legend(loc="upper left", fontsize=8)
        axes.set_title(title, fontsize=9, wrap=True)
        axes.axvline(len(timeline), color="#c0392b", alpha=0.3, linewidth=6)
        axes.grid(axis="y", alpha=0.3)
    else:
        clock_axes.set_title(title, fontsize=9, wrap=True)
    times = [t if t is not None else 0.0 for t, _, _, _ in timeline]
    clock_axes.plot(steps, times, marker="o", color="#555555", markersize=3)
    clock_axes.axvline(len(timeline), color="#c0392b", alpha=0.3, linewidth=6)
    clock_axes.set_ylabel("virtual time (s)")
    clock_axes.set_xticks(steps, [op if len(op) <= 18 else op[:17] + "…" for _, op, _, _ in timeline],
                          rotation=70, fontsize=7, ha="right")
    figure.tight_layout()
    return figure


def save_figure(figure: Figure, stem: Path) -> list[Path]:
    """Write `stem`.png and `stem`.svg; return both paths."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [stem.with_suffix(".png"), stem.with_suffix(".svg")]
    for path in paths:
        figure.savefig(path, dpi=120 if path.suffix == ".png" else None)
    return paths
