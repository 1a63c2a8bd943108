"""Opening alerts from audit events, inside the transaction that appends the event.

The unit of work calls :func:`apply_alert_rules` for every event it records,
so no service has to remember to raise an alert, and a rolled-back action
leaves neither evidence nor alert. Kept apart from the alert service so the
unit of work can import it without importing the service that imports it.

Locking: the caller holds the audit head row (``UnitOfWork.record`` locks it
first), and every writer of alerts takes that lock before touching an alert,
so the "is one unresolved already?" read and the insert cannot interleave
with another writer, on SQLite or PostgreSQL. The partial unique index is the
backstop.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.core.adapters.db.models import AlertRow, UserRow
from steward.core.adapters.notifiers import Notification
from steward.core.domain.alerts import Alert, AlertStatus, rule_for
from steward.core.domain.audit import AuditEvent
from steward.core.domain.permissions import Action, roles_allowed
from steward.core.domain.signals import Severity

MAX_DETAIL = 4000


def to_alert(row: AlertRow) -> Alert:
    return Alert(
        id=row.id,
        fingerprint=row.fingerprint,
        kind=row.kind,
        severity=Severity(row.severity),
        title=row.title,
        detail=row.detail,
        pipeline=row.pipeline,
        object_type=row.object_type,
        object_id=row.object_id,
        first_seq=row.first_seq,
        last_seq=row.last_seq,
        count=row.count,
        status=AlertStatus(row.status),
        opened_at=row.opened_at,
        last_seen_at=row.last_seen_at,
        acknowledged_by=row.acknowledged_by,
        acknowledged_at=row.acknowledged_at,
        acknowledge_comment=row.acknowledge_comment,
        resolved_by=row.resolved_by,
        resolved_at=row.resolved_at,
        resolution=row.resolution,
    )


def unresolved_row(db: Session, fingerprint: str) -> AlertRow | None:
    return db.scalar(
        select(AlertRow).where(
            AlertRow.fingerprint == fingerprint, AlertRow.status != AlertStatus.RESOLVED.value
        )
    )


def apply_alert_rules(db: Session, event: AuditEvent) -> Notification | None:
    """Open the alert the rules say ``event`` means, or bump the unresolved one with its fingerprint.

    Returns what to tell people once the transaction commits (only for a newly opened alert).
    """
    rule = rule_for(event)
    if rule is None:
        return None
    fingerprint = rule.fingerprint(event)[:400]
    row = unresolved_row(db, fingerprint)
    if row is not None:
        row.count += 1
        row.last_seq, row.last_seen_at = event.seq, event.occurred_at
        row.detail = event.detail[:MAX_DETAIL] or row.detail
        db.flush()
        return None
    pipeline = rule.pipeline(event)
    row = AlertRow(
        fingerprint=fingerprint,
        kind=rule.kind,
        severity=rule.severity.value,
        title=rule.title,
        detail=event.detail[:MAX_DETAIL],
        pipeline=pipeline[:100] if pipeline else None,
        object_type=event.object_type,
        object_id=event.object_id,
        first_seq=event.seq,
        last_seq=event.seq,
        count=1,
        status=AlertStatus.OPEN.value,
        opened_at=event.occurred_at,
        last_seen_at=event.occurred_at,
        acknowledge_comment="",
        resolution="",
    )
    db.add(row)
    db.flush()
    return opened_notification(db, to_alert(row))


def opened_notification(db: Session, alert: Alert) -> Notification:
    """Addressed to the people who may act on it: active users holding a role that manages alerts."""
    wanted = {role.value for role in roles_allowed(Action.MANAGE_ALERTS)}
    users = db.scalars(select(UserRow).where(UserRow.active.is_(True)).order_by(UserRow.username))
    return Notification(
        topic="alert.opened",
        subject=f"{alert.severity.value} alert #{alert.id}: {alert.title} ({alert.where})",
        body=f"{alert.detail[:500]}\nEvidence: {alert.evidence}",
        recipients=tuple(u.username for u in users if wanted & {r.role for r in u.roles}),
        data={"alert": alert.id, "severity": alert.severity.value, "pipeline": alert.pipeline},
    )


def unresolved_critical(db: Session, pipeline: str) -> list[Alert]:
    """Critical alerts on ``pipeline`` that nobody has resolved yet, oldest first (the promotion gate)."""
    return unresolved_critical_by_pipeline(db, [pipeline]).get(pipeline, [])


def unresolved_critical_by_pipeline(db: Session, pipelines: Collection[str]) -> dict[str, list[Alert]]:
    """The same for several pipelines in one statement: pipeline name -> its alerts, oldest first."""
    if not pipelines:
        return {}
    rows = db.scalars(
        select(AlertRow)
        .where(
            AlertRow.pipeline.in_(pipelines),
            AlertRow.severity == Severity.CRITICAL.value,
            AlertRow.status != AlertStatus.RESOLVED.value,
        )
        .order_by(AlertRow.id)
    )
    result: dict[str, list[Alert]] = {}
    for row in rows:
        result.setdefault(row.pipeline or "", []).append(to_alert(row))
    return result
