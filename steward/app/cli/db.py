"""``steward db``: create and migrate the database."""

from __future__ import annotations

import click

from steward.app.cli.context import open_steward
from steward.app.errors import friendly


@click.group("db")
def db() -> None:
    """Create and migrate the database."""


@db.command("upgrade")
@friendly
def db_upgrade() -> None:
    """Apply all migrations (safe to run again) and create the default environments."""
    steward = open_steward()
    steward.upgrade_database()
    from steward.core.adapters.db.migrate import current_revision

    click.echo(
        f"database at revision {current_revision(steward.engines)}: "
        f"{steward.engines.read.url.render_as_string(hide_password=True)}"
    )


@db.command("current")
@friendly
def db_current() -> None:
    """Show the database's migration revision."""
    from steward.core.adapters.db.migrate import current_revision, head_revision

    steward = open_steward()
    click.echo(f"current {current_revision(steward.engines)}, latest {head_revision()}")
