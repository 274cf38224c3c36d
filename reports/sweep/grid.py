"""The points a sweep runs: grid axes parsed from ``field=start:stop:step`` or ``field=v1,v2,...``,
their cartesian product, or ``N`` points drawn from it with a seeded random generator.

An axis is a config field (dotted, as ``--set`` takes it: ``traffic.breaker.timeout``) and the
values it takes. A range includes its stop when the steps land on it (``1:5:2`` is 1, 3, 5); a
range of integers gives integers, one with a decimal point gives floats rounded to the digits its
text shows (``0.1:0.3:0.1`` is 0.1, 0.2, 0.3, never 0.30000000000000004). List values are TOML
scalars (``5``, ``0.25``, ``true``, ``"v1"``); anything else is a bare string
(``profile=faithful,hardened``).

Points are always in grid order (the axes as given, each axis's values as given), whatever way
they were chosen, so everything downstream is ordered the same way on every run.
"""

from __future__ import annotations

import math
import random
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from rustok_sim.reports.sweep.errors import SweepError

__all__ = ["MAX_POINTS", "Axis", "Point", "Scalar", "format_value", "grid_points", "grid_size", "parse_axis",
           "random_points", "toml_text"]

Scalar = int | float | str | bool
"""A value a grid gives one config field."""

MAX_POINTS: Final = 100_000
"""More points than this is almost certainly a typo in a step (``0:100:0.001``); random search
(``--random N``) samples a larger grid without building it."""

_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


@dataclass(frozen=True, slots=True)
class Axis:
    """One swept field and the values it takes, in order."""

    field: str
    values: tuple[Scalar, ...]


@dataclass(frozen=True, slots=True, order=True)
class Point:
    """One setting of every swept field. `index` is the point's rank in the full grid (row-major
    over the axes), which orders points the same way however they were chosen."""

    index: int
    values: tuple[Scalar, ...]

    def overrides(self, axes: Sequence[Axis]) -> list[str]:
        """The point as ``--set`` overrides (``field=value`` with the value as TOML text)."""
        return [f"{axis.field}={toml_text(value)}" for axis, value in zip(axes, self.values)]

    def label(self, axes: Sequence[Axis]) -> str:
        """``traffic.breaker.timeout=5, traffic.breaker.failure_threshold=3``: for messages."""
        return ", ".join(f"{axis.field}={format_value(value)}" for axis, value in zip(axes, self.values))


def parse_axis(text: str) -> Axis:
    """``field=start:stop:step`` or ``field=v1,v2,...`` (a single value is a one-value axis)."""
    source = f"--grid {text!r}"
    field, sep, spec = text.partition("=")
    field, spec = field.strip(), spec.strip()
    if not sep or not field:
        raise SweepError(f"{source}: expected field=start:stop:step or field=v1,v2,... "
                         f"(for example traffic.breaker.timeout=2:20:2)")
    if not _FIELD.match(field):
        raise SweepError(f"{source}: {field!r} is not a field name (dotted words, such as traffic.breaker.timeout)")
    if not spec:
        raise SweepError(f"{source}: no values after '='")
    if "," in spec or ":" not in spec:
        return Axis(field, _parse_list(spec, source))
    return Axis(field, _parse_range(spec, source))


def _parse_list(spec: str, source: str) -> tuple[Scalar, ...]:
    words = [word.strip() for word in spec.split(",")]
    if any(not word for word in words):
        raise SweepError(f"{source}: empty value in the list {spec!r}")
    values = tuple(_scalar(word, source) for word in words)
    duplicates = sorted({format_value(v) for v in values if values.count(v) > 1})
    if duplicates:
        raise SweepError(f"{source}: value {duplicates[0]} is listed twice")
    return values


def _scalar(word: str, source: str) -> Scalar:
    try:
        value = tomllib.loads(f"value = {word}")["value"]
    except tomllib.TOMLDecodeError:
        return word  # a bare word, as --set takes it: profile=hardened
    if isinstance(value, float) and not math.isfinite(value):
        raise SweepError(f"{source}: {word} is not a finite number")
    if not isinstance(value, (int, float, str, bool)):
        raise SweepError(f"{source}: {word!r} is not a single value (a grid value is a number, a word or true/false)")
    return value


def _parse_range(spec: str, source: str) -> tuple[Scalar, ...]:
    parts = [part.strip() for part in spec.split(":")]
    if len(parts) != 3 or not all(parts):
        raise SweepError(f"{source}: a range is start:stop:step with three numbers (got {spec!r})")
    numbers: list[int | float] = []
    for name, word in zip(("start", "stop", "step"), parts):
        value = _scalar(word, source)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SweepError(f"{source}: {name} {word!r} is not a number")
        numbers.append(value)
    start, stop, step = numbers
    if step <= 0:
        raise SweepError(f"{source}: step must be > 0 (got {parts[2]})")
    if stop < start:
        raise SweepError(f"{source}: stop {parts[1]} is below start {parts[0]}")
    # A small tolerance so that 0.1:0.3:0.1 reaches 0.3 despite binary rounding.
    count = math.floor((stop - start) / step + 1e-9) + 1
    if count > MAX_POINTS:
        raise SweepError(f"{source}: {count} values is more than {MAX_POINTS}; use a larger step")
    if all(isinstance(n, int) for n in numbers):
        return tuple(int(start) + i * int(step) for i in range(count))
    digits = max(_decimals(word) for word in parts)
    return tuple(round(start + i * step, digits) for i in range(count))


def _decimals(word: str) -> int:
    """Digits after the point that a number's text shows (``2.5e-3`` shows 4)."""
    mantissa, _, exponent = word.lower().partition("e")
    shown = len(mantissa.partition(".")[2])
    return max(0, shown - int(exponent or 0))


def grid_size(axes: Sequence[Axis]) -> int:
    return math.prod(len(axis.values) for axis in axes)


def _point_at(axes: Sequence[Axis], index: int) -> Point:
    values: list[Scalar] = []
    rest = index
    for axis in reversed(axes):
        rest, position = divmod(rest, len(axis.values))
        values.append(axis.values[position])
    return Point(index, tuple(reversed(values)))


def _check_axes(axes: Sequence[Axis]) -> None:
    if not axes:
        raise SweepError("no --grid given: a sweep needs at least one field=values")
    fields = [axis.field for axis in axes]
    for field in fields:
        if fields.count(field) > 1:
            raise SweepError(f"--grid {field}: the field is swept twice; give all its values in one --grid")


def grid_points(axes: Sequence[Axis]) -> list[Point]:
    """Every combination of the axes' values, in grid order."""
    _check_axes(axes)
    total = grid_size(axes)
    if total > MAX_POINTS:
        raise SweepError(f"the grid has {total} points, more than {MAX_POINTS}; sample it with --random N")
    return [_point_at(axes, index) for index in range(total)]


def random_points(axes: Sequence[Axis], count: int, seed: int) -> list[Point]:
    """`count` distinct points drawn uniformly from the grid with ``random.Random(seed)`` (the
    whole grid when it has no more points than that), in grid order. The grid is never built, so
    a fine lattice (``timeout=0.5:120:0.5``) costs nothing until it is sampled."""
    _check_axes(axes)
    if count < 1:
        raise SweepError(f"--random {count}: the number of points must be >= 1")
    total = grid_size(axes)
    if count >= total:
        return grid_points(axes)
    chosen = random.Random(seed).sample(range(total), count)
    return [_point_at(axes, index) for index in sorted(chosen)]


def format_value(value: Scalar) -> str:
    """A value as results.csv and messages spell it: ``true``/``false``, ints as digits, floats
    in their shortest round-trip form, strings as they are."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)


def toml_text(value: Scalar) -> str:
    """A value as a ``--set`` override spells it (TOML): strings quoted, the rest as written."""
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return format_value(value)
