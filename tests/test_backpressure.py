"""The 11 Rust unit tests of spec §2.4, ported, plus the derived behaviours of §2.1–2.3."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from rustok_sim.model.core.clock import ManualClock
from rustok_sim.model.core.trace import TraceRecorder
from rustok_sim.model.resilience.backpressure import (
    USIZE_MAX,
    BackpressureConfig,
    BackpressureController,
    BackpressureError,
    BackpressureState,
    usize_from_f64,
)


def controller(max_depth: int = 100, warning: float = 0.7, critical: float = 0.9, **kw) -> BackpressureController:
    return BackpressureController(BackpressureConfig(max_queue_depth=max_depth, warning_threshold=warning,
                                                     critical_threshold=critical, **kw), **{})


def acquire(c: BackpressureController, n: int) -> None:
    for _ in range(n):
        c.try_acquire()


# ------------------------------------------------------------------ Rust unit tests (11)


def test_backpressure_config_defaults():
    cfg = BackpressureConfig()
    assert (cfg.max_queue_depth, cfg.warning_threshold, cfg.critical_threshold) == (10_000, 0.7, 0.9)
    assert (cfg.warning_depth(), cfg.critical_depth()) == (7000, 9000)


def test_backpressure_config_custom():
    cfg = BackpressureConfig(max_queue_depth=1000, warning_threshold=0.6, critical_threshold=0.8)
    assert cfg.max_queue_depth == 1000
    assert (cfg.warning_depth(), cfg.critical_depth()) == (600, 800)


def test_backpressure_config_invalid_thresholds():
    with pytest.raises(ValidationError, match="warning_threshold must be less than critical_threshold"):
        BackpressureConfig(max_queue_depth=1000, warning_threshold=0.9, critical_threshold=0.7)


def test_backpressure_normal_state():
    c = controller()
    assert c.state is BackpressureState.NORMAL
    assert c.current_depth == 0


def test_backpressure_acquire_and_release():
    c = controller()
    c.try_acquire()
    assert c.current_depth == 1
    c.release()
    assert c.current_depth == 0


def test_backpressure_warning_state():
    c = controller()
    acquire(c, 70)
    assert c.state is BackpressureState.WARNING
    assert c.current_depth == 70
    c.try_acquire()  # the 71st is still accepted


def test_backpressure_critical_state():
    c = controller()
    acquire(c, 90)
    assert c.state is BackpressureState.CRITICAL
    with pytest.raises(BackpressureError) as info:
        c.try_acquire()
    assert info.value.kind == "QueueFull"
    assert (info.value.current, info.value.max) == (90, 100)


def test_backpressure_metrics():
    c = controller()
    acquire(c, 50)
    m = c.metrics()
    assert (m.current_depth, m.max_depth, m.state, m.events_accepted, m.events_rejected) == (
        50, 100, BackpressureState.NORMAL, 50, 0)


def test_backpressure_rejection_metrics():
    c = controller()
    acquire(c, 90)
    for _ in range(10):
        with pytest.raises(BackpressureError):
            c.try_acquire()
    m = c.metrics()
    assert (m.events_accepted, m.events_rejected) == (90, 10)
    assert m.critical_count >= 10


def test_backpressure_state_transitions():
    c = controller()
    assert not c.state.is_degraded() and not c.state.is_critical()
    acquire(c, 70)
    assert c.state is BackpressureState.WARNING and c.state.is_degraded() and not c.state.is_critical()
    acquire(c, 20)
    assert c.state is BackpressureState.CRITICAL and c.state.is_degraded() and c.state.is_critical()
    for _ in range(5):
        c.release()
    assert c.state is BackpressureState.WARNING
    for _ in range(20):
        c.release()
    assert c.state is BackpressureState.NORMAL


def test_backpressure_concurrent_operations():
    # Rust: 10 threads x 50 acquires against max 1000. The model is single-threaded; interleaving
    # is the driver's job, and with no overshoot race staged the totals are exact.
    c = controller(max_depth=1000)
    for _thread in range(10):
        acquire(c, 50)
    assert c.metrics().events_accepted == 500
    assert c.current_depth == 500


# ------------------------------------------------------------------ derived behaviour


def test_display_texts():
    assert str(BackpressureError("QueueFull", 9000, 10000)) == \
        "Event queue is at critical capacity (9000/10000), rejecting events"
    assert str(BackpressureError("WarningThreshold", 7000, 10000)) == \
        "Event queue depth (7000/10000) exceeds warning threshold"


@pytest.mark.parametrize("max_depth, fraction, expected", [
    (100, 0.29, 28),  # 100 * 0.29 == 28.999999999999996 in f64
    (100, 0.7, 70),
    (10, 0.99, 9),
    (3, 0.5, 1),
    (0, 0.9, 0),
])
def test_thresholds_truncate_like_rust_f64_as_usize(max_depth, fraction, expected):
    cfg = BackpressureConfig(max_queue_depth=max_depth, warning_threshold=0.0, critical_threshold=fraction)
    assert cfg.critical_depth() == expected


def test_usize_cast_saturates():
    assert usize_from_f64(-3.5) == 0
    assert usize_from_f64(float("nan")) == 0
    assert usize_from_f64(1e30) == USIZE_MAX
    assert usize_from_f64(7.9999) == 7


def test_rejection_starts_at_critical_depth_not_at_max():
    c = controller()
    acquire(c, 90)
    with pytest.raises(BackpressureError):
        c.try_acquire()
    assert c.current_depth == 90 < c.max_depth


def test_max_zero_rejects_everything():
    c = controller(max_depth=0)
    with pytest.raises(BackpressureError):
        c.try_acquire()


def test_warning_count_counts_accepts_made_in_warning_and_critical_count_equals_rejected():
    c = controller()
    acquire(c, 90)  # acquires 71..90 happen at depths 70..89: 20 accepts in Warning
    for _ in range(3):
        with pytest.raises(BackpressureError):
            c.try_acquire()
    m = c.metrics()
    assert m.warning_count == 20
    assert m.critical_count == m.events_rejected == 3


def test_faithful_release_at_zero_wraps_and_rejects_every_later_acquire():
    clock = ManualClock()
    recorder = TraceRecorder(clock)
    c = BackpressureController(BackpressureConfig(max_queue_depth=100), observer=recorder)
    c.release()
    assert c.current_depth == USIZE_MAX
    assert c.state is BackpressureState.CRITICAL
    with pytest.raises(BackpressureError) as info:
        c.try_acquire()
    assert info.value.current == USIZE_MAX
    assert [a.anomaly for a in recorder.anomalies()] == ["release_at_zero"]
    assert [(t.from_state, t.to_state, t.trigger) for t in recorder.transitions()] == [
        ("normal", "critical", "release_wrap")]


def test_hardened_release_at_zero_saturates_and_still_records_the_anomaly():
    recorder = TraceRecorder(ManualClock())
    c = BackpressureController(BackpressureConfig(max_queue_depth=100, variant="hardened"), observer=recorder)
    c.release()
    assert c.current_depth == 0
    c.try_acquire()
    assert c.current_depth == 1
    assert [a.anomaly for a in recorder.anomalies()] == ["release_at_zero"]


def test_reset_metrics_keeps_depth():
    c = controller()
    acquire(c, 5)
    c.reset_metrics()
    m = c.metrics()
    assert (m.current_depth, m.events_accepted) == (5, 0)


def test_rejections_and_transitions_are_traced():
    recorder = TraceRecorder(ManualClock())
    c = BackpressureController(BackpressureConfig(max_queue_depth=10), observer=recorder)
    acquire(c, 9)
    with pytest.raises(BackpressureError):
        c.try_acquire()
    c.release()
    assert [(t.from_state, t.to_state) for t in recorder.transitions()] == [
        ("normal", "warning"), ("warning", "critical"), ("critical", "warning")]
    assert [d.decision for d in recorder.of_kind("decision")] == ["rejected"]


@pytest.mark.parametrize("kwargs, field", [
    ({"critical_threshold": 1.5}, "critical_threshold must be <= 1.0"),
    ({"max_queue_depth": -1}, "max_queue_depth"),
    ({"warning_threshold": float("nan")}, "warning_threshold"),
    ({"variant": "lenient"}, "variant"),
])
def test_bad_config_is_a_clear_error(kwargs, field):
    with pytest.raises(ValidationError) as info:
        BackpressureConfig(**kwargs)
    assert field in str(info.value)
