"""Breaker operating curves (issue 9): for the consecutive-failure circuit breaker under Poisson
traffic, the exact false-trip probability and rate, the detection-delay distribution after an
outage starts, what the timeout costs, a simulation check against the real model, figures, CSV,
and the settings that meet an architect's limits. The math: docs/curves.md.

The API the report calls:

- `CurveConfig(...)`: the question (rate, p0, p1, window, thresholds, timeouts, limits,
  replications, seed); raises `CurveConfigError` naming a bad field.
- `compute_operating_curves(config) -> OperatingCurves`: points, simulated checks, recommendation.
- `curve_figures(curves) -> dict[str, Figure]` (matplotlib, Agg; pure).
- `write_operating_curves(curves, out_dir) -> list[Path]`: figures as PNG and SVG, CSVs, the
  recommendation as text and JSON.
"""

from typing import Any

from rustok_sim.reports.curves.operating import (
    CurveConfig,
    CurveConfigError,
    CurvePoint,
    OperatingCurves,
    Recommendation,
    SimulatedPoint,
    compute_operating_curves,
    recommend_setting,
)

__all__ = ["CurveConfig", "CurveConfigError", "CurvePoint", "OperatingCurves", "Recommendation", "SimulatedPoint",
           "compute_operating_curves", "curve_figures", "recommend_setting", "write_operating_curves"]


def __getattr__(name: str) -> Any:
    # The figures pull in matplotlib (most of a second); every `rustok-sim` command imports this
    # package to register `curves`, so they load when first asked for.
    if name in ("curve_figures", "write_operating_curves"):
        from rustok_sim.reports.curves import figures

        return getattr(figures, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
