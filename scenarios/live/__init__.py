"""Live runs: the same stories and the same model objects against real services (docs/live.md).

- `realtime`: the real-time driver (a `World` whose simpy clock is paced to the wall clock,
  virtual durations scaled by a factor) and `run_live_story`;
- `processes`: every OS process a live run starts, and its cleanup (context managers, atexit,
  SIGTERM, and the kernel's parent-death signal);
- `redis_server`: a `redis-server` the harness starts on a free loopback port;
- `nemesis`: Redis faults made real (SIGKILL and restart, SIGSTOP / SIGCONT), each a ``fault`` record;
- `tenancy`: the tenant-traffic part on the managed Redis, with stale-value detection and renames;
- `database`: the run's database (a PostgreSQL schema of its own, else a SQLite file);
- `relay_worker`: one outbox relay as an OS process, with its crash hook;
- `outbox`: the outbox part with its relays as processes, the relay crashes and ``pg_terminate_backend``;
- `stories`: which stories run live, and the services a run owns;
- `calibrate`: the simulation re-run with the latencies a live run measured, metric by metric;
- `cli`: ``rustok-sim live`` and ``rustok-sim calibrate``.
"""
