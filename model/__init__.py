"""The reference model of RusToK's resilience layer.

Sans-IO state machines with an injected clock: circuit breaker, backpressure controller, domain
events and their bus/outbox, tenant identifier validation, tenant resolver and cache backends.
Nothing here sleeps, spawns or reads the wall clock; drivers (simpy scenarios, Hypothesis suites,
live adapters) own time and I/O. This package imports nothing from the other top-level packages.
"""
