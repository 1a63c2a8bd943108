"""Judging every deployment's SLA from the rollups, and turning a change of standing into an event.

Run by the worker after each rollup. A deployment going into breach is an
audited ``sla.breached`` event (which opens the "SLA breached" alert through
the alert rules, in the same transaction); coming back within its targets is
an ``sla.recovered`` event that resolves that alert. Staying in breach writes
nothing new, so one breach is one alert however long it lasts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from steward.core.adapters.db.models import (
    AlertRow,
    DeploymentRow,
    EnvironmentRow,
    PipelineRow,
    RequestRollupRow,
    SlaStateRow,
    SlaTargetRow,
)
from steward.core.clock import utc
from steward.core.domain.accounts import Actor
from steward.core.domain.alerts import SLA_BREACH_KIND, AlertStatus
from steward.core.domain.audit import Outcome
from steward.core.domain.sla import SlaState, live_measurement, live_verdict
from steward.core.services.alerting import unresolved_row
from steward.core.services.context import ServiceContext
from steward.core.services.rollups import MINUTE, ONLINE, RollupService, floor_to
from steward.core.services.sla import targets_of
from steward.core.services.uow import UnitOfWork


@dataclass(frozen=True)
class SlaStanding:
    """The last verdict on one deployment, as pages show it."""

    environment: str
    pipeline: str
    state: SlaState
    since: datetime
    evaluated_at: datetime
    detail: str
    measured: dict[str, float | int | None]


def standing_of(row: SlaStateRow, environment: str, pipeline: str) -> SlaStanding:
    return SlaStanding(
        environment,
        pipeline,
        SlaState(row.state),
        utc(row.since),
        utc(row.evaluated_at),
        row.detail,
        json.loads(row.measured_json or "{}"),
    )


def breach_fingerprint(environment: str, pipeline: str) -> str:
    """The alert's fingerprint as the alert rules compute it for the ``sla.breached`` event."""
    return f"{SLA_BREACH_KIND}|sla|{environment}/{pipeline}"


class SlaEvaluation:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def standings(self) -> list[SlaStanding]:
        """The last verdict on every deployment the worker has judged."""
        with UnitOfWork(self.ctx, write=False) as uow:
            rows = uow.session.execute(
                select(SlaStateRow, EnvironmentRow.name, PipelineRow.name)
                .join(EnvironmentRow, EnvironmentRow.id == SlaStateRow.environment_id)
                .join(PipelineRow, PipelineRow.id == SlaStateRow.pipeline_id)
                .order_by(EnvironmentRow.position, PipelineRow.name)
            ).all()
            return [standing_of(row, env, pipeline) for row, env, pipeline in rows]

    def evaluate(self, actor: Actor) -> str:
        """Judge every deployment that has targets over its window; breaches and recoveries are audited."""
        now = self.ctx.clock.now()
        changes: list[str] = []
        judged = 0
        with UnitOfWork(self.ctx) as uow:
            db = uow.session
            rows = db.execute(
                select(SlaTargetRow, EnvironmentRow.name, PipelineRow.name)
                .join(EnvironmentRow, EnvironmentRow.id == SlaTargetRow.environment_id)
                .join(PipelineRow, PipelineRow.id == SlaTargetRow.pipeline_id)
                .order_by(EnvironmentRow.position, PipelineRow.name)
            ).all()
            states = {(s.environment_id, s.pipeline_id): s for s in db.scalars(select(SlaStateRow))}
            # Targets set before anything serves (so the first promotion's load test can be judged)
            # are not an outage: a deployment that does not exist yet is idle, not breached.
            serving = {
                (env_id, pipeline_id): utc(since)
                for env_id, pipeline_id, since in db.execute(
                    select(DeploymentRow.environment_id, DeploymentRow.pipeline_id, DeploymentRow.since)
                )
            }
            kept: set[tuple[int, int]] = set()
            for target_row, env_name, pipeline_name in rows:
                targets = targets_of(target_row)
                if targets.empty:
                    continue
                judged += 1
                key = (target_row.environment_id, target_row.pipeline_id)
                kept.add(key)
                tally = RollupService.window(db, *key, until=now, minutes=targets.window_minutes)
                covered = self._covered(db, key, serving.get(key), now, targets.window_minutes)
                # A throughput floor over a window the deployment has not served through yet would
                # count the minutes before it existed as silence: judge the other targets only.
                state, verdict = live_verdict(
                    tally, targets if covered else replace(targets, min_throughput_rps=None)
                )
                if key not in serving:
                    state = SlaState.IDLE
                measured = live_measurement(tally, targets.window_minutes)
                snapshot = {
                    "requests": measured.requests,
                    "errors": measured.errors,
                    "fallbacks": tally.fallbacks,
                    "p50_ms": measured.p50_ms,
                    "p95_ms": measured.p95_ms,
                    "p99_ms": measured.p99_ms,
                    "throughput_rps": measured.throughput_rps,
                    "window_minutes": targets.window_minutes,
                }
                if key not in serving:
                    detail = "nothing serves here yet"
                elif state is SlaState.IDLE and not covered:
                    minutes = targets.window_minutes
                    detail = f"not judged yet: serving history covers less than the {minutes}-min window"
                else:
                    detail = verdict.summary() if state is not SlaState.IDLE else "no request in the window"
                where = f"{env_name}/{pipeline_name}"
                row = states.get(key)
                previous = SlaState(row.state) if row is not None else None
                if row is None:
                    row = SlaStateRow(environment_id=key[0], pipeline_id=key[1], state=state.value, since=now)
                    db.add(row)
                elif previous is not state:
                    row.state, row.since = state.value, now
                row.evaluated_at, row.detail, row.measured_json = now, detail, json.dumps(snapshot)
                after = {"pipeline": pipeline_name, "environment": env_name, **snapshot}
                if state is SlaState.BREACHED and previous is not SlaState.BREACHED:
                    uow.record(
                        actor,
                        "sla.breached",
                        object_type="sla",
                        object_id=where,
                        after=after,
                        outcome=Outcome.FAILED,
                        detail=f"{pipeline_name} in {env_name} over the last "
                        f"{targets.window_minutes} min: {detail}",
                    )
                    changes.append(f"{where} breached")
                elif previous is SlaState.BREACHED and state is not SlaState.BREACHED:
                    event = uow.record(
                        actor,
                        "sla.recovered",
                        object_type="sla",
                        object_id=where,
                        after=after,
                        detail=f"{pipeline_name} in {env_name} is back within its SLA: {detail}",
                    )
                    self._resolve(db, where, actor, event.occurred_at, detail)
                    changes.append(f"{where} recovered")
            changes.extend(self._forget(uow, actor, states, kept))
            db.flush()
            uow.commit()
        return f"judged {judged} SLA(s)" + (": " + "; ".join(changes) if changes else ", no change")

    @staticmethod
    def _covered(
        db: Session, key: tuple[int, int], since: datetime | None, now: datetime, minutes: int
    ) -> bool:
        """Whether the deployment served (and its traffic was rolled up) from the window's start on."""
        start = floor_to(now, MINUTE) - timedelta(minutes=minutes)
        if since is None or since > start:
            return False
        first = db.scalar(
            select(func.min(RequestRollupRow.start)).where(
                RequestRollupRow.environment_id == key[0],
                RequestRollupRow.pipeline_id == key[1],
                RequestRollupRow.span_seconds == MINUTE,
                RequestRollupRow.channel == ONLINE,
            )
        )
        return first is not None and utc(first) <= start

    def _forget(
        self,
        uow: UnitOfWork,
        actor: Actor,
        states: dict[tuple[int, int], SlaStateRow],
        kept: set[tuple[int, int]],
    ) -> list[str]:
        """Drop the standing of deployments whose targets were removed; an open breach ends with it."""
        db = uow.session
        changes = []
        for key, row in states.items():
            if key in kept:
                continue
            if row.state == SlaState.BREACHED.value:
                names = (
                    db.scalar(select(EnvironmentRow.name).where(EnvironmentRow.id == key[0])),
                    db.scalar(select(PipelineRow.name).where(PipelineRow.id == key[1])),
                )
                where = f"{names[0]}/{names[1]}"
                event = uow.record(
                    actor,
                    "sla.recovered",
                    object_type="sla",
                    object_id=where,
                    after={"pipeline": names[1], "environment": names[0], "targets": None},
                    detail=f"{names[1]} in {names[0]} has no SLA targets any more: the breach ends",
                )
                self._resolve(db, where, actor, event.occurred_at, "SLA targets removed")
                changes.append(f"{where} targets removed")
            db.delete(row)
        return changes

    @staticmethod
    def _resolve(db: Session, where: str, actor: Actor, at: datetime, detail: str) -> None:
        """Close the breach's alert (the recovery event holds the audit head, as every alert writer must)."""
        environment, _, pipeline = where.partition("/")
        row: AlertRow | None = unresolved_row(db, breach_fingerprint(environment, pipeline))
        if row is None:
            return
        row.status = AlertStatus.RESOLVED.value
        row.resolved_by, row.resolved_at = actor.username, at
        row.resolution = f"recovered: {detail}"[:4000]
