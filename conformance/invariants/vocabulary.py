"""The names scenario drivers write into the trace beside the model's own records, so that the
invariants (and a trace exported from the real services) can be judged without knowing which
driver produced them.

The model already writes its records (bus ``published``, dispatcher ``dispatching`` / ``handled``
/ ``failed`` / ``crashed``, transactional bus ``written_in_tx`` / ``published``, outbox
``written`` / ``acknowledged``, relay ``dispatched`` / ``retry_scheduled`` / ``failed``, every
transition and anomaly). A driver adds what only the world around the model knows: whether the
transaction that wrote an event committed, whether a producer gave up on an event, what the
projection did with a delivery, and which HTTP status a request ended with.
"""

from __future__ import annotations

from typing import Final

# -- event records (kind "event"): component, then its actions --------------------------------

PRODUCER: Final = "producer"
"""instance: the producer's name."""
REJECTED: Final = "rejected"
"""The bus refused the event (backpressure). detail {"retry": bool}: whether it will be offered again."""
DROPPED: Final = "dropped"
"""The producer gave up on the event: a counted loss (direct producers drop what is rejected)."""

TRANSACTION: Final = "transaction"
"""instance: the service whose transaction wrote the event."""
COMMITTED: Final = "committed"
"""The transaction that wrote this event committed: the event is now owed to every consumer."""
ROLLED_BACK: Final = "rolled_back"
"""It rolled back: the event must never reach a consumer."""

PROJECTION: Final = "projection"
"""instance: the projection (read model) name."""
APPLIED: Final = "applied"
"""First delivery of the event: its effect was applied to the read model."""
DUPLICATE: Final = "duplicate"
"""A redelivery of an event already applied: the idempotent projection skipped it."""

# -- decision records (kind "decision") -------------------------------------------------------

HTTP: Final = "http"
"""component of a request's outcome; instance: the route (e.g. ``tenant``)."""
RESPONDED: Final = "responded"
"""decision: the request ended; reason: the HTTP status as text (``"200"``, ``"404"``, ``"500"``);
detail {"latency": seconds, "source": "cache" | "database" | "none"}."""

# -- fault records (kind "fault"): fault names ------------------------------------------------

REDIS_OUTAGE: Final = "redis_outage"
"""target: the Redis backend; detail {"mode": "refused" | "blackhole"}."""
ROLLBACKS: Final = "rollbacks"
"""target: the service; detail {"probability": p}."""
RELAY_CRASH: Final = "relay_crash"
"""target: the relay worker; detail {"point": "after_claim" | "after_publish", "restart_delay": s}."""
SLOW_HANDLER: Final = "slow_handler"
FAILING_HANDLER: Final = "failing_handler"
SECOND_DISPATCHER: Final = "second_dispatcher"
BURST: Final = "burst"
