"""Conformance targets: a ``module:factory`` string names a factory that takes the component's
config and the controlled clock and returns an object speaking the component's protocol (its
reference class's public surface, `rustok_sim.conformance.protocols.PROTOCOLS`).

Every way a target can be wrong before a suite runs (no such module, no such factory, a factory
that raises, an object that lacks part of the surface) is one `TargetError` naming the target
and what is wrong, so the gate can print one line and exit 2 instead of a traceback.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from rustok_sim.conformance.protocols import PROTOCOLS, surface_mismatches

__all__ = ["Factory", "TargetError", "build_target", "load_factory"]

Factory = Callable[[Any, Callable[[], float]], Any]
"""factory(config, clock) -> target."""


class TargetError(ValueError):
    """A target that cannot be driven: says which and why."""


def load_factory(spec: str) -> Factory:
    """The callable that ``"package.module:factory"`` names."""
    module_name, colon, attribute = spec.partition(":")
    if not colon or not module_name or not attribute:
        raise TargetError(f"target {spec!r}: expected 'module:factory', for example "
                          f"'rustok_sim.conformance.reference:circuit_breaker'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise TargetError(f"target {spec!r}: cannot import module {module_name!r} ({exc})") from None
    except Exception as exc:  # noqa: BLE001 - a module that fails on import is the target's fault
        raise TargetError(f"target {spec!r}: importing {module_name!r} raised {type(exc).__name__}: {exc}") from None
    factory: Any = module
    for part in attribute.split("."):
        if not hasattr(factory, part):
            raise TargetError(f"target {spec!r}: module {module_name!r} has no {attribute!r}")
        factory = getattr(factory, part)
    if not callable(factory):
        raise TargetError(f"target {spec!r}: {attribute!r} is a {type(factory).__name__}, not a factory")
    return factory


def build_target(factory: Factory, config: Any, clock: Callable[[], float], component: str,
                 name: str = "target") -> Any:
    """Call the factory and check the object it returns speaks the component's protocol."""
    try:
        target = factory(config, clock)
    except Exception as exc:  # noqa: BLE001 - whatever the factory raises is a finding about it
        raise TargetError(f"{name}: its factory raised {type(exc).__name__}: {exc}") from None
    problems = surface_mismatches(target, PROTOCOLS[component])
    if problems:
        raise TargetError(f"{name}: does not speak the {component} protocol: {'; '.join(problems)}")
    return target
