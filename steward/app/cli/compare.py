"""``steward compare``: a challenger against what serves, on the same labelled production rows."""

from __future__ import annotations

import click

from steward.app.cli.context import AS_HELP, acting, open_steward
from steward.app.errors import friendly


@click.command("compare")
@click.argument("pipeline")
@click.argument("version", type=int)
@click.argument("environment")
@click.option("--dataset", required=True, help="Registered production data set to score both versions on.")
@click.option("--labels", default=None, help="Labels data set joined on --id-column (delayed labels).")
@click.option("--id-column", default=None, help="Column the production rows and their labels share.")
@click.option("--resamples", type=int, default=400, show_default=True, help="Bootstrap replicates.")
@click.option("--as", "as_user", default=None, help=AS_HELP)
@friendly
def compare_command(
    pipeline: str,
    version: int,
    environment: str,
    dataset: str,
    labels: str | None,
    id_column: str | None,
    resamples: int,
    as_user: str | None,
) -> None:
    """Score VERSION of PIPELINE and the version serving in ENVIRONMENT on the same rows; audited.

    Rows either version was trained on are left out. The champion gate of a
    promotion to ENVIRONMENT then reads this comparison.
    """
    steward = open_steward()
    result = steward.head_to_head.compare(
        acting(steward, as_user),
        pipeline,
        version,
        environment,
        dataset=dataset,
        labels=labels,
        id_column=id_column,
        resamples=resamples,
    )
    click.echo(
        f"comparison #{result.id}: {pipeline} v{result.challenger_number} against v{result.champion_number} "
        f"in {result.environment_name} on {result.where}"
    )
    for metric in result.metrics:
        click.echo(f"  {metric.sentence()}")
    decisions = result.decisions
    unit = f" (by more than {decisions.tolerance:g})" if decisions.tolerance else ""
    click.echo(f"  {decisions.changed:,} of {decisions.rows:,} answers change{unit}")
    for segment in decisions.segments[:3]:
        click.echo(f"    {segment.column} = {segment.value}: {segment.changed:,} of {segment.rows:,}")
