"""``steward loadtest``: replay rows against the running scoring service and keep what it measured.

Locust runs in this CLI process (a process that exists only for this load),
imported when the command runs, never when ``steward --help`` lists it.
Exit status: 0 when the run is within the environment's SLA (or it has none),
1 when it breaches it, 2 on bad input or a run that could not measure.
"""

from __future__ import annotations

import sys

import click

from steward.app.cli.context import AS_HELP, acting, open_steward
from steward.app.errors import friendly
from steward.core.domain.loadtest import LoadPlan, LoadTestRun, LoadTestStatus, RowSource
from steward.core.domain.sla import judge, percent


def summary(run: LoadTestRun) -> str:
    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f} ms"

    rate = "-" if run.throughput_rps is None else f"{run.throughput_rps:.1f} req/s"
    errors = "-" if run.error_rate is None else percent(run.error_rate)
    return (
        f"#{run.id} {run.label} {run.status.value}: {run.requests} requests, p50 {ms(run.p50_ms)}, "
        f"p95 {ms(run.p95_ms)}, p99 {ms(run.p99_ms)}, {rate}, errors {errors}"
    )


@click.command("loadtest")
@click.argument("environment")
@click.argument("pipeline")
@click.option("--rps", type=int, required=True, help="Requests per second to send (one record each).")
@click.option("--duration", type=int, required=True, help="Seconds to send them for.")
@click.option(
    "--rows",
    type=click.Choice([source.value for source in RowSource]),
    default=RowSource.SAMPLE.value,
    show_default=True,
    help="logged: the deployment's logged requests; sample: the version's training rows.",
)
@click.option("--url", default=None, help="The scoring service (default: STEWARD_SCORING_ADDRESS and _PORT).")
@click.option("--as", "as_user", default=None, help=AS_HELP)
@friendly
def loadtest_command(
    environment: str, pipeline: str, rps: int, duration: int, rows: str, url: str | None, as_user: str | None
) -> None:
    """Load-test what serves PIPELINE in ENVIRONMENT and store p50/p95/p99, throughput and error rate."""
    from steward.app.loadtest import runner, target_url  # Locust patches this process from here on

    plan = LoadPlan(rps, duration, RowSource(rows))
    steward = open_steward()
    queued = steward.loadtests.request(
        acting(steward, as_user), environment, pipeline, plan, target_url=url or target_url(steward.settings)
    )
    click.echo(
        f"load test #{queued.id}: {queued.label} at {queued.target_url}, {rps} req/s for {duration} s "
        f"on {rows} rows"
    )
    with click.progressbar(length=duration, label="sending", show_pos=True, file=sys.stderr) as bar:
        shown = 0

        def progress(elapsed: float, requests: int) -> None:
            nonlocal shown
            step = int(elapsed) - shown
            if step > 0:
                bar.update(step)
                shown += step
            bar.label = f"sending ({requests} answered)"

        run = runner.run(steward, queued.id, progress)
        bar.update(duration - shown)
    click.echo(summary(run))
    if run.status is not LoadTestStatus.COMPLETED:
        click.echo(f"error: {run.detail}", err=True)
        sys.exit(2)
    sla = steward.sla.get(run.environment_name, run.pipeline_name)
    if sla is None or sla.targets.empty:
        click.echo(f"no SLA targets for {run.pipeline_name} in {run.environment_name}: nothing to judge")
        return
    verdict = judge(run.measurement, sla.targets)
    if verdict.within and not run.other_answers:
        click.echo(f"within {run.environment_name}'s SLA: {verdict.summary()}")
        return
    problems = [b.message for b in verdict.breaches]
    if run.other_answers:
        problems.append(f"{run.other_answers} answers came from another version or the fallback")
    click.echo(f"breaches {run.environment_name}'s SLA: " + "; ".join(problems))
    sys.exit(1)


@click.command("loadtests")
@click.argument("environment", required=False)
@click.argument("pipeline", required=False)
@click.option("--limit", type=int, default=20, show_default=True)
@friendly
def loadtests_command(environment: str | None, pipeline: str | None, limit: int) -> None:
    """Recent load tests, newest first: what they measured, who ran them and when."""
    runs = open_steward().loadtests.list(environment, pipeline, limit=limit)
    if not runs:
        click.echo("no load test has run yet")
    for run in runs:
        click.echo(f"{run.requested_at:%Y-%m-%d %H:%M} {run.requested_by_name:18} {summary(run)}")
