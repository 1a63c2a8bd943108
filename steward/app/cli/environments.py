"""``steward environments``: list, add and rename environments."""

from __future__ import annotations

import click

from steward.app.cli.context import AS_HELP, acting, open_steward
from steward.app.errors import friendly


@click.group("environments")
def environments() -> None:
    """List, add and rename environments (Dev, Test, Prod and any added between)."""


@environments.command("list")
@friendly
def environments_list() -> None:
    """Environments in promotion order, with their tier."""
    for env in open_steward().environments.list():
        click.echo(f"{env.position:<5} {env.name:24} {env.tier.value:5} {env.description}")


@environments.command("add")
@click.argument("name")
@click.option("--tier", required=True, help="dev, test or prod: decides who may act there.")
@click.option("--after", "after", required=True, help="The environment the new one follows.")
@click.option("--description", default="", help="What the environment is for.")
@click.option("--as", "as_user", default=None, help=AS_HELP)
@friendly
def environments_add(name: str, tier: str, after: str, description: str, as_user: str | None) -> None:
    """Add environment NAME right after --after (e.g. Staging after Test)."""
    steward = open_steward()
    environment = steward.environments.add(
        acting(steward, as_user), name, tier, after=after, description=description
    )
    click.echo(f"added {environment.name} ({environment.tier.value} tier) after {after}")


@environments.command("rename")
@click.argument("old")
@click.argument("new")
@click.option("--as", "as_user", default=None, help=AS_HELP)
@friendly
def environments_rename(old: str, new: str, as_user: str | None) -> None:
    """Rename environment OLD to NEW; deployments, policies and history stay with it."""
    steward = open_steward()
    environment = steward.environments.rename(acting(steward, as_user), old, new)
    click.echo(f"renamed {old} to {environment.name} ({environment.tier.value} tier)")
