"""Hypothesis properties of the backpressure controller."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from rustok_sim.model.core.clock import ManualClock
from rustok_sim.model.core.trace import TraceRecorder
from rustok_sim.model.resilience.backpressure import (
    BackpressureConfig,
    BackpressureController,
    BackpressureError,
    BackpressureState,
)


@st.composite
def configs(draw) -> BackpressureConfig:
    warning = draw(st.floats(0.0, 0.99, allow_nan=False))
    critical = draw(st.floats(warning, 1.0, allow_nan=False, exclude_min=True))
    return BackpressureConfig(max_queue_depth=draw(st.integers(0, 300)), warning_threshold=warning,
                              critical_threshold=critical)


ops = st.lists(st.sampled_from(["acquire", "release"]), max_size=400)


def expected_state(depth: int, config: BackpressureConfig) -> BackpressureState:
    if depth >= int(config.max_queue_depth * config.critical_threshold):
        return BackpressureState.CRITICAL
    if depth >= int(config.max_queue_depth * config.warning_threshold):
        return BackpressureState.WARNING
    return BackpressureState.NORMAL


@given(configs(), ops, st.sampled_from(["faithful", "hardened"]))
def test_state_is_a_pure_function_of_depth_and_accounting_balances(config, operations, variant):
    config = config.model_copy(update={"variant": variant})
    c = BackpressureController(config, observer=TraceRecorder(ManualClock()))
    accepted = released = 0
    for op in operations:
        if op == "acquire":
            try:
                c.try_acquire()
                accepted += 1
            except BackpressureError as e:
                assert e.current >= config.critical_depth()
        elif c.current_depth > 0:  # releases are matched to acquires here
            c.release()
            released += 1
        assert c.state is expected_state(c.current_depth, config)
        assert accepted - released == c.current_depth
        m = c.metrics()
        assert m.events_accepted == accepted
        assert m.critical_count == m.events_rejected
        assert c.current_depth <= max(config.critical_depth(), 0) or c.current_depth == 0


@given(configs(), ops)
def test_hardened_depth_never_goes_below_zero_and_balances_effective_releases(config, operations):
    c = BackpressureController(config.model_copy(update={"variant": "hardened"}))
    accepted = effective_releases = 0
    for op in operations:
        if op == "acquire":
            try:
                c.try_acquire()
                accepted += 1
            except BackpressureError:
                pass
        else:
            if c.current_depth > 0:
                effective_releases += 1
            c.release()
        assert c.current_depth == accepted - effective_releases >= 0


@given(configs(), ops)
def test_traced_transitions_replay_to_the_final_state(config, operations):
    recorder = TraceRecorder(ManualClock())
    c = BackpressureController(config, observer=recorder)
    state = c.state.value
    for op in operations:
        try:
            c.try_acquire() if op == "acquire" else c.release()
        except BackpressureError:
            pass
    for t in recorder.transitions():
        assert t.from_state == state
        state = t.to_state
    assert state == c.state.value


@given(configs(), ops, st.sampled_from(["faithful", "hardened"]), st.sampled_from(["none", "transitions", "all"]))
def test_the_table_keeps_the_stored_state_equal_to_the_state_of_the_depth_observed_or_not(
        config, operations, variant, observed):
    # Releases are not matched here, so faithful wraps the usize and hardened saturates: the
    # stored state, moved only by the table's triggers, must still be the state of the depth.
    recorder = TraceRecorder(ManualClock(), kinds={"transition"} if observed == "transitions" else None)
    c = BackpressureController(config.model_copy(update={"variant": variant}),
                               observer=None if observed == "none" else recorder)
    for op in operations:
        if op == "acquire":
            before = c.current_depth
            assert c.admit() == (before < config.critical_depth())
        else:
            c.release()
        assert c.state is expected_state(c.current_depth, config)
    if observed != "none":
        assert all(t.to_state != t.from_state for t in recorder.transitions())
