"""`mmck`: the flood pipeline with its knobs named in queueing terms, so its analytic twin is exact.

The same code as `flood` (the model's `EventBus` with its `BackpressureController`, an
`EventDispatcher` with ``max_concurrent = c`` and `c` handler servers), real envelopes, direct
producers: Poisson arrivals at `lambda` per second, each handler exponential at `mu` per second,
and backpressure that rejects at depth `K`. The controller counts an event from its publish to
the end of its handler, so its depth is the number in the system and "rejects at depth K" is an
M/M/c/K queue with K places: the controller is configured as ``max_queue_depth = K``,
``critical_threshold = 1.0`` (critical depth K), ``warning_threshold = 0.9``.

Estimates, after `warmup` arrivals are discarded:

- `p_block`: the fraction of arriving events rejected, with `p_block_ci95` by batch means over
  the arrival sequence (`batches` batches);
- `p_block_time_fraction`: the fraction of virtual time the depth sat at K (PASTA says the two
  agree);
- `L`: the time-averaged depth; `W`: the mean publish-to-handled time of accepted events;
  `lambda_eff`: accepted events per second; Little's law says L = lambda_eff W;
- `analytic`: the closed form of the same four (`rustok_sim.scenarios.twins.mmck`).

The measurement window is [time of the first counted arrival, time of the last arrival]; events
accepted in it are followed to their end (the run drains), so W counts every one of them.
"""

from __future__ import annotations

import math
import uuid
from array import array
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import Field, model_validator

from rustok_sim.conformance.invariants import Checker, KnownDefect, Verdict
from rustok_sim.conformance.invariants.events import DepthBound, SlotConservation, judge_drained
from rustok_sim.model.events import dispatcher as dispatcher_module
from rustok_sim.model.events.bus import EventBus, EventBusConfig
from rustok_sim.model.events.domain import NodeCreated
from rustok_sim.model.resilience import backpressure as backpressure_module
from rustok_sim.model.resilience.backpressure import BackpressureConfig, BackpressureController
from rustok_sim.scenarios.drivers.dispatch import HandlerPool, build_dispatcher
from rustok_sim.scenarios.engine.config import ScenarioConfig, resolve_variant
from rustok_sim.scenarios.engine.result import ScenarioResult
from rustok_sim.scenarios.engine.stats import TimeWeighted, batch_means_ci
from rustok_sim.scenarios.engine.story import Story
from rustok_sim.scenarios.engine.world import World
from rustok_sim.scenarios.twins.mmck import mmck

__all__ = ["STORY", "MmckConfig", "run"]

TENANT = uuid.UUID(int=10)
EVENT = NodeCreated(node_id=uuid.UUID(int=(1 << 64) + 7), kind="post")
"""One real domain event: the bus gives each envelope its own id."""


class MmckConfig(ScenarioConfig):
    scenario: Literal["mmck"] = "mmck"
    lam: float = Field(9.0, alias="lambda", gt=0, allow_inf_nan=False, description="arrivals per second (Poisson)")
    mu: float = Field(10.0, gt=0, allow_inf_nan=False, description="service rate per handler, per second (exponential)")
    c: int = Field(1, ge=1, le=10_000, description="handlers (dispatcher max_concurrent)")
    K: int = Field(10, ge=1, le=10_000_000, description="depth at which backpressure rejects (places in the system)")
    arrivals: int = Field(200_000, ge=100, le=100_000_000, description="arrivals simulated")
    warmup: int | None = Field(None, ge=0, description="arrivals discarded before measuring (default 5% of arrivals)")
    batches: int = Field(20, ge=2, le=1000, description="batches for the batch-means interval of p_block")
    sample_interval: float = Field(10.0, gt=0, allow_inf_nan=False,
                                   description="virtual seconds between depth samples")

    @model_validator(mode="after")
    def _shape(self) -> MmckConfig:
        if self.K < self.c:
            raise ValueError(f"K must be >= c: the depth limit counts events in service too (got K={self.K}, c={self.c})")
        if self.warmup is not None and self.warmup >= self.arrivals:
            raise ValueError(f"warmup ({self.warmup}) must be less than arrivals ({self.arrivals})")
        return self

    @property
    def warmup_arrivals(self) -> int:
        return self.warmup if self.warmup is not None else self.arrivals // 20


def controller_config(config: MmckConfig) -> BackpressureConfig:
    """Backpressure that rejects at depth K exactly (critical threshold 1.0)."""
    variant = resolve_variant(config.profile, None, backpressure_module.PROFILE_VARIANTS)
    return BackpressureConfig(max_queue_depth=config.K, warning_threshold=0.9, critical_threshold=1.0,
                              variant=variant)


def drive(world: World, config: MmckConfig) -> dict[str, Any]:
    env = world.env
    controller = BackpressureController(controller_config(config), observer=world.observer, name="bus")
    if controller.critical_depth != config.K:  # float thresholds must not move the limit
        raise AssertionError(f"controller rejects at {controller.critical_depth}, not K={config.K}")
    capacity = max(128, 1 << (config.K - 1).bit_length())
    bus = EventBus(EventBusConfig(capacity=min(capacity, 1 << 16)), backpressure=controller,
                   ids=world.ids("events"), observer=world.observer)
    variant = resolve_variant(config.profile, None, dispatcher_module.PROFILE_VARIANTS)
    dispatcher = build_dispatcher(world, bus, name="dispatcher", max_concurrent=config.c, variant=variant)

    K, warmup, total = config.K, config.warmup_arrivals, config.arrivals
    depth_time = TimeWeighted()
    full_time = TimeWeighted()
    arrived_at: dict[int, float] = {}
    sojourn = [0.0, 0]  # sum, count of counted events
    state = {"measuring": False}

    def finished(envelope: Any, _state: Any, now: float) -> None:
        depth = controller.current_depth
        depth_time.update(now, depth)
        full_time.update(now, 1.0 if depth >= K else 0.0)
        start = arrived_at.pop(id(envelope), None)
        if start is not None:
            sojourn[0] += now - start
            sojourn[1] += 1

    service_rng = world.rng("service")
    expo_service, mu = service_rng.expovariate, config.mu
    pool = HandlerPool(world, dispatcher, config.c, lambda: expo_service(mu), on_finished=finished)
    world.gauge("backpressure", "bus", "depth", lambda: float(controller.current_depth))
    blocked = array("B")
    window = [0.0, 0.0]

    def source() -> Any:
        arrival_rng = world.rng("arrivals")
        expo, lam = arrival_rng.expovariate, config.lam
        offer, kick, timeout = bus.offer, pool.kick, env.timeout
        append = blocked.append
        for n in range(total):
            yield timeout(expo(lam))
            if n == warmup:
                now = env.now
                window[0] = now
                depth_time.restart(now)
                full_time.restart(now)
                state["measuring"] = True
            envelope = offer(TENANT, None, EVENT)
            if envelope is None:
                if n >= warmup:
                    append(1)
                continue
            now = env.now
            depth = controller.current_depth
            depth_time.update(now, depth)
            full_time.update(now, 1.0 if depth >= K else 0.0)
            if n >= warmup:
                append(0)
                arrived_at[id(envelope)] = now
            kick()
        window[1] = env.now

    world.start_sampling()
    done = env.process(source())
    world.run(done, horizon=total / config.lam)
    end = window[1]
    l_mean = depth_time.mean(end)
    time_full = full_time.mean(end)
    # Drain: follow every counted event to its end (W), with no more arrivals.
    world.env.run(until=_idle_event(world, pool, dispatcher))
    span = end - window[0]
    counted = len(blocked)
    rejected = sum(blocked)
    p_block, ci = batch_means_ci(memoryview(blocked).tolist(), config.batches)
    accepted = counted - rejected
    lambda_eff = accepted / span if span > 0 else math.nan
    w_mean = sojourn[0] / sojourn[1] if sojourn[1] else math.nan
    twin = mmck(config.lam, config.mu, config.c, config.K)
    return {
        "p_block": p_block,
        "p_block_ci95": [ci[0], ci[1]],
        "p_block_time_fraction": time_full,
        "L": l_mean,
        "W": w_mean,
        "lambda_eff": lambda_eff,
        "little_residual": (l_mean - lambda_eff * w_mean) / l_mean if l_mean else math.nan,
        "analytic": {"p_block": twin.p_block, "L": twin.L, "W": twin.W, "lambda_eff": twin.lambda_eff},
        "within_ci95": ci[0] <= twin.p_block <= ci[1],
        "counted_arrivals": counted,
        "rejected": rejected,
        "accepted": accepted,
        "warmup_arrivals": warmup,
        "window": [window[0], end],
        "handled": pool.completed,
        "final_depth": controller.current_depth,
        "timelines": world.timelines(),
    }


def _idle_event(world: World, pool: HandlerPool, dispatcher: Any) -> Any:
    """An event that fires when the dispatcher has nothing left (checked as servers finish)."""
    env = world.env

    def wait() -> Any:
        while not dispatcher.is_idle() or pool.busy:
            yield env.timeout(1.0 / max(pool.servers, 1))
    return env.process(wait())


def checkers(config: MmckConfig) -> Sequence[Checker]:
    faithful = config.profile == "faithful"
    return [DepthBound(config.K, KnownDefect("§2.2", "release at depth 0 wraps the usize") if faithful else None),
            SlotConservation(None)]


def judge_metrics(config: MmckConfig, metrics: Mapping[str, Any]) -> Sequence[Verdict]:
    return [judge_drained(metrics["final_depth"])]


STORY: Story[MmckConfig] = Story(
    name="mmck",
    summary="the flood pipeline as an M/M/c/K queue, checked against its closed form",
    config=MmckConfig,
    drive=drive,
    checkers=checkers,
    judge_metrics=judge_metrics,
)


def run(config: MmckConfig | None = None, seed: int = 1, **kwargs: Any) -> ScenarioResult:
    return STORY.run(config if config is not None else MmckConfig(), seed, **kwargs)
