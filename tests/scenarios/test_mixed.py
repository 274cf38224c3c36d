"""The mixed story: the flood, the Redis outage and the rollbacks in one world, judged together;
each part's numbers are those of its own story (the parts share a clock and a trace, no state)."""

from __future__ import annotations

from typing import Any

from rustok_sim.scenarios.stories import flood, redis_outage, rollback
from rustok_sim.scenarios.stories.mixed import MixedConfig, run


def mixed(profile: str = "faithful") -> MixedConfig:
    sections: dict[str, Any] = {
        "flood": {"duration": 12.0,
                  "producers": {"arrivals": {"kind": "poisson", "rate": 300.0,
                                             "bursts": [{"start": 3.0, "duration": 3.0, "factor": 5.0}]}},
                  "handlers": {"c": 2}, "backpressure": {"max_queue_depth": 400}},
        "traffic": {"duration": 12.0, "arrivals": {"kind": "poisson", "rate": 100.0},
                    "outage": {"start": 2.0, "duration": 4.0}, "breaker": {"timeout": 3.0}},
        "pipeline": {"duration": 12.0, "arrivals": {"kind": "poisson", "rate": 50.0},
                     "crashes": [{"at": 3.0, "relay": 0}], "claim_ttl_s": 3.0},
        "drain_limit": 20.0,
    }
    return MixedConfig.model_validate({"profile": profile, **sections})


def test_every_parts_invariants_judge_the_one_trace_with_each_parts_known_defects() -> None:
    faithful, hardened = run(mixed("faithful"), 1), run(mixed("hardened"), 1)
    names = [v.invariant for v in faithful.verdicts]
    for expected in ("depth_bound", "nothing_lost", "breaker_legal", "no_5xx_from_cache_outage", "no_ghosts",
                     "no_zombies", "read_model_converges", "slots_returned"):
        assert expected in names
    defects = {v.invariant for v in faithful.verdicts if v.status == "known-defect"}
    assert {"no_5xx_from_cache_outage", "no_zombies", "read_model_converges"} <= defects
    assert all(v.status == "pass" for v in hardened.verdicts), [v for v in hardened.verdicts if v.status != "pass"]
    assert faithful.ok and hardened.ok
    kinds = {r.fault for r in faithful.trace if r.kind == "fault"}  # type: ignore[attr-defined]
    assert {"redis_outage", "relay_crash", "rollbacks"} <= kinds


def test_each_part_measures_what_its_own_story_measures() -> None:
    config = mixed("faithful")
    together = run(config, 3).metrics
    alone_flood = flood.run(flood.FloodConfig(flood=config.flood, drain_limit=20.0), 3).metrics
    alone_traffic = redis_outage.run(redis_outage.RedisOutageConfig(traffic=config.traffic), 3).metrics
    alone_outbox = rollback.run(rollback.RollbackConfig(pipeline=config.pipeline, drain_limit=20.0), 3).metrics
    for key in ("offered", "accepted", "rejected", "handled"):
        assert together["flood"][key] == alone_flood[key], key
    assert together["tenancy"]["http_status_counts"] == alone_traffic["http_status_counts"]
    for key in ("committed", "rolled_back", "zombies", "duplicates", "read_model_divergence"):
        assert together["outbox"][key] == alone_outbox[key], key


def test_envelope_ids_of_the_parts_never_collide() -> None:
    result = run(mixed("faithful").model_copy(update={"trace_level": "full"}), 2)
    published = {r.event_id for r in result.trace  # type: ignore[attr-defined]
                 if r.kind == "event" and r.component == "event_bus" and r.action == "published"}  # type: ignore[attr-defined]
    written = {r.event_id for r in result.trace  # type: ignore[attr-defined]
               if r.kind == "event" and r.component == "outbox" and r.action == "written"}  # type: ignore[attr-defined]
    assert published and written and not published & written
