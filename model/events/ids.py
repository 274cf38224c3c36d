"""Event ids: ULIDs turned into UUIDs, like RusToK's `id::generate_id`, but reproducible.

A ULID is 128 bits: a 48-bit timestamp in milliseconds, then 80 random bits. RusToK converts it to
a `Uuid` with the same 128 bits (big-endian), so ids sort by creation time. Here the timestamp comes
from the injected clock and the random bits from `random.Random(seed)`, so a scenario replayed
with the same config and seed makes the same ids.

There is no default generator: ids reach the trace, so the driver always passes one in (a
simulation: `IdGenerator(lambda: env.now, seed)`; a live run: `IdGenerator(wall_clock, seed)`
with `rustok_sim.adapters.realtime.wall_clock` and a seed it logs).

Within one millisecond the generator is *monotonic* as the ULID spec asks: instead of fresh random
bits, the previous random part is incremented by one, so ids made in the same millisecond still
sort in creation order. (Virtual time often stands still while many events are made.)
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

from rustok_sim.model.core.clock import Clock, require_clock

TIMESTAMP_BITS, RANDOM_BITS = 48, 80
MAX_TIMESTAMP_MS = (1 << TIMESTAMP_BITS) - 1
MAX_RANDOM = (1 << RANDOM_BITS) - 1
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_UUID, _SAFE_UNKNOWN = uuid.UUID, uuid.SafeUUID.unknown
_new_uuid, _set = object.__new__, object.__setattr__


class IdOverflowError(RuntimeError):
    """More ids were asked for in one millisecond than the 80-bit random part can count.

    The ULID spec says generation must fail rather than wrap (which would break the ordering).
    """


class IdGenerator:
    """Makes ULID-based UUIDs from an injected clock and a seed.

    `clock` gives seconds (any `Clock`; a virtual clock starting at 0 is fine). The ULID timestamp
    is ``epoch + clock()`` in whole milliseconds since the Unix epoch, so `epoch` (Unix seconds)
    lets a simulation starting at t=0 carry realistic dates; default 0.
    `seed` (an int, str or bytes; required) seeds a private `random.Random`, so (clock readings,
    seed) fix every id.

    Ids are strictly increasing: within the same millisecond the random part counts up by one;
    should the clock ever read an earlier millisecond than the last id's, the last id's millisecond
    is kept (a clock must not go backwards, but ids must never reorder if one does).
    Like every model object it is single-threaded: give each driver thread its own generator.
    """

    __slots__ = ("clock", "epoch", "_rng", "_last_ms", "_last_random")

    def __init__(self, clock: Clock, seed: int | str | bytes, *, epoch: float = 0.0) -> None:
        self.clock = require_clock(clock, "IdGenerator")
        if isinstance(seed, bool) or not isinstance(seed, (int, str, bytes)):
            raise TypeError(f"IdGenerator needs seed= an int, str or bytes (ids must be reproducible), "
                            f"got {type(seed).__name__}")
        if isinstance(epoch, bool) or not isinstance(epoch, (int, float)):
            raise TypeError(f"IdGenerator epoch= must be Unix seconds as a number, got {type(epoch).__name__}")
        self.epoch = float(epoch)
        self._rng = random.Random(seed)
        self._last_ms = -1
        self._last_random = 0

    def timestamp_ms(self) -> int:
        """The clock's current time as whole Unix milliseconds (the ULID timestamp)."""
        # Round to microseconds first so that e.g. 0.3 s (0.29999...) is 300 ms, not 299.
        micros = round((self.epoch + self.clock()) * 1_000_000)
        ms = micros // 1000
        if not 0 <= ms <= MAX_TIMESTAMP_MS:
            raise ValueError(f"clock time {self.epoch + self.clock()!r} s is outside the ULID range "
                             f"(0 .. {MAX_TIMESTAMP_MS} ms since the Unix epoch)")
        return ms

    def now(self) -> datetime:
        """The clock's current time as a UTC datetime (what an envelope's `timestamp` gets)."""
        micros = round((self.epoch + self.clock()) * 1_000_000)
        return _EPOCH + timedelta(microseconds=micros)

    def new_ulid_int(self) -> int:
        """The next ULID as a 128-bit integer."""
        return self._ulid_at(self.timestamp_ms())

    def _ulid_at(self, ms: int) -> int:
        # Monotonic within a millisecond (and never backwards): the one rule of both paths.
        if ms <= self._last_ms:
            ms = self._last_ms
            if self._last_random == MAX_RANDOM:
                raise IdOverflowError(f"ULID random part exhausted within millisecond {ms}")
            rand = self._last_random + 1
        else:
            rand = self._rng.getrandbits(RANDOM_BITS)
        self._last_ms, self._last_random = ms, rand
        return (ms << RANDOM_BITS) | rand

    def new_id(self) -> uuid.UUID:
        """The next id: a ULID with the same 128 bits as a UUID (Rust `Uuid::from(Ulid)`)."""
        # uuid.UUID(int=...) re-checks a range the ULID already satisfies; building the object
        # directly costs a third as much, and an id is made for every simulated event.
        value = _new_uuid(_UUID)
        _set(value, "int", self.new_ulid_int())
        _set(value, "is_safe", _SAFE_UNKNOWN)
        return value

    __call__ = new_id

    def stamp(self) -> tuple[uuid.UUID, datetime]:
        """`new_id()` and `now()` from one clock reading: what `EventEnvelope.new` needs (the
        same values as calling the two in turn on a clock that did not move in between)."""
        micros = round((self.epoch + self.clock()) * 1_000_000)
        ms = micros // 1000
        if not 0 <= ms <= MAX_TIMESTAMP_MS:
            raise ValueError(f"clock time {micros / 1_000_000!r} s is outside the ULID range "
                             f"(0 .. {MAX_TIMESTAMP_MS} ms since the Unix epoch)")
        value = _new_uuid(_UUID)
        _set(value, "int", self._ulid_at(ms))
        _set(value, "is_safe", _SAFE_UNKNOWN)
        return value, _EPOCH + timedelta(microseconds=micros)

    def __repr__(self) -> str:
        return f"IdGenerator(clock={self.clock!r}, epoch={self.epoch!r}, last_ms={self._last_ms})"


def ulid_timestamp_ms(value: uuid.UUID) -> int:
    """The 48-bit millisecond timestamp inside a ULID-based UUID."""
    return value.int >> RANDOM_BITS


def ulid_string(value: uuid.UUID) -> str:
    """The canonical 26-character Crockford base32 text of a ULID-based UUID (for logs)."""
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    n = value.int
    return "".join(alphabet[(n >> shift) & 31] for shift in range(125, -1, -5))
