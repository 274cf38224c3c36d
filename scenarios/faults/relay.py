"""A relay crash: the relay is armed at `at` and dies at the next `point` it reaches; a new relay
(a new worker id) replaces it after `restart_delay`."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from rustok_sim.scenarios.engine.config import Settings

__all__ = ["RelayCrash"]


class RelayCrash(Settings):
    """One relay crash: relay `relay` is armed at `at` and dies at the next `point` it reaches."""

    at: float = Field(ge=0, allow_inf_nan=False, description="virtual seconds: when the relay is armed")
    relay: int = Field(0, ge=0, description="which relay (0-based)")
    point: Literal["after_claim", "after_publish"] = Field(
        "after_claim", description="after_claim: its batch stays claimed; after_publish: delivered, never marked")
    restart_delay: float = Field(5.0, ge=0, allow_inf_nan=False, description="seconds until its replacement starts")
