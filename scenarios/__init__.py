"""Discrete-event scenarios on simpy that drive the `model` in virtual time.

Will hold: workloads (Poisson, bursts, ramps, Zipf tenants), fault injection (Redis outages, DB
rollbacks, relay crashes), the named scenarios (flood, redis_outage, rollback, stampede, mixed),
each reproducible from (config, seed), and threshold sweeps.
"""
