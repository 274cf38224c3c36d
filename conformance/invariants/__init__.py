"""Invariants over a trace, shared by every scenario run, the conformance gate and the trace checker."""

from rustok_sim.conformance.invariants.verdict import (
    STATUSES,
    Checker,
    CheckerSink,
    KnownDefect,
    Status,
    Verdict,
    check,
    judge,
)

__all__ = ["STATUSES", "Checker", "CheckerSink", "KnownDefect", "Status", "Verdict", "check", "judge"]
