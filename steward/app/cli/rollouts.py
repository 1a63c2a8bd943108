"""``steward shadow`` and ``steward canary``: start, watch and end a challenger beside what serves."""

from __future__ import annotations

import click

from steward.app.cli.context import AS_HELP, acting, open_steward
from steward.app.errors import friendly
from steward.core.domain.latency import latency_text
from steward.core.domain.rollouts import RolloutKind, RolloutWatch
from steward.core.services.rollouts import RolloutService


def describe_watch(watch: RolloutWatch) -> list[str]:
    """The live comparison as lines (the CLI's status; the page shows the same figures)."""
    r = watch.rollout
    lines = [f"rollout #{r.id}: {r.label} ({r.status.value}; ends {r.ends_at:%Y-%m-%d %H:%M} UTC)"]
    for name, arm in (("champion", watch.champion), ("challenger", watch.challenger)):
        rate = "-" if arm.error_rate is None else f"{arm.error_rate:.1%}"
        lines.append(
            f"  {name} v{arm.version_number}: {arm.requests:,} requests, {arm.errors:,} errors ({rate}), "
            f"p50 {latency_text(arm.p50_ms)}, p95 {latency_text(arm.p95_ms)}"
        )
    agreement = watch.agreement
    if agreement is not None and agreement.rate is not None:
        delta = "" if agreement.mean_delta is None else f", mean difference {agreement.mean_delta:+.4g}"
        lines.append(f"  agreement {agreement.rate:.1%} of {agreement.compared:,} requests{delta}")
    lines.append(f"  {watch.verdict}")
    if r.end_reason:
        lines.append(f"  ended: {r.end_reason}")
    return lines


def _group(kind: RolloutKind, doc: str) -> click.Group:
    @click.group(kind.value, help=doc)
    def group() -> None:
        pass

    share_option = (
        [click.option("--share", type=float, required=True, help="Fraction of traffic (0.01 to 0.5).")]
        if kind is RolloutKind.CANARY
        else []
    )

    def start(
        pipeline: str,
        version: int,
        environment: str,
        minutes: float,
        reason: str,
        as_user: str | None,
        share: float | None = None,
    ) -> None:
        steward = open_steward()
        rollout = RolloutService(steward.ctx).start(
            acting(steward, as_user),
            kind,
            environment,
            pipeline,
            version,
            minutes=minutes,
            share=share,
            reason=reason,
        )
        click.echo(f"rollout #{rollout.id} started: {rollout.label} until {rollout.ends_at:%H:%M} UTC")

    command = start
    for option in share_option:
        command = option(command)
    command = click.option("--as", "as_user", default=None, help=AS_HELP)(command)
    command = click.option("--reason", default="", help="Why (kept in the audit log).")(command)
    command = click.option(
        "--minutes", type=float, default=60.0, show_default=True, help="How long before it ends by itself."
    )(command)
    command = click.argument("environment")(command)
    command = click.argument("version", type=int)(command)
    command = click.argument("pipeline")(command)
    group.command("start", help=f"Start a {kind.value} of VERSION of PIPELINE in ENVIRONMENT; audited.")(
        friendly(command)
    )

    @group.command("status")
    @click.argument("environment")
    @click.argument("pipeline")
    @friendly
    def status(environment: str, pipeline: str) -> None:
        """The newest rollout of PIPELINE in ENVIRONMENT with its live comparison."""
        service = RolloutService(open_steward().ctx)
        found = [r for r in service.list(environment, pipeline, limit=10) if r.kind is kind]
        if not found:
            click.echo(f"no {kind.value} of {pipeline} in {environment} yet")
            return
        for line in describe_watch(service.watch(found[0].id)):
            click.echo(line)

    @group.command("end")
    @click.argument("rollout_id", type=int)
    @click.option("--reason", default="", help="Why (kept in the audit log).")
    @click.option("--as", "as_user", default=None, help=AS_HELP)
    @friendly
    def end(rollout_id: int, reason: str, as_user: str | None) -> None:
        """End rollout ROLLOUT_ID now; the champion alone serves again. Audited."""
        steward = open_steward()
        ended = RolloutService(steward.ctx).end(acting(steward, as_user), rollout_id, reason)
        click.echo(f"rollout #{ended.id} ended: {ended.label}")

    return group


shadow_group = _group(
    RolloutKind.SHADOW,
    "A challenger scores the same requests as the champion; its answers are logged, never returned.",
)
canary_group = _group(
    RolloutKind.CANARY,
    "A challenger answers a share of traffic, sticky by key; rolled back by itself on an SLA breach.",
)
