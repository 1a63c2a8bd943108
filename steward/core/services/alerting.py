"""Opening incidents from audit events, inside the transaction that appends the event.

The unit of work calls :func:`apply_alert_rules_all` for every event it
records, so no service has to remember to raise an alert, and a rolled-back
action leaves neither evidence nor alert. Kept apart from the alert service so
the unit of work can import it without importing the service that imports it.

Each firing is an occurrence: attached to the unresolved incident of its
fingerprint (one cause on one pipeline and environment), or pending until its
rule's condition (N consecutive windows, within M minutes) holds, when it
opens the incident, or reopens the resolved one. Monitors without an audit
event of their own raise a firing with :func:`raise_alert` (an ``alert.fire``
event). Opening and reopening write the channels' outbox rows in the same
transaction; a repeat of an unchanged incident writes nothing new. Opening
and reopening get audit events of their own (``alert.open``,
``alert.reopen``, by ``system:alerts``, see :func:`lifecycle_events`),
recorded by the unit of work right after the event that caused them; what
people do to an incident is audited as ``alert.*`` too.

Locking: the caller holds the audit head row (``UnitOfWork.record`` locks it
first), and every writer of alerts takes that lock before touching an alert,
so the "is one unresolved already?" read and the insert cannot interleave
with another writer, on SQLite or PostgreSQL. The partial unique index is the
backstop.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from steward.core.adapters.db.models import (
    AlertOccurrenceRow,
    AlertRow,
    AlertRuleRow,
    DriftWindowRow,
    NotificationChannelRow,
    NotificationOutboxRow,
    UserRow,
)
from steward.core.adapters.notifiers import Notification
from steward.core.domain.accounts import Actor
from steward.core.domain.alert_rules import (
    DRIFT_KIND,
    PERFORMANCE_KIND,
    QUALITY_KIND,
    Comparison,
    RuleSettings,
    default_for,
)
from steward.core.domain.alerts import Alert, AlertStatus, rule_for
from steward.core.domain.audit import AuditEvent, Outcome
from steward.core.domain.notifications import ChannelKind, OutboxStatus
from steward.core.domain.permissions import Action, roles_allowed
from steward.core.domain.signals import Severity

if TYPE_CHECKING:
    from steward.core.services.uow import UnitOfWork

MAX_DETAIL = 4000
FIRE_ACTION = "alert.fire"


@dataclass(frozen=True)
class Firing:
    """One occurrence of a cause, before the rules decide what it means."""

    kind: str
    fingerprint: str
    pipeline: str | None
    environment: str | None
    object_type: str
    object_id: str
    occurred_at: datetime
    seq: int | None
    value: float | None
    detail: str
    title: str
    severity: Severity


@dataclass
class AlertEffects:
    """What applying the rules to one event did, for the unit of work to finish after it."""

    notifications: list[Notification] = field(default_factory=list)
    opened: list[Alert] = field(default_factory=list)  # opened or reopened by this event (its evidence)


OPENER = Actor.system_actor("alerts")  # who opens and reopens incidents: the rules, not a person


@dataclass(frozen=True)
class LifecycleEvent:
    """The audit event of an incident opening or reopening, recorded right after the event that caused it."""

    action: str  # alert.open or alert.reopen
    object_id: str
    after: dict[str, Any]
    detail: str


def lifecycle_events(effects: AlertEffects, cause: AuditEvent) -> list[LifecycleEvent]:
    """One ``alert.open`` or ``alert.reopen`` per incident the cause opened, naming the cause's seq."""
    found = []
    for alert in effects.opened:
        verb = "reopen" if alert.status is AlertStatus.REOPENED else "open"
        found.append(
            LifecycleEvent(
                action=f"alert.{verb}",
                object_id=str(alert.id),
                after=alert.snapshot() | {"cause_seq": cause.seq},
                detail=f"{verb}ed by audit #{cause.seq}: {alert.title}, {alert.where}"[:MAX_DETAIL],
            )
        )
    return found


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
        environment=row.environment,
        assigned_to=row.assigned_to,
        snoozed_until=row.snoozed_until,
        reopened_count=row.reopened_count or 0,
    )


def to_settings(row: AlertRuleRow) -> RuleSettings:
    return RuleSettings(
        kind=row.kind,
        title=row.title,
        severity=Severity(row.severity),
        page=row.page,
        comparison=Comparison(row.comparison),
        threshold=row.threshold,
        windows=row.windows,
        minutes=row.minutes,
        enabled=row.enabled,
        runbook=row.runbook,
        updated_by=row.updated_by,
        updated_at=row.updated_at,
    )


def rule_settings(db: Session, kind: str) -> RuleSettings:
    """The operators' settings of ``kind``, or its default when nobody stored any."""
    row = db.get(AlertRuleRow, kind)
    return to_settings(row) if row is not None else default_for(kind)


def unresolved_row(db: Session, fingerprint: str) -> AlertRow | None:
    return db.scalar(
        select(AlertRow).where(
            AlertRow.fingerprint == fingerprint, AlertRow.status != AlertStatus.RESOLVED.value
        )
    )


def _latest_resolved(db: Session, fingerprint: str) -> AlertRow | None:
    return db.scalar(
        select(AlertRow)
        .where(AlertRow.fingerprint == fingerprint, AlertRow.status == AlertStatus.RESOLVED.value)
        .order_by(AlertRow.id.desc())
        .limit(1)
    )


# ---- the entry points ------------------------------------------------------------------------------
def raise_alert(
    uow: UnitOfWork,
    actor: Actor,
    kind: str,
    *,
    pipeline: str | None = None,
    environment: str | None = None,
    subject: str = "",
    value: float | None = None,
    detail: str = "",
) -> AuditEvent:
    """A monitor's firing of ``kind`` (SLA window missed, run late, ...), audited as ``alert.fire``.

    The rules decide, in this transaction, whether it opens, counts on, or
    reopens an incident, or stays pending until its condition holds.
    """
    where = subject or "/".join(p for p in (environment, pipeline) if p)
    return uow.record(
        actor,
        FIRE_ACTION,
        object_type="alert_source",
        object_id=where[:200],
        after={"kind": kind, "pipeline": pipeline, "environment": environment, "value": value},
        detail=detail,
    )


def apply_alert_rules(db: Session, event: AuditEvent) -> Notification | None:
    """Older entry point: the first notification of :func:`apply_alert_rules_all` (kept for callers)."""
    effects = apply_alert_rules_all(db, event)
    return effects.notifications[0] if effects.notifications else None


def apply_alert_rules_all(db: Session, event: AuditEvent) -> AlertEffects:
    """Every firing ``event`` means, applied; what to tell people once the transaction commits."""
    effects = AlertEffects()
    for firing in firings_of(db, event):
        fire(db, firing, effects)
    return effects


def firings_of(db: Session, event: AuditEvent) -> list[Firing]:
    """What causes an event is evidence of: an event rule's kind, a raised alert, a run's windows."""
    if event.action.startswith("alert.") and event.action != FIRE_ACTION:
        return []  # people handling incidents fire nothing
    after = event.after or {}
    if event.action == FIRE_ACTION:
        kind = str(after.get("kind") or "")[:64]
        value = after.get("value")
        pipeline, environment = after.get("pipeline"), after.get("environment")
        return [
            _firing(
                kind,
                event,
                pipeline=str(pipeline) if pipeline else None,
                environment=str(environment) if environment else None,
                value=float(value)
                if isinstance(value, int | float) and not isinstance(value, bool)
                else None,
            )
        ]
    found = []
    rule = rule_for(event)
    if rule is not None:
        found.append(
            Firing(
                kind=rule.kind,
                fingerprint=rule.fingerprint(event)[:400],  # the event's own object: a monitor keeps its id
                pipeline=rule.pipeline(event),
                environment=rule.environment(event),
                object_type=event.object_type,
                object_id=_object_named(event),
                occurred_at=event.occurred_at,
                seq=event.seq,
                value=None,
                detail=event.detail,
                title=rule.title,
                severity=rule.severity,
            )
        )
    if event.action == "batch.run" and event.outcome is Outcome.OK:
        found.extend(_window_firings(db, event))
    return found


def _object_named(event: AuditEvent) -> str:
    """The object in words for the incident: a monitor by its data set (its name), not its number."""
    dataset = (event.after or {}).get("dataset")
    if event.object_type == "monitor" and isinstance(dataset, str) and dataset:
        return dataset[:200]
    return event.object_id


def _firing(
    kind: str,
    event: AuditEvent,
    *,
    pipeline: str | None,
    environment: str | None,
    value: float | None,
    detail: str | None = None,
) -> Firing:
    """A firing about one cause on one pipeline and environment (or on one object, without them)."""
    where = f"{pipeline}|{environment}" if pipeline else f"{event.object_type}|{event.object_id}"
    return Firing(
        kind=kind,
        fingerprint=f"{kind}|{where}"[:400],
        pipeline=pipeline,
        environment=environment,
        object_type=event.object_type,
        object_id=_object_named(event),
        occurred_at=event.occurred_at,
        seq=event.seq,
        value=value,
        detail=event.detail if detail is None else detail,
        title=kind,
        severity=Severity.WARNING,
    )


def _window_firings(db: Session, event: AuditEvent) -> list[Firing]:
    """Drift, data-quality and performance firings of a batch run, one per window that showed it.

    A window that shows nothing breaks the streak (clears what is pending), so
    "for N windows" means N consecutive windows.
    """
    after = event.after or {}
    run_id = after.get("run")  # the batch run's id: 32 hex characters (it was never an int)
    if not isinstance(run_id, str) or not run_id:
        return []
    pipeline = str(after.get("pipeline") or "") or None
    environment = str(after.get("environment") or "") or None
    windows = db.scalars(
        select(DriftWindowRow).where(DriftWindowRow.batch_run_id == run_id).order_by(DriftWindowRow.position)
    )
    found: list[Firing] = []
    for w in windows:
        ref = f"window {w.label} of run {run_id[:8]}"
        moved = _moved_share(w.report_json)
        checks = (
            (DRIFT_KIND, w.verdict == "drift", moved, f"{ref}: {w.reason}"),
            (
                QUALITY_KIND,
                bool(w.quality_findings),
                float(w.quality_findings or 0),
                f"{ref}: quality findings",
            ),
            (PERFORMANCE_KIND, w.performance_status == "degraded", None, f"{ref}: performance degraded"),
        )
        for kind, showed, value, detail in checks:
            firing = _firing(
                kind, event, pipeline=pipeline, environment=environment, value=value, detail=detail
            )
            if showed:
                found.append(firing)
            else:
                _clear_pending(db, firing.fingerprint)
    return found


def _moved_share(report_json: str) -> float | None:
    """The share of columns the window's report says moved, when it says."""
    try:
        report = json.loads(report_json)
    except ValueError:
        return None
    columns = report.get("columns") if isinstance(report, dict) else None
    if isinstance(columns, dict) and columns:
        columns = list(columns.values())
    if not isinstance(columns, list) or not columns:
        return None
    moved = sum(1 for c in columns if isinstance(c, dict) and c.get("drifted"))
    return moved / len(columns)


def _clear_pending(db: Session, fingerprint: str) -> None:
    db.execute(
        delete(AlertOccurrenceRow).where(
            AlertOccurrenceRow.fingerprint == fingerprint, AlertOccurrenceRow.alert_id.is_(None)
        )
    )


# ---- applying one firing ---------------------------------------------------------------------------
def fire(db: Session, firing: Firing, effects: AlertEffects) -> Alert | None:
    """Attach, open, reopen or keep pending; the incident touched, if any."""
    settings = rule_settings(db, firing.kind)
    if not settings.enabled:
        return None
    if not settings.breaches(firing.value):
        _clear_pending(db, firing.fingerprint)
        return None
    detail = firing.detail[:MAX_DETAIL]
    row = unresolved_row(db, firing.fingerprint)
    if row is not None:  # a repeat: on the timeline, nobody told again
        _occurrence(db, firing, row.id)
        row.count += 1
        if firing.seq is not None:
            row.last_seq = firing.seq
        row.last_seen_at = firing.occurred_at
        row.detail = detail or row.detail
        db.flush()
        return to_alert(row)
    _occurrence(db, firing, None)
    pending = list(
        db.scalars(
            select(AlertOccurrenceRow)
            .where(
                AlertOccurrenceRow.fingerprint == firing.fingerprint, AlertOccurrenceRow.alert_id.is_(None)
            )
            .order_by(AlertOccurrenceRow.occurred_at, AlertOccurrenceRow.id)
        )
    )
    if not settings.condition_met([o.occurred_at for o in pending], firing.occurred_at):
        return None
    first_seq = next((o.seq for o in pending if o.seq is not None), firing.seq or 0)
    row = _latest_resolved(db, firing.fingerprint)
    if row is not None:
        row.status = AlertStatus.REOPENED.value
        row.reopened_count = (row.reopened_count or 0) + 1
        row.count += len(pending)
        row.acknowledged_by = row.acknowledged_at = row.snoozed_until = None
        row.acknowledge_comment = ""
        row.severity, row.title = settings.severity.value, settings.title
    else:
        row = AlertRow(
            fingerprint=firing.fingerprint,
            kind=firing.kind,
            severity=settings.severity.value,
            title=settings.title,
            pipeline=firing.pipeline[:100] if firing.pipeline else None,
            environment=firing.environment[:64] if firing.environment else None,
            object_type=firing.object_type,
            object_id=firing.object_id,
            first_seq=first_seq,
            count=len(pending),
            status=AlertStatus.OPEN.value,
            opened_at=pending[0].occurred_at,
            acknowledge_comment="",
            resolution="",
            reopened_count=0,
            notified_key="",
        )
        db.add(row)
    row.detail = detail
    row.last_seq = firing.seq if firing.seq is not None else row.last_seq or first_seq
    row.last_seen_at = firing.occurred_at
    db.flush()
    for occurrence in pending:
        occurrence.alert_id = row.id
    alert = to_alert(row)
    effects.opened.append(alert)
    effects.notifications.append(opened_notification(db, alert))
    enqueue_for_alert(db, row, firing.occurred_at)
    db.flush()
    return alert


def _occurrence(db: Session, firing: Firing, alert_id: int | None) -> None:
    db.add(
        AlertOccurrenceRow(
            fingerprint=firing.fingerprint,
            alert_id=alert_id,
            occurred_at=firing.occurred_at,
            seq=firing.seq,
            value=firing.value,
            detail=firing.detail[:MAX_DETAIL],
        )
    )


# ---- telling people --------------------------------------------------------------------------------
def enqueue_for_alert(db: Session, row: AlertRow, now: datetime) -> int:
    """Outbox rows for the channels this incident routes to, unless they already heard of this state."""
    alert = to_alert(row)
    if row.notified_key == alert.state_key:
        return 0
    row.notified_key = alert.state_key
    verb = "reopened" if alert.status is AlertStatus.REOPENED else alert.status.value
    body = {
        "topic": "alert." + verb,
        "alert": alert.id,
        "kind": alert.kind,
        "severity": alert.severity.value,
        "title": alert.title,
        "status": alert.status.value,
        "pipeline": alert.pipeline,
        "environment": alert.environment,
        "opened_at": alert.opened_at.isoformat(),
        "occurrences": alert.count,
        "detail": alert.detail[:1000],
        "evidence": alert.evidence,
    }
    subject = f"[{alert.severity.value}] incident #{alert.id} {verb}: {alert.title} ({alert.where})"
    return enqueue(db, f"alert:{alert.id}|{alert.state_key}", "alert." + verb, subject, body, now, alert)


def enqueue(
    db: Session,
    dedupe_key: str,
    topic: str,
    subject: str,
    body: dict[str, Any],
    now: datetime,
    alert: Alert | None = None,
    people: Collection[str] = (),
) -> int:
    """One outbox row per channel that wants it; ``people`` (e-mail addresses) go to personal channels."""
    count = 0
    for channel in db.scalars(select(NotificationChannelRow).where(NotificationChannelRow.enabled.is_(True))):
        if alert is not None:
            severity_ok = _level(alert.severity) >= _level(Severity(channel.min_severity))
            wanted = {p.strip() for p in channel.pipelines.split(",") if p.strip()}
            if not severity_ok or (wanted and alert.pipeline not in wanted):
                continue
            recipients = channel.recipients
        else:
            if not (channel.kind == ChannelKind.EMAIL.value and channel.notify_people and people):
                continue
            recipients = ",".join(sorted(people))
        exists = db.scalar(
            select(NotificationOutboxRow.id).where(
                NotificationOutboxRow.channel_id == channel.id,
                NotificationOutboxRow.dedupe_key == dedupe_key[:200],
            )
        )
        if exists is not None:
            continue
        db.add(
            NotificationOutboxRow(
                channel_id=channel.id,
                dedupe_key=dedupe_key[:200],
                topic=topic[:64],
                subject=subject[:500],
                body_json=json.dumps(body, sort_keys=True, default=str),
                recipients=recipients,
                status=OutboxStatus.PENDING.value,
                attempts=0,
                next_attempt_at=now,
                last_error="",
                created_at=now,
            )
        )
        count += 1
    return count


def _level(severity: Severity) -> int:
    return {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}[severity]


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
