"""``steward users``: local accounts and their roles."""

from __future__ import annotations

import sys

import click

from steward.app.cli.context import cli_actor, open_steward
from steward.app.errors import friendly


@click.group("users")
def users() -> None:
    """Manage local accounts and their roles."""


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


@users.command("add")
@click.argument("name")
@click.option("--role", "roles", multiple=True, required=True, help="Repeat for several roles.")
@click.option("--display-name", default="", help="Name shown in the app.")
@click.option("--email", default=None)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@friendly
def users_add(
    name: str, roles: tuple[str, ...], display_name: str, email: str | None, password_stdin: bool
) -> None:
    """Create a local account NAME with one or more --role."""
    from steward.core.domain.names import validate_username
    from steward.core.domain.roles import parse_roles

    validate_username(name)  # fail before asking for a password
    parse_roles(roles)
    steward = open_steward()
    password = _read_password(password_stdin)
    user = steward.users.create(
        cli_actor(), name, roles=roles, password=password, display_name=display_name, email=email
    )
    click.echo(f"created {user.username} with roles {', '.join(sorted(r.value for r in user.roles))}")


@users.command("list")
@friendly
def users_list() -> None:
    """List accounts with their roles."""
    steward = open_steward()
    for user in steward.users.list(cli_actor()):
        state = "active" if user.active else "inactive"
        roles = ",".join(sorted(r.value for r in user.roles)) or "-"
        click.echo(f"{user.username:24} {state:9} {user.auth_source:6} {roles}")


@users.command("set-roles")
@click.argument("name")
@click.option("--role", "roles", multiple=True, required=True)
@friendly
def users_set_roles(name: str, roles: tuple[str, ...]) -> None:
    """Replace NAME's roles."""
    user = open_steward().users.set_roles(cli_actor(), name, roles)
    click.echo(f"{user.username} now has roles {', '.join(sorted(r.value for r in user.roles))}")


@users.command("deactivate")
@click.argument("name")
@friendly
def users_deactivate(name: str) -> None:
    """Deactivate NAME and end their open sessions."""
    user = open_steward().users.set_active(cli_actor(), name, False)
    click.echo(f"{user.username} deactivated")


@users.command("activate")
@click.argument("name")
@friendly
def users_activate(name: str) -> None:
    """Reactivate NAME."""
    user = open_steward().users.set_active(cli_actor(), name, True)
    click.echo(f"{user.username} activated")


@users.command("set-password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True)
@friendly
def users_set_password(name: str, password_stdin: bool) -> None:
    """Set NAME's password (ends their sessions)."""
    steward = open_steward()
    user = steward.users.set_password(cli_actor(), name, _read_password(password_stdin))
    click.echo(f"password set for {user.username}")
