"""Deliberately broken targets that the suites must kill (the gate's self-test)."""
