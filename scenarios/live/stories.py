"""The stories that run live, and the services a live run owns.

``redis_outage`` (a managed redis-server), ``rollback`` (the run's database, relays as OS
processes) and ``mixed`` (both, with the event flood in process as in the simulation: it has no
service of its own).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Generator
from contextlib import ExitStack
from pathlib import Path
from types import TracebackType
from typing import Any

import simpy

from rustok_sim.scenarios.drivers.flood import install_event_flood
from rustok_sim.scenarios.live.database import LiveDatabase
from rustok_sim.scenarios.live.outbox import LiveOutboxPipelinePart
from rustok_sim.scenarios.live.realtime import LiveStory, LiveWorld
from rustok_sim.scenarios.live.redis_server import ManagedRedisServer
from rustok_sim.scenarios.live.tenancy import LiveTenantTrafficPart
from rustok_sim.scenarios.stories import mixed, redis_outage, rollback

__all__ = ["LIVE_STORIES", "LiveServices"]


class LiveServices:
    """The services of one live run, started on entry and stopped on exit (also on an error or
    Ctrl-C): a managed `redis-server` when the story needs Redis; the run's database (a
    PostgreSQL schema of its own at `database_url`, else a SQLite file) and a directory for the
    relay processes' files when it needs the outbox."""

    def __init__(self, needs: frozenset[str], *, redis_binary: str = "redis-server",
                 database_url: str | None = None,
                 connection_kills: tuple[tuple[float, int], ...] = (),
                 renames: tuple[tuple[float, int], ...] = ()) -> None:
        self.needs = needs
        self.connection_kills = connection_kills
        """(virtual second, relay index): when to terminate that relay's PostgreSQL connections."""
        self.renames = renames
        """(virtual second, tenant index): when to rename a tenant and invalidate its cache entry."""
        self.redis_binary = redis_binary
        self.database_url = database_url
        self._stack = ExitStack()
        self._redis: ManagedRedisServer | None = None
        self._database: LiveDatabase | None = None
        self._run_dir: Path | None = None

    def __enter__(self) -> LiveServices:
        try:
            if "redis" in self.needs:
                self._redis = self._stack.enter_context(ManagedRedisServer(binary=self.redis_binary))
            if "database" in self.needs:
                self._database = self._stack.enter_context(LiveDatabase(self.database_url))
                run_dir = Path(tempfile.mkdtemp(prefix="rustok-sim-live-relays-"))
                self._stack.callback(shutil.rmtree, run_dir, True)
                self._run_dir = run_dir
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stack.close()

    @property
    def redis(self) -> ManagedRedisServer:
        if self._redis is None:
            raise RuntimeError("this run did not start a redis-server (the story does not need one)")
        return self._redis

    @property
    def database(self) -> LiveDatabase:
        if self._database is None:
            raise RuntimeError("this run has no database (the story does not need one)")
        return self._database

    @property
    def run_dir(self) -> Path:
        if self._run_dir is None:
            raise RuntimeError("this run has no relay directory (the story does not need one)")
        return self._run_dir

    def on_exit(self, close: Any) -> None:
        """Run `close()` when the services stop (a part's clients, before their server goes)."""
        self._stack.callback(close)


def _drive_redis_outage(world: LiveWorld, config: redis_outage.RedisOutageConfig,
                        services: LiveServices) -> dict[str, Any]:
    traffic = config.traffic
    part = LiveTenantTrafficPart(world, traffic, config.profile, services.redis)
    services.on_exit(part.close)
    part.schedule_renames(services.renames)
    world.start_sampling(until=traffic.duration)
    # As the simulated story: requests still in flight at the end finish.
    world.run(traffic.duration + traffic.redis.socket_timeout * (1 + traffic.redis.retries) + 5.0,
              horizon=traffic.duration)
    metrics = {**part.metrics(), "timelines": world.timelines()}
    metrics["live"]["lag"] = world.paced.lag()
    metrics["live"]["scale"] = world.scale
    return metrics


def _schedule_connection_kills(world: LiveWorld, part: LiveOutboxPipelinePart, services: LiveServices) -> None:
    for at, relay in services.connection_kills:
        if not 0 <= relay < part.section.relays:
            raise ValueError(f"connection kill at {at:g} s names relay {relay}; relays are 0..{part.section.relays - 1}")

        def kill(at: float = at, relay: int = relay) -> Generator[simpy.Event, Any, None]:
            yield world.env.timeout(at)
            if (yield from part.when_ready(relay)):
                part.terminate_connections(relay)
        world.env.process(kill())


def _drive_rollback(world: LiveWorld, config: rollback.RollbackConfig, services: LiveServices) -> dict[str, Any]:
    part = LiveOutboxPipelinePart(world, config.pipeline, config.profile, services.database, services.run_dir)
    services.on_exit(lambda: part.stop(read_last=False))  # also when the run fails: no relay outlives it
    _schedule_connection_kills(world, part, services)
    world.start_sampling()
    done = part.drain(config.drain_limit)
    world.run(done, horizon=config.pipeline.duration + config.drain_limit)
    part.stop()
    metrics = {**part.metrics(), "timelines": world.timelines()}
    metrics["live"]["lag"] = world.paced.lag()
    metrics["live"]["scale"] = world.scale
    return metrics


def _drive_mixed(world: LiveWorld, config: mixed.MixedConfig, services: LiveServices) -> dict[str, Any]:
    flood = install_event_flood(world, config.flood, config.profile)
    tenancy = LiveTenantTrafficPart(world, config.traffic, config.profile, services.redis)
    services.on_exit(tenancy.close)
    tenancy.schedule_renames(services.renames)
    outbox = LiveOutboxPipelinePart(world, config.pipeline, config.profile, services.database, services.run_dir)
    services.on_exit(lambda: outbox.stop(read_last=False))
    _schedule_connection_kills(world, outbox, services)
    mixed.run_to_the_end(world, config, flood, outbox)
    outbox.stop()
    tenancy_metrics, outbox_metrics = tenancy.metrics(), outbox.metrics()
    live = {"tenancy": tenancy_metrics.pop("live"), "outbox": outbox_metrics.pop("live"),
            "lag": world.paced.lag(), "scale": world.scale}
    return {"flood": flood.metrics(), "tenancy": tenancy_metrics, "outbox": outbox_metrics,
            "timelines": world.timelines(), "live": live}


LIVE_STORIES: dict[str, LiveStory[Any]] = {
    "redis_outage": LiveStory(redis_outage.STORY, _drive_redis_outage, frozenset({"redis"})),
    "rollback": LiveStory(rollback.STORY, _drive_rollback, frozenset({"database"})),
    "mixed": LiveStory(mixed.STORY, _drive_mixed, frozenset({"redis", "database"})),
}
