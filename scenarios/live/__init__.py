"""Live runs: the same stories and the same model objects against real services.

- `realtime`: the real-time driver (a `World` whose simpy clock is paced to the wall clock,
  virtual durations scaled by a factor) and `run_live_story`;
- `processes`: every OS process a live run starts, and its cleanup (context managers, atexit,
  SIGTERM, and the kernel's parent-death signal);
- `redis_server`: a `redis-server` the harness starts on a free loopback port;
- `nemesis`: faults made real (SIGKILL and restart, SIGSTOP / SIGCONT), each a ``fault`` record;
- `tenancy`: the tenant-traffic part on the managed Redis, with stale-value detection;
- `stories`: which stories run live, and how;
- `calibrate`: the simulation re-run with the latencies a live run measured, metric by metric;
- `cli`: ``rustok-sim live`` and ``rustok-sim calibrate``.
"""
