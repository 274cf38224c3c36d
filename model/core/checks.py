"""Constructor checks every component shares: how an error names what it was given, and names.

A component checks its arguments when it is built (`rustok_sim.model.core.clock.require_clock`,
`rustok_sim.model.core.trace.require_observer`, the config checks), so a wrong argument fails
there with one sentence instead of at the first call with an AttributeError. This module holds
the two pieces those checks have in common:

- `given(value, expected)`: how an error message names the value it got: its type and a short
  repr, and, when that type has the *name* of the expected class but lives in another module,
  the reason. That happens when the repository's folders are imported by their bare names
  (``from model.resilience.circuit_breaker import CircuitBreakerConfig`` from the repository
  root): Python loads a second copy of the package, whose classes are not ours, and an error
  saying "expects a CircuitBreakerConfig, got CircuitBreakerConfig" helps nobody.
- `require_name(name, owner)`: a component's instance name is a non-empty ``str`` (it is the
  ``instance`` of every trace record, which the trace reader requires to be a string).

It sits on the ground floor (`core`), which every component's module may import; it depends on
nothing.

State outside the table: none; these are pure functions.
"""

from __future__ import annotations

__all__ = ["given", "require_name", "second_copy_hint"]


def second_copy_hint(value: object, *expected: type) -> str:
    """``""``, or the sentence explaining that `value`'s class is one of `expected` loaded a second
    time from another module (a package imported by its folder name)."""
    cls = type(value)
    for wanted in expected:
        if cls.__name__ == wanted.__name__ and cls.__module__ != wanted.__module__:
            return (f" from module {cls.__module__!r}: a second copy of the package, imported by its "
                    f"folder name; import it as {wanted.__module__}.{wanted.__qualname__} instead")
    return ""


def given(value: object, *expected: type, limit: int = 80) -> str:
    """What an error says it got: ``"<type> <repr cut to limit>"`` plus `second_copy_hint`."""
    text = repr(value)
    if len(text) > limit:
        text = text[:limit - 3] + "..."
    return f"{type(value).__name__} {text}{second_copy_hint(value, *expected)}"


def require_name(name: object, owner: str) -> str:
    """`name` if it is a non-empty ``str``, else a `TypeError` / `ValueError` naming `owner`:
    a component's name is the ``instance`` of its trace records."""
    if not isinstance(name, str):
        raise TypeError(f"{owner} needs name= a non-empty str (the instance name its trace records "
                        f"carry), got {given(name)}")
    if not name:
        raise ValueError(f"{owner} needs name= a non-empty str (the instance name its trace records "
                         f"carry), got ''")
    return name
