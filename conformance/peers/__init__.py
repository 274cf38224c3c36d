"""Conformance targets backed by real peer libraries (not written here), each an adapter that maps
the peer's API onto one of our component protocols so the gate can report where the peer's
semantics differ from RusToK's. A peer's differences are findings, documented in docs/peers.md
and kept honest by tests/conformance/test_pybreaker_peer.py.

- `pybreaker_adapter`: ``circuit_breaker`` backed by ``pybreaker.CircuitBreaker`` (the ``test``
  extra), its time driven from the controlled clock through its storage seam; ``behaviour_only``
  is the same adapter with its reporting-only differences masked.
"""
