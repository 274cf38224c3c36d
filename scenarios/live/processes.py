"""The OS processes a live run starts, and the guarantee that none outlives it.

Three layers, because each one alone misses a case:

- context managers (`ManagedRedisServer` is one) stop their process on the way out of a
  ``with``, including when a step raises or Ctrl-C raises `KeyboardInterrupt`;
- `ChildProcesses.kill_all` runs at interpreter exit (atexit), for a process whose owner was
  never closed, and `install_sigterm_exit` turns SIGTERM into a normal exit so that both of the
  above still run when the run is terminated rather than interrupted;
- every child is started with the parent-death signal set to SIGKILL (Linux ``prctl``), so even
  a parent killed with SIGKILL (where no Python code runs) takes its children with it.

Children start in a session of their own: a Ctrl-C at the terminal reaches the harness, which
decides how to stop them, not the children directly (a redis-server stopped by the terminal's
SIGINT in the middle of a nemesis action would look like a fault we did not inject).
"""

from __future__ import annotations

import atexit
import ctypes
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["CHILDREN", "ChildProcesses", "install_sigterm_exit"]

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass  # not Linux: the atexit and context-manager layers still apply


class ChildProcesses:
    """A registry of live child processes; `kill_all` SIGKILLs and reaps whatever is left."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._children: dict[int, subprocess.Popen[bytes]] = {}

    def spawn(self, argv: Sequence[str], *, log: Path | None = None, env: dict[str, str] | None = None
              ) -> subprocess.Popen[bytes]:
        """Start `argv` (stdout and stderr to `log`, or discarded), registered until `reap`."""
        out: Any = open(log, "ab") if log is not None else subprocess.DEVNULL  # noqa: SIM115 - the child owns it
        try:
            process = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                       start_new_session=True, preexec_fn=_die_with_parent, env=env)
        finally:
            if log is not None:
                out.close()
        with self._lock:
            self._children[process.pid] = process
        return process

    def reap(self, process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
        """SIGKILL `process` if it still runs (also when stopped: SIGKILL needs no SIGCONT), wait
        for it, and forget it."""
        if process.poll() is None:
            process.kill()
        try:
            process.wait(timeout)
        finally:
            with self._lock:
                self._children.pop(process.pid, None)

    def alive(self) -> list[int]:
        """Pids of registered children that have not exited."""
        with self._lock:
            return [pid for pid, p in self._children.items() if p.poll() is None]

    def kill_all(self) -> None:
        with self._lock:
            children = list(self._children.values())
        for process in children:
            try:
                self.reap(process, timeout=5.0)
            except (OSError, subprocess.TimeoutExpired):  # pragma: no cover - best effort at exit
                pass


CHILDREN = ChildProcesses()
"""The registry every live component spawns through."""
atexit.register(CHILDREN.kill_all)


def install_sigterm_exit() -> None:
    """SIGTERM exits through `SystemExit` (status 143), so ``finally`` blocks, context managers
    and atexit handlers run. Only from the main thread (Python's rule for signal handlers)."""
    if threading.current_thread() is not threading.main_thread():
        return

    def on_sigterm(signum: int, frame: Any) -> None:
        sys.exit(128 + signum)

    signal.signal(signal.SIGTERM, on_sigterm)
