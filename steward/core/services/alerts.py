"""Alerts: list them, and let operators acknowledge and resolve them (audited, one transaction each).

Alerts are opened by the unit of work from the audit events that are their
evidence (see :mod:`steward.core.services.alerting`); this service is how people
close them. An unresolved critical alert on a pipeline blocks its promotions
(:meth:`AlertService.open_critical` is the gate's question).
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.core.adapters.db.models import AlertOccurrenceRow, AlertRow, AuditHeadRow, UserRow
from steward.core.domain.accounts import Actor
from steward.core.domain.alerts import (
    UNRESOLVED,
    Alert,
    AlertStatus,
    Occurrence,
    maintenance_problem,
    transition_problem,
)
from steward.core.domain.names import validate_comment
from steward.core.domain.permissions import Action, is_allowed
from steward.core.domain.roles import Role
from steward.core.domain.signals import Severity
from steward.core.errors import InvalidInput, NotFound, StaleState
from steward.core.services import authz
from steward.core.services.alerting import enqueue_for_alert, to_alert, unresolved_critical
from steward.core.services.context import ServiceContext
from steward.core.services.uow import UnitOfWork

SEVERITY_ORDER = {Severity.CRITICAL: 0, Severity.WARNING: 1, Severity.INFO: 2}
MAX_SNOOZE = timedelta(days=30)


Mutator = Callable[[Session, AlertRow, Alert, str], None]  # refuses (raises) or changes the locked row


def _alert_id(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInput(f"alert id must be a positive whole number, got {str(value)[:20]!r}")
    return value


class AlertService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    # ---- reading -------------------------------------------------------------
    def list(
        self,
        *,
        status: AlertStatus | builtins.list[AlertStatus] | frozenset[AlertStatus] | None = None,
        severity: Severity | None = None,
        pipeline: str | None = None,
        limit: int = 200,
    ) -> builtins.list[Alert]:
        """Most severe first, then most recently seen; ``status`` may be one status or several."""
        statuses = {status} if isinstance(status, AlertStatus) else set(status or ())
        with UnitOfWork(self.ctx, write=False) as uow:
            query = select(AlertRow).order_by(AlertRow.last_seen_at.desc(), AlertRow.id.desc()).limit(limit)
            if statuses:
                query = query.where(AlertRow.status.in_(sorted(s.value for s in statuses)))
            if severity is not None:
                query = query.where(AlertRow.severity == Severity(severity).value)
            if pipeline is not None:
                query = query.where(AlertRow.pipeline == pipeline)
            alerts = [to_alert(row) for row in uow.session.scalars(query)]
        return sorted(alerts, key=lambda a: SEVERITY_ORDER[a.severity])  # stable: keeps recency within

    def unresolved(self) -> builtins.list[Alert]:
        """The incident board: awake before snoozed, most severe first, then open longest."""
        now = self.ctx.clock.now()
        return sorted(self.list(status=UNRESOLVED, limit=1000), key=lambda a: a.rank(now))

    def timeline(self, alert_id: int, limit: int = 1000) -> builtins.list[Occurrence]:
        """The incident's occurrences, oldest first: every firing of its cause."""
        with UnitOfWork(self.ctx, write=False) as uow:
            rows = uow.session.scalars(
                select(AlertOccurrenceRow)
                .where(AlertOccurrenceRow.alert_id == _alert_id(alert_id))
                .order_by(AlertOccurrenceRow.occurred_at, AlertOccurrenceRow.id)
                .limit(limit)
            )
            return [Occurrence(r.id, r.alert_id, r.occurred_at, r.seq, r.value, r.detail) for r in rows]

    def recently_resolved(self, limit: int = 20) -> builtins.list[Alert]:
        with UnitOfWork(self.ctx, write=False) as uow:
            rows = uow.session.scalars(
                select(AlertRow)
                .where(AlertRow.status == AlertStatus.RESOLVED.value)
                .order_by(AlertRow.resolved_at.desc(), AlertRow.id.desc())
                .limit(limit)
            )
            return [to_alert(row) for row in rows]

    def get(self, alert_id: int) -> Alert:
        with UnitOfWork(self.ctx, write=False) as uow:
            row = uow.session.get(AlertRow, _alert_id(alert_id))
            if row is None:
                raise NotFound(f"no alert #{alert_id}")
            return to_alert(row)

    def open_critical(self, pipeline_name: str) -> builtins.list[Alert]:
        """Unresolved critical alerts on the pipeline: what the promotion gate refuses to look past."""
        with UnitOfWork(self.ctx, write=False) as uow:
            return unresolved_critical(uow.session, pipeline_name)

    # ---- acting ----------------------------------------------------------------
    def acknowledge(self, actor: Actor, alert_id: int, comment: str = "") -> Alert:
        """Say someone is looking into it. The alert stays unresolved (and keeps blocking what it blocks)."""

        def change(_db: Session, row: AlertRow, before: Alert, text: str) -> None:
            _refuse(transition_problem(before, AlertStatus.ACKNOWLEDGED))
            row.status = AlertStatus.ACKNOWLEDGED.value
            row.acknowledged_by, row.acknowledged_at = actor.username, self.ctx.clock.now()
            row.acknowledge_comment = text

        return self._change(actor, alert_id, "acknowledge", comment, change)

    def resolve(self, actor: Actor, alert_id: int, comment: str) -> Alert:
        """Close the alert, saying what was done; a repeat of its event afterwards reopens it."""

        def change(db: Session, row: AlertRow, before: Alert, text: str) -> None:
            if not text:
                raise InvalidInput("resolving an alert needs a comment saying what was done")
            _refuse(transition_problem(before, AlertStatus.RESOLVED))
            now = self.ctx.clock.now()
            row.status = AlertStatus.RESOLVED.value
            row.resolved_by, row.resolved_at, row.resolution = actor.username, now, text
            row.snoozed_until = None
            db.flush()
            enqueue_for_alert(db, row, now)  # the channels hear it is over

        return self._change(actor, alert_id, "resolve", comment, change)

    def assign(self, actor: Actor, alert_id: int, assignee: str, comment: str = "") -> Alert:
        """Give the incident to a person (an active user who may manage alerts); audited."""
        wanted = (assignee or "").strip()

        def change(db: Session, row: AlertRow, before: Alert, _text: str) -> None:
            _refuse(maintenance_problem(before, "assign"))
            user = db.scalar(select(UserRow).where(UserRow.username == wanted))
            if user is None or not user.active:
                raise InvalidInput(f"no active user {wanted[:100]!r} to assign alert #{row.id} to")
            if not is_allowed([Role(r.role) for r in user.roles], Action.MANAGE_ALERTS):
                raise InvalidInput(f"{wanted[:100]} may not manage alerts, so cannot own an incident")
            row.assigned_to = wanted

        return self._change(actor, alert_id, "assign", comment, change)

    def snooze(self, actor: Actor, alert_id: int, until: datetime, comment: str = "") -> Alert:
        """Keep the incident quiet (ranked last) until ``until``; it stays unresolved; audited."""
        now = self.ctx.clock.now()
        if until.tzinfo is None:
            raise InvalidInput("snooze until needs a time zone (UTC)")
        if not now < until <= now + MAX_SNOOZE:
            raise InvalidInput(f"snooze until must be in the future and within {MAX_SNOOZE.days} days")

        def change(_db: Session, row: AlertRow, before: Alert, _text: str) -> None:
            _refuse(maintenance_problem(before, "snooze"))
            row.snoozed_until = until

        return self._change(actor, alert_id, "snooze", comment, change)

    def _change(self, actor: Actor, alert_id: object, verb: str, comment: str, change: Mutator) -> Alert:
        """Check, lock, let ``change`` refuse or mutate the row, record ``alert.<verb>``: one transaction."""
        authz.check(
            self.ctx,
            actor,
            Action.MANAGE_ALERTS,
            object_type="alert",
            object_id=str(alert_id)[:20],
            what=f"{verb} alert #{str(alert_id)[:20]}",
        )
        number = _alert_id(alert_id)
        text = validate_comment(comment)
        with UnitOfWork(self.ctx) as uow:
            db = uow.session
            # Lock order: the audit head first, as UnitOfWork.record does before it opens or bumps an
            # alert, so a resolve and a repeat of the alert's event queue instead of deadlocking.
            db.get(AuditHeadRow, 1, with_for_update=True, populate_existing=True)
            row = db.get(AlertRow, number, with_for_update=True, populate_existing=True)
            if row is None:
                raise NotFound(f"no alert #{number}")
            before = to_alert(row)
            change(db, row, before, text)
            db.flush()
            after = to_alert(row)
            uow.record(
                actor,
                f"alert.{verb}",
                object_type="alert",
                object_id=str(number),
                before=before.snapshot(),
                after=after.snapshot(),
                detail=text,
            )
            uow.commit()
            return after


def _refuse(problem: str | None) -> None:
    """Someone else moved the incident first: say so, change nothing."""
    if problem:
        raise StaleState(f"{problem}; nothing was changed")
