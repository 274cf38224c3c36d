"""House rules that keep the model one model for every driver (DESIGN.md, "Rules of the house"):
`model/` imports none of the other top-level packages, never sleeps, spawns threads or reads the
wall clock. (`model/clock.py` is the one place that names real time, for live adapters.)"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

MODEL = Path(__file__).resolve().parent.parent / "model"
FORBIDDEN_PACKAGES = {"scenarios", "conformance", "reports", "rustok_sim", "simpy", "threading",
                      "asyncio", "multiprocessing", "concurrent"}
FORBIDDEN_CALLS = {("time", "sleep"), ("time", "time"), ("time", "monotonic"), ("time", "perf_counter"),
                   ("datetime", "now"), ("datetime", "utcnow"), ("date", "today")}


def model_files() -> list[Path]:
    return sorted(p for p in MODEL.rglob("*.py") if p.name != "clock.py")


@pytest.mark.parametrize("path", model_files(), ids=lambda p: str(p.relative_to(MODEL)))
def test_model_module_is_sans_io(path):
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            names = []
        for name in names:
            if name.split(".")[0] in FORBIDDEN_PACKAGES:
                problems.append(f"line {node.lineno}: imports {name}")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and isinstance(node.func.value, ast.Name) \
                and (node.func.value.id, node.func.attr) in FORBIDDEN_CALLS:
            problems.append(f"line {node.lineno}: calls {node.func.value.id}.{node.func.attr}()")
    assert not problems, f"{path.relative_to(MODEL.parent)}: " + "; ".join(problems)
