"""Late batch runs: a monitor with an expected schedule that has not run within its interval plus grace.

Nothing records an event when something does *not* happen, so the worker's
``batch.late`` job looks: for each pipeline and environment with enabled
monitors, how far past due is the most overdue one (its last run, or its
creation if it never ran, plus its interval)? The rules table decides the rest
(``batch.late``: the threshold is the grace in minutes past due, "for N
windows" means N consecutive checks): a breaching check raises an
``alert.fire`` while no incident is open, so a late monitor is one firing per
check until it opens and then silence, not an audit event every tick. When a
run lands (nothing is past due any more) the check resolves the incident,
audited as ``alert.resolve`` by the worker. One transaction per check.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from steward.core.adapters.db.models import (
    AlertRow,
    AuditHeadRow,
    BatchRunRow,
    EnvironmentRow,
    MonitorRow,
    PipelineRow,
)
from steward.core.clock import utc
from steward.core.domain.accounts import Actor
from steward.core.domain.alert_rules import BATCH_LATE_KIND, Comparison
from steward.core.domain.alerts import AlertStatus
from steward.core.services.alerting import (
    enqueue_for_alert,
    raise_alert,
    rule_settings,
    to_alert,
    unresolved_row,
)
from steward.core.services.context import ServiceContext
from steward.core.services.uow import UnitOfWork


@dataclass(frozen=True)
class Lateness:
    """The most overdue enabled monitor of one pipeline in one environment."""

    pipeline: str
    environment: str
    dataset: str
    every_minutes: int
    last_run_at: datetime | None
    minutes_past_due: float  # negative: not due yet

    def words(self) -> str:
        last = f"last run {self.last_run_at:%Y-%m-%d %H:%M} UTC" if self.last_run_at else "it never ran"
        return (
            f"monitor '{self.dataset}' of {self.pipeline} in {self.environment} expects a run every "
            f"{self.every_minutes} min; {last}; {self.minutes_past_due:.0f} min past due"
        )


def fingerprint(pipeline: str, environment: str) -> str:
    """The same key :func:`raise_alert`'s firings get: one late incident per pipeline and environment."""
    return f"{BATCH_LATE_KIND}|{pipeline}|{environment}"[:400]


class BatchLateService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def lateness(self) -> list[Lateness]:
        """Per pipeline and environment with an enabled monitor: its most overdue monitor, worst first."""
        with UnitOfWork(self.ctx, write=False) as uow:
            return self._lateness(uow, self.ctx.clock.now())

    def check(self, actor: Actor) -> str:
        """Fire for the late, resolve the incidents of those whose run landed; a one-line summary."""
        fired: list[str] = []
        recovered: list[str] = []
        with UnitOfWork(self.ctx) as uow:
            db = uow.session
            db.get(AuditHeadRow, 1, with_for_update=True, populate_existing=True)  # every alert writer's lock
            now = self.ctx.clock.now()
            settings = rule_settings(db, BATCH_LATE_KIND)
            grace = (
                settings.threshold if settings.comparison is Comparison.ABOVE and settings.threshold else 0
            )
            for late in self._lateness(uow, now):
                open_row = unresolved_row(db, fingerprint(late.pipeline, late.environment))
                if late.minutes_past_due >= grace and settings.enabled and open_row is None:
                    raise_alert(
                        uow,
                        actor,
                        BATCH_LATE_KIND,
                        pipeline=late.pipeline,
                        environment=late.environment,
                        subject=f"monitor '{late.dataset}'",
                        value=round(late.minutes_past_due, 1),
                        detail=late.words(),
                    )
                    fired.append(f"{late.pipeline}/{late.environment}")
                elif late.minutes_past_due <= 0 and open_row is not None:
                    self._resolve(uow, actor, open_row, now, late)
                    recovered.append(f"{late.pipeline}/{late.environment}")
            uow.commit()
        return f"{len(fired)} late ({', '.join(fired) or 'none'}), {len(recovered)} back on time"

    @staticmethod
    def _resolve(uow: UnitOfWork, actor: Actor, row: AlertRow, now: datetime, late: Lateness) -> None:
        before = to_alert(row)
        row.status = AlertStatus.RESOLVED.value
        row.resolved_by, row.resolved_at = actor.username, now
        landed = f"{late.last_run_at:%Y-%m-%d %H:%M} UTC" if late.last_run_at else "just now"
        row.resolution = f"back on time: monitor '{late.dataset}' ran at {landed}"[:4000]
        row.snoozed_until = None
        uow.session.flush()
        enqueue_for_alert(uow.session, row, now)
        uow.record(
            actor,
            "alert.resolve",
            object_type="alert",
            object_id=str(row.id),
            before=before.snapshot(),
            after=to_alert(row).snapshot(),
            detail=row.resolution,
        )

    @staticmethod
    def _lateness(uow: UnitOfWork, now: datetime) -> list[Lateness]:
        db = uow.session
        last_run = (
            select(BatchRunRow.monitor_id, func.max(BatchRunRow.started_at).label("last"))
            .group_by(BatchRunRow.monitor_id)
            .subquery()
        )
        rows = db.execute(
            select(MonitorRow, PipelineRow.name, EnvironmentRow.name, last_run.c.last)
            .join(PipelineRow, PipelineRow.id == MonitorRow.pipeline_id)
            .join(EnvironmentRow, EnvironmentRow.id == MonitorRow.environment_id)
            .outerjoin(last_run, last_run.c.monitor_id == MonitorRow.id)
            .where(MonitorRow.enabled.is_(True))
            .order_by(MonitorRow.id)
        )
        worst: dict[tuple[str, str], Lateness] = {}
        for monitor, pipeline, environment, last in rows:
            last_at = utc(last) if last is not None else None
            since = last_at or utc(monitor.created_at)
            past_due = (now - since).total_seconds() / 60 - monitor.every_minutes
            found = Lateness(pipeline, environment, monitor.dataset, monitor.every_minutes, last_at, past_due)
            key = (pipeline, environment)
            if key not in worst or past_due > worst[key].minutes_past_due:
                worst[key] = found
        return sorted(worst.values(), key=lambda late: -late.minutes_past_due)
