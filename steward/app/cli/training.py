"""``steward train and steward retrain``: new immutable versions from a spec."""

from __future__ import annotations

import click

from steward.app.cli.context import AS_HELP, acting, format_metrics, open_steward
from steward.app.errors import friendly


@click.command("train")
@click.argument("name")
@click.option("--as", "as_user", default=None, help=AS_HELP)
@click.option("--no-importances", is_flag=True, help="Skip permutation importances (faster).")
@friendly
def train_command(name: str, as_user: str | None, no_importances: bool) -> None:
    """Train pipeline NAME's current spec into a new immutable version."""
    steward = open_steward()
    version = steward.pipelines.train(acting(steward, as_user), name, importances=not no_importances)
    metrics = format_metrics(version.metrics)
    click.echo(f"trained {version.pipeline_name} {version.label} on {version.data_rows} rows: {metrics}")


@click.command("retrain")
@click.argument("name")
@click.option(
    "--environment",
    default=None,
    help="Optional: must be the environment the data set belongs to (its tier decides who may).",
)
@click.option("--dataset", required=True, help="A registered production data set.")
@click.option("--labels", default=None, help="A labels data set holding the target (delayed labels).")
@click.option("--id-column", default=None, help="The id column joining --labels to the production rows.")
@click.option("--as", "as_user", default=None, help=AS_HELP)
@click.option("--no-importances", is_flag=True, help="Skip permutation importances (faster).")
@friendly
def retrain_command(
    name: str,
    environment: str | None,
    dataset: str,
    labels: str | None,
    id_column: str | None,
    as_user: str | None,
    no_importances: bool,
) -> None:
    """Retrain pipeline NAME's current spec on production data into a new immutable version.

    The target comes with the data set, or from --labels joined on --id-column;
    rows whose label has not arrived are left out.
    """
    steward = open_steward()
    version = steward.pipelines.retrain(
        acting(steward, as_user),
        name,
        environment=environment,
        dataset=dataset,
        labels=labels,
        id_column=id_column,
        importances=not no_importances,
    )
    metrics = format_metrics(version.metrics)
    click.echo(
        f"retrained {version.pipeline_name} {version.label} on {version.data_rows} rows of {dataset} "
        f"from {version.lineage['retrained_from']['environment']}: {metrics}"
    )
