"""The reference resilience components provide exactly their protocols' surface."""

from __future__ import annotations

import inspect

import pytest

from rustok_sim.model.resilience.backpressure import BackpressureController
from rustok_sim.model.resilience.circuit_breaker import CircuitBreaker
from rustok_sim.model.resilience.protocols import BackpressureProtocol, CircuitBreakerProtocol

# Public members of a reference class that are not part of its protocol, and why.
EXTRAS = {
    CircuitBreaker: {"config", "name", "prometheus"},  # construction data; CB-B's exposition (02-17)
    BackpressureController: {"config", "name", "state_at", "reset_metrics"},  # reset_metrics: cfg(test) in Rust
}
PAIRS = [(CircuitBreakerProtocol, CircuitBreaker), (BackpressureProtocol, BackpressureController)]


def members(cls: type) -> dict[str, object]:
    found: dict[str, object] = {}
    for klass in reversed(cls.__mro__):
        if klass in (object, inspect.getmro(cls)[-1]) or klass.__module__ == "typing":
            continue
        found.update({name: value for name, value in vars(klass).items() if not name.startswith("_")})
    return found


@pytest.mark.parametrize(("protocol", "reference"), PAIRS, ids=lambda v: v.__name__)
def test_the_reference_has_every_protocol_member_with_the_same_signature(protocol, reference):
    theirs = members(reference)
    for name, wanted in members(protocol).items():
        assert name in theirs, f"{reference.__name__} lacks {name}"
        got = theirs[name]
        if isinstance(wanted, property):
            assert isinstance(got, property), f"{reference.__name__}.{name} should be a read-only property"
            assert got.fset is None, f"{reference.__name__}.{name} should be read-only"
            assert (inspect.signature(got.fget).return_annotation
                    == inspect.signature(wanted.fget).return_annotation) or name == "variant", name
        else:
            assert callable(got), name
            assert inspect.signature(got) == inspect.signature(wanted), (
                f"{reference.__name__}.{name}{inspect.signature(got)} != protocol {inspect.signature(wanted)}")


@pytest.mark.parametrize(("protocol", "reference"), PAIRS, ids=lambda v: v.__name__)
def test_the_reference_has_no_undeclared_public_members(protocol, reference):
    extra = set(members(reference)) - set(members(protocol)) - EXTRAS[reference]
    assert not extra, f"{reference.__name__} has public members outside its protocol: {sorted(extra)}"


def test_an_instance_type_checks_against_its_protocol():
    from rustok_sim.model.core.clock import ManualClock

    breaker: CircuitBreakerProtocol = CircuitBreaker(clock=ManualClock())
    controller: BackpressureProtocol = BackpressureController()
    assert breaker.admit() is not None and controller.admit()
