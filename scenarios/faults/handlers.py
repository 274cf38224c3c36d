"""Handler faults of the event flood: slow or failing handler windows, and a second dispatcher
started on the same bus (which releases every event's slot a second time, spec §3.3)."""

from __future__ import annotations

from pydantic import Field

from rustok_sim.scenarios.engine.config import Settings, Window

__all__ = ["FailingHandler", "SecondDispatcher", "SlowHandler"]


class SlowHandler(Window):
    factor: float = Field(5.0, gt=0, allow_inf_nan=False, description="service time multiplier")


class FailingHandler(Window):
    probability: float = Field(0.5, ge=0, le=1, allow_inf_nan=False, description="of Err per invocation")


class SecondDispatcher(Settings):
    at: float = Field(ge=0, allow_inf_nan=False, description="virtual second it starts on the same bus")
    servers: int = Field(2, ge=1, le=10_000)
