"""Resilience components: the circuit breaker (`circuit_breaker`: CB-A ``standalone``, CB-B
``resilience``, ``hardened``) and the backpressure controller (`backpressure`). Their protocols, the
surface a conformance target provides, are in `protocols`."""
