"""The breaker operating curves in the report: the figures of `rustok_sim.reports.curves` (built by
the curves work of issue 9) when that module is installed, through its public functions; when it
is not, the report says so instead of drawing anything of its own.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["CurvesSection", "curve_figures"]

CURVES_MODULE = "rustok_sim.reports.curves"


@dataclass
class CurvesSection:
    included: bool
    note: str
    figures: list[dict[str, str]] = field(default_factory=list)
    """[{"name": figure name (its PNG/SVG stem), "caption": ...}]"""


def curve_figures(save: Callable[[str, Any], str | None]) -> CurvesSection:
    """Ask the curves module for its report figures and `save` each one (name, Figure)."""
    if importlib.util.find_spec(CURVES_MODULE) is None:
        return CurvesSection(False, f"{CURVES_MODULE} is not installed in this build, so the report has no "
                                    f"breaker operating curves yet (issue 9, 'Breaker operating curves').")
    module = importlib.import_module(CURVES_MODULE)
    provider = getattr(module, "report_figures", None)
    if not callable(provider):
        return CurvesSection(False, f"{CURVES_MODULE} exists but offers no report_figures() function, so its "
                                    f"curves are not in this report.")
    section = CurvesSection(True, "")
    for name, caption, figure in provider():
        saved = save(f"curves-{name}", figure)
        if saved is not None:
            section.figures.append({"name": saved, "caption": caption})
    return section
