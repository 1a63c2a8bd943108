"""``steward sso``: map identity-provider groups to Steward roles."""

from __future__ import annotations

import click

from steward.app.cli.context import cli_actor, open_steward
from steward.app.errors import friendly


@click.group("sso")
def sso() -> None:
    """Map identity-provider groups to Steward roles."""


@sso.command("map")
@click.argument("group")
@click.argument("role")
@friendly
def sso_map(group: str, role: str) -> None:
    """Give members of GROUP the ROLE."""
    mapping = open_steward().group_mappings.add(cli_actor(), group, role)
    click.echo(f"group {mapping.group_name!r} -> {mapping.role.value} (#{mapping.id})")


@sso.command("unmap")
@click.argument("mapping_id", type=int)
@friendly
def sso_unmap(mapping_id: int) -> None:
    """Remove mapping MAPPING_ID."""
    open_steward().group_mappings.remove(cli_actor(), mapping_id)
    click.echo(f"mapping #{mapping_id} removed")


@sso.command("list")
@friendly
def sso_list() -> None:
    """List group mappings."""
    for mapping in open_steward().group_mappings.list(cli_actor()):
        click.echo(f"#{mapping.id:<4} {mapping.group_name:40} {mapping.role.value}")
