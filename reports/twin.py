"""The analytic validation: `mmck` runs at several offered loads against the M/M/c/K closed form
(`rustok_sim.scenarios.twins.mmck`), as points with their 95% intervals on the analytic curve and
one sentence on the model error.

The points are ordinary scenario runs (the catalog's `mmck` entry with ``lambda`` changed, fewer
arrivals and a summary trace), so they are stored and reused like every other run.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

from rustok_sim.reports.catalog_runs import RunRequest
from rustok_sim.reports.results import StoredResult
from rustok_sim.scenarios.twins.mmck import mmck

__all__ = ["TwinPlan", "TwinPoint", "TwinValidation", "twin_requests", "validate_twin"]


class TwinPlan(BaseModel):
    """Where the points go: offered loads lambda/(c mu), `arrivals` per point, one seed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    entry: str = "mmck"
    loads: tuple[float, ...] = (0.3, 0.6, 0.9, 1.2, 1.5, 2.0)
    arrivals: int = 20_000
    seed: int = 1


@dataclass(frozen=True, slots=True)
class TwinPoint:
    label: str
    lam: float
    """arrivals per second"""
    mu: float
    """services per second per handler"""
    c: int
    K: int
    p_block: float
    ci95: tuple[float, float]
    analytic: float
    L: float
    analytic_L: float
    little_residual: float
    """(L - lambda_eff W) / L, dimensionless"""

    @property
    def within(self) -> bool:
        return self.ci95[0] <= self.analytic <= self.ci95[1]

    @property
    def relative_error(self) -> float:
        return abs(self.p_block - self.analytic) / self.analytic if self.analytic > 0 else math.nan


@dataclass(frozen=True, slots=True)
class TwinValidation:
    points: tuple[TwinPoint, ...]

    @property
    def statement(self) -> str:
        """One line: how far the simulation is from the closed form."""
        if not self.points:
            return "no mmck run to compare with the closed form"
        inside = sum(p.within for p in self.points)
        worst = max(self.points, key=lambda p: abs(p.p_block - p.analytic))
        residual = max(abs(p.little_residual) for p in self.points)
        return (f"Model error: {inside} of {len(self.points)} simulated blocking probabilities have the M/M/c/K "
                f"closed form inside their 95% interval; the largest gap is {abs(worst.p_block - worst.analytic):.4f} "
                f"({100 * worst.relative_error:.1f}% of {worst.analytic:.4f}, at lambda {worst.lam:g}/s); "
                f"Little's law holds to {100 * residual:.3f}%.")


def twin_requests(plan: TwinPlan, mu: float, c: int) -> list[RunRequest]:
    """The faithful runs of the plan's points, for a twin whose handlers serve at `mu` each."""
    # round: a load of 0.1 with mu 3 is 0.30000000000000004 in binary, and the config (so the match) would say so
    return [RunRequest(label=f"{plan.entry}-load-{load:g}", entry=plan.entry, profile="faithful", seed=plan.seed,
                       overrides=(f"lambda={round(load * c * mu, 9)!r}", f"arrivals={plan.arrivals}",
                                  "trace_level=\"summary\""))
            for load in plan.loads]


def point_of(label: str, result: StoredResult) -> TwinPoint:
    config, metrics = result.config, result.metrics
    lam, mu, c, K = float(config["lambda"]), float(config["mu"]), int(config["c"]), int(config["K"])
    low, high = metrics["p_block_ci95"]
    counted = int(metrics.get("counted_arrivals") or 0)
    if float(metrics["p_block"]) == 0.0 and counted > 0:
        # No arrival was blocked: batch means give the empty interval [0, 0]; the exact 95% upper
        # bound for zero events in n trials is about 3/n (the rule of three).
        low, high = 0.0, 3.0 / counted
    twin = mmck(lam, mu, c, K)
    residual = metrics.get("little_residual")
    return TwinPoint(label, lam, mu, c, K, float(metrics["p_block"]), (float(low), float(high)), twin.p_block,
                     float(metrics["L"]), twin.L, float(residual) if residual is not None else math.nan)


def validate_twin(results: Sequence[tuple[str, StoredResult]]) -> TwinValidation:
    """Points from every `mmck` result given (label, result), sorted by lambda."""
    points = [point_of(label, result) for label, result in results if result.scenario == "mmck"]
    return TwinValidation(tuple(sorted(points, key=lambda p: (p.lam, p.label))))


def analytic_curve(mu: float, c: int, K: int, lam_max: float, samples: int = 200) -> tuple[list[float], list[float]]:
    """The closed-form blocking probability for lambda in (0, lam_max]: (lambdas, p_block)."""
    lams = [lam_max * (i + 1) / samples for i in range(samples)]
    return lams, [mmck(lam, mu, c, K).p_block for lam in lams]
