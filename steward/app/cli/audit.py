"""``steward audit and steward permissions``: the tamper-evident log and the permission matrix."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from steward.app.cli.context import cli_actor, open_steward
from steward.app.errors import friendly


@click.group("audit")
def audit() -> None:
    """Verify, checkpoint and export the tamper-evident audit log."""


@audit.command("verify")
@click.option(
    "--checkpoint",
    "checkpoint_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Compare with this checkpoint instead of the newest one in the checkpoint folder.",
)
@friendly
def audit_verify(checkpoint_file: Path | None) -> None:
    """Check every link of the chain; exit 1 and name the first bad event if broken."""
    from steward.core.domain.checkpoint import Checkpoint

    steward = open_steward()
    point = Checkpoint.from_json(checkpoint_file.read_text(encoding="utf-8")) if checkpoint_file else None
    result = steward.audit.verify(point)
    click.echo(result.summary())
    if not result.ok:
        sys.exit(1)


@audit.command("checkpoint")
@friendly
def audit_checkpoint() -> None:
    """Sign the chain's head and write it to the checkpoint folder (outside the database)."""
    point, path = open_steward().audit.checkpoint(cli_actor())
    click.echo(f"checkpoint #{point.seq} {point.hash[:16]} written to {path}")


@audit.command("rekey")
@click.option("--no-rotate", is_flag=True, help="Only adopt the legacy events; keep the active key.")
@friendly
def audit_rekey(no_rotate: bool) -> None:
    """Adopt events sealed before keyed sealing (the cut-over) and rotate to a new audit key."""
    keyring = open_steward().audit.rekey(cli_actor(), rotate=not no_rotate)
    cut = (
        f"unkeyed events accepted up to #{keyring.legacy_until}"
        if keyring.legacy_until
        else "no unkeyed events"
    )
    click.echo(f"audit chain sealed with key {keyring.active!r} from now on; {cut}; checkpoint written")


@audit.command("export")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True, path_type=Path), required=True)
@click.option("--actor", default="")
@click.option("--action", default="", help="Action prefix, e.g. auth. or user.create")
@friendly
def audit_export(fmt: str, output: Path, actor: str, action: str) -> None:
    """Export events (CSV cells that could run as formulas are neutralised)."""
    from steward.core.services.audit import AuditFilter

    data = open_steward().audit.export(cli_actor(), AuditFilter(actor=actor, action=action), fmt=fmt)
    output.write_bytes(data)
    click.echo(f"wrote {output}")


@click.command("permissions")
def permissions() -> None:
    """Print the permission matrix as docs/permissions.md (Markdown)."""
    from steward.core.domain.permissions import render_document

    click.echo(render_document(), nl=False)
