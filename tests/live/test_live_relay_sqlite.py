"""Without PostgreSQL the live outbox runs on a SQLite file: the same relay processes and crash
nemesis, the file removed afterwards. One hardened run (about 7 s of wall time)."""

from __future__ import annotations

import os

import pytest

from rustok_sim.scenarios.engine.loading import load_config
from rustok_sim.scenarios.live.processes import CHILDREN
from rustok_sim.scenarios.live.realtime import run_live_story
from rustok_sim.scenarios.live.stories import LIVE_STORIES, LiveServices

SHORT = ["pipeline.duration=12", "pipeline.arrivals.rate=10", "pipeline.claim_ttl_s=4", "drain_limit=12",
         "pipeline.crashes=[{at=3.0, relay=0, point='after_claim', restart_delay=2.0}, "
         "{at=6.0, relay=1, point='after_publish', restart_delay=2.0}]"]


def test_hardened_relays_on_a_sqlite_file_deliver_everything_and_leave_nothing() -> None:
    config = load_config("rollback", SHORT, profile="hardened")
    live = LIVE_STORIES["rollback"]
    with LiveServices(live.needs, database_url="sqlite") as services:
        database_file = services.database.directory
        result = run_live_story(live, config, 1, services, scale=0.5)
    metrics = result.metrics
    assert metrics["live"]["database"] == "sqlite"
    assert metrics["relay_crashes"] == 2
    assert metrics["zombies"] == 0 and metrics["ghosts"] == 0 and metrics["read_model_divergence"] == 0
    assert metrics["delivered"] == metrics["committed"] > 0
    assert result.ok
    assert database_file is not None and not database_file.exists()
    assert CHILDREN.alive() == []
    for process in metrics["live"]["relay_processes"]:
        try:
            os.kill(process["pid"], 0)
        except ProcessLookupError:
            continue
        raise AssertionError(f"relay process {process['pid']} outlived the run")


def test_a_step_that_fails_mid_run_still_stops_the_relays_and_removes_the_database(monkeypatch) -> None:
    from rustok_sim.scenarios.live.outbox import LiveOutboxPipelinePart

    relay_pids: list[int] = []

    def failing_delivery(self: LiveOutboxPipelinePart, line: dict) -> None:
        relay_pids.extend(handle.process.pid for handle in self.processes.values())
        raise RuntimeError("a step failed")  # inside the running world, relays alive

    monkeypatch.setattr(LiveOutboxPipelinePart, "_on_delivery", failing_delivery)
    config = load_config("rollback", SHORT, profile="hardened")
    live = LIVE_STORIES["rollback"]
    with pytest.raises(RuntimeError, match="a step failed"):
        with LiveServices(live.needs, database_url="sqlite") as services:
            database_dir, run_dir = services.database.directory, services.run_dir
            run_live_story(live, config, 1, services, scale=0.5)
    assert len(relay_pids) == 2 and database_dir is not None
    assert not database_dir.exists() and not run_dir.exists()
    assert CHILDREN.alive() == []
    for pid in relay_pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
