"""The one error a sweep raises for anything the user can fix (a bad grid, an unknown field or
metric, a scheduler that does not answer, results from another sweep in the output folder). The
command line prints its message in one line and exits 2."""

from __future__ import annotations

__all__ = ["SweepError"]


class SweepError(ValueError):
    """A sweep that cannot run as asked; the message names the thing, the value and the rule."""
