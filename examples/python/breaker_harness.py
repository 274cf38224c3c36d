"""An example `exec:` harness for the conformance gate, in Python: it speaks the JSON Lines
protocol (version 1, see docs/conformance.md) on stdin/stdout for the circuit_breaker component.

Here the implementation behind the protocol is rustok-sim's own reference breaker, so this file
is the template to copy: replace `build` and the method table with calls into the implementation
under test. ``--mutant`` trips one failure late, which the gate must report.

    rustok-sim conform --target "circuit_breaker=exec:python examples/python/breaker_harness.py"
"""

from __future__ import annotations

import json
import sys
from typing import Any

from rustok_sim.model.resilience.circuit_breaker import CircuitBreaker, CircuitBreakerConfig, CircuitOpenError

MUTANT = "--mutant" in sys.argv[1:]


class Clock:
    """The gate's time, as the last request gave it."""

    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def build(config: dict[str, Any], clock: Clock) -> CircuitBreaker:
    if MUTANT:
        config = {**config, "failure_threshold": config["failure_threshold"] + 1}
    return CircuitBreaker(CircuitBreakerConfig(**config), clock=clock, name="harness")


def encode(value: Any, permits: dict[str, Any]) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if type(value).__name__ == "Permit":
        handle = f"p{len(permits) + 1}"
        permits[handle] = value
        return {"permit": handle}
    if hasattr(value, "as_dict"):  # stats
        return {k: (v.value if hasattr(v, "value") else v) for k, v in value.as_dict().items()}
    if hasattr(value, "value"):  # an enum state
        return value.value
    raise TypeError(f"cannot encode {value!r}")


def main() -> None:
    clock = Clock()
    breaker: CircuitBreaker | None = None
    permits: dict[str, Any] = {}
    for line in sys.stdin:
        request = json.loads(line)
        clock.t = float(request["t"])
        reply: dict[str, Any] = {"id": request["id"]}
        try:
            op = request["op"]
            if op == "new":
                breaker, permits = build(request["config"], clock), {}
                reply["ok"] = None
            elif breaker is None:
                raise RuntimeError("no instance: send 'new' first")
            elif op == "get":
                reply["ok"] = encode(getattr(breaker, request["name"]), permits)
            else:
                args = [permits[a["permit"]] if isinstance(a, dict) and "permit" in a else a for a in request["args"]]
                reply["ok"] = encode(getattr(breaker, request["method"])(*args), permits)
        except CircuitOpenError as exc:
            reply["error"] = {"kind": "CircuitOpenError", "message": str(exc),
                              "fields": {"state": exc.state.value, "retry_after": exc.retry_after}}
        except Exception as exc:  # noqa: BLE001 - every error is part of the reply
            reply["error"] = {"kind": type(exc).__name__, "message": str(exc), "fields": {}}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
