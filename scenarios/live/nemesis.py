"""The nemesis: faults made real on the processes a live run owns, each one a ``fault`` record.

A story's fault window (``redis_outage`` start and end, from the shared drivers) says *when*;
the nemesis says *how*, and records what it did as a fault of its own, with a start and an end,
on the same virtual clock:

==================  ==========================  =============================================
window mode         action at start             action at end
==================  ==========================  =============================================
``refused``         ``redis_sigkill``: SIGKILL  restart on the same port, wait for PING
``blackhole``       ``redis_sigstop``: SIGSTOP  SIGCONT (buffered commands then run)
==================  ==========================  =============================================

Every action is bounded: the server is one the harness started (`ManagedRedisServer`), the
actions are at most one per window edge, and a restart waits at most the server's startup
timeout. The nemesis keeps a log of its actions with their wall-clock durations for the result.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Literal

from rustok_sim.model.core.trace import TraceRecorder
from rustok_sim.scenarios.live.redis_server import ManagedRedisServer

__all__ = ["NemesisAction", "RedisNemesis"]

FAULT_FOR_MODE = {"refused": "redis_sigkill", "blackhole": "redis_sigstop"}


@dataclass
class NemesisAction:
    """One action: its fault name, virtual start and end (seconds), and how long undoing it took
    on the wall clock (a restart's wait for PING; zero for SIGCONT)."""

    fault: str
    target: str
    start: float
    end: float | None = None
    undo_wall_s: float | None = None
    detail: dict[str, Any] = field(default_factory=dict)


class RedisNemesis:
    """Kills or pauses `server` when the simulated Redis it follows fails, and undoes it when it
    heals. Install it with ``sim_server.followers.append(nemesis.follow)``."""

    def __init__(self, server: ManagedRedisServer, recorder: TraceRecorder) -> None:
        self.server, self.recorder = server, recorder
        self.actions: list[NemesisAction] = []
        self._current: NemesisAction | None = None

    @property
    def target(self) -> str:
        return f"redis-server:{self.server.port}"

    def follow(self, mode: Literal["refused", "blackhole"] | None) -> None:
        if mode is None:
            self.heal()
        else:
            self.strike(mode)

    def strike(self, mode: Literal["refused", "blackhole"]) -> None:
        if self._current is not None:
            self.heal()
        fault = FAULT_FOR_MODE[mode]
        detail = {"pid": self.server.pid, "port": self.server.port}
        action = NemesisAction(fault, self.target, self.recorder.clock(), detail=detail)
        self.recorder.fault(fault, "start", self.target, detail)
        if mode == "refused":
            self.server.kill()
        else:
            self.server.pause()
        self._current = action
        self.actions.append(action)

    def heal(self) -> None:
        action, self._current = self._current, None
        if action is None:
            return
        began = time.monotonic()
        if action.fault == "redis_sigkill":
            self.server.start()
        else:
            self.server.resume()
        action.undo_wall_s = time.monotonic() - began
        action.end = self.recorder.clock()
        detail = {**action.detail, "pid": self.server.pid, "undo_wall_s": round(action.undo_wall_s, 6)}
        self.recorder.fault(action.fault, "end", self.target, detail)

    def summary(self) -> list[dict[str, Any]]:
        return [{"fault": a.fault, "target": a.target, "start": a.start, "end": a.end,
                 "undo_wall_s": a.undo_wall_s} for a in self.actions]
