"""The breaker and tenant-resolution invariants as plain functions over small handmade traces."""

from __future__ import annotations

from rustok_sim.conformance.invariants import KnownDefect, check
from rustok_sim.conformance.invariants.breaker import BreakerLegal, NoStuckHalfOpen
from rustok_sim.conformance.invariants.tenancy import Coalescing, No5xxFromCacheOutage, NoReloadStorm
from rustok_sim.model.core.trace import Decision, Fault, TraceRecord, Transition

DEFECT = KnownDefect("§1.3", "stuck")


def move(seq: int, t: float, source: str, target: str, trigger: str, name: str = "redis.positive") -> Transition:
    return Transition(seq, t, "circuit_breaker", name, source, target, trigger)


def load(seq: int, t: float, key: str, source: str, target: str, trigger: str) -> Transition:
    return Transition(seq, t, "tenant_resolver", key, source, target, trigger)


def responded(seq: int, status: int, cause: str | None) -> Decision:
    return Decision(seq, float(seq), "http", "tenant", "responded", str(status), {"cause": cause})


def outage(seq: int, t: float, phase: str) -> Fault:
    return Fault(seq, t, "redis_outage", phase, "redis")  # type: ignore[arg-type]


def test_a_legal_episode_of_each_variant_passes() -> None:
    episode = [move(1, 1.0, "closed", "open", "failure_threshold"), move(2, 11.0, "open", "half_open", "timeout_elapsed"),
               move(3, 12.0, "half_open", "closed", "success_threshold")]
    for variant in ("resilience", "standalone", "hardened"):
        [verdict] = check(episode, [BreakerLegal(variant)])
        assert verdict.status == "pass", (variant, verdict.detail)


def test_a_jump_the_table_does_not_have_fails_and_names_it() -> None:
    [verdict] = check([move(1, 1.0, "closed", "half_open", "timeout_elapsed")], [BreakerLegal("resilience")])
    assert verdict.status == "fail" and "closed -> half_open on timeout" in verdict.detail


def test_a_move_from_a_state_the_breaker_was_not_in_fails() -> None:
    records = [move(1, 1.0, "closed", "open", "failure_threshold"),
               move(2, 2.0, "closed", "open", "failure_threshold")]
    [verdict] = check(records, [BreakerLegal("resilience")])
    assert verdict.status == "fail" and "while in open" in verdict.detail


def test_breakers_are_followed_one_by_one() -> None:
    records = [move(1, 1.0, "closed", "open", "failure_threshold", "a"),
               move(2, 1.5, "closed", "open", "failure_threshold", "b")]
    assert check(records, [BreakerLegal("resilience")])[0].status == "pass"


def test_a_breaker_half_open_for_longer_than_the_patience_is_stuck() -> None:
    records = [move(1, 1.0, "closed", "open", "failure_threshold"), move(2, 11.0, "open", "half_open", "timeout_elapsed")]
    [stuck] = check(records, [NoStuckHalfOpen(10.0, end=100.0)])
    assert stuck.status == "fail" and "redis.positive since t=11" in stuck.detail
    [recent] = check(records, [NoStuckHalfOpen(10.0, end=30.0)])
    assert recent.status == "pass"
    [known] = check(records, [NoStuckHalfOpen(10.0, end=100.0, defect=DEFECT)])
    assert known.status == "known-defect" and known.spec == "§1.3"
    closed = [*records, move(3, 12.0, "half_open", "closed", "success_threshold")]
    assert check(closed, [NoStuckHalfOpen(10.0, end=100.0)])[0].status == "pass"


def test_5xx_caused_by_the_cache_fail_and_other_5xx_do_not_count() -> None:
    records = [responded(1, 200, None), responded(2, 500, "cache"), responded(3, 500, "DatabaseError"),
               responded(4, 404, None)]
    [verdict] = check(records, [No5xxFromCacheOutage()])
    assert verdict.status == "fail"
    assert verdict.detail.startswith("1 of 4 responses") and "1 other 5xx" in verdict.detail
    assert check(records[:1] + records[2:], [No5xxFromCacheOutage()])[0].status == "pass"


def test_a_second_load_while_the_key_is_loading_breaks_coalescing() -> None:
    one = [load(1, 1.0, "k", "idle", "loading", "miss"), load(2, 2.0, "k", "loading", "idle", "loaded")]
    assert check(one, [Coalescing()])[0].status == "pass"
    doubled = [load(1, 1.0, "k", "idle", "loading", "miss"), load(2, 1.5, "k", "idle", "loading", "miss")]
    [verdict] = check(doubled, [Coalescing()])
    assert verdict.status == "fail" and "1 started while the same key was loading" in verdict.detail
    other_key = [load(1, 1.0, "k", "idle", "loading", "miss"), load(2, 1.5, "j", "idle", "loading", "miss")]
    assert check(other_key, [Coalescing()])[0].status == "pass"


def not_found(seq: int, t: float, key: str = "missing") -> Transition:
    return load(seq, t, key, "loading", "idle", "not_found")


def test_reloading_a_cached_not_found_is_a_storm() -> None:
    records = [not_found(1, 1.0), not_found(2, 1.1), not_found(3, 1.2)]
    [verdict] = check(records, [NoReloadStorm(negative_ttl=60.0)])
    assert verdict.status == "fail" and "2 of them reloaded" in verdict.detail
    [known] = check(records, [NoReloadStorm(KnownDefect("§6.2", "waiters reload"), 60.0)])
    assert known.status == "known-defect"


def test_a_reload_after_the_negative_ttl_is_legitimate() -> None:
    assert check([not_found(1, 1.0), not_found(2, 62.0)], [NoReloadStorm(negative_ttl=60.0)])[0].status == "pass"


def test_reloads_while_the_cache_is_down_do_not_count() -> None:
    during_outage = [outage(1, 0.5, "start"), not_found(2, 1.0), not_found(3, 1.1), outage(4, 5.0, "end")]
    assert check(during_outage, [NoReloadStorm()])[0].status == "pass"
    open_breaker = [move(1, 0.5, "closed", "open", "failure_threshold", "redis.negative"),
                    not_found(2, 1.0), not_found(3, 1.1)]
    assert check(open_breaker, [NoReloadStorm()])[0].status == "pass"
    # once the breaker closes again, a not-found is cached and a reload counts
    closed_again = [*open_breaker, move(4, 20.0, "open", "half_open", "timeout_elapsed", "redis.negative"),
                    move(5, 20.1, "half_open", "closed", "success_threshold", "redis.negative"),
                    not_found(6, 21.0), not_found(7, 21.5)]
    assert check(closed_again, [NoReloadStorm()])[0].status == "fail"


def untrusted(seq: int, t: float, decision: str, key: str = "slug:ghost") -> Decision:
    return Decision(seq, t, "tenant_resolver", "tenant", decision, None, {"key": key})


def test_a_not_found_hardened_did_not_cache_or_no_longer_trusts_is_not_a_storm() -> None:
    slot = "tenant[slug:ghost]"
    # while the key is unconfirmed its not-founds are not written (write_skipped before each)
    skipped = [untrusted(1, 1.0, "write_skipped"), not_found(2, 1.0, slot),
               untrusted(3, 1.1, "write_skipped"), not_found(4, 1.1, slot)]
    assert check(skipped, [NoReloadStorm()])[0].status == "pass"
    # a cached not-found stops counting once a write or invalidation of its key raised
    distrusted = [not_found(1, 1.0, slot), untrusted(2, 2.0, "unconfirmed"), not_found(3, 8.0, slot)]
    assert check(distrusted, [NoReloadStorm()])[0].status == "pass"
    # another key's decisions change nothing, and a cached not-found reloaded is still a storm
    other = [not_found(1, 1.0, slot), untrusted(2, 1.5, "unconfirmed", "slug:other"),
             untrusted(3, 1.5, "write_skipped", "slug:other"), not_found(4, 2.0, slot)]
    assert check(other, [NoReloadStorm()])[0].status == "fail"


def test_a_resolver_without_negative_cache_is_not_judged() -> None:
    records: list[TraceRecord] = [not_found(1, 1.0), not_found(2, 1.1)]
    [verdict] = check(records, [NoReloadStorm(negative_cache=False)])
    assert verdict.status == "pass" and "not applicable" in verdict.detail
