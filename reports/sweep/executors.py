"""Where a sweep's runs execute: in this process, in local worker processes
(`concurrent.futures.ProcessPoolExecutor`), or on Dask distributed (a `distributed.LocalCluster`
this process starts, or a running scheduler by address). Each executor takes `RunTask`s and
yields ``(key, metrics)`` as runs finish, in whatever order they finish; the sweep sorts.

Runs are deterministic from (config, seed), so the executor changes how long a sweep takes and
never what it finds. On a remote cluster every worker needs the same rustok-sim installed (the
task names its function by import path; nothing else is shipped).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import re
import signal
from collections.abc import Generator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any, Final, Protocol

from rustok_sim.reports.sweep.errors import SweepError
from rustok_sim.reports.sweep.runs import RunTask, run_task

__all__ = ["DEFAULT_CONNECT_TIMEOUT", "DaskExecutor", "Executor", "LocalExecutor", "RunOutput", "default_workers",
           "make_executor"]

RunOutput = tuple[tuple[int, int], dict[str, float]]

DEFAULT_CONNECT_TIMEOUT: Final = 5.0
"""Seconds to wait for a Dask scheduler before saying it is unreachable: long enough for a
scheduler across a data centre, short enough that a typo in the address is reported at once."""

_ADDRESS = re.compile(r"^(tcp|tls|ws|wss|ucx)://[^\s/:]+:\d{1,5}$")


class Executor(Protocol):
    """Runs tasks and yields their outputs as they finish. Closing the iterator early (an
    error, Ctrl-C) cancels what has not started."""

    description: str
    """For the progress line: ``2 local processes``, ``Dask tcp://10.0.0.5:8786 (8 workers)``."""

    def run(self, tasks: Sequence[RunTask]) -> Generator[RunOutput, None, None]: ...

    def close(self) -> None: ...


def default_workers() -> int:
    """The CPUs this process may use (its affinity, not the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _ignore_interrupts() -> None:
    # Workers share the terminal's process group: Ctrl-C is the parent's to handle (it cancels
    # the pool); a worker that died of it would only print a second traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class LocalExecutor:
    """`workers` processes on this machine; one worker runs in this process (no pool to start,
    nothing to pickle). Workers fork from a clean forkserver that has already imported the
    scenarios, so starting one costs milliseconds and never copies this process's threads (the
    progress bar's)."""

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise SweepError(f"--workers {workers}: must be >= 1")
        self.workers = workers
        self.description = "this process" if workers == 1 else f"{workers} local processes"
        self._pool: ProcessPoolExecutor | None = None

    def run(self, tasks: Sequence[RunTask]) -> Generator[RunOutput, None, None]:
        if self.workers == 1 or len(tasks) <= 1:
            for task in tasks:
                yield run_task(task)
            return
        if self._pool is None:
            context = multiprocessing.get_context("forkserver")
            # The server imports what a run needs once; each worker forks from it. (Python 3.11
            # still runs the main module again in each worker, whatever the preload says, so a
            # script that starts a sweep should keep its top level light.)
            context.set_forkserver_preload(["rustok_sim.reports.sweep.runs", "rustok_sim.scenarios.engine.loading"])
            self._pool = ProcessPoolExecutor(self.workers, mp_context=context, initializer=_ignore_interrupts)
        pending: set[Future[RunOutput]] = {self._pool.submit(run_task, task) for task in tasks}
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    yield future.result()
        finally:
            for future in pending:
                future.cancel()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


class DaskExecutor:
    """Dask distributed: ``"local"`` starts a `LocalCluster` of `workers` single-threaded worker
    processes (default: the CPUs this process may use; closed with the executor); any other address connects to that scheduler, which
    must answer and have a worker within `connect_timeout` seconds, or a `SweepError` says so.

    Nothing starts or connects until the first `run`, so a sweep with a bad grid fails before
    spending seconds on a cluster."""

    def __init__(self, address: str, workers: int | None = None,
                 connect_timeout: float = DEFAULT_CONNECT_TIMEOUT) -> None:
        if address != "local" and not _ADDRESS.match(address):
            raise SweepError(f"--dask {address!r}: expected 'local' or a scheduler address such as tcp://HOST:8786")
        workers = default_workers() if workers is None else workers  # a remote cluster ignores it
        if workers < 1:
            raise SweepError(f"--workers {workers}: must be >= 1")
        self.address, self.workers, self.connect_timeout = address, workers, connect_timeout
        self.description = (f"Dask LocalCluster ({workers} worker processes)" if address == "local"
                            else f"Dask {address}")
        self._cluster: Any = None
        self._client: Any = None

    def _start(self) -> Any:
        if self._client is not None:
            return self._client
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise SweepError("--dask needs dask distributed: pip install -e '.[dask]'") from None
        if self.address == "local":
            # One thread per worker: a run is pure Python and holds the GIL, so threads would
            # only take turns. No dashboard: a sweep should not claim port 8787 on a shared box.
            self._cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True,
                                         dashboard_address=None, silence_logs=logging.ERROR)
            self._client = Client(self._cluster, set_as_default=False)
            return self._client
        try:
            self._client = Client(self.address, timeout=f"{self.connect_timeout}s", set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise SweepError(f"--dask {self.address}: no Dask scheduler answered within {self.connect_timeout:g} s "
                             f"({_one_line(exc)})") from None
        try:
            self._client.wait_for_workers(1, timeout=self.connect_timeout)
        except TimeoutError:
            raise SweepError(f"--dask {self.address}: the scheduler has no workers (waited "
                             f"{self.connect_timeout:g} s); start some with: dask worker {self.address}") from None
        count = len(self._client.scheduler_info().get("workers", {}))
        self.description = f"Dask {self.address} ({count} workers)"
        return self._client

    def run(self, tasks: Sequence[RunTask]) -> Generator[RunOutput, None, None]:
        if not tasks:
            return
        client = self._start()
        from distributed import as_completed

        # pure=False: each task is a run to do; Dask need not hash configs to look for equal ones.
        futures = client.map(run_task, list(tasks), pure=False)
        # as_completed finds its client through the default; ours is deliberately not the
        # process-wide default (a sweep inside a notebook must not steal the user's client).
        with client.as_current():
            completed = as_completed(futures, with_results=True)
        try:
            for _future, output in completed:
                yield output
        finally:
            client.cancel(futures)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def make_executor(workers: int | None = None, dask: str | None = None,
                  connect_timeout: float = DEFAULT_CONNECT_TIMEOUT) -> LocalExecutor | DaskExecutor:
    """The executor the command line asks for: local processes unless `dask` names a cluster."""
    if dask is None:
        return LocalExecutor(workers if workers is not None else default_workers())
    return DaskExecutor(dask, workers, connect_timeout)
