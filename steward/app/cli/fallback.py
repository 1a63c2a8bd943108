"""``steward fallback``: a deployment's fallback rule set: show, save a version, arm, fail over and back.

Each change is made by ``RuleSetService``, which checks the right to fail
over in the environment's tier and audits it. ``save --file`` takes the JSON
form (see docs/serving.md).
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from steward.app.cli.context import AS_HELP, acting, open_steward
from steward.app.errors import friendly
from steward.core.errors import InvalidInput

REASON_HELP = "Why (kept in the audit log)."


@click.group("fallback")
def fallback_group() -> None:
    """Fallback rule sets per deployment: show, save a version, arm, fail over to one and back."""


@fallback_group.command("show")
@click.argument("environment")
@click.argument("pipeline")
@friendly
def show(environment: str, pipeline: str) -> None:
    """Print the latest rule set of PIPELINE in ENVIRONMENT (JSON) and whether it is armed or answering."""
    steward = open_steward()
    latest = steward.rule_sets.latest(environment, pipeline)
    if latest is None:
        click.echo(f"{pipeline} in {environment} has no rule set")
        return
    arm = steward.rule_sets.arm_of(environment, pipeline)
    state = "not armed" if arm is None else f"armed: {arm.version.label}"
    if arm is not None and arm.engaged:
        state += f", answering every request (failed over by {arm.engaged_by})"
    click.echo(f"{latest.label} by {latest.created_by}; {state}")
    click.echo(json.dumps(latest.rule_set.to_dict(), indent=2))


@fallback_group.command("save")
@click.argument("environment")
@click.argument("pipeline")
@click.option("--file", "path", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True)
@click.option("--comment", default="", help="What changed (kept in the audit log).")
@click.option("--as", "as_user", default=None, help=AS_HELP)
@friendly
def save(environment: str, pipeline: str, path: Path, comment: str, as_user: str | None) -> None:
    """Save the rule set in FILE (JSON) as the next version of PIPELINE's in ENVIRONMENT."""
    steward = open_steward()
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as problem:
        raise InvalidInput(f"{path.name} is not JSON: {str(problem)[:200]}") from None
    saved = steward.rule_sets.save(acting(steward, as_user), environment, pipeline, body, comment)
    click.echo(f"saved {saved.label} for {pipeline} in {environment} ({len(saved.rule_set.rules)} rules)")


@fallback_group.command("arm")
@click.argument("environment")
@click.argument("pipeline")
@click.option("--version", "number", type=int, default=None, help="Rule-set version (default: the latest).")
@click.option("--as", "as_user", default=None, help=AS_HELP)
@friendly
def arm(environment: str, pipeline: str, number: int | None, as_user: str | None) -> None:
    """Make a rule set PIPELINE's fallback in ENVIRONMENT (the circuit breaker falls back to it)."""
    steward = open_steward()
    armed = steward.rule_sets.arm(acting(steward, as_user), environment, pipeline, number)
    click.echo(f"{armed.version.label} armed for {pipeline} in {environment}")


@fallback_group.command("disarm")
@click.argument("environment")
@click.argument("pipeline")
@click.option("--as", "as_user", default=None, help=AS_HELP)
@friendly
def disarm(environment: str, pipeline: str, as_user: str | None) -> None:
    """PIPELINE in ENVIRONMENT falls back to an earlier version again (if one is armed)."""
    steward = open_steward()
    steward.rule_sets.disarm(acting(steward, as_user), environment, pipeline)
    click.echo(f"rule set disarmed for {pipeline} in {environment}")


@fallback_group.command("failover")
@click.argument("environment")
@click.argument("pipeline")
@click.option("--reason", required=True, help=REASON_HELP)
@click.option("--as", "as_user", default=None, help=AS_HELP)
@friendly
def failover(environment: str, pipeline: str, reason: str, as_user: str | None) -> None:
    """Answer every request of PIPELINE in ENVIRONMENT from its armed rule set until failed back."""
    steward = open_steward()
    arm_ = steward.rule_sets.failover(acting(steward, as_user), environment, pipeline, reason)
    click.echo(f"failed over: {arm_.version.label} answers every request of {pipeline} in {environment}")


@fallback_group.command("failback")
@click.argument("environment")
@click.argument("pipeline")
@click.option("--reason", required=True, help=REASON_HELP)
@click.option("--as", "as_user", default=None, help=AS_HELP)
@friendly
def failback(environment: str, pipeline: str, reason: str, as_user: str | None) -> None:
    """The model answers PIPELINE's requests in ENVIRONMENT again (the rule set stays armed)."""
    steward = open_steward()
    steward.rule_sets.failback(acting(steward, as_user), environment, pipeline, reason)
    click.echo(f"failed back: the model answers {pipeline} in {environment} again")
