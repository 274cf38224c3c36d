"""The breaker operating curves in the report, through the public API of `rustok_sim.reports.curves`
(`CurveConfig`, `compute_operating_curves`, `curve_figures`): the analytic curves with their
simulation check (seeded replications of the real breaker model) and the recommendation sentence.

The simulation check is a simulation, so its result is stored like every run: pickled in
``DIR/curves/operating-curves.pickle`` with the config it answers, and reused while that config is
the one the report asks. A store that does not load (another version of the curves code) is run
again. When the curves module is not installed the report says so and draws nothing of its own.
"""

from __future__ import annotations

import importlib.util
import pickle
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

__all__ = ["CURVE_SETTINGS", "CurvesSection", "compute_curves_job", "curves_available", "curves_section",
           "load_stored_curves", "store_curves"]

CURVES_MODULE: Final = "rustok_sim.reports.curves"
CURVE_SETTINGS: Final[dict[str, Any]] = {"replications": 100, "seed": 1}
"""The report's question: the curves' defaults (100 requests/s, 0.5% background errors, an outage
at 50%, thresholds 1-10, timeouts 5-60 s, at most one false trip a week, p95 detection within 3 s),
checked with 100 seeded replications per threshold."""

CAPTIONS: Final = {
    "tradeoff": "False trips per week against detection delay, per failure_threshold, one line per timeout; "
                "the limits and the recommended setting marked.",
    "detection_cdf": "Distribution of the detection delay after the error rate jumps, per failure_threshold.",
    "timeout_costs": "What the timeout costs: rejections per false trip, recovery after an outage, failed "
                     "requests per minute of outage.",
    "false_trip_probability": "Probability of at least one false trip within the window, per failure_threshold.",
}


@dataclass
class CurvesSection:
    included: bool
    note: str
    figures: list[dict[str, str]] = field(default_factory=list)
    """[{"name": figure name (its PNG/SVG stem), "caption": ...}]"""
    recommendation: str = ""
    checks: list[dict[str, Any]] = field(default_factory=list)
    """The simulation check per setting: estimate, 95% interval, analytic value, agreement."""
    reused: bool = False


def curves_available() -> bool:
    return importlib.util.find_spec(CURVES_MODULE) is not None


def _config() -> Any:
    from rustok_sim.reports.curves import CurveConfig

    return CurveConfig(**CURVE_SETTINGS)


def compute_curves_job() -> Any:
    """The report's operating curves (runs in a worker process; returns `OperatingCurves`)."""
    from rustok_sim.reports.curves import compute_operating_curves

    return compute_operating_curves(_config())


def _store_path(directory: Path) -> Path:
    return directory / "curves" / "operating-curves.pickle"


def load_stored_curves(directory: Path) -> Any | None:
    """The stored curves when they answer the report's config, else None."""
    path = _store_path(directory)
    if not path.is_file():
        return None
    try:
        with path.open("rb") as handle:
            stored = pickle.load(handle)  # the report's own file, in the output folder it writes
    except Exception:  # another version of the curves' classes: run them again
        return None
    if not isinstance(stored, dict) or stored.get("config") != repr(_config()):
        return None
    return stored.get("curves")


def store_curves(directory: Path, curves: Any) -> None:
    path = _store_path(directory)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        pickle.dump({"config": repr(_config()), "curves": curves}, handle)


def _estimate(estimate: Any) -> dict[str, float] | None:
    if estimate is None:
        return None
    return {"value": estimate.value, "low": estimate.low, "high": estimate.high}


def _checks(curves: Any) -> list[dict[str, Any]]:
    rows = []
    for point in curves.simulated:
        mean = point.detection_mean
        trips = point.false_trips_per_week
        rows.append({
            "failure_threshold": point.failure_threshold, "timeout": point.timeout,
            "replications": point.replications,
            "detection_mean": _estimate(mean), "analytic_detection_mean": point.analytic_detection_mean,
            "detection_agrees": mean.contains(point.analytic_detection_mean),
            "false_trips_per_week": _estimate(trips),
            "analytic_false_trips_per_week": point.analytic_false_trips_per_week,
            "false_trips_agree": None if trips is None else trips.contains(point.analytic_false_trips_per_week),
            "notes": point.notes,
        })
    return rows


def curves_section(curves: Any | None, save: Callable[[str, Any], str | None], reused: bool = False) -> CurvesSection:
    """The section for the page: `curves` (an `OperatingCurves`, or None when the module is not
    installed) drawn through `curve_figures`, each figure given to `save` (name, Figure)."""
    if curves is None:
        return CurvesSection(False, f"{CURVES_MODULE} is not installed in this build, so the report has no "
                                    f"breaker operating curves.")
    from rustok_sim.reports.curves import curve_figures

    section = CurvesSection(True, "", reused=reused)
    for name, figure in curve_figures(curves).items():
        saved = save(f"curves-{name}", figure)
        if saved is not None:
            section.figures.append({"name": saved, "caption": CAPTIONS.get(name, name.replace("_", " "))})
    section.recommendation = curves.recommendation.sentence if curves.recommendation is not None else ""
    section.checks = _checks(curves)
    return section
