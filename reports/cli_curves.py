"""`rustok-sim curves`: the breaker operating curves as figures, CSV and one sentence that
answers "which failure_threshold and timeout meet my limits". Thin: parses, calls
`rustok_sim.reports.curves`, prints. A bad argument is one message and exit status 2."""

from __future__ import annotations

import math
import re
from pathlib import Path

import click

from rustok_sim.reports.curves import CurveConfig, CurveConfigError, compute_operating_curves
from rustok_sim.reports.curves.operating import DELAY_STATISTICS

__all__ = ["curves_command", "parse_duration", "parse_float_list", "parse_int_range"]

_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}


def parse_duration(text: str) -> float:
    """Seconds from ``90``, ``90s``, ``30m``, ``24h``, ``7d`` or ``1w``."""
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([smhdw]?)\s*", text)
    if not match:
        raise ValueError(f"{text!r} is not a duration (a number of seconds, or with s, m, h, d or w)")
    return float(match.group(1)) * _UNITS[match.group(2) or "s"]


def parse_int_range(text: str) -> tuple[int, ...]:
    """``1:10`` (inclusive), ``2:12:2`` (with a step) or ``3,4,6``."""
    try:
        if ":" in text:
            parts = [int(p) for p in text.split(":")]
            if len(parts) not in (2, 3):
                raise ValueError
            start, stop = parts[0], parts[1]
            step = parts[2] if len(parts) == 3 else 1
            if step <= 0 or stop < start:
                raise ValueError
            return tuple(range(start, stop + 1, step))
        values = tuple(int(p) for p in text.split(","))
    except ValueError:
        raise ValueError(f"{text!r} is not a range START:STOP[:STEP] with STOP >= START and STEP > 0, "
                         f"nor a list like 3,4,6") from None
    if len(set(values)) != len(values):
        raise ValueError(f"{text!r} lists a value twice")
    return values


def parse_float_list(text: str) -> tuple[float, ...]:
    """Durations separated by commas (``5,15,30,60`` or ``5s,1m``), or ``START:STOP:STEP`` in seconds."""
    try:
        if ":" in text:
            start, stop, step = (float(p) for p in text.split(":"))
            if step <= 0 or stop < start:
                raise ValueError
            count = int(math.floor((stop - start) / step + 1e-9)) + 1
            return tuple(start + i * step for i in range(count))
        values = tuple(parse_duration(p) for p in text.split(","))
    except ValueError:
        raise ValueError(f"{text!r} is not a list of seconds like 5,15,30,60 nor START:STOP:STEP") from None
    if len(set(values)) != len(values):
        raise ValueError(f"{text!r} lists a value twice")
    return values


class _Parsed(click.ParamType):
    """A click type from one of the parsers above, so a bad value names its option."""

    def __init__(self, parser: object, name: str) -> None:
        self._parser = parser
        self.name = name

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> object:
        if not isinstance(value, str):
            return value
        try:
            return self._parser(value)  # type: ignore[operator]
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


def _optional_int(text: str) -> int | None:
    if text.strip().lower() in ("none", "unlimited"):
        return None
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a whole number or 'none'") from None


@click.command("curves")
@click.option("--rate", type=float, default=100.0, show_default=True, metavar="REQ_PER_S",
              help="Request rate through the breaker, requests/s (Poisson arrivals).")
@click.option("--p0", type=float, default=0.005, show_default=True, metavar="PROB",
              help="Background error probability per request on a healthy dependency (0.005 = 0.5%).")
@click.option("--p1", type=float, default=0.5, show_default=True, metavar="PROB",
              help="Error probability per request during an outage (1 = every call fails).")
@click.option("--window", type=_Parsed(parse_duration, "duration"), default="1w", show_default=True,
              metavar="DURATION", help="Window for P(at least one false trip): seconds, or 30m, 24h, 7d, 1w.")
@click.option("--thresholds", type=_Parsed(parse_int_range, "range"), default="1:10", show_default=True,
              metavar="RANGE", help="failure_threshold values: START:STOP[:STEP] (inclusive) or a list 3,4,6.")
@click.option("--timeouts", type=_Parsed(parse_float_list, "seconds"), default="5,15,30,60", show_default=True,
              metavar="SECONDS", help="Breaker timeout values, seconds Open before a probe: a list or START:STOP:STEP.")
@click.option("--success-threshold", type=int, default=2, show_default=True,
              help="Half-open successes that close the breaker.")
@click.option("--half-open-max", "half_open_max", type=_Parsed(_optional_int, "count"), default="3",
              show_default=True, metavar="N|none", help="half_open_max_requests (none = unlimited).")
@click.option("--variant", type=click.Choice(["resilience", "standalone", "hardened"]), default="resilience",
              show_default=True, help="Breaker variant (resilience = CB-B, the faithful default).")
@click.option("--max-false-trips-per-week", type=float, default=1.0, show_default=True, metavar="N",
              help="Limit: long-run false trips per week at p0.")
@click.option("--max-detection-delay", type=_Parsed(parse_duration, "duration"), default="3", show_default=True,
              metavar="SECONDS", help="Limit: seconds from the outage start until the breaker opens.")
@click.option("--delay-statistic", type=click.Choice(list(DELAY_STATISTICS)), default="p95", show_default=True,
              help="How the detection limit is read: the mean or a percentile of the delay.")
@click.option("--max-recovery", type=_Parsed(parse_duration, "duration"), default=None, metavar="SECONDS",
              help="Limit (optional): mean seconds from the end of a hard outage until Closed.")
@click.option("--max-outage-failures", type=float, default=None, metavar="PER_MIN",
              help="Limit (optional): failed requests per minute of outage that still reach the dependency.")
@click.option("--simulate", "replications", type=int, default=0, show_default=True, metavar="N",
              help="Check against the real breaker model with N seeded replications per threshold (0 = none).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the simulation check.")
@click.option("--simulation-budget", type=int, default=1_000_000, show_default=True, metavar="REQUESTS",
              help="Skip a false-trip simulation that would need more requests than this.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("results/curves"),
              show_default=True, help="Directory for figures (PNG, SVG), CSVs and the recommendation.")
def curves_command(rate: float, p0: float, p1: float, window: float, thresholds: tuple[int, ...],
                   timeouts: tuple[float, ...], success_threshold: int, half_open_max: int | None, variant: str,
                   max_false_trips_per_week: float, max_detection_delay: float, delay_statistic: str,
                   max_recovery: float | None, max_outage_failures: float | None, replications: int, seed: int,
                   simulation_budget: int, out_dir: Path) -> None:
    """Breaker operating curves: false trips vs detection delay across failure_threshold and
    timeout (exact for Poisson traffic with independent errors), optionally checked against
    the real breaker model, and the settings that meet the limits."""
    try:
        config = CurveConfig(
            rate=rate, p0=p0, p1=p1, window=window, thresholds=thresholds, timeouts=timeouts,
            success_threshold=success_threshold, half_open_max_requests=half_open_max,
            variant=variant,  # type: ignore[arg-type]  # click.Choice guarantees a Variant
            max_false_trips_per_week=max_false_trips_per_week, max_detection_delay=max_detection_delay,
            delay_statistic=delay_statistic, max_recovery=max_recovery,
            max_outage_failures_per_minute=max_outage_failures, replications=replications, seed=seed,
            simulation_budget=simulation_budget)
    except CurveConfigError as exc:
        raise click.UsageError(str(exc)) from None
    if out_dir.exists() and not out_dir.is_dir():
        raise click.UsageError(f"--out {out_dir} exists and is not a directory")
    curves = compute_operating_curves(config)
    click.echo(f"{'k':>3} {'false trips/wk':>14} {'P(trip in window)':>17} {'mean delay s':>12} "
               f"{'p95 delay s':>11}")
    for point in curves.points:
        if point.timeout == config.timeouts[0]:
            click.echo(f"{point.failure_threshold:>3} {point.false_trips_per_week:>14.3g} "
                       f"{point.false_trip_probability:>17.3g} {point.detection_mean:>12.3g} "
                       f"{point.detection_p95:>11.3g}")
    for s in curves.simulated:
        agree = "agrees" if s.detection_mean.contains(s.analytic_detection_mean) else "DISAGREES"
        trips = s.false_trips_per_week
        trip_text = (f"; false trips/wk {trips.value:.3g} [{trips.low:.3g}, {trips.high:.3g}] vs "
                     f"{s.analytic_false_trips_per_week:.3g}" if trips else "")
        click.echo(f"simulated k={s.failure_threshold}: mean delay {s.detection_mean.value:.3g} s "
                   f"[{s.detection_mean.low:.3g}, {s.detection_mean.high:.3g}] vs {s.analytic_detection_mean:.3g} "
                   f"({agree}){trip_text}")
    if curves.recommendation is not None:
        click.echo(curves.recommendation.sentence)
    from rustok_sim.reports.curves.figures import write_operating_curves  # matplotlib: only when drawing

    written = write_operating_curves(curves, out_dir)
    click.echo(f"wrote {len(written)} files to {out_dir}")
