"""An example `exec:` harness for the conformance gate's two validators, in Python: it speaks the
JSON Lines protocol (version 1, see docs/conformance.md) on stdin/stdout for the
``event_validation`` and ``tenant_identifiers`` components.

The implementations behind the protocol are rustok-sim's own references, so this file is the
template to copy for a real validator (RusToK's, through a thin binary): replace `VALIDATE` and
`IDENTIFIER_METHODS` with calls into the implementation under test. ``--mutant`` makes both
count lengths in characters instead of UTF-8 bytes, which the gate must report.

    rustok-sim conform --target "event_validation=exec:python examples/python/validator_harness.py"
    rustok-sim conform --target "tenant_identifiers=exec:python examples/python/validator_harness.py"
"""

from __future__ import annotations

import json
import sys
from typing import Any

from rustok_sim.conformance.mutants.event_validation import MUTANTS as EVENT_MUTANTS
from rustok_sim.conformance.mutants.tenant_identifiers import MUTANTS as IDENTIFIER_MUTANTS
from rustok_sim.model.events.domain import EventFormatError
from rustok_sim.model.events.validation import EventValidationError
from rustok_sim.model.events.validator import EventValidator
from rustok_sim.model.tenancy.validation import TenantIdentifierValidator, TenantValidationError

MUTANT = "--mutant" in sys.argv[1:]


def new_instance(component: str, config: Any) -> Any:
    if component == "event_validation":
        return EVENT_MUTANTS["character_length"](config, None) if MUTANT else EventValidator(config)
    if component == "tenant_identifiers":
        return IDENTIFIER_MUTANTS["character_length"](None, None) if MUTANT else TenantIdentifierValidator
    raise ValueError(f"this harness does not speak {component!r}")


def call(instance: Any, method: str, args: list[Any]) -> Any:
    if method == "validate_json":  # the payload as JSON text, as a service reads it off the wire
        return instance.validate(args[0])
    result = getattr(instance, method)(*args)
    return None if result is None else str(result)  # a UUID travels as its text


def error_reply(exc: Exception) -> dict[str, Any]:
    if isinstance(exc, EventValidationError):
        fields = {"kind": exc.kind.value, "field": exc.field, "max": exc.max, "min": exc.min, "value": exc.value,
                  "reason": exc.reason}
    elif isinstance(exc, EventFormatError):
        fields = {"field": exc.field}
    elif isinstance(exc, TenantValidationError):
        fields = {"kind": exc.kind.value, "value": exc.value}
    else:
        fields = {}
    return {"kind": type(exc).__name__, "message": str(exc), "fields": fields}


def main() -> None:
    instance: Any = None
    for line in sys.stdin:
        request = json.loads(line)
        reply: dict[str, Any] = {"id": request["id"]}
        try:
            if request["op"] == "new":
                instance = new_instance(request["component"], request["config"])
                reply["ok"] = None
            elif instance is None:
                raise RuntimeError("no instance: send 'new' first")
            else:
                reply["ok"] = call(instance, request["method"], request["args"])
        except Exception as exc:  # noqa: BLE001 - every error is part of the reply
            reply["error"] = error_reply(exc)
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
