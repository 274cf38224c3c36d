"""us per envelope: EventEnvelope.new and to_json against bare baselines of the same shape.

Cases, interleaved per round, median of rounds: `EventEnvelope.new` (trusted hot path) vs a bare
slotted object with the same eleven fields built from the same IdGenerator (id + timestamp), and
`to_json` vs `model_dump_json` of a bare pydantic model of the same shape. Both dumps run over
`number` distinct, freshly built envelopes, each dumped once (untimed construction), so nothing
memoised per envelope (its id text) is ever reused: the first dump of an envelope is what counts.
Targets (issue 7, section 6): new within 1.5x the slotted object; to_json within 1.3x the bare
pydantic dump ("close to"). Exit 0 when met, 1 when missed (says which).
Run: python benchmarks/envelope.py [--number N] [--rounds R]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import timeit
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from rustok_sim.model.core.clock import ManualClock
from rustok_sim.model.events import EventEnvelope, IdGenerator, NodeCreated

TARGETS = {"new_vs_slotted": 1.5, "to_json_vs_bare_pydantic": 1.3}
TENANT = uuid.UUID(int=5)
EVENT = NodeCreated(node_id=uuid.UUID(int=7), kind="post")


class Slotted:
    __slots__ = ("id", "event_type", "schema_version", "correlation_id", "causation_id", "tenant_id",
                 "actor_id", "trace_id", "timestamp", "retry_count", "event")

    def __init__(self, id, event_type, schema_version, correlation_id, causation_id, tenant_id,  # noqa: A002
                 actor_id, trace_id, timestamp, retry_count, event) -> None:
        self.id, self.event_type, self.schema_version = id, event_type, schema_version
        self.correlation_id, self.causation_id, self.tenant_id = correlation_id, causation_id, tenant_id
        self.actor_id, self.trace_id, self.timestamp = actor_id, trace_id, timestamp
        self.retry_count, self.event = retry_count, event


class BareEnvelope(BaseModel):
    id: uuid.UUID
    event_type: str
    schema_version: int
    correlation_id: uuid.UUID
    causation_id: uuid.UUID | None = None
    tenant_id: uuid.UUID
    actor_id: uuid.UUID | None = None
    trace_id: str | None = None
    timestamp: datetime
    retry_count: int
    event: NodeCreated


def measure(number: int, rounds: int) -> dict[str, object]:
    ids = IdGenerator(ManualClock(1.0), seed=1)
    envelope = EventEnvelope.new(TENANT, None, EVENT, ids=ids)
    assert BareEnvelope(**dict(envelope)).model_dump_json() is not None  # the shape fits

    def slotted() -> Slotted:
        event_id = ids.new_id()
        return Slotted(event_id, EVENT.event_type, 1, event_id, None, TENANT, None, None, ids.now(), 0, EVENT)

    cases = {
        "slotted_same_ids": slotted,
        "envelope_new": lambda: EventEnvelope.new(TENANT, None, EVENT, ids=ids),
    }
    times: dict[str, list[float]] = {name: [] for name in (*cases, "bare_pydantic_dump_json", "envelope_to_json")}
    for _ in range(rounds):
        for name, fn in cases.items():
            times[name].append(timeit.timeit(fn, number=number) / number * 1e6)
        fresh = [EventEnvelope.new(TENANT, None, EVENT, ids=ids) for _ in range(number)]
        bares = [BareEnvelope.model_construct(**dict(e)) for e in fresh]
        times["bare_pydantic_dump_json"].append(_each(BareEnvelope.model_dump_json, bares))
        times["envelope_to_json"].append(_each(EventEnvelope.to_json, fresh))
    us = {name: statistics.median(t) for name, t in times.items()}
    ratios = {"new_vs_slotted": us["envelope_new"] / us["slotted_same_ids"],
              "to_json_vs_bare_pydantic": us["envelope_to_json"] / us["bare_pydantic_dump_json"]}
    return {"number": number, "rounds": rounds, "us": us, "ratios": ratios}


def _each(method: Callable[[Any], str], objects: list[Any]) -> float:
    """us per call of `method` over `objects`, each once."""
    start = time.perf_counter()
    for obj in objects:
        method(obj)
    return (time.perf_counter() - start) / len(objects) * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    result = measure(args.number, args.rounds)
    for name, value in result["us"].items():  # type: ignore[union-attr]
        print(f"{name:28} {value:8.3f} us")
    missed = []
    for name, ratio in result["ratios"].items():  # type: ignore[union-attr]
        print(f"{name:28} {ratio:8.2f}x (target {TARGETS[name]}x)")
        if ratio > TARGETS[name]:
            missed.append(f"{name} {ratio:.2f}x > {TARGETS[name]}x")
    print(json.dumps(result, sort_keys=True))
    if missed:
        print("MISSED: " + "; ".join(missed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
