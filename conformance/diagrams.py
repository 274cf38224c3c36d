"""State diagrams drawn from a component's transition table: each state a node on a circle,
each edge of the variant an arrow labelled with its trigger and how often the run took it;
edges never taken are dashed and red. Pure: table and counts in, a matplotlib Figure out (Agg)."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Mapping
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import FancyArrowPatch  # noqa: E402

from rustok_sim.model.core.transitions import TransitionTable  # noqa: E402

__all__ = ["save_figure", "state_diagram"]


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


def save_figure(figure: Figure, stem: Path) -> list[Path]:
    """Write `stem`.png and `stem`.svg; return both paths."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [stem.with_suffix(".png"), stem.with_suffix(".svg")]
    for path in paths:
        figure.savefig(path, dpi=120 if path.suffix == ".png" else None)
    return paths
