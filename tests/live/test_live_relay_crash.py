"""Live relay crashes on PostgreSQL: the rollback story with its relays as OS processes, each
crash a fault hook at the point (after claim, after publish-before-mark) and a SIGKILL of the
relay's own process, judged by the same invariants.

A short rollback: 12 virtual seconds of 10 writes/s (10% rolled back) at 0.5 wall s per virtual
second; relay 0 dies after claiming at 3 s, relay 1 after publishing at 6 s, each replaced 2 s
later; a 4 s lease; at most 12 s of drain. Each run stays near 10 s of wall time.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from rustok_sim.model.core.trace import Fault
from rustok_sim.scenarios.engine.loading import load_config
from rustok_sim.scenarios.engine.result import ScenarioResult
from rustok_sim.scenarios.live.processes import CHILDREN
from rustok_sim.scenarios.live.realtime import run_live_story
from rustok_sim.scenarios.live.stories import LIVE_STORIES, LiveServices

pytestmark = pytest.mark.postgres

SCALE = 0.5
SHORT = ["pipeline.duration=12", "pipeline.arrivals.rate=10", "pipeline.claim_ttl_s=4", "drain_limit=12",
         "pipeline.crashes=[{at=3.0, relay=0, point='after_claim', restart_delay=2.0}, "
         "{at=6.0, relay=1, point='after_publish', restart_delay=2.0}]"]
CONNECTION_KILL = (8.0, 0)  # virtual second, relay: its replacement process's connections


@pytest.fixture(scope="module")
def postgres_url() -> str:
    url = os.environ.get("RUSTOK_SIM_DATABASE_URL", "").strip()
    if not url:
        pytest.skip("RUSTOK_SIM_DATABASE_URL is not set (the live relay tests need PostgreSQL; .ci/run sets it)")
    return url


def _live_rollback(profile: str, url: str, kills: tuple[tuple[float, int], ...] = ()) -> ScenarioResult:
    config = load_config("rollback", SHORT, profile=profile)
    live = LIVE_STORIES["rollback"]
    with LiveServices(live.needs, database_url=url, connection_kills=kills) as services:
        return run_live_story(live, config, 1, services, scale=SCALE)


@pytest.fixture(scope="module")
def faithful(postgres_url: str) -> ScenarioResult:
    return _live_rollback("faithful", postgres_url)


@pytest.fixture(scope="module")
def hardened(postgres_url: str) -> ScenarioResult:
    return _live_rollback("hardened", postgres_url, (CONNECTION_KILL,))


def _crash_faults(result: ScenarioResult) -> list[Any]:
    assert isinstance(result.trace, list)
    return [r for r in result.trace if isinstance(r, Fault) and r.fault == "relay_crash"]


def test_both_relays_die_at_their_points_and_are_replaced(faithful: ScenarioResult) -> None:
    metrics = faithful.metrics
    assert metrics["live"]["database"] == "postgresql"
    assert metrics["relay_crashes"] == 2
    crashes = _crash_faults(faithful)
    assert [(c.phase, c.target, c.detail["point"]) for c in crashes if c.phase == "start"] == [
        ("start", "inventory-relay-0", "after_claim"), ("start", "inventory-relay-1", "after_publish")]
    assert sum(1 for c in crashes if c.phase == "end") == 2
    workers = [p["worker"] for p in metrics["live"]["relay_processes"]]
    assert {"inventory-relay-0.1", "inventory-relay-1.1"} <= set(workers)


def test_faithful_leaves_the_dead_relays_claims_as_zombies(faithful: ScenarioResult) -> None:
    metrics = faithful.metrics
    assert metrics["zombies"] > 0
    assert metrics["rows_at_end"]["claimed"] > 0  # claimed by a dead worker, never reclaimed
    assert metrics["ghosts"] == 0
    assert faithful.verdict("no_zombies").status == "known-defect"
    assert faithful.verdict("no_ghosts").status == "pass"
    assert faithful.ok


def test_hardened_reclaims_after_the_lease_and_delivers_every_committed_event(hardened: ScenarioResult) -> None:
    metrics = hardened.metrics
    assert metrics["relay_crashes"] == 2
    assert metrics["zombies"] == 0 and metrics["ghosts"] == 0
    assert metrics["delivered"] == metrics["committed"] > 0
    assert metrics["rows_at_end"] == {"pending": 0, "claimed": 0, "dispatched": metrics["committed"], "failed": 0}
    assert metrics["duplicates"] >= 1  # the row published before the crash, delivered again after the lease
    assert metrics["read_model_divergence"] == 0  # the projection equals the committed writes
    assert [v.status for v in hardened.verdicts] == ["pass"] * len(hardened.verdicts)


def test_a_terminated_relay_connection_is_survived(hardened: ScenarioResult) -> None:
    live = hardened.metrics["live"]
    assert live["terminated_connections"] >= 1
    assert isinstance(hardened.trace, list)
    kills = [r for r in hardened.trace if isinstance(r, Fault) and r.fault == "pg_terminate_backend"]
    assert [k.phase for k in kills] == ["start", "end"] and kills[0].target == "inventory-relay-0.1"


def test_no_process_or_schema_outlives_a_run(postgres_url: str, faithful: ScenarioResult,
                                             hardened: ScenarioResult) -> None:
    for result in (faithful, hardened):
        for process in result.metrics["live"]["relay_processes"]:
            with pytest.raises(ProcessLookupError):
                os.kill(process["pid"], 0)
    assert CHILDREN.alive() == []
    schemas = [r.metrics["live"]["schema"] for r in (faithful, hardened)]
    engine = create_engine(postgres_url)
    try:
        with engine.connect() as conn:
            left = conn.execute(text("SELECT schema_name FROM information_schema.schemata "
                                     "WHERE schema_name = ANY(:names)"), {"names": schemas}).scalars().all()
    finally:
        engine.dispose()
    assert left == []


def _relay_children(parent: int) -> set[int]:
    """Pids of `parent`'s children running the relay worker (Linux /proc)."""
    found: set[int] = set()
    for task in Path(f"/proc/{parent}/task").iterdir():
        for pid in (task / "children").read_text().split():
            try:
                if b"relay_worker" in Path(f"/proc/{pid}/cmdline").read_bytes():
                    found.add(int(pid))
            except FileNotFoundError:
                continue
    return found


def test_ctrl_c_stops_the_relays_and_drops_the_schema(postgres_url: str, tmp_path: Path) -> None:
    env = {**os.environ, "RUSTOK_SIM_DATABASE_URL": postgres_url}
    process = subprocess.Popen([sys.executable, "-m", "rustok_sim", "live", "rollback", "--scale", "0.5",
                                *[arg for field in SHORT for arg in ("--set", field)], "--out",
                                str(tmp_path / "interrupted")], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True, env=env)
    try:
        assert process.stderr is not None
        found = re.search(r"schema (rustok_sim_live_[0-9a-f]+)", process.stderr.readline())
        assert found
        schema = found.group(1)
        relays: set[int] = set()
        deadline = time.monotonic() + 30
        while len(relays) < 2 and time.monotonic() < deadline:  # both relay processes started
            relays |= _relay_children(process.pid)
            time.sleep(0.1)
        assert len(relays) >= 2
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 130
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    for pid in relays:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    engine = create_engine(postgres_url)
    try:
        with engine.connect() as conn:
            left = conn.execute(text("SELECT count(*) FROM information_schema.schemata WHERE schema_name = :name"),
                                {"name": schema}).scalar_one()
    finally:
        engine.dispose()
    assert left == 0
