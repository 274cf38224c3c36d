"""The rollback story: rolled-back writes never reach the projection through the outbox, a relay
that dies after claiming leaves zombies under faithful and none under hardened, a crash between
publish and mark gives a duplicate the projection skips, and a non-outbox transport makes ghosts."""

from __future__ import annotations

from typing import Any

import pytest

from rustok_sim.scenarios.stories.rollback import RollbackConfig, run


def rollback(profile: str = "faithful", **pipeline: Any) -> RollbackConfig:
    base: dict[str, Any] = {"duration": 20.0, "arrivals": {"kind": "poisson", "rate": 80.0},
                            "crashes": [{"at": 5.0, "relay": 0, "point": "after_claim"},
                                        {"at": 9.0, "relay": 1, "point": "after_publish"}]}
    base.update(pipeline)
    return RollbackConfig.model_validate({"profile": profile, "pipeline": base, "drain_limit": 30.0})


def test_a_relay_dying_after_its_claim_leaves_zombies_under_faithful_and_none_under_hardened() -> None:
    faithful, hardened = run(rollback("faithful"), 1), run(rollback("hardened"), 1)
    f, h = faithful.metrics, hardened.metrics
    assert f["relay_crashes"] == h["relay_crashes"] == 2
    assert f["committed"] == h["committed"] and f["rolled_back"] > 0
    assert f["zombies"] > 0
    # the dead worker's batch is still claimed, plus the row delivered just before the second crash
    assert f["rows_at_end"]["claimed"] == f["zombies"] + 1
    assert f["read_model_divergence"] > 0 and f["drain_time"] is None
    assert h["zombies"] == 0 and h["read_model_divergence"] == 0
    assert h["rows_at_end"] == {"pending": 0, "claimed": 0, "dispatched": h["committed"], "failed": 0}
    # the lease: the taken-over rows arrive about claim_ttl_s (10 s) late
    assert h["delivery_latency"]["max"] == pytest.approx(10.0, abs=1.0)
    zombies = faithful.verdict("no_zombies")
    assert zombies.status == "known-defect" and zombies.spec == "§3.6"
    assert faithful.verdict("read_model_converges").status == "known-defect"
    assert all(v.status == "pass" for v in hardened.verdicts)
    assert faithful.ok and hardened.ok


def test_rolled_back_writes_never_reach_the_projection_through_the_outbox() -> None:
    for profile in ("faithful", "hardened"):
        m = run(rollback(profile, rollback_probability=0.3, crashes=[]), 2).metrics
        assert m["rolled_back"] > 0.2 * m["operations"]
        assert m["ghosts"] == 0 and m["zombies"] == 0
        assert m["delivered"] == m["committed"]
        assert m["read_model_divergence"] == 0


def test_a_crash_between_publish_and_mark_is_redelivered_under_hardened_and_skipped_as_a_duplicate() -> None:
    crash = [{"at": 5.0, "relay": 0, "point": "after_publish"}]
    faithful = run(rollback("faithful", crashes=crash), 3)
    hardened = run(rollback("hardened", crashes=crash), 3)
    f = faithful.metrics
    # the row it published stays claimed though delivered; the rest of its batch is never delivered
    assert f["duplicates"] == 0 and f["rows_at_end"]["claimed"] == f["zombies"] + 1
    assert faithful.verdict("no_zombies").status == ("known-defect" if f["zombies"] else "pass")
    assert hardened.metrics["duplicates"] == 1
    assert hardened.metrics["deliveries"] == hardened.metrics["delivered"] + 1
    assert hardened.verdict("projection_applies_once").status == "pass"
    assert "1 redeliveries recognised" in hardened.verdict("projection_applies_once").detail


def test_a_non_outbox_transport_publishes_before_the_outcome_so_rollbacks_become_ghosts() -> None:
    faithful = run(rollback("faithful", transport="memory", crashes=[]), 1)
    m = faithful.metrics
    assert m["ghosts"] == m["rolled_back"] > 0
    assert m["read_model_divergence"] > 0
    ghosts = faithful.verdict("no_ghosts")
    assert ghosts.status == "known-defect" and ghosts.spec == "§3.4"
    # hardened components cannot undo a deployment that publishes outside the transaction
    hardened = run(rollback("hardened", transport="memory", crashes=[]), 1)
    assert hardened.verdict("no_ghosts").status == "fail" and not hardened.ok


def test_downstream_failures_are_retried_and_rusts_five_attempts_dead_letter_some() -> None:
    retried = run(rollback("hardened", crashes=[], downstream_failure_probability=0.3, relay_max_attempts=50,
                           relay_backoff_max_s=1.0), 1).metrics
    assert retried["relays"]["retry_total"] > 0 and retried["zombies"] == 0
    dead = run(rollback("hardened", crashes=[], downstream_failure_probability=0.6), 1)
    assert dead.metrics["rows_at_end"]["failed"] > 0
    assert dead.metrics["zombies"] == dead.metrics["rows_at_end"]["failed"]
    assert dead.verdict("no_zombies").status == "fail"  # the DLQ is a loss to the consumers


def test_the_sqlite_store_gives_the_same_outcome_as_the_in_memory_store() -> None:
    memory = run(rollback("faithful", duration=8.0, crashes=[{"at": 3.0, "relay": 0}]), 5).metrics
    sqlite = run(rollback("faithful", duration=8.0, store="sqlite", crashes=[{"at": 3.0, "relay": 0}]), 5).metrics
    keys = ("committed", "rolled_back", "ghosts", "zombies", "duplicates", "read_model_divergence", "rows_at_end")
    assert {k: memory[k] for k in keys} == {k: sqlite[k] for k in keys}


def test_same_seed_same_result_and_a_crash_of_a_missing_relay_is_a_config_error() -> None:
    assert run(rollback(), 7).to_json() == run(rollback(), 7).to_json()
    assert run(rollback(), 7).to_json() != run(rollback(), 8).to_json()
    with pytest.raises(ValueError, match=r"crashes\[0\]: relay 5 does not exist"):
        rollback(crashes=[{"at": 1.0, "relay": 5}])


def test_a_bad_crash_on_the_command_line_is_one_message_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    from rustok_sim.cli import main

    assert main(["run", "rollback", "--set", "pipeline.relays=1", "--out", "/dev/null/x"]) == 2
    assert "relay 1 does not exist" in capsys.readouterr().err
