"""``steward keys``: create, list and revoke the scoring service's API keys (admins; audited)."""

from __future__ import annotations

import click

from steward.app.cli.context import AS_HELP, acting, open_steward
from steward.app.errors import friendly
from steward.core.services.api_keys import ApiKeyService


@click.group("keys")
def keys_group() -> None:
    """API keys for the scoring service (stored hashed; the secret is shown once)."""


@keys_group.command("create")
@click.argument("name")
@click.option(
    "--env", "environments", multiple=True, required=True, help="An environment the key may score in."
)
@click.option("--as", "as_user", default=None, help=AS_HELP)
@friendly
def create(name: str, environments: tuple[str, ...], as_user: str | None) -> None:
    """Create key NAME for the given environments and print its secret (once)."""
    steward = open_steward()
    issued = ApiKeyService(steward.ctx).create(acting(steward, as_user), name, environments)
    click.echo(f"key #{issued.key.id} {issued.key.name} for {', '.join(issued.key.environments)}")
    click.echo(f"secret (shown once, send it as X-API-Key): {issued.secret}")


@keys_group.command("list")
@friendly
def list_keys() -> None:
    """Every key: id, name, prefix, environments, who created it, whether it was revoked."""
    steward = open_steward()
    for key in ApiKeyService(steward.ctx).list():
        state = "active" if key.active else f"revoked {key.revoked_at:%Y-%m-%d %H:%M} by {key.revoked_by}"
        click.echo(
            f"#{key.id}  {key.name}  {key.prefix}...  {','.join(key.environments)}  {key.created_by}  {state}"
        )


@keys_group.command("revoke")
@click.argument("key_id", type=int)
@click.option("--reason", default="", help="Why (kept in the audit log).")
@click.option("--as", "as_user", default=None, help=AS_HELP)
@friendly
def revoke(key_id: int, reason: str, as_user: str | None) -> None:
    """Revoke key KEY_ID: the scoring service answers it 403 within seconds."""
    steward = open_steward()
    key = ApiKeyService(steward.ctx).revoke(acting(steward, as_user), key_id, reason)
    click.echo(f"revoked key #{key.id} {key.name}")
