"""``steward datasets``: data sets pinned by their SHA-256."""

from __future__ import annotations

import click

from steward.app.cli.context import AS_HELP, acting, open_steward
from steward.app.errors import friendly


@click.group("datasets")
def datasets() -> None:
    """Data sets: CSV files under the data folder's datasets/, pinned by their SHA-256."""


@datasets.command("list")
@friendly
def datasets_list() -> None:
    """Registered data sets with their role, rows and digest."""
    for dataset in open_steward().datasets.list():
        click.echo(
            f"{dataset.name:32} {dataset.role:10} {dataset.environment or '-':8} {dataset.rows:>9} rows  "
            f"sha256 {dataset.sha256[:12]}"
        )


@datasets.command("register")
@click.argument("name")
@click.argument("path")
@click.option("--role", type=click.Choice(["training", "production", "labels"]), required=True)
@click.option("--description", default="")
@click.option(
    "--environment",
    default=None,
    help="Where production or labels rows come from (default: the highest environment, e.g. Prod).",
)
@click.option("--as", "as_user", default=None, help=AS_HELP)
@friendly
def datasets_register(
    name: str, path: str, role: str, description: str, environment: str | None, as_user: str | None
) -> None:
    """Register PATH (relative to the data folder's datasets/) as data set NAME."""
    steward = open_steward()
    dataset = steward.datasets.register(
        acting(steward, as_user), name, path, role=role, description=description, environment=environment
    )
    origin = f"{dataset.environment}'s {dataset.role}" if dataset.environment else dataset.role
    click.echo(
        f"registered {dataset.name} ({origin}, {dataset.rows} rows, {len(dataset.columns)} columns); "
        f"sha256 {dataset.sha256[:12]}"
    )
