"""House rules that keep the model one model for every driver (DESIGN.md, "Rules of the house").

- Layers: which package may import which. `model` is pure and imports only itself; inside it,
  the ground floor (`core`) imports nothing above it. Adapters (SQL, Redis, real time) import the
  model, never the reverse.
- `model/` is sans-IO: no I/O library, no sleeping, no threads, no wall clock, no unseeded
  randomness and no `uuid4`: (config, seed) must fix every trace.
- One import namespace: nothing imports the bare folder names (`model`, `scenarios`, ...), which
  would collide with a user's own packages and load a second copy of ours.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = {"model": "model", "adapters": "adapters", "scenarios": "scenarios",
           "conformance": "conformance", "reports": "reports", "cli": "rustok_sim"}

# Who may import whom (besides itself). The CLI sits on top and may import everything.
ALLOWED = {
    "model": set(),
    "adapters": {"model"},
    "scenarios": {"model", "adapters", "conformance"},
    "conformance": {"model", "adapters"},
    "reports": {"model", "scenarios", "conformance"},
    "cli": {"model", "adapters", "scenarios", "conformance", "reports"},
}
# Inside the model: the ground floor first, then the subsystems on top of it.
MODEL_LAYERS = {
    "core": set(),
    "resilience": {"core"},
    "events": {"core", "resilience"},
    "tenancy": {"core", "resilience"},
}
IO_LIBRARIES = {"sqlalchemy", "redis", "fakeredis", "psycopg", "psycopg2", "socket", "threading",
                "asyncio", "multiprocessing", "concurrent", "subprocess", "simpy", "time", "selectors",
                "urllib", "http", "requests"}
FORBIDDEN_CALLS = {("time", "sleep"), ("time", "time"), ("time", "monotonic"), ("time", "perf_counter"),
                   ("datetime", "now"), ("datetime", "utcnow"), ("date", "today"), ("uuid", "uuid1"),
                   ("uuid", "uuid4"), ("os", "urandom")}
UNSEEDED_RANDOM = {"random", "randint", "randrange", "choice", "choices", "shuffle", "sample", "uniform",
                   "gauss", "expovariate", "getrandbits", "randbytes"}
BARE_NAMES = {"model", "adapters", "scenarios", "conformance", "reports"}


def python_files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def imports(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "rustok_sim":
        return None
    if len(parts) == 1 or parts[1] not in FOLDERS or parts[1] == "cli":
        return "cli"
    return parts[1]


ALL_FILES = [(layer, path) for layer, folder in FOLDERS.items() for path in python_files(folder)]


@pytest.mark.parametrize(("layer", "path"), ALL_FILES, ids=lambda v: v if isinstance(v, str) else str(v.relative_to(ROOT)))
def test_imports_follow_the_layers(layer, path):
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    problems = []
    for line, name in imports(tree):
        top = name.split(".")[0]
        if top in BARE_NAMES:
            problems.append(f"line {line}: imports bare {name!r}; use rustok_sim.{name}")
        target = layer_of(name)
        if target is not None and target != layer and target not in ALLOWED[layer]:
            problems.append(f"line {line}: {layer} may not import {name}")
    assert not problems, f"{path.relative_to(ROOT)}: " + "; ".join(problems)


MODEL_FILES = python_files("model")


@pytest.mark.parametrize("path", MODEL_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_model_module_is_sans_io_and_layered(path):
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    here = path.relative_to(ROOT / "model").parts
    subsystem = here[0] if len(here) > 1 else None
    problems = []
    for line, name in imports(tree):
        top = name.split(".")[0]
        if top in IO_LIBRARIES:
            problems.append(f"line {line}: imports the I/O library {name}")
        parts = name.split(".")
        if parts[:2] == ["rustok_sim", "model"] and len(parts) > 2 and subsystem in MODEL_LAYERS:
            other = parts[2]
            if other != subsystem and other not in MODEL_LAYERS[subsystem]:
                problems.append(f"line {line}: model.{subsystem} may not import model.{other}")
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and isinstance(node.func.value, ast.Name):
            owner, attr = node.func.value.id, node.func.attr
            if (owner, attr) in FORBIDDEN_CALLS:
                problems.append(f"line {node.lineno}: calls {owner}.{attr}()")
            if owner == "random" and attr in UNSEEDED_RANDOM:
                problems.append(f"line {node.lineno}: calls the unseeded module-level random.{attr}()")
            if owner == "random" and attr in {"Random", "SystemRandom"} and not node.args and not node.keywords:
                problems.append(f"line {node.lineno}: random.{attr}() without a seed")
        if isinstance(node, ast.ImportFrom) and node.module == "uuid" \
                and any(alias.name in {"uuid1", "uuid4"} for alias in node.names):
            problems.append(f"line {node.lineno}: imports uuid.{node.names[0].name}")
    assert not problems, f"{path.relative_to(ROOT)}: " + "; ".join(problems)


def test_the_boundary_check_catches_an_io_import(tmp_path):
    """The rule above is only worth something if it fails: feed it a module that breaks it."""
    bad = ast.parse("import sqlalchemy\nfrom uuid import uuid4\nimport random\nrandom.random()\n")
    names = [name for _, name in imports(bad)]
    assert "sqlalchemy" in names and names[0].split(".")[0] in IO_LIBRARIES
    assert layer_of("rustok_sim.adapters.sql.db") == "adapters" and "adapters" not in ALLOWED["model"]


def test_every_package_folder_is_installed_under_the_namespace():
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    for layer, folder in FOLDERS.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            relative = init.parent.relative_to(ROOT / folder).parts
            package = ".".join(["rustok_sim", *([] if layer == "cli" else [layer]), *relative])
            assert f'"{package}"' in pyproject, f"{package} ({init.parent}) is not listed in pyproject.toml"
