"""The conformance part of the report: the reference model through the gate's suites under one
profile (``ci`` by default), one job per (component, variant), stored in
``DIR/conformance/<profile>.json`` so that building the report again reuses it.

A suite run keeps what the report shows: its status and detail, its transition coverage and the
edge counts the state diagram draws.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from rustok_sim.reports.results import ReportInputError

__all__ = ["ConformancePlan", "ConformanceStore", "SuiteSummary", "read_store", "run_suite_job", "suites_of",
           "write_store"]

STORE_FORMAT = "rustok-sim-report-conformance"


class SuiteSummary(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    component: str
    variant: str
    target: str
    status: Literal["conformant", "violation", "inconclusive"]
    detail: str = ""
    steps: list[str] = []
    coverage: dict[str, Any] = {}
    edge_counts: list[tuple[str, str, str, int]] = []
    """(source, target, trigger, times the run took it)."""


class ConformancePlan(BaseModel):
    """Which suites to run and how big: the gate's profile, optionally fewer examples (tests use a
    handful; the report's default is the profile's own budget)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    profile: Literal["ci", "thorough"] = "ci"
    components: tuple[str, ...] | None = None
    """None: every component the gate has."""
    max_examples: int | None = None


class ConformanceStore(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    format: Literal["rustok-sim-report-conformance"] = "rustok-sim-report-conformance"
    profile: str
    max_examples: int | None
    suites: list[SuiteSummary]


def suites_of(plan: ConformancePlan) -> list[tuple[str, str]]:
    """(component, variant) of every suite run the plan asks for; an unknown component is a
    `ReportInputError`."""
    from rustok_sim.conformance.gate import COMPONENTS, GateError, component_named

    names = plan.components if plan.components is not None else tuple(COMPONENTS)
    wanted = []
    for name in names:
        try:
            component = component_named(name)
        except GateError as exc:
            raise ReportInputError(str(exc)) from None
        wanted += [(component.name, variant) for variant in component.variants]
    return wanted


def run_suite_job(component_name: str, variant: str, profile: str, max_examples: int | None) -> dict[str, Any]:
    """The reference through one suite; plain data out (it runs in a worker process)."""
    from rustok_sim.conformance.gate import COMPONENTS, run_suite, suite_settings

    component = COMPONENTS[component_name]
    config = suite_settings(profile)  # type: ignore[arg-type]  # the plan's Literal says which
    if max_examples is not None:
        from hypothesis import settings

        config = settings(config, max_examples=max_examples)
    verdict = run_suite(component, variant, component.reference, "reference", config)
    summary = SuiteSummary(component=verdict.component, variant=verdict.variant, target=verdict.target,
                           status=verdict.status, detail=verdict.detail, steps=verdict.steps,
                           coverage=verdict.coverage,
                           edge_counts=[(s, t, trig, n) for (s, t, trig), n in sorted(verdict.edge_counts.items())])
    return summary.model_dump(mode="json")


def store_path(directory: Path, plan: ConformancePlan) -> Path:
    return directory / "conformance" / f"{plan.profile}.json"


def read_store(directory: Path, plan: ConformancePlan) -> ConformanceStore | None:
    """The stored suite runs of this plan's profile and budget, or None when there are none (or
    they were made with another budget)."""
    path = store_path(directory, plan)
    if not path.exists():
        return None
    try:
        store = ConformanceStore.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValidationError) as exc:
        reason = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
        raise ReportInputError(f"{path}: not a stored conformance run ({reason}); delete it to run the suites "
                               f"again") from None
    return store if store.max_examples == plan.max_examples and store.profile == plan.profile else None


def write_store(directory: Path, plan: ConformancePlan, suites: Sequence[SuiteSummary]) -> Path:
    path = store_path(directory, plan)
    path.parent.mkdir(parents=True, exist_ok=True)
    store = ConformanceStore(profile=plan.profile, max_examples=plan.max_examples, suites=list(suites))
    path.write_text(json.dumps(store.model_dump(mode="json"), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path
