"""The faults a scenario can inject, as config: each one becomes ``fault`` records (start and
end, or an instant) in the trace, and a driver makes it real (`rustok_sim.scenarios.drivers`).

- `handlers`: slow and failing handler windows, a second dispatcher on the same bus;
- `redis`: Redis outage windows (refused, black-holed);
- `relay`: relay crashes after claim and after publish, with a restart delay.

Transaction rollbacks are a probability of the service's workload (`OutboxPipeline`), recorded
as a ``rollbacks`` window over the operations.
"""
