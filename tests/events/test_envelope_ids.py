"""IdGenerator: reproducible, monotonic ULID-based UUIDs from an injected clock and a seed."""

from __future__ import annotations

import random
import time
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rustok_sim.adapters.realtime import wall_clock
from rustok_sim.model.core.clock import ManualClock
from rustok_sim.model.events import IdGenerator, IdOverflowError
from rustok_sim.model.events.ids import MAX_RANDOM, MAX_TIMESTAMP_MS, ulid_string, ulid_timestamp_ms


def test_same_clock_and_seed_give_the_same_ids() -> None:
    def run() -> list[uuid.UUID]:
        clock = ManualClock()
        ids = IdGenerator(clock, seed=7)
        out = []
        for step in (0.0, 0.0, 0.25, 1.0, 0.0):
            clock.advance(step)
            out.append(ids.new_id())
        return out

    assert run() == run()


def test_different_seeds_give_different_ids() -> None:
    assert IdGenerator(ManualClock(), 1).new_id() != IdGenerator(ManualClock(), 2).new_id()


def test_timestamp_is_the_clock_in_milliseconds_plus_epoch() -> None:
    clock = ManualClock(12.3456)
    assert ulid_timestamp_ms(IdGenerator(clock, 0).new_id()) == 12345
    assert ulid_timestamp_ms(IdGenerator(clock, 0, epoch=1_700_000_000).new_id()) == 1_700_000_012_345


def test_decimal_fractions_are_not_truncated_below_the_millisecond() -> None:
    # 0.3 s * 1000 is 299.99999999999997 in floating point; it must still be millisecond 300.
    assert IdGenerator(ManualClock(0.3), 0).timestamp_ms() == 300
    assert IdGenerator(ManualClock(1.001), 0).timestamp_ms() == 1001


def test_id_is_the_ulid_bits_as_a_uuid() -> None:
    ids = IdGenerator(ManualClock(5.0), seed=3)
    expected_random = random.Random(3).getrandbits(80)
    assert ids.new_id() == uuid.UUID(int=(5000 << 80) | expected_random)


def test_ulid_text_matches_the_spec_example() -> None:
    # The ULID spec's example and its 128-bit value.
    value = uuid.UUID(int=1777027686520646174104517696511196507)
    assert ulid_string(value) == "01ARZ3NDEKTSV4RRFFQ69G5FAV"
    assert ulid_timestamp_ms(value) == 1469922850259


def test_same_millisecond_counts_up_by_one() -> None:
    ids = IdGenerator(ManualClock(1.0), seed=11)
    first, second, third = ids.new_id(), ids.new_id(), ids.new_id()
    assert second.int == first.int + 1 and third.int == second.int + 1
    assert ulid_timestamp_ms(third) == 1000


def test_new_millisecond_draws_fresh_random_bits() -> None:
    clock = ManualClock(1.0)
    ids = IdGenerator(clock, seed=11)
    first = ids.new_id()
    clock.advance(0.001)
    second = ids.new_id()
    assert ulid_timestamp_ms(second) == 1001 and second.int != first.int + 1


def test_clock_reading_earlier_keeps_ids_increasing() -> None:
    readings = iter([2.0, 1.0, 1.5])
    ids = IdGenerator(lambda: next(readings), seed=1)
    made = [ids.new_id() for _ in range(3)]
    assert made == sorted(made) and len(set(made)) == 3
    assert all(ulid_timestamp_ms(i) == 2000 for i in made)


def test_random_part_overflow_fails_instead_of_wrapping() -> None:
    class MaxRandom(random.Random):
        def getrandbits(self, k: int) -> int:
            return MAX_RANDOM

    ids = IdGenerator(ManualClock(1.0), seed=0)
    ids._rng = MaxRandom()  # white-box: the edge the ULID spec defines
    ids.new_id()
    with pytest.raises(IdOverflowError):
        ids.new_id()


@pytest.mark.parametrize("start", [-0.001, (MAX_TIMESTAMP_MS + 1) / 1000])
def test_time_outside_the_48_bit_range_is_refused(start: float) -> None:
    with pytest.raises(ValueError, match="outside the ULID range"):
        IdGenerator(lambda: start, 0).new_id()


def test_now_is_the_clock_as_utc() -> None:
    ids = IdGenerator(ManualClock(90.5), 0, epoch=1_700_000_000)
    now = ids.now()
    assert now.utcoffset() is not None and now.utcoffset().total_seconds() == 0
    assert now.timestamp() == 1_700_000_090.5


@given(st.lists(st.sampled_from([0.0, 0.0, 0.0001, 0.001, 0.5, 3.0]), min_size=1, max_size=50), st.integers())
def test_prop_ids_sort_in_creation_order(steps: list[float], seed: int) -> None:
    clock = ManualClock()
    ids = IdGenerator(clock, seed)
    made = []
    for step in steps:
        clock.advance(step)
        made.append(ids.new_id())
    assert made == sorted(made) and len(set(made)) == len(made)
    assert [str(i) for i in made] == sorted(str(i) for i in made)  # text order too (hex is fixed width)
    assert [ulid_string(i) for i in made] == sorted(ulid_string(i) for i in made)


def test_a_live_generator_on_the_wall_clock_stamps_real_time() -> None:
    ids = IdGenerator(wall_clock, seed=5)
    before = int(time.time() * 1000)
    made = ids.new_id()
    after = int(time.time() * 1000)
    assert before <= ulid_timestamp_ms(made) <= after + 1
    assert ids.new_id() > made


def test_there_is_no_default_generator() -> None:
    import rustok_sim.model.events as events
    import rustok_sim.model.events.ids as ids_module

    for module in (events, ids_module):
        assert not hasattr(module, "default_id_generator") and not hasattr(module, "generate_id")


@pytest.mark.parametrize("seed", [None, 1.5, True, [1]])
def test_the_seed_is_required_and_typed(seed: object) -> None:
    with pytest.raises(TypeError, match="seed= an int, str or bytes"):
        IdGenerator(ManualClock(), seed)  # type: ignore[arg-type]


@pytest.mark.parametrize("clock", [None, 0.0, "now"])
def test_the_clock_is_required(clock: object) -> None:
    with pytest.raises(TypeError, match="IdGenerator needs clock="):
        IdGenerator(clock, seed=1)  # type: ignore[arg-type]
