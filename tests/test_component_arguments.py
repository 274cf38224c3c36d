"""What every component checks when it is built: its observer, its name, its config's type (with a
hint for a second copy of the package), and configs that take numbers as they are, not coerced."""

from __future__ import annotations

import random
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from rustok_sim.adapters.redis_cache import RedisCacheBackend, RedisCacheConfig, RedisFaults
from rustok_sim.adapters.sql.consumer import ReadModelConsumer
from rustok_sim.adapters.sql.db import make_engine
from rustok_sim.adapters.sql.outbox import OutboxTransport as SqlOutboxTransport
from rustok_sim.adapters.sql.relay import OutboxRelay as SqlOutboxRelay
from rustok_sim.model.core.checks import given, second_copy_hint
from rustok_sim.model.core.clock import ManualClock
from rustok_sim.model.core.trace import TraceRecorder
from rustok_sim.model.events.bus import EventBus, EventBusConfig, MemoryTransport
from rustok_sim.model.events.dispatcher import DispatcherConfig, EventDispatcher
from rustok_sim.model.events.ids import IdGenerator
from rustok_sim.model.events.outbox import InMemoryOutboxStore, OutboxTransport
from rustok_sim.model.events.relay import OutboxRelay, RelayConfig
from rustok_sim.model.events.transactional import TransactionalEventBus
from rustok_sim.model.resilience.backpressure import BackpressureConfig, BackpressureController
from rustok_sim.model.resilience.circuit_breaker import CircuitBreaker, CircuitBreakerConfig
from rustok_sim.model.tenancy.cache import ExpiringLruCache, InMemoryCacheBackend
from rustok_sim.model.tenancy.http import TenantSettings, resolve_identifier_v1
from rustok_sim.model.tenancy.resolver import MiddlewareTenantResolver, MokaTenantResolver, TenantResolverConfig

ROOT = Path(__file__).resolve().parent.parent
Build = Callable[..., Any]  # build(observer=..., name=...) -> the component


def _clock() -> ManualClock:
    return ManualClock()


def _memory_transport() -> MemoryTransport:
    return MemoryTransport(EventBus())


COMPONENTS: dict[str, Build] = {
    "CircuitBreaker": lambda **kw: CircuitBreaker(clock=_clock(), **kw),
    "BackpressureController": lambda **kw: BackpressureController(**kw),
    "EventBus": lambda **kw: EventBus(**kw),
    "EventDispatcher": lambda **kw: EventDispatcher(EventBus(), clock=_clock(), **kw),
    "OutboxTransport": lambda **kw: OutboxTransport(InMemoryOutboxStore(), clock=_clock(), **kw),
    "OutboxRelay": lambda **kw: OutboxRelay(InMemoryOutboxStore(), _memory_transport(), clock=_clock(),
                                            ids=random.Random(1), **kw),
    "TransactionalEventBus": lambda **kw: TransactionalEventBus(_memory_transport(),
                                                                ids=IdGenerator(_clock(), seed=1), **kw),
    "ExpiringLruCache": lambda **kw: ExpiringLruCache(capacity=2, ttl=1.0, tti=None, clock=_clock(), **kw),
    "InMemoryCacheBackend": lambda **kw: InMemoryCacheBackend(1.0, 2, clock=_clock(), **kw),
    "MiddlewareTenantResolver": lambda **kw: MiddlewareTenantResolver(clock=_clock(), **kw),
    "MokaTenantResolver": lambda **kw: MokaTenantResolver(clock=_clock(), **kw),
    "RedisCacheBackend": lambda **kw: RedisCacheBackend(clock=_clock(), faults=RedisFaults(), **kw),
    "SqlOutboxTransport": lambda **kw: SqlOutboxTransport(make_engine(), clock=_clock(), **kw),
    "SqlOutboxRelay": lambda **kw: SqlOutboxRelay(make_engine(), _memory_transport(), clock=_clock(),
                                                  ids=random.Random(1), **kw),
    "ReadModelConsumer": lambda **kw: ReadModelConsumer(make_engine(), clock=_clock(), **kw),
}
OWNER = {"InMemoryCacheBackend": "ExpiringLruCache", "SqlOutboxTransport": "OutboxTransport",
         "SqlOutboxRelay": "OutboxRelay"}


@pytest.mark.parametrize("component", COMPONENTS)
def test_a_wrong_observer_is_refused_when_the_component_is_built(component: str) -> None:
    owner = OWNER.get(component, component)
    with pytest.raises(TypeError, match=rf"^{owner} .*needs observer= a TraceRecorder \(or None\), got str "
                                        r"without wants"):
        COMPONENTS[component](observer="x")


@pytest.mark.parametrize("component", COMPONENTS)
def test_a_real_observer_and_a_name_are_accepted(component: str) -> None:
    built = COMPONENTS[component](observer=TraceRecorder(_clock()), name="one")
    assert getattr(built, "name", "one") == "one"


RELAYS = {"OutboxRelay", "SqlOutboxRelay"}  # for a relay, name=None means "named by its worker id"


@pytest.mark.parametrize("name", [5, None, b"cb"], ids=["int", "None", "bytes"])
@pytest.mark.parametrize("component", COMPONENTS)
def test_a_name_that_is_not_a_str_is_refused(component: str, name: object) -> None:
    if component in RELAYS and name is None:
        relay = COMPONENTS[component](name=None)
        assert relay.name == relay.worker_id and relay.worker_id.startswith("relay-")
        return
    owner = OWNER.get(component, component)
    with pytest.raises(TypeError, match=rf"^{owner} needs name= a non-empty str .* got {type(name).__name__}"):
        COMPONENTS[component](name=name)


@pytest.mark.parametrize("component", COMPONENTS)
def test_an_empty_name_is_refused(component: str) -> None:
    with pytest.raises(ValueError, match="needs name= a non-empty str"):
        COMPONENTS[component](name="")


# -- configs take numbers as they are ------------------------------------------------------------

# (config, an int field, a float field)
CONFIGS: list[tuple[type[BaseModel], str, str]] = [
    (CircuitBreakerConfig, "failure_threshold", "timeout"),
    (BackpressureConfig, "max_queue_depth", "warning_threshold"),
    (EventBusConfig, "capacity", ""),
    (DispatcherConfig, "max_concurrent", ""),
    (RelayConfig, "batch_size", "backoff_base_s"),
    (TenantResolverConfig, "max_capacity", "time_to_live"),
    (RedisCacheConfig, "", "ttl"),
]


def _fields(config: type[BaseModel], int_field: str, float_field: str) -> list[str]:
    return [field for field in (int_field, float_field) if field]


@pytest.mark.parametrize(("config", "int_field", "float_field"), CONFIGS, ids=[c[0].__name__ for c in CONFIGS])
@pytest.mark.parametrize("value", [True, "3", "3.0"], ids=["bool", "int text", "float text"])
def test_a_config_refuses_bools_and_text_for_numbers(config, int_field, float_field, value) -> None:
    for field in _fields(config, int_field, float_field):
        with pytest.raises(PydanticValidationError, match=field):
            config(**{field: value})


@pytest.mark.parametrize(("config", "int_field", "float_field"), [c for c in CONFIGS if c[1]],
                         ids=[c[0].__name__ for c in CONFIGS if c[1]])
def test_a_config_refuses_a_float_for_an_int(config, int_field, float_field) -> None:
    with pytest.raises(PydanticValidationError, match=int_field):
        config(**{int_field: 3.0})


@pytest.mark.parametrize(("config", "int_field", "float_field"), CONFIGS, ids=[c[0].__name__ for c in CONFIGS])
def test_a_config_takes_ints_for_floats_and_reads_its_own_json(config, int_field, float_field) -> None:
    values = {}
    if int_field:
        values[int_field] = 4
    if float_field:
        values[float_field] = 1 if config is not BackpressureConfig else 0  # 0 < critical 0.9
    built = config(**values)
    if int_field:
        assert getattr(built, int_field) == 4 and type(getattr(built, int_field)) is int
    if float_field:
        assert type(getattr(built, float_field)) is float
    assert config.model_validate_json(built.model_dump_json()) == built
    assert config.model_validate(built.model_dump()) == built


def test_the_circuit_breaker_config_does_not_turn_true_into_one() -> None:
    with pytest.raises(PydanticValidationError, match="failure_threshold"):
        CircuitBreakerConfig(failure_threshold=True)


def test_backpressure_config_keeps_its_positional_form() -> None:
    assert BackpressureConfig(1000, 0.6, 0.8) == BackpressureConfig(
        max_queue_depth=1000, warning_threshold=0.6, critical_threshold=0.8)
    with pytest.raises(PydanticValidationError, match="max_queue_depth"):
        BackpressureConfig("1000", 0.6, 0.8)


def test_a_nested_breaker_config_comes_from_a_dict_or_json() -> None:
    config = RedisCacheConfig(breaker={"failure_threshold": 2, "timeout": 5})
    assert config.breaker == CircuitBreakerConfig(failure_threshold=2, timeout=5.0)
    assert RedisCacheConfig.model_validate_json(config.model_dump_json()) == config
    with pytest.raises(PydanticValidationError, match="failure_threshold"):
        RedisCacheConfig(breaker={"failure_threshold": "2"})


def test_tenant_settings_refuse_text_for_a_flag_but_take_a_uuid_as_text() -> None:
    with pytest.raises(PydanticValidationError, match="enabled"):
        TenantSettings(enabled="false")
    text = "00000000-0000-0000-0000-0000000000aa"
    assert str(TenantSettings(default_id=text).default_id) == text
    assert TenantSettings.model_validate_json(f'{{"default_id": "{text}"}}').default_id.hex.endswith("aa")


# -- a second copy of the package ------------------------------------------------------------------


def _impostor(cls: type) -> object:
    """An instance of a class with `cls`'s name from the module a bare-folder import would give."""
    bare = cls.__module__.removeprefix("rustok_sim.")
    return type(cls.__name__, (), {"__module__": bare, "__repr__": lambda self: f"{cls.__name__}()"})()


def test_the_hint_names_both_modules() -> None:
    hint = second_copy_hint(_impostor(CircuitBreakerConfig), CircuitBreakerConfig)
    assert hint == (" from module 'model.resilience.circuit_breaker': a second copy of the package, imported by "
                    "its folder name; import it as rustok_sim.model.resilience.circuit_breaker.CircuitBreakerConfig "
                    "instead")
    assert second_copy_hint({}, CircuitBreakerConfig) == ""
    assert given({"a": 1}, CircuitBreakerConfig) == "dict {'a': 1}"


CONFIG_CHECKS: dict[str, tuple[type, Callable[[object], object]]] = {
    "CircuitBreaker": (CircuitBreakerConfig, lambda c: CircuitBreaker(c, clock=_clock())),  # type: ignore[arg-type]
    "BackpressureController": (BackpressureConfig, lambda c: BackpressureController(c)),  # type: ignore[arg-type]
    "EventBus": (EventBusConfig, lambda c: EventBus(c)),  # type: ignore[arg-type]
    "EventBus backpressure": (BackpressureController, lambda c: EventBus(backpressure=c)),  # type: ignore[arg-type]
    "EventDispatcher": (DispatcherConfig, lambda c: EventDispatcher(EventBus(), c, clock=_clock())),  # type: ignore[arg-type]
    "EventDispatcher bus": (EventBus, lambda c: EventDispatcher(c, clock=_clock())),  # type: ignore[arg-type]
    "MemoryTransport": (EventBus, lambda c: MemoryTransport(c)),  # type: ignore[arg-type]
    "OutboxRelay": (RelayConfig, lambda c: OutboxRelay(InMemoryOutboxStore(), _memory_transport(), c,  # type: ignore[arg-type]
                                                       clock=_clock(), ids=random.Random(1))),
    "MiddlewareTenantResolver": (TenantResolverConfig, lambda c: MiddlewareTenantResolver(c, clock=_clock())),  # type: ignore[arg-type]
    "RedisCacheBackend": (RedisCacheConfig, lambda c: RedisCacheBackend(c, clock=_clock())),  # type: ignore[arg-type]
    "TenantSettings": (TenantSettings, lambda c: resolve_identifier_v1({}, c)),  # type: ignore[arg-type]
}


@pytest.mark.parametrize("check", CONFIG_CHECKS)
def test_a_class_from_a_second_copy_of_the_package_is_named_as_such(check: str) -> None:
    expected, build = CONFIG_CHECKS[check]
    bare = expected.__module__.removeprefix("rustok_sim.")
    with pytest.raises(TypeError, match=rf"got {expected.__name__} {expected.__name__}\(\) from module '{bare}': "
                                        rf"a second copy of the package, imported by its folder name; "
                                        rf"import it as rustok_sim\.{bare}\.{expected.__name__}"):
        build(_impostor(expected))


def test_importing_the_model_folder_by_its_bare_name_is_explained() -> None:
    """The real thing: from the repository root `model` is importable as a package of its own."""
    script = ("from model.resilience.circuit_breaker import CircuitBreakerConfig\n"
              "from rustok_sim.model.core.clock import ManualClock\n"
              "from rustok_sim.model.resilience.circuit_breaker import CircuitBreaker\n"
              "try:\n"
              "    CircuitBreaker(CircuitBreakerConfig(), clock=ManualClock())\n"
              "except TypeError as exc:\n"
              "    print(exc)\n")
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert ("expects config= a CircuitBreakerConfig, got CircuitBreakerConfig CircuitBreakerConfig(" in out.stdout
            and "from module 'model.resilience.circuit_breaker': a second copy of the package, imported by its "
                "folder name; import it as rustok_sim.model.resilience.circuit_breaker.CircuitBreakerConfig"
            in out.stdout), out.stdout
