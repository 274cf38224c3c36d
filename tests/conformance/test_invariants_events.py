"""The event-pipeline invariants as plain functions over small handmade traces."""

from __future__ import annotations

from rustok_sim.conformance.invariants import KnownDefect, check
from rustok_sim.conformance.invariants.events import DepthBound, NothingLost, SlotConservation, judge_drained
from rustok_sim.model.core.trace import Anomaly, EventRecord, TraceRecord

USIZE_MAX = 2**64 - 1
DEFECT = KnownDefect("§2.2", "wraps")


def published(seq: int, event_id: str) -> EventRecord:
    return EventRecord(seq, float(seq), "event_bus", "event_bus", "published", event_id, "node.created")


def handled(seq: int, event_id: str, action: str = "handled") -> EventRecord:
    return EventRecord(seq, float(seq), "event_dispatcher", "dispatcher", action, event_id, "node.created")


def release_at_zero(seq: int, depth_after: int) -> Anomaly:
    return Anomaly(seq, float(seq), "backpressure", "bus", "release_at_zero", "release at 0",
                   {"depth_after": depth_after})


def test_depth_bound_passes_without_wraps_and_fails_on_one() -> None:
    assert check([], [DepthBound(10)])[0].status == "pass"
    [verdict] = check([release_at_zero(1, USIZE_MAX)], [DepthBound(10)])
    assert verdict.status == "fail" and "1 release(s)" in verdict.detail


def test_depth_bound_is_a_known_defect_only_when_built_with_one() -> None:
    [verdict] = check([release_at_zero(1, USIZE_MAX)], [DepthBound(10, DEFECT)])
    assert verdict.status == "known-defect" and verdict.spec == "§2.2"


def test_a_saturated_release_keeps_the_depth_in_bounds() -> None:
    [verdict] = check([release_at_zero(1, 0)], [DepthBound(10)])
    assert verdict.status == "pass" and "saturated" in verdict.detail


def test_slot_conservation_counts_every_slot_anomaly() -> None:
    records: list[TraceRecord] = [
        Anomaly(1, 1.0, "event_dispatcher", "d", "slot_over_release", "twice", None),
        Anomaly(2, 2.0, "event_dispatcher", "d", "slot_leaked", "never", None),
        Anomaly(3, 3.0, "event_bus", "b", "multiple_slot_releasers", "two", {"releasers": ["a", "b"]}),
    ]
    [verdict] = check(records, [SlotConservation()])
    assert verdict.status == "fail"
    assert "1 slot_leaked" in verdict.detail and "1 slot_over_release" in verdict.detail
    assert "2 dispatchers" in verdict.detail
    assert check([], [SlotConservation()])[0].status == "pass"


def test_nothing_lost_follows_each_event_to_its_handler() -> None:
    ok = [published(1, "a"), published(2, "b"), handled(3, "a"), handled(4, "b", "failed")]
    [verdict] = check(ok, [NothingLost(drops_allowed=False)])
    assert verdict.status == "pass" and "1 with an error" in verdict.detail
    [lost] = check(ok[:3], [NothingLost(drops_allowed=False)])
    assert lost.status == "fail" and "1 never did" in lost.detail


def test_outbox_rows_are_owed_until_handled_and_dead_letters_are_losses() -> None:
    written = EventRecord(1, 1.0, "outbox", "outbox", "written", "x", "node.created")
    dead = EventRecord(2, 2.0, "outbox_relay", "relay-0", "failed", "x", "node.created")
    [verdict] = check([written, dead], [NothingLost(drops_allowed=False)])
    assert verdict.status == "fail" and "1 of them dead-lettered" in verdict.detail
    rolled_back = EventRecord(2, 2.0, "transaction", "svc", "rolled_back", "x", "node.created")
    assert check([written, rolled_back], [NothingLost(drops_allowed=False)])[0].status == "pass"


def test_producer_drops_are_losses_unless_the_producer_is_direct() -> None:
    dropped = EventRecord(1, 1.0, "producer", "direct", "dropped", "", "node.created")
    assert check([dropped], [NothingLost(drops_allowed=True)])[0].status == "pass"
    assert check([dropped], [NothingLost(drops_allowed=False)])[0].status == "fail"


def test_drained_means_depth_zero() -> None:
    assert judge_drained(0).status == "pass"
    assert judge_drained(USIZE_MAX).status == "fail"
    assert judge_drained(USIZE_MAX, DEFECT).status == "known-defect"
