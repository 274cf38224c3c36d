"""``rustok-sim live`` and ``rustok-sim calibrate``.

``live`` runs a story against real services (a redis-server it starts, the run's database, relay
processes) and writes the same ``result.json`` and ``trace.jsonl`` as ``run``, judged by the same
invariants; exit 0 when every verdict is pass or known-defect, 1 when an invariant fails, 2 for
bad input or services that cannot be started. ``calibrate`` re-runs a live result's story in
simulation with the latencies it measured and prints live against simulated, metric by metric.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from rustok_sim.scenarios.engine.summary import print_result
from rustok_sim.scenarios.live.realtime import DEFAULT_SCALE

__all__ = ["calibrate", "live"]


class LiveUsageError(click.ClickException):
    """Bad input, or services a live run cannot start: one line, exit 2."""

    exit_code = 2


def _at_index(option: str, raw: str, what: str) -> tuple[float, int]:
    """``AT:INDEX`` (virtual seconds, a 0-based index) of `option`, or a usage error."""
    at, sep, index = raw.partition(":")
    try:
        if not sep:
            raise ValueError
        value = (float(at), int(index))
    except ValueError:
        raise LiveUsageError(f"{option} {raw!r}: expected AT:{what} (virtual seconds, 0-based index), "
                             f"e.g. 8:0") from None
    if not (value[0] >= 0 and value[1] >= 0):
        raise LiveUsageError(f"{option} {raw!r}: AT and {what} must be >= 0")
    return value


@click.command("live")
@click.argument("target", metavar="NAME|FILE.toml")
@click.option("--set", "overrides", multiple=True, metavar="FIELD=VALUE",
              help="Override a config field, as for 'run'. Repeatable.")
@click.option("--seed", type=click.IntRange(min=0), default=1, show_default=True, help="Random seed.")
@click.option("--profile", type=click.Choice(["faithful", "hardened"]),
              help="faithful: as the Rust code does; hardened: as RusToK's policies promise.")
@click.option("--out", "out_name", type=str, metavar="DIR",
              help="Where result.json and trace.jsonl go (default: results/live-<name>-<profile>-<seed>).")
@click.option("--scale", type=float, default=DEFAULT_SCALE, show_default=True,
              help="Wall seconds per virtual second (0.25: a 120 s story takes 30 s).")
@click.option("--json", "as_json", is_flag=True, help="Print result.json to stdout instead of the summary.")
@click.option("--trace-level", type=click.Choice(["full", "transitions", "summary"]),
              help="What trace.jsonl keeps (default: the config's trace_level).")
@click.option("--terminate-connection", "kills", multiple=True, metavar="AT:RELAY",
              help="pg_terminate_backend of relay RELAY's PostgreSQL connections at virtual second AT. Repeatable.")
@click.option("--rename", "renames", multiple=True, metavar="AT:TENANT",
              help="Rename tenant TENANT (0 = the most popular) at virtual second AT and invalidate its cache "
                   "entry; stale hits are then counted. Repeatable.")
def live(target: str, overrides: tuple[str, ...], seed: int, profile: str | None, out_name: str | None,
         scale: float, as_json: bool, trace_level: str | None, kills: tuple[str, ...],
         renames: tuple[str, ...]) -> None:
    """Run redis_outage, rollback or mixed against real services; exit 1 when an invariant fails."""
    from rustok_sim.adapters.sql.db import DatabaseUnavailableError, DatabaseUrlError
    from rustok_sim.scenarios.engine.loading import ConfigError, load_config
    from rustok_sim.scenarios.live.processes import install_sigterm_exit
    from rustok_sim.scenarios.live.realtime import run_live_story
    from rustok_sim.scenarios.live.redis_server import RedisServerError
    from rustok_sim.scenarios.live.stories import LIVE_STORIES, LiveServices

    if not (scale > 0 and scale < float("inf")):
        raise LiveUsageError(f"--scale {scale}: must be a positive number of wall seconds per virtual second")
    connection_kills = tuple(_at_index("--terminate-connection", raw, "RELAY") for raw in kills)
    tenant_renames = tuple(_at_index("--rename", raw, "TENANT") for raw in renames)
    extra = [f"trace_level={trace_level}"] if trace_level is not None else []
    try:
        config = load_config(target, [*overrides, *extra], profile=profile)
    except ConfigError as exc:
        raise LiveUsageError(str(exc)) from None
    story = LIVE_STORIES.get(config.scenario)
    if story is None:
        raise LiveUsageError(f"{target}: scenario {config.scenario!r} does not run live; live stories: "
                             f"{', '.join(LIVE_STORIES)}")
    if connection_kills and "database" not in story.needs:
        raise LiveUsageError(f"--terminate-connection: scenario {config.scenario!r} has no relays")
    if tenant_renames and "redis" not in story.needs:
        raise LiveUsageError(f"--rename: scenario {config.scenario!r} has no tenant traffic")
    section: Any = config
    relays = section.pipeline.relays if connection_kills else 0
    tenants = section.traffic.tenants.count if tenant_renames else 0
    for at, relay in connection_kills:
        if relay >= relays:
            raise LiveUsageError(f"--terminate-connection {at:g}:{relay}: relays are 0..{relays - 1}")
    for at, tenant in tenant_renames:
        if tenant >= tenants:
            raise LiveUsageError(f"--rename {at:g}:{tenant}: tenants are 0..{tenants - 1}")
    name = Path(target).stem if target.endswith(".toml") else target
    out = Path(out_name) if out_name is not None else Path("results") / f"live-{name}-{config.profile}-{seed}"
    if out.exists() and not out.is_dir():
        raise LiveUsageError(f"--out {out}: exists and is not a directory")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LiveUsageError(f"--out {out}: {exc.strerror or exc}") from None
    install_sigterm_exit()
    try:
        with LiveServices(story.needs, connection_kills=connection_kills, renames=tenant_renames) as services:
            where = []
            if "redis" in story.needs:
                where.append(f"redis-server on 127.0.0.1:{services.redis.port} (pid {services.redis.pid})")
            if "database" in story.needs:
                where.append(f"outbox on {services.database.kind} ({services.database.describe()})")
            # One plain line on stderr (stdout may be --json): where the services are, for a
            # game day's operator and for tests that interrupt the run.
            click.echo(f"live {name} ({config.profile}, seed {seed}, scale {scale:g}): " + "; ".join(where),
                       err=True)
            result = run_live_story(story, config, seed, services, scale=scale, trace_path=out / "trace.jsonl")
    except (RedisServerError, DatabaseUrlError, DatabaseUnavailableError) as exc:
        raise LiveUsageError(f"cannot start the live services: {exc}") from None
    result.write(out / "result.json")
    if as_json:
        sys.stdout.write(result.to_json())
    else:
        print_result(Console(), name, result, out, kind="live")
    if not result.ok:
        raise click.exceptions.Exit(1)


def _read_live_result(raw: str) -> dict[str, Any]:
    path = Path(raw)
    if path.is_dir():
        path = path / "result.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise LiveUsageError(f"--live-result {raw}: cannot read {path}: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise LiveUsageError(f"--live-result {raw}: {path} is not JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(data, dict):
        raise LiveUsageError(f"--live-result {raw}: {path} is not a result object")
    return data


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.6g}"


@click.command("calibrate")
@click.argument("name")
@click.option("--live-result", "live_result", required=True, metavar="DIR",
              help="The --out directory (or result.json) of a 'rustok-sim live' run of NAME.")
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as JSON.")
def calibrate(name: str, live_result: str, as_json: bool) -> None:
    """Re-run NAME in simulation with the latencies a live run measured; print live vs simulated."""
    from rustok_sim.scenarios.live.calibrate import CalibrationError, lag_warning, run_calibration

    result = _read_live_result(live_result)
    if result.get("scenario") != name:
        raise LiveUsageError(f"--live-result {live_result}: a live result of {result.get('scenario')!r}, not {name!r}")
    try:
        rows, changes = run_calibration(result)
    except (CalibrationError, KeyError) as exc:
        raise LiveUsageError(f"--live-result {live_result}: {exc}") from None
    warning = lag_warning(result)
    if as_json:
        payload = {"scenario": name, "seed": result.get("seed"), "profile": result.get("profile"),
                   "calibrated": changes, "warning": warning,
                   "metrics": [{"metric": r.metric, "live": r.live, "simulated": r.simulated,
                                "relative_difference": r.relative} for r in rows]}
        sys.stdout.write(json.dumps(payload, indent=2, sort_keys=True) + "\n")
        return
    console = Console()
    console.print(f"[bold]{escape(name)}[/bold]: live vs simulated (profile {result.get('profile')}, seed "
                  f"{result.get('seed')}); simulation calibrated with:")
    for field, value in changes.items():
        console.print(f"  {escape(field)} = {escape(json.dumps(value))}")
    table = Table(title="live vs simulated", title_justify="left")
    for column in ("metric", "live", "simulated", "relative difference"):
        table.add_column(column, justify="left" if column == "metric" else "right")
    for row in rows:
        relative = row.relative
        table.add_row(escape(row.metric), _cell(row.live), _cell(row.simulated),
                      "-" if relative is None else f"{relative:+.1%}")
    console.print(table)
    if warning is not None:
        console.print(f"[yellow]warning[/yellow]: {escape(warning)}")
