"""``steward retrain-policy``: when a pipeline retrains itself; every change is audited."""

from __future__ import annotations

import click

from steward.app.cli.context import AS_HELP, acting, open_steward
from steward.app.errors import friendly


@click.group("retrain-policy")
def retrain_policy() -> None:
    """Retrain policies: when a pipeline retrains itself (drift, performance, schedule); audited."""


@retrain_policy.command("set")
@click.argument("pipeline")
@click.option(
    "--dataset", required=True, help="The production data set to retrain on (its environment is watched)."
)
@click.option("--labels", default=None, help="A labels data set holding the target (delayed labels).")
@click.option("--id-column", default=None, help="The id column joining --labels to the production rows.")
@click.option("--drift-windows", type=int, default=None, help="Fire when the last N windows all drifted.")
@click.option(
    "--metric", default=None, help="Fire when this realised metric crosses --threshold (e.g. rmse)."
)
@click.option("--threshold", type=float, default=None, help="Below it for a score, above it for an error.")
@click.option("--every-hours", type=int, default=None, help="Fire when the last retrain is this old.")
@click.option("--request-to", default=None, help="After a retrain, request promotion to this environment.")
@click.option("--paused", is_flag=True, help="Store the policy without letting it fire.")
@click.option("--as", "as_user", default=None, help=AS_HELP)
@friendly
def retrain_policy_set(
    pipeline: str,
    dataset: str,
    labels: str | None,
    id_column: str | None,
    drift_windows: int | None,
    metric: str | None,
    threshold: float | None,
    every_hours: int | None,
    request_to: str | None,
    paused: bool,
    as_user: str | None,
) -> None:
    """Create or replace PIPELINE's retrain policy (checked like a retrain on the data set)."""
    steward = open_steward()
    policy = steward.retrain_policies.set(
        acting(steward, as_user),
        pipeline,
        dataset=dataset,
        labels=labels,
        id_column=id_column,
        drift_windows=drift_windows,
        metric=metric,
        threshold=threshold,
        every_hours=every_hours,
        request_to=request_to,
        enabled=not paused,
    )
    click.echo(f"policy #{policy.id}: {policy.describe()}")


@retrain_policy.command("show")
@click.argument("pipeline", required=False)
@friendly
def retrain_policy_show(pipeline: str | None) -> None:
    """Every policy (or PIPELINE's) and its latest retrains, newest first."""
    steward = open_steward()
    service = steward.retrain_policies
    policies = [p for p in service.list() if pipeline is None or p.pipeline_name == pipeline]
    if not policies:
        click.echo("no retrain policy" + (f" for {pipeline}" if pipeline else ""))
    for policy in policies:
        click.echo(f"#{policy.id} {policy.describe()} (set by {policy.updated_by})")
        for run in service.runs(policy.pipeline_name, limit=5):
            outcome = f"v{run.version_number}; {run.promotion_note}" if run.version_number else run.error
            click.echo(f"  {run.started_at:%Y-%m-%d %H:%M} {run.status:9} {run.reason}: {outcome}")


@retrain_policy.command("remove")
@click.argument("pipeline")
@click.option("--as", "as_user", default=None, help=AS_HELP)
@friendly
def retrain_policy_remove(pipeline: str, as_user: str | None) -> None:
    """Delete PIPELINE's retrain policy and its run history; audited."""
    steward = open_steward()
    steward.retrain_policies.remove(acting(steward, as_user), pipeline)
    click.echo(f"retrain policy of {pipeline} removed")
