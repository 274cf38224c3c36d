"""ns per cache hit: our tenant resolver (every variant) vs cachetools' TTLCache.get, in one process.

A hit is the hot path of every request: `resolver.lookup(key)` for a cached tenant, against
`TTLCache.get(key)` on a TTLCache holding the same context under the same key. Each variant is
measured without an observer and with one that records only transitions
(``TraceRecorder(clock, kinds={"transition"})``), which a hit must not pay for.

Rounds are interleaved (every case once per round, so load from other processes hits all cases
alike); each case's ratio to the baseline is taken within its round, and the median round's
ratio counts (times shown are medians too). Target (issue 7, section 6): every ratio ours / TTLCache
<= 0.5. Exit 0 when every target is met, 1 when one is missed (named on stderr), 2 when
cachetools is missing. Run: python benchmarks/resolver.py [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import timeit
import uuid
from collections.abc import Callable

TARGET = 0.5
VARIANTS = ("v1", "v2", "hardened")


def measure(number: int, rounds: int) -> dict[str, float]:
    import cachetools

    from rustok_sim.model.core.clock import ManualClock
    from rustok_sim.model.core.trace import TraceRecorder
    from rustok_sim.model.tenancy.context import TenantContext
    from rustok_sim.model.tenancy.keys import TenantKey
    from rustok_sim.model.tenancy.resolver import Hit, TenantResolverConfig, build_tenant_resolver

    clock = ManualClock()
    tenant = TenantContext(uuid.UUID("6f1c1c1e-8d2a-4b5e-9a33-0c3d8c2e7a01"), "Acme", "acme",
                           "acme.example.com", {"plan": "pro"})
    key = TenantKey.slug("acme")

    baseline: cachetools.TTLCache[TenantKey, TenantContext] = cachetools.TTLCache(maxsize=1000, ttl=300)
    baseline[key] = tenant

    def loop_of(call: Callable[[TenantKey], object]) -> Callable[[], None]:
        def loop() -> None:
            for _ in range(number):
                call(key)
        return loop

    cases: dict[str, Callable[[], None]] = {"ttlcache_get_ns": loop_of(baseline.get)}
    recorders = []
    for variant in VARIANTS:
        for observed in (False, True):
            recorder = TraceRecorder(clock, kinds={"transition"}) if observed else None
            resolver = build_tenant_resolver(TenantResolverConfig(variant=variant), clock=clock,
                                             observer=recorder, name=f"bench-{variant}")
            resolver.resolve(key, lambda _key: tenant)
            if not isinstance(resolver.lookup(key), Hit):
                raise RuntimeError(f"{variant}: the benchmark key is not a hit")
            if recorder is not None:
                recorders.append((variant, recorder, len(recorder.records)))
            cases[f"{variant}{'_observed' if observed else ''}_hit_ns"] = loop_of(resolver.lookup)

    samples: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(rounds):
        for name, loop in cases.items():
            samples[name].append(timeit.Timer(loop).timeit(number=1) / number * 1e9)
    for variant, recorder, before in recorders:
        if len(recorder.records) != before:
            raise RuntimeError(f"{variant}: hits wrote {len(recorder.records) - before} trace records")

    results = {name: statistics.median(values) for name, values in samples.items()}
    base = samples["ttlcache_get_ns"]
    for name, values in samples.items():
        if name != "ttlcache_get_ns":
            results[f"ratio_{name[:-3]}"] = statistics.median(v / b for v, b in zip(values, base))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--number", type=int, default=10_000, help="hits per timing run")
    parser.add_argument("--rounds", type=int, default=41, help="interleaved rounds; the median counts")
    parser.add_argument("--json", action="store_true", help="print only the JSON")
    args = parser.parse_args(argv)
    try:
        import cachetools  # noqa: F401
    except ImportError:
        print("benchmarks/resolver.py needs cachetools for its baseline: pip install -e '.[bench]'",
              file=sys.stderr)
        return 2
    r = measure(args.number, args.rounds)
    ratios = {name: value for name, value in r.items() if name.startswith("ratio_")}
    missed = [name for name, value in ratios.items() if value > TARGET]
    if not args.json:
        print(f"cachetools TTLCache.get            {r['ttlcache_get_ns']:8.0f} ns")
        for variant in VARIANTS:
            for suffix, label in (("", "no observer"), ("_observed", "transitions only")):
                name = f"{variant}{suffix}_hit"
                print(f"{variant:9s} hit, {label:17s} {r[name + '_ns']:8.0f} ns   ratio "
                      f"{r['ratio_' + name]:.3f} (target <= {TARGET})")
    print(json.dumps({**r, "target": TARGET, "missed": missed}, indent=2, sort_keys=True))
    if missed:
        print(f"missed target <= {TARGET}: {', '.join(missed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
