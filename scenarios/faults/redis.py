"""A Redis outage window: the server refuses connections at once, or black-holes them until the
client's socket timeout."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from rustok_sim.scenarios.engine.config import Window

__all__ = ["RedisOutage"]


class RedisOutage(Window):
    mode: Literal["refused", "blackhole"] = Field("refused", description="refused: at once; blackhole: "
                                                  "each call waits the client's socket_timeout")
