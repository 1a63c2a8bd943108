"""``steward failover``, ``steward failback`` and ``steward rollback``: move what serves, with a reason.

Each is one audited ledger entry made by ``DeploymentService``, which checks
the permission for the environment's tier itself (Prod: operators and
admins). Without ``--as`` the CLI acts as itself (the OS account is named in
the audit log).
"""

from __future__ import annotations

import click

from steward.app.cli.context import AS_HELP, acting, open_steward
from steward.app.errors import friendly
from steward.core.domain.promotions import LedgerEntry

REASON_HELP = "Why (kept in the ledger and the audit log)."


def _moved(entry: LedgerEntry, verb: str) -> None:
    replaced = f" (replacing v{entry.previous_number})" if entry.previous_number else ""
    click.echo(
        f"{verb}: {entry.pipeline_name} {entry.label} now serves in {entry.environment_name}{replaced}; "
        f"ledger entry #{entry.id}"
    )


@click.command("failover")
@click.argument("environment")
@click.argument("pipeline")
@click.option("--reason", required=True, help=REASON_HELP)
@click.option("--as", "as_user", default=None, help=AS_HELP)
@friendly
def failover_command(environment: str, pipeline: str, reason: str, as_user: str | None) -> None:
    """Serve PIPELINE's armed fallback in ENVIRONMENT now; the primary stays armed to fail back to."""
    steward = open_steward()
    entry = steward.deployments.failover(acting(steward, as_user), environment, pipeline, reason)
    _moved(entry, "failed over")


@click.command("failback")
@click.argument("environment")
@click.argument("pipeline")
@click.option("--reason", required=True, help=REASON_HELP)
@click.option("--as", "as_user", default=None, help=AS_HELP)
@friendly
def failback_command(environment: str, pipeline: str, reason: str, as_user: str | None) -> None:
    """After a fail-over, serve PIPELINE's primary in ENVIRONMENT again."""
    steward = open_steward()
    entry = steward.deployments.failback(acting(steward, as_user), environment, pipeline, reason)
    _moved(entry, "failed back")


@click.command("rollback")
@click.argument("environment")
@click.argument("pipeline")
@click.option(
    "--to",
    "to_version",
    type=int,
    default=None,
    help="Version number to serve again (default: the previous).",
)
@click.option("--reason", required=True, help=REASON_HELP)
@click.option("--as", "as_user", default=None, help=AS_HELP)
@friendly
def rollback_command(
    environment: str, pipeline: str, to_version: int | None, reason: str, as_user: str | None
) -> None:
    """Serve again a version that served PIPELINE in ENVIRONMENT before (a new ledger entry)."""
    steward = open_steward()
    target = steward.deployments.rollback_target(environment, pipeline, to_version)
    current = next(d for d in steward.deployments.serving(environment) if d.pipeline_name == pipeline)
    entry = steward.deployments.rollback(
        acting(steward, as_user), target.id, reason, expected_version=current.version
    )
    _moved(entry, "rolled back")
