"""Fixtures for the tenancy tests: a manual clock, a trace recorder, a seeded tenant store, and a
private `redis-server` the outage tests start, kill and restart themselves."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from rustok_sim.adapters.sql.tenant_store import TenantStore
from rustok_sim.model.core.clock import ManualClock
from rustok_sim.model.core.trace import TraceRecorder
from rustok_sim.model.tenancy.context import TenantContext

ACME_ID = uuid.UUID("6f1c1c1e-8d2a-4b5e-9a33-0c3d8c2e7a01")
GLOBEX_ID = uuid.UUID("0b7e6f3a-51c4-4e0f-8f5a-9a8b7c6d5e4f")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def recorder(clock: ManualClock) -> TraceRecorder:
    return TraceRecorder(clock)


@pytest.fixture
def store() -> TenantStore:
    """SQLite in memory with two tenants: acme (acme.example.com) and globex (no domain)."""
    s = TenantStore()
    s.create("Acme", "acme", "acme.example.com", {"plan": "pro"}, id=ACME_ID)
    s.create("Globex", "globex", None, {}, id=GLOBEX_ID)
    return s


@pytest.fixture
def acme(store: TenantStore) -> TenantContext:
    found = store.find_by_id(ACME_ID)
    assert found is not None
    return found


# --------------------------------------------------------------------------------------------
# A private redis-server (never the machine's shared one on 6379)
# --------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


@dataclass
class RedisServerProcess:
    """A redis-server this test owns, on `port`. `kill()` and `start()` it at will."""

    port: int
    binary: str
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        assert self.proc is None, "already running"
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10.0
        while not _accepts(self.port):  # polling for the port is the one wait allowed here
            if self.proc.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.proc.returncode} on port {self.port}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not accept connections on port {self.port}")
            time.sleep(0.02)

    def kill(self) -> None:
        """SIGKILL our own process (by its handle) and wait until the port refuses."""
        assert self.proc is not None, "not running"
        self.proc.kill()
        self.proc.wait(timeout=10)
        self.proc = None


@pytest.fixture
def redis_server() -> Iterator[RedisServerProcess]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not on PATH")
    server = RedisServerProcess(port=_free_port(), binary=binary)
    server.start()
    try:
        yield server
    finally:
        if server.proc is not None:
            server.kill()


# --------------------------------------------------------------------------------------------
# A deterministic driver for the resolver's split protocol
# --------------------------------------------------------------------------------------------


@dataclass
class Driver:
    """Runs a batch of concurrent requests against a resolver, single-threaded and FIFO, the
    way a current-thread runtime would: every request looks up first; then the queue is worked
    off in order: a ticket is loaded from `store` (taking `load_time` virtual seconds) and
    completed, a wait is resumed once its load completed (else it goes to the back).

    `loads` lists every key loaded; `fail_next` holds errors the next loads raise instead."""

    resolver: object
    store: TenantStore
    clock: ManualClock
    load_time: float = 0.0
    loads: list = field(default_factory=list)
    fail_next: list = field(default_factory=list)

    def load(self, key):  # noqa: ANN001, ANN201
        self.loads.append(key)
        if self.fail_next:
            raise self.fail_next.pop(0)
        return self.store.find(key)

    def run(self, keys: list) -> list:
        """One result per key: the context, or the exception that request ended with."""
        from collections import deque

        from rustok_sim.model.tenancy.resolver import Hit, LoadTicket, Wait

        r = self.resolver
        results: list = [None] * len(keys)
        queue: deque = deque()
        for i, key in enumerate(keys):
            try:
                queue.append((i, r.lookup(key)))
            except Exception as exc:
                results[i] = exc
        while queue:
            i, outcome = queue.popleft()
            try:
                if isinstance(outcome, Hit):
                    results[i] = outcome.context
                elif isinstance(outcome, LoadTicket):
                    self.clock.advance(self.load_time)
                    try:
                        value = self.load(outcome.key)
                    except Exception as exc:
                        value = exc
                    results[i] = r.complete(outcome, value)
                else:
                    assert isinstance(outcome, Wait)
                    queue.append((i, r.resume(outcome) if outcome.ready else outcome))
            except Exception as exc:
                results[i] = exc
        return results


@pytest.fixture
def make_driver(store: TenantStore, clock: ManualClock):  # noqa: ANN201
    def make(resolver: object, load_time: float = 0.0) -> Driver:
        return Driver(resolver, store, clock, load_time)

    return make
