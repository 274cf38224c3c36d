"""The stories that run live, and the services a live run owns.

``redis_outage`` runs live; ``rollback`` and ``mixed`` need outbox relays as separate OS
processes on PostgreSQL, which this package does not have yet (`LIVE_STORIES` lists what runs,
`PLANNED` what a user may ask for and get a clear refusal).
"""

from __future__ import annotations

from contextlib import ExitStack
from types import TracebackType
from typing import Any

from rustok_sim.scenarios.live.realtime import LiveStory, LiveWorld
from rustok_sim.scenarios.live.redis_server import ManagedRedisServer
from rustok_sim.scenarios.live.tenancy import LiveTenantTrafficPart
from rustok_sim.scenarios.stories import redis_outage

__all__ = ["LIVE_STORIES", "PLANNED", "LiveServices"]


class LiveServices:
    """The services of one live run, started on entry and stopped on exit (also on an error or
    Ctrl-C): a managed `redis-server` when the story needs Redis."""

    def __init__(self, needs: frozenset[str], *, redis_binary: str = "redis-server") -> None:
        self.needs = needs
        self.redis_binary = redis_binary
        self._stack = ExitStack()
        self._redis: ManagedRedisServer | None = None

    def __enter__(self) -> LiveServices:
        try:
            if "redis" in self.needs:
                self._redis = self._stack.enter_context(ManagedRedisServer(binary=self.redis_binary))
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

    def on_exit(self, close: Any) -> None:
        """Run `close()` when the services stop (a part's clients, before their server goes)."""
        self._stack.callback(close)


def _drive_redis_outage(world: LiveWorld, config: redis_outage.RedisOutageConfig,
                        services: LiveServices) -> dict[str, Any]:
    traffic = config.traffic
    part = LiveTenantTrafficPart(world, traffic, config.profile, services.redis)
    services.on_exit(part.close)
    world.start_sampling(until=traffic.duration)
    # As the simulated story: requests still in flight at the end finish.
    world.run(traffic.duration + traffic.redis.socket_timeout * (1 + traffic.redis.retries) + 5.0,
              horizon=traffic.duration)
    metrics = {**part.metrics(), "timelines": world.timelines()}
    metrics["live"]["lag"] = world.paced.lag()
    metrics["live"]["scale"] = world.scale
    return metrics


LIVE_STORIES: dict[str, LiveStory[Any]] = {
    "redis_outage": LiveStory(redis_outage.STORY, _drive_redis_outage, frozenset({"redis"})),
}

PLANNED: dict[str, str] = {
    "rollback": "relays as separate OS processes on PostgreSQL with the crash nemesis are not built yet",
    "mixed": "its outbox part needs the live relays, which are not built yet",
}
