"""``steward alerts rules`` (list and edit each kind's settings) and ``steward alerts list`` (the board)."""

from __future__ import annotations

from typing import TextIO

import click

from steward.app.cli.context import AS_HELP, acting, open_steward
from steward.app.errors import friendly
from steward.core.domain.alert_rules import Comparison, RuleSettings
from steward.core.domain.signals import Severity


@click.group("alerts")
def alerts_group() -> None:
    """Incidents and the rules that open them."""


def describe(rule: RuleSettings) -> str:
    return f"{rule.kind:24} {rule.severity.value:8} {rule.describe():52} {rule.title}"


@alerts_group.group("rules", invoke_without_command=True)
@click.pass_context
@friendly
def rules_group(ctx: click.Context) -> None:
    """List every kind of alert with its severity and condition (a subcommand edits one)."""
    if ctx.invoked_subcommand is None:
        for rule in open_steward().alert_rules.list():
            click.echo(describe(rule))


@rules_group.command("set")
@click.argument("kind")
@click.option("--severity", type=click.Choice([s.value for s in Severity]), default=None)
@click.option("--comparison", type=click.Choice([c.value for c in Comparison]), default=None)
@click.option("--threshold", type=float, default=None, help="The value the comparison is against.")
@click.option("--windows", type=int, default=None, help="Consecutive firings before an incident opens.")
@click.option("--minutes", type=int, default=None, help="...all within this many minutes (0: no limit).")
@click.option("--enable/--disable", "enabled", default=None)
@click.option(
    "--runbook-file", type=click.File("r", encoding="utf-8"), default=None, help="Markdown runbook."
)
@click.option("--as", "as_user", default=None, help=AS_HELP)
@friendly
def rules_set(
    kind: str,
    severity: str | None,
    comparison: str | None,
    threshold: float | None,
    windows: int | None,
    minutes: int | None,
    enabled: bool | None,
    runbook_file: TextIO | None,
    as_user: str | None,
) -> None:
    """Change KIND's settings (what is left out is kept); audited."""
    steward = open_steward()
    changes: dict[str, object] = {}
    if threshold is not None:
        changes["threshold"] = threshold
    rule = steward.alert_rules.update(
        acting(steward, as_user),
        kind,
        severity=severity,
        comparison=comparison,
        windows=windows,
        minutes=minutes,
        enabled=enabled,
        runbook=runbook_file.read() if runbook_file is not None else None,
        **changes,
    )
    click.echo(describe(rule))


@alerts_group.command("list")
@friendly
def alerts_list() -> None:
    """The incident board: awake before snoozed, most severe first, then open longest."""
    for a in open_steward().alerts.unresolved():
        owner = f" -> {a.assigned_to}" if a.assigned_to else ""
        click.echo(
            f"#{a.id:<5} {a.severity.value:8} {a.status.value:12} {a.title} on {a.where}"
            f" ({a.count} occurrence(s), since {a.opened_at:%Y-%m-%d %H:%M}){owner}"
        )
