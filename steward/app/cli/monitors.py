"""``steward monitors``: drift and data-quality monitors on production data."""

from __future__ import annotations

import sys
from typing import Any

import click

from steward.app.cli.context import AS_HELP, acting, open_steward
from steward.app.errors import friendly


@click.group("monitors")
def monitors() -> None:
    """Drift and data-quality monitors on production data."""


@monitors.command("add")
@click.option("--pipeline", required=True)
@click.option("--environment", required=True)
@click.option("--dataset", required=True, help="A registered production data set.")
@click.option("--window", required=True, help="day, week, month (with --time-column) or rows:N")
@click.option("--time-column", default=None)
@click.option("--labels", "labels_dataset", default=None, help="A registered labels data set.")
@click.option(
    "--labels-database", default=None, help="Or: a configured database (STEWARD_SOURCE_DATABASES)..."
)
@click.option("--labels-query", default=None, help="...and the SELECT that returns the labels.")
@click.option("--id-column", default=None, help="Joins production rows to their labels.")
@click.option("--label-column", default=None)
@click.option("--mode", type=click.Choice(["fixed", "calibrated"]), default="fixed")
@click.option("--every-minutes", type=int, default=1440)
@click.option("--as", "as_user", default=None, help=AS_HELP)
@friendly
def monitors_add(as_user: str | None, **options: Any) -> None:
    """Watch a pipeline's deployment in an environment on a production data set."""
    steward = open_steward()
    monitor = steward.monitoring.add_monitor(acting(steward, as_user), **options)
    click.echo(
        f"monitor #{monitor.id}: {monitor.pipeline_name} in {monitor.environment} on {monitor.dataset}, "
        f"window {monitor.window}"
    )


@monitors.command("list")
@friendly
def monitors_list() -> None:
    """Monitors and how their last run went."""
    steward = open_steward()
    for monitor in steward.monitoring.monitors():
        last = steward.monitoring.last_run(monitor.id)
        state = f"{last.status} {last.started_at:%Y-%m-%d %H:%M} {last.detail}" if last else "never run"
        click.echo(
            f"#{monitor.id:<3} {monitor.pipeline_name:20} {monitor.environment:6} {monitor.dataset:24} "
            f"{monitor.window:8} {'' if monitor.enabled else 'PAUSED '}{state}"
        )


@monitors.command("run")
@click.argument("monitor_id", type=int)
@click.option("--as", "as_user", default=None, help=AS_HELP)
@friendly
def monitors_run(monitor_id: int, as_user: str | None) -> None:
    """Run monitor MONITOR_ID now: score, cut into windows, check drift, quality and performance."""
    steward = open_steward()
    run = steward.monitoring.run(acting(steward, as_user), monitor_id)
    click.echo(f"{run.status}: {run.detail} ({run.rows} rows, {run.seconds:.1f} s)")
    if run.status == "failed":
        sys.exit(1)


def _change(change: str, monitor_id: int, reason: str, as_user: str | None) -> None:
    steward = open_steward()
    act = {
        "pause": steward.monitoring.pause,
        "resume": steward.monitoring.resume,
        "remove": steward.monitoring.remove,
    }[change]
    monitor = act(acting(steward, as_user), monitor_id, reason)
    done = {"pause": "paused", "resume": "resumed", "remove": "removed (its history stays in the audit log)"}
    click.echo(
        f"monitor #{monitor.id} of {monitor.pipeline_name} in {monitor.environment} on {monitor.dataset}: "
        f"{done[change]}"
    )


REASON_HELP = "Why, kept in the audit log."


@monitors.command("pause")
@click.argument("monitor_id", type=int)
@click.option("--reason", default="", help=REASON_HELP)
@click.option("--as", "as_user", default=None, help=AS_HELP)
@friendly
def monitors_pause(monitor_id: int, reason: str, as_user: str | None) -> None:
    """Pause monitor MONITOR_ID: the worker skips it and manual runs are refused until resumed."""
    _change("pause", monitor_id, reason, as_user)


@monitors.command("resume")
@click.argument("monitor_id", type=int)
@click.option("--reason", default="", help=REASON_HELP)
@click.option("--as", "as_user", default=None, help=AS_HELP)
@friendly
def monitors_resume(monitor_id: int, reason: str, as_user: str | None) -> None:
    """Put paused monitor MONITOR_ID back on its schedule."""
    _change("resume", monitor_id, reason, as_user)


@monitors.command("remove")
@click.argument("monitor_id", type=int)
@click.option("--reason", default="", help=REASON_HELP)
@click.option("--as", "as_user", default=None, help=AS_HELP)
@friendly
def monitors_remove(monitor_id: int, reason: str, as_user: str | None) -> None:
    """Remove monitor MONITOR_ID from the pages and the schedule; its runs and audit events stay."""
    _change("remove", monitor_id, reason, as_user)
