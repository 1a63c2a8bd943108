"""Alert rules: operators and admins read and edit each kind's settings (audited, one transaction each)."""

from __future__ import annotations

import builtins
from dataclasses import replace

from sqlalchemy import select

from steward.core.adapters.db.models import AlertRuleRow
from steward.core.domain.accounts import Actor
from steward.core.domain.alert_rules import DEFAULTS, Comparison, RuleSettings, validated
from steward.core.domain.permissions import Action
from steward.core.domain.signals import Severity
from steward.core.errors import InvalidInput, NotFound
from steward.core.services import authz
from steward.core.services.alerting import rule_settings, to_settings
from steward.core.services.context import ServiceContext
from steward.core.services.uow import UnitOfWork

_UNSET: object = object()


def _snapshot(rule: RuleSettings) -> dict[str, object]:
    return {
        "kind": rule.kind,
        "severity": rule.severity.value,
        "comparison": rule.comparison.value,
        "threshold": rule.threshold,
        "windows": rule.windows,
        "minutes": rule.minutes,
        "enabled": rule.enabled,
        "runbook_chars": len(rule.runbook),
    }


class AlertRuleService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def list(self) -> builtins.list[RuleSettings]:
        """Every kind: the stored settings, and the defaults of any kind not stored yet."""
        with UnitOfWork(self.ctx, write=False) as uow:
            stored = {row.kind: to_settings(row) for row in uow.session.scalars(select(AlertRuleRow))}
        return sorted({**DEFAULTS, **stored}.values(), key=lambda r: r.kind)

    def get(self, kind: str) -> RuleSettings:
        with UnitOfWork(self.ctx, write=False) as uow:
            if uow.session.get(AlertRuleRow, kind) is None and kind not in DEFAULTS:
                raise NotFound(f"no alert rule {str(kind)[:64]!r}; `steward alerts rules` lists them")
            return rule_settings(uow.session, kind)

    def update(
        self,
        actor: Actor,
        kind: str,
        *,
        severity: Severity | str | None = None,
        comparison: Comparison | str | None = None,
        threshold: float | object | None = _UNSET,
        windows: int | None = None,
        minutes: int | None = None,
        enabled: bool | None = None,
        runbook: str | None = None,
    ) -> RuleSettings:
        """Change what was given, keep the rest; audited with before and after."""
        authz.check(
            self.ctx,
            actor,
            Action.MANAGE_ALERTS,
            object_type="alert_rule",
            object_id=str(kind)[:64],
            what=f"edit alert rule {str(kind)[:64]}",
        )
        try:
            sev = Severity(severity) if severity is not None else None
            comp = Comparison(comparison) if comparison is not None else None
        except ValueError as exc:
            raise InvalidInput(f"alert rule {str(kind)[:64]}: {exc}") from None
        with UnitOfWork(self.ctx) as uow:
            db = uow.session
            row = db.get(AlertRuleRow, kind, with_for_update=True)
            if row is None and kind not in DEFAULTS:
                raise NotFound(f"no alert rule {str(kind)[:64]!r}; `steward alerts rules` lists them")
            before = to_settings(row) if row is not None else DEFAULTS[kind]
            now = self.ctx.clock.now()
            after = validated(
                replace(
                    before,
                    severity=sev or before.severity,
                    comparison=comp or before.comparison,
                    threshold=before.threshold if threshold is _UNSET else threshold,  # type: ignore[arg-type]
                    windows=before.windows if windows is None else windows,
                    minutes=before.minutes if minutes is None else minutes,
                    enabled=before.enabled if enabled is None else enabled,
                    runbook=before.runbook if runbook is None else runbook.replace("\r\n", "\n"),
                    updated_by=actor.username,
                    updated_at=now,
                )
            )
            if row is None:
                row = AlertRuleRow(kind=kind, title=after.title, page=after.page)
                db.add(row)
            row.severity, row.comparison, row.threshold = (
                after.severity.value,
                after.comparison.value,
                after.threshold,
            )
            row.windows, row.minutes, row.enabled, row.runbook = (
                after.windows,
                after.minutes,
                after.enabled,
                after.runbook,
            )
            row.updated_by, row.updated_at = after.updated_by, now
            db.flush()
            uow.record(
                actor,
                "alert_rule.update",
                object_type="alert_rule",
                object_id=kind,
                before=_snapshot(before),
                after=_snapshot(after),
                detail=after.describe(),
            )
            uow.commit()
            return after
