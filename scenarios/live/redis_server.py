"""A `redis-server` the harness owns: started on a free loopback port, never the shared 6379.

``ManagedRedisServer()`` is a context manager; entering starts the server and waits until it
answers PING, leaving kills it and removes its directory. Persistence is off (``--save ""
--appendonly no``): a restart after SIGKILL comes back empty, as a cache server restarted by
an orchestrator does, and nothing is written but the log.

Process control is for the nemesis (`rustok_sim.scenarios.live.nemesis`): `kill` (SIGKILL),
`start` again on the same port, `pause` (SIGSTOP) and `resume` (SIGCONT). A paused server keeps
its listening socket, so connections still complete in the kernel and commands are buffered: a
client sees a black hole until its socket timeout, and the buffered commands run on SIGCONT.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

import redis

from rustok_sim.scenarios.live.processes import CHILDREN

__all__ = ["RedisServerError", "ManagedRedisServer", "free_loopback_port"]

SHARED_PORT = 6379
"""The machine's shared Redis: a managed server never uses it."""


class RedisServerError(RuntimeError):
    """The managed redis-server could not be started or did not answer."""


def free_loopback_port() -> int:
    """A TCP port free on 127.0.0.1 right now (the kernel's pick; never 6379)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        if port != SHARED_PORT:
            return port


class ManagedRedisServer:
    """One redis-server on 127.0.0.1:`port` (a free port when None).

    `startup_timeout` (seconds) bounds each wait for the server to answer PING."""

    def __init__(self, port: int | None = None, *, binary: str = "redis-server",
                 startup_timeout: float = 10.0) -> None:
        if port == SHARED_PORT:
            raise ValueError("port 6379 is the machine's shared Redis; a managed server needs a port of its own")
        resolved = shutil.which(binary)
        if resolved is None:
            raise RedisServerError(f"cannot find {binary!r} on PATH (install redis-server)")
        self.binary = resolved
        self.port = port if port is not None else free_loopback_port()
        self.startup_timeout = startup_timeout
        self.directory: Path | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None and self.process.poll() is None else None

    def __enter__(self) -> ManagedRedisServer:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def start(self) -> None:
        """Start the server (again, after `kill`) and wait until it answers PING."""
        if self.pid is not None:
            raise RedisServerError(f"redis-server on port {self.port} is already running (pid {self.pid})")
        if self.directory is None:
            self.directory = Path(tempfile.mkdtemp(prefix="rustok-sim-redis-"))
        argv = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--dir", str(self.directory), "--daemonize", "no", "--protected-mode", "yes", "--logfile", ""]
        self.process = CHILDREN.spawn(argv, log=self.directory / "redis.log")
        self.starts += 1
        self.wait_ready()

    def wait_ready(self) -> float:
        """Poll PING until the server answers; return the wall seconds it took. Raises
        `RedisServerError` with the log's tail after `startup_timeout`."""
        began = time.monotonic()
        deadline = began + self.startup_timeout
        client = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=0.5, socket_connect_timeout=0.5)
        try:
            while True:
                if self.process is not None and self.process.poll() is not None:
                    raise RedisServerError(f"redis-server on port {self.port} exited with status "
                                           f"{self.process.returncode}: {self.log_tail()}")
                try:
                    if client.ping():
                        return time.monotonic() - began
                except redis.RedisError:
                    pass
                if time.monotonic() > deadline:
                    raise RedisServerError(f"redis-server on port {self.port} did not answer PING within "
                                           f"{self.startup_timeout:g} s: {self.log_tail()}")
                time.sleep(0.01)
        finally:
            client.close()

    def kill(self) -> None:
        """SIGKILL the server and reap it: connections reset, the next connect is refused."""
        if self.process is not None:
            CHILDREN.reap(self.process)
            self.process = None

    def pause(self) -> None:
        """SIGSTOP: the server stops reading; clients wait until their socket timeout."""
        self._signal(signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT: the server runs again, and executes the commands buffered while it was stopped."""
        self._signal(signal.SIGCONT)

    def _signal(self, signum: signal.Signals) -> None:
        if self.pid is None or self.process is None:
            raise RedisServerError(f"redis-server on port {self.port} is not running")
        self.process.send_signal(signum)

    def close(self) -> None:
        """Kill the server if it runs and remove its directory. Idempotent."""
        self.kill()
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None

    def log_tail(self, lines: int = 5) -> str:
        if self.directory is None:
            return "(no log)"
        try:
            text = (self.directory / "redis.log").read_text(errors="replace")
        except OSError:
            return "(no log)"
        return " | ".join(text.strip().splitlines()[-lines:]) or "(empty log)"
