"""The ground floor every component stands on.

- `clock`: the injected clock (`Clock`, `ManualClock`, `require_clock`).
- `trace`: the typed trace records, observers (`TraceRecorder`) and sinks (list, JSON Lines,
  filter, tee, count-only), trace levels.
- `tracefile`: JSON Lines files, their JSON Schema, the streaming reader (`iter_jsonl`).
- `transitions`: transition tables that decide (`TransitionTable`, `Machine`) and `coverage`.
- `rust`: Rust's numeric and text rules (wrapping integers, f64 Display, trim/lowercase, UTF-8 length).
- `checks`: what constructor checks share (how an error names what it got, instance names).
"""
