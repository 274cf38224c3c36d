"""The outbox invariants as plain functions over small handmade traces."""

from __future__ import annotations

from rustok_sim.conformance.invariants import KnownDefect, check
from rustok_sim.conformance.invariants.outbox import NoGhosts, NoZombies, ProjectionAppliesOnce
from rustok_sim.model.core.trace import EventRecord

ZOMBIE = KnownDefect("§3.6", "never reclaimed")


def tx(seq: int, event_id: str, action: str = "committed") -> EventRecord:
    return EventRecord(seq, float(seq), "transaction", "inventory", action, event_id, "inventory.updated")


def projected(seq: int, event_id: str, action: str = "applied") -> EventRecord:
    return EventRecord(seq, float(seq), "projection", "levels", action, event_id, "inventory.updated")


def test_a_delivered_event_that_never_committed_is_a_ghost() -> None:
    records = [tx(1, "a"), projected(2, "a"), tx(3, "b", "rolled_back"), projected(4, "b")]
    [verdict] = check(records, [NoGhosts()])
    assert verdict.status == "fail" and "1 of them never committed (first: b)" in verdict.detail
    assert check(records[:2], [NoGhosts()])[0].status == "pass"


def test_a_delivery_before_the_commit_record_is_not_a_ghost_once_it_commits() -> None:
    # a non-outbox transport publishes inside the transaction: the commit comes after
    assert check([projected(1, "a"), tx(2, "a")], [NoGhosts(), NoZombies()])[0].status == "pass"
    assert check([projected(1, "a"), tx(2, "a")], [NoZombies()])[0].status == "pass"


def test_a_committed_event_never_delivered_is_a_zombie_and_a_known_defect_when_explained() -> None:
    records = [tx(1, "a"), tx(2, "b"), projected(3, "a")]
    [verdict] = check(records, [NoZombies()])
    assert verdict.status == "fail" and "2 events committed, 1 never delivered (first: b)" in verdict.detail
    [known] = check(records, [NoZombies(ZOMBIE)])
    assert known.status == "known-defect" and known.spec == "§3.6"
    assert check([*records, projected(4, "b", "duplicate")], [NoZombies()])[0].status == "pass"


def test_a_rolled_back_event_is_owed_to_nobody() -> None:
    assert check([tx(1, "a", "rolled_back")], [NoZombies()])[0].status == "pass"


def test_applying_an_event_twice_fails_and_recognised_duplicates_pass() -> None:
    once = [projected(1, "a"), projected(2, "a", "duplicate")]
    [verdict] = check(once, [ProjectionAppliesOnce()])
    assert verdict.status == "pass" and "1 redeliveries recognised" in verdict.detail
    [twice] = check([projected(1, "a"), projected(2, "a")], [ProjectionAppliesOnce()])
    assert twice.status == "fail" and "1 of them more than once" in twice.detail
