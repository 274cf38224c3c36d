"""What every scenario config has: which story, which profile, how much trace, how often gauges
are sampled; and the small shared pieces (fault windows, picking a component's variant).

A story's config subclasses `ScenarioConfig`. Configs are strict pydantic models (no coercion,
unknown fields refused), frozen, so a run's config can be written to `result.json`, read back
and run again to the same bytes. A component's ``variant`` field is ``None`` by default: the
profile decides (each model module's `PROFILE_VARIANTS`), and setting it overrides that one
component only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["PROFILES", "Profile", "ScenarioConfig", "Settings", "TraceLevel", "Window", "resolve_variant"]

Profile = Literal["faithful", "hardened"]
PROFILES: Final[tuple[Profile, ...]] = ("faithful", "hardened")

TraceLevel = Literal["full", "transitions", "summary"]
"""What `trace.jsonl` keeps: ``full`` every record; ``transitions`` state changes, faults and
anomalies; ``summary`` only faults and anomalies (the record counts go to the result). The
invariants see what they need whatever the level."""


class Settings(BaseModel):
    """Base of every config section: strict, no unknown fields, frozen, `lambda`-style aliases
    accepted by name too."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, populate_by_name=True)


class Window(Settings):
    """A fault window in virtual seconds: from `start`, for `duration`."""

    start: float = Field(ge=0, allow_inf_nan=False, description="virtual seconds from the run's start")
    duration: float = Field(gt=0, allow_inf_nan=False, description="virtual seconds")

    @property
    def end(self) -> float:
        return self.start + self.duration


class ScenarioConfig(Settings):
    scenario: str = Field(description="the story this config runs")
    description: str = Field("", description="one line: what this configuration demonstrates")
    profile: Profile = Field("faithful", description="faithful: as the Rust code; hardened: as RusToK's policies promise")
    trace_level: TraceLevel = Field("transitions", description="what trace.jsonl keeps")
    sample_interval: float = Field(1.0, gt=0, allow_inf_nan=False,
                                   description="virtual seconds between gauge samples (queue depth, state bands)")

    @model_validator(mode="after")
    def _scenario_matches(self) -> ScenarioConfig:
        expected = type(self).model_fields["scenario"].default
        if isinstance(expected, str) and self.scenario != expected:
            raise ValueError(f"scenario must be {expected!r} for {type(self).__name__} (got {self.scenario!r})")
        return self


V = TypeVar("V", bound=str)


def resolve_variant(profile: Profile, override: V | None, profile_variants: Mapping[str, V]) -> V:
    """A component's variant: the explicit override, else what the profile maps it to."""
    return override if override is not None else profile_variants[profile]
