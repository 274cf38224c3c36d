"""What an invariant says about a run: a `Verdict`, and the streaming `Checker` that produces it.

An invariant is a plain function over a trace, but a million-event run cannot keep its trace in
memory, so each one is written as a checker that is fed records one at a time (while the run
writes them, or while a trace file is read back) and gives its verdict at the end. `check` is the
plain-function form: records in, verdicts out.

A verdict's status is ``pass``, ``fail`` or ``known-defect``: a failure that the chosen faithful
behaviour is documented to have. A checker only says ``known-defect`` when it was built with the
`KnownDefect` that explains the failure (the spec section and what the Rust code does); under the
hardened profile nobody passes one, so the same failure is a ``fail``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from rustok_sim.model.core.trace import TraceRecord

__all__ = ["STATUSES", "Checker", "CheckerSink", "KnownDefect", "Status", "Verdict", "check", "judge"]

Status = Literal["pass", "fail", "known-defect"]
STATUSES: tuple[Status, ...] = ("pass", "fail", "known-defect")


@dataclass(frozen=True, slots=True)
class KnownDefect:
    """A documented failure of the faithful behaviour: where the spec shows it, and what it is."""

    spec: str
    """Spec section, e.g. ``"§3.6"`` (rustok-semantics.md)."""
    summary: str


@dataclass(frozen=True, slots=True)
class Verdict:
    invariant: str
    status: Status
    detail: str
    spec: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"invariant": self.invariant, "status": self.status, "detail": self.detail, "spec": self.spec}

    @property
    def failed(self) -> bool:
        return self.status == "fail"


def judge(invariant: str, violations: int, detail: str, defect: KnownDefect | None) -> Verdict:
    """The verdict for a count of violations: none is a pass; some is a known defect when one
    explains it, else a failure."""
    if violations == 0:
        return Verdict(invariant, "pass", detail)
    if defect is not None:
        return Verdict(invariant, "known-defect", f"{detail} ({defect.summary})", defect.spec)
    return Verdict(invariant, "fail", detail)


class Checker(Protocol):
    """One invariant, checked in one pass over a trace."""

    invariant: str
    kinds: frozenset[str]
    """The record kinds it reads: a run keeps these in its recorder whatever its trace level."""

    def feed(self, record: TraceRecord) -> None: ...

    def verdict(self) -> Verdict: ...


class CheckerSink:
    """A trace sink that feeds each record to the checkers that read its kind."""

    def __init__(self, checkers: Sequence[Checker]) -> None:
        self.checkers = tuple(checkers)
        by_kind: dict[str, list[Any]] = {}
        for checker in self.checkers:
            for kind in checker.kinds:
                by_kind.setdefault(kind, []).append(checker.feed)
        self._feeds = {kind: tuple(feeds) for kind, feeds in by_kind.items()}

    @property
    def kinds(self) -> frozenset[str]:
        return frozenset(self._feeds)

    def accept(self, record: TraceRecord) -> None:
        for feed in self._feeds.get(record.kind, ()):
            feed(record)

    def wants(self, kind: str, component: str | None = None) -> bool:
        return kind in self._feeds

    def verdicts(self) -> list[Verdict]:
        return [checker.verdict() for checker in self.checkers]


def check(records: Iterable[TraceRecord], checkers: Sequence[Checker]) -> list[Verdict]:
    """The plain-function form: feed every record, return one verdict per checker, in order."""
    sink = CheckerSink(checkers)
    for record in records:
        sink.accept(record)
    return sink.verdicts()
