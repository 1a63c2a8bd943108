"""``steward sla set`` and ``steward sla show``: the service-level targets of each deployment."""

from __future__ import annotations

import click

from steward.app.cli.context import AS_HELP, acting, open_steward
from steward.app.errors import friendly
from steward.core.domain.sla import DEFAULT_WINDOW_MINUTES, DeploymentSla, SlaTargets


@click.group("sla")
def sla_group() -> None:
    """Service-level targets per deployment (environment + pipeline): latency, throughput, errors."""


def describe(sla: DeploymentSla) -> str:
    targets = "; ".join(sla.targets.describe()) or "no targets"
    return (
        f"{sla.environment_name:8} {sla.pipeline_name:24} {targets} "
        f"(window {sla.targets.window_minutes} min; set by {sla.updated_by} {sla.updated_at:%Y-%m-%d %H:%M})"
    )


@sla_group.command("set")
@click.argument("environment")
@click.argument("pipeline")
@click.option("--p50-ms", type=float, default=None, help="Median latency target, milliseconds.")
@click.option("--p95-ms", type=float, default=None, help="95th-percentile latency target, milliseconds.")
@click.option("--p99-ms", type=float, default=None, help="99th-percentile latency target, milliseconds.")
@click.option("--min-rps", type=float, default=None, help="Minimum throughput, requests per second.")
@click.option(
    "--max-error-pct", type=float, default=None, help="Maximum error rate, percent of requests (0.1 = 0.1 %)."
)
@click.option("--window-minutes", type=int, default=DEFAULT_WINDOW_MINUTES, show_default=True)
@click.option("--as", "as_user", default=None, help=AS_HELP)
@friendly
def sla_set(
    environment: str,
    pipeline: str,
    p50_ms: float | None,
    p95_ms: float | None,
    p99_ms: float | None,
    min_rps: float | None,
    max_error_pct: float | None,
    window_minutes: int,
    as_user: str | None,
) -> None:
    """Replace the targets of PIPELINE in ENVIRONMENT (a target left out is not checked); audited."""
    targets = SlaTargets(
        p50_ms=p50_ms,
        p95_ms=p95_ms,
        p99_ms=p99_ms,
        min_throughput_rps=min_rps,
        max_error_rate=None if max_error_pct is None else max_error_pct / 100,
        window_minutes=window_minutes,
    )
    steward = open_steward()
    click.echo(describe(steward.sla.set(acting(steward, as_user), environment, pipeline, targets)))


@sla_group.command("show")
@click.argument("environment", required=False)
@click.argument("pipeline", required=False)
@friendly
def sla_show(environment: str | None, pipeline: str | None) -> None:
    """The targets of every deployment (or of ENVIRONMENT, or of PIPELINE in ENVIRONMENT)."""
    steward = open_steward()
    shown = [
        s
        for s in steward.sla.list()
        if environment in (None, s.environment_name) and pipeline in (None, s.pipeline_name)
    ]
    if not shown:
        click.echo("no SLA targets set" + (f" for {environment}" if environment else ""))
    for sla in shown:
        click.echo(describe(sla))
