"""`RedisCacheBackend` (spec §7) on fakeredis, on the machine's shared Redis (own key prefix), and
on a private redis-server that the outage test kills and restarts."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from rustok_sim.adapters.redis_cache import (
    CIRCUIT_OPEN_MESSAGE,
    RedisCacheBackend,
    RedisCacheConfig,
    RedisFaults,
    client_for_url,
    redacted_url,
)
from rustok_sim.model.core.clock import ManualClock
from rustok_sim.model.core.trace import TraceRecorder
from rustok_sim.model.resilience.circuit_breaker import CircuitBreakerConfig, CircuitState
from rustok_sim.model.tenancy.cache import CacheBackend, CacheError, CacheStats

OPEN_TEXT = "Cache error: Redis unavailable (circuit breaker open)"


def fake(clock: ManualClock, faults: RedisFaults | None = None, **config: Any) -> RedisCacheBackend:
    return RedisCacheBackend(RedisCacheConfig(**{"prefix": "p", "ttl": 300.0, **config}), clock=clock,
                             faults=faults)


def unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- the operations ----------------------------------------------------------------------------------


def test_round_trip_with_prefixed_keys(clock: ManualClock) -> None:
    b = fake(clock)
    assert isinstance(b, CacheBackend)
    b.health()
    b.set("k", b"value")
    assert b.client.keys() == [b"p:k"]
    assert b.get("k") == b"value"
    b.invalidate("k")
    assert b.get("k") is None
    assert b.stats() == CacheStats()


def test_empty_prefix_uses_the_key_as_is(clock: ManualClock) -> None:
    b = fake(clock, prefix="")
    b.set("k", b"v")
    assert b.client.keys() == [b"k"]
    assert b.full_key("a:b") == "a:b"


def test_set_sends_ex_in_whole_seconds(clock: ManualClock) -> None:
    b = fake(clock, ttl=300.9)
    b.set("k", b"v")
    assert b.client.ttl("p:k") == 300
    b.set_with_ttl("short", b"v", 2.99)
    assert b.client.ttl("p:short") == 2


def test_sub_second_ttl_sends_ex_0_which_redis_rejects_as_a_breaker_failure(clock: ManualClock) -> None:
    b = fake(clock, ttl=0.5)
    with pytest.raises(CacheError, match="invalid expire time"):
        b.set("k", b"v")
    assert b.breaker.stats().failure_count == 1
    assert b.client.keys() == []


def test_nil_get_is_a_breaker_success(clock: ManualClock) -> None:
    b = fake(clock, ttl=0.5)
    with pytest.raises(CacheError):
        b.set("k", b"v")
    assert b.get("missing") is None
    stats = b.breaker.stats()
    assert (stats.failure_count, stats.total_successes, stats.total_failures) == (0, 1, 1)


def test_unexpected_ping_reply_is_a_breaker_failure(clock: ManualClock) -> None:
    class Pang:
        def execute_command(self, *args: Any) -> str:
            return "PANG"

    b = RedisCacheBackend(clock=clock, client=Pang())  # type: ignore[arg-type]
    with pytest.raises(CacheError, match="^Cache error: unexpected Redis PING response: PANG$"):
        b.health()
    assert b.breaker.stats().failure_count == 1


# -- TTL on the injected clock --------------------------------------------------------------------------


def test_ttl_follows_the_injected_clock_not_the_wall_clock(clock: ManualClock) -> None:
    b = fake(clock, ttl=300)
    wall = time.monotonic()
    b.set("k", b"v")
    clock.advance(300.0)
    assert b.get("k") == b"v"  # Redis' rule: expired only once now is past the deadline
    clock.advance(0.001)
    assert b.get("k") is None
    assert b.client.exists("p:k") == 1  # Redis itself has not expired it: no wall time passed
    assert time.monotonic() - wall < 300


def test_values_written_by_others_have_no_virtual_deadline(clock: ManualClock) -> None:
    b = fake(clock)
    b.client.set("p:raw", b"plain bytes")
    clock.advance(10_000)
    assert b.get("raw") == b"plain bytes"


# -- the circuit breaker ---------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", ["resilience", "standalone"])
def test_circuit_opens_and_every_operation_fails_with_the_spec_error(clock: ManualClock, variant: str) -> None:
    faults = RedisFaults()
    b = fake(clock, faults, breaker=CircuitBreakerConfig(failure_threshold=2, variant=variant))
    faults.refuse()
    for _ in range(2):
        with pytest.raises(CacheError, match="connection error"):
            b.get("k")
    assert b.breaker.state is CircuitState.OPEN
    faults.heal()  # Redis is back, but the breaker does not know yet
    for op in (b.health, lambda: b.get("k"), lambda: b.set("k", b"v"), lambda: b.invalidate("k")):
        with pytest.raises(CacheError) as info:
            op()
        assert str(info.value) == OPEN_TEXT
        assert info.value.message == CIRCUIT_OPEN_MESSAGE
    assert b.breaker.stats().total_rejected == 4


def test_circuit_half_opens_after_the_timeout_and_closes(clock: ManualClock, recorder: TraceRecorder) -> None:
    faults = RedisFaults()
    b = RedisCacheBackend(RedisCacheConfig(prefix="p"), clock=clock, faults=faults, observer=recorder)
    faults.refuse()
    for _ in range(5):
        with pytest.raises(CacheError):
            b.get("k")
    faults.heal()
    clock.advance(59.0)
    with pytest.raises(CacheError, match="circuit breaker open"):
        b.get("k")
    clock.advance(1.0)
    b.set("k", b"v")
    assert b.breaker.state is CircuitState.HALF_OPEN
    assert b.get("k") == b"v"
    assert b.breaker.state is CircuitState.CLOSED
    decisions = [(d.component, d.decision) for d in recorder.of_kind("decision")]
    assert decisions.count(("cache_backend", "failed")) == 5
    assert ("cache_backend", "rejected") in decisions


def test_circuit_breaker_state_exposed(clock: ManualClock) -> None:
    assert fake(clock).breaker.stats().failure_count == 0


def test_circuit_breaker_opens_on_redis_failure(clock: ManualClock) -> None:
    """Rust `test_circuit_breaker_opens_on_redis_failure` (cfg 2 / 2 / 100 ms / 1) against a
    port nothing listens on: two errors, failure_count 2, the third is the open error."""
    config = RedisCacheConfig(url=f"redis://127.0.0.1:{unused_port()}/0", socket_timeout=0.5,
                              socket_connect_timeout=0.5,
                              breaker=CircuitBreakerConfig(failure_threshold=2, success_threshold=2,
                                                           timeout=0.1, half_open_max_requests=1))
    b = RedisCacheBackend(config, clock=clock)
    for key in ("key1", "key2"):
        with pytest.raises(CacheError, match="onnect"):
            b.get(key)
    assert b.breaker.stats().failure_count == 2
    with pytest.raises(CacheError) as info:
        b.get("key3")
    assert str(info.value) == OPEN_TEXT


# -- faults ------------------------------------------------------------------------------------------------


def test_faults_are_shared_by_every_backend_on_the_server(clock: ManualClock) -> None:
    faults = RedisFaults()
    a, b = fake(clock, faults, prefix="a"), fake(clock, faults, prefix="b")
    a.set("k", b"1")
    assert b.client.get("a:k") is not None  # same server
    faults.refuse()
    for backend in (a, b):
        with pytest.raises(CacheError):
            backend.get("k")
    faults.heal()
    assert a.get("k") == b"1"


def test_hang_charges_the_socket_timeout_as_virtual_cost(clock: ManualClock) -> None:
    faults = RedisFaults()
    b = fake(clock, faults, socket_timeout=2.5)
    faults.hang()
    with pytest.raises(CacheError, match="Timeout reading from socket"):
        b.get("k")
    with pytest.raises(CacheError):
        b.set("k", b"v")
    assert b.take_charged() == 5.0
    assert b.take_charged() == 0.0
    assert clock() == 0.0  # the model never moves time itself


def test_injected_refusal_on_a_real_url_needs_no_server(clock: ManualClock) -> None:
    faults = RedisFaults()
    b = RedisCacheBackend(RedisCacheConfig(url="redis://127.0.0.1:1/0"), clock=clock, faults=faults)
    faults.refuse()
    with pytest.raises(CacheError, match="injected fault"):
        b.get("k")


def test_publish_swallows_errors(clock: ManualClock) -> None:
    faults = RedisFaults()
    b = fake(clock, faults)
    assert b.publish("tenant.cache.invalidate", "a|b") is True
    faults.refuse()
    assert b.publish("tenant.cache.invalidate", "a|b") is False
    assert b.breaker.stats().total_requests == 0  # outside the breaker


# -- bad configuration -------------------------------------------------------------------------------------


def test_bad_url_is_a_typed_error(clock: ManualClock) -> None:
    with pytest.raises(CacheError, match="invalid Redis URL 'http://x'"):
        RedisCacheBackend(RedisCacheConfig(url="http://x"), clock=clock)


def test_connect_to_an_unreachable_url_is_a_typed_error(clock: ManualClock) -> None:
    url = f"redis://:s3cret@127.0.0.1:{unused_port()}/0"
    with pytest.raises(CacheError) as info:
        RedisCacheBackend.connect(RedisCacheConfig(url=url, socket_connect_timeout=0.5), clock=clock)
    assert "s3cret" not in str(info.value) and ":***@" in str(info.value)


def test_redacted_url() -> None:
    assert redacted_url("redis://user:pw@h:1/0") == "redis://user:***@h:1/0"
    assert redacted_url("redis://h:1/0") == "redis://h:1/0"


def test_config_field_errors() -> None:
    with pytest.raises(ValueError, match="ttl"):
        RedisCacheConfig(ttl=-1)
    with pytest.raises(ValueError, match="socket_timeout"):
        RedisCacheConfig(socket_timeout=0)


def test_client_for_url_does_not_retry() -> None:
    client = client_for_url("redis://127.0.0.1:1/0", socket_timeout=0.3, socket_connect_timeout=0.2)
    kwargs = client.connection_pool.connection_kwargs
    assert (kwargs["socket_timeout"], kwargs["socket_connect_timeout"]) == (0.3, 0.2)
    assert client.get_retry().get_retries() == 0


# -- the machine's shared Redis (own prefix, own keys only) --------------------------------------------------


@pytest.fixture
def shared(redis_url: str, clock: ManualClock, request: pytest.FixtureRequest) -> Iterator[RedisCacheBackend]:
    # Unique per process and test on the shared server; no random ids (tests are deterministic).
    prefix = f"rustok-sim-test:{os.getpid()}:{request.node.name}"
    config = RedisCacheConfig(url=redis_url, prefix=prefix, ttl=300, socket_timeout=1.0,
                              socket_connect_timeout=1.0,
                              breaker=CircuitBreakerConfig(failure_threshold=3, success_threshold=2,
                                                           timeout=5.0, half_open_max_requests=2))
    backend = RedisCacheBackend.connect(config, clock=clock)
    try:
        yield backend
    finally:
        keys = list(backend.client.scan_iter(match=f"{prefix}:*"))
        if keys:
            backend.client.delete(*keys)
        backend.close()


@pytest.mark.redis
def test_redis_cache_with_circuit_breaker(shared: RedisCacheBackend) -> None:
    """Rust `test_redis_cache_with_circuit_breaker` (cfg 3 / 2 / 5 s / 2): set, then get the bytes."""
    shared.health()
    shared.set("key", b"value")
    assert shared.get("key") == b"value"
    assert 299 <= shared.client.ttl(shared.full_key("key")) <= 300
    shared.invalidate("key")
    assert shared.get("key") is None
    assert shared.breaker.state is CircuitState.CLOSED


@pytest.mark.redis
def test_shared_redis_ttl_follows_the_injected_clock(shared: RedisCacheBackend, clock: ManualClock) -> None:
    shared.set("k", b"v")
    clock.advance(300.001)
    assert shared.get("k") is None
    assert shared.client.exists(shared.full_key("k")) == 1


# -- a private redis-server, killed and restarted ----------------------------------------------------------------


@pytest.mark.redis_server
def test_real_outage_opens_fails_fast_then_half_opens_and_closes(redis_server, clock: ManualClock) -> None:
    config = RedisCacheConfig(url=redis_server.url, prefix="outage", ttl=300, socket_timeout=0.5,
                              socket_connect_timeout=0.5)  # breaker: Rust's default 5 / 2 / 60 s / 3
    b = RedisCacheBackend.connect(config, clock=clock)
    b.set("k", b"v")
    assert b.get("k") == b"v"

    redis_server.kill()
    errors = []
    for _ in range(config.breaker.failure_threshold):
        with pytest.raises(CacheError) as info:
            b.get("k")
        assert isinstance(info.value.__cause__, redis.ConnectionError)
        errors.append(str(info.value))
    assert b.breaker.state is CircuitState.OPEN
    assert all("circuit breaker" not in e for e in errors)

    for _ in range(20):  # fail fast: rejected by the breaker, Redis is not asked
        with pytest.raises(CacheError) as info:
            b.get("k")
        assert str(info.value) == OPEN_TEXT
    assert b.breaker.stats().total_rejected == 20

    redis_server.start()  # an empty server on the same port
    clock.advance(config.breaker.timeout)
    assert b.get("k") is None  # the probe: a nil GET is a success
    assert b.breaker.state is CircuitState.HALF_OPEN
    b.set("k", b"again")
    assert b.breaker.state is CircuitState.CLOSED
    assert b.get("k") == b"again"


def test_constructor_arguments_of_the_wrong_type_say_what_was_expected(clock: ManualClock) -> None:
    with pytest.raises(TypeError, match="needs a RedisCacheConfig .* got dict"):
        RedisCacheBackend({"ttl": 5}, clock=clock)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="RedisCacheBackend needs clock="):
        RedisCacheBackend(clock=None)  # type: ignore[arg-type]
    backend = RedisCacheBackend(clock=clock)
    with pytest.raises(TypeError, match="cache values are bytes, got str"):
        backend.set("k", "text")  # type: ignore[arg-type]
