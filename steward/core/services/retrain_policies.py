"""Retrain policies: set and read them (audited), and the worker's evaluation that runs the retrains.

Once per slot twice over: the worker's job claim lets one worker run a slot
(:class:`~steward.core.services.jobs.JobService`), and a retrain run is a row
unique per (policy, slot), so evaluating the same slot again (a second
worker, a retry, a manual call) starts nothing. The retrain is the ordinary
:meth:`PipelineService.retrain` (its own permission check and audit event);
a promotion is only *requested*, through :meth:`PromotionService.request`,
so the target environment's sign-off policy decides whether it ever serves.
"""

from __future__ import annotations

import builtins
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError as DBIntegrityError
from sqlalchemy.orm import Session

from steward.core.adapters.db.models import (
    DriftWindowRow,
    EnvironmentRow,
    PipelineRow,
    RetrainPolicyRow,
    RetrainRunRow,
)
from steward.core.domain.accounts import Actor
from steward.core.domain.audit import Outcome
from steward.core.domain.permissions import Action
from steward.core.domain.retrain_policies import (
    FAILED,
    RUNNING,
    SUCCEEDED,
    RetrainPolicy,
    RetrainRun,
    drift_persists,
    metric_crossed,
    schedule_due,
    validate_conditions,
)
from steward.core.errors import InvalidInput, NotFound, StewardError
from steward.core.services import authz
from steward.core.services.catalog import DatasetService
from steward.core.services.context import ServiceContext
from steward.core.services.deployments import DeploymentService
from steward.core.services.environments import EnvironmentService
from steward.core.services.uow import UnitOfWork

RUNS_SHOWN = 20


def _one_line(problem: BaseException) -> str:
    text = str(problem).strip().splitlines()
    return (text[0] if text else type(problem).__name__)[:500]


class RetrainPolicyService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    # ---- editing ------------------------------------------------------------------------------
    def set(
        self,
        actor: Actor,
        pipeline: str,
        *,
        dataset: str,
        labels: str | None = None,
        id_column: str | None = None,
        drift_windows: int | None = None,
        metric: str | None = None,
        threshold: float | None = None,
        every_hours: int | None = None,
        request_to: str | None = None,
        enabled: bool = True,
    ) -> RetrainPolicy:
        """Create or replace ``pipeline``'s policy; checked like a retrain on ``dataset``, and audited."""
        metric = (metric or "").strip().lower() or None
        labels, id_column = (labels or None), (id_column or None)
        request_to = request_to or None
        found = DatasetService(self.ctx).get(str(dataset))
        if found.environment is None or found.role != "production":
            raise InvalidInput(
                f"data set {found.name!r} is not an environment's production data: a policy retrains on one"
            )
        where = EnvironmentService(self.ctx).get(found.environment)
        authz.check(
            self.ctx,
            actor,
            Action.RETRAIN,
            tier=where.tier,
            object_type="pipeline",
            object_id=str(pipeline)[:100],
            what=f"set the retrain policy of {str(pipeline)[:100]} on {where.name}'s data",
        )
        validate_conditions(drift_windows, metric, threshold, every_hours)
        if (labels is None) != (id_column is None):
            raise InvalidInput("name both the labels data set and the id column that joins them, or neither")
        target = EnvironmentService(self.ctx).get(request_to) if request_to else None
        with UnitOfWork(self.ctx) as uow:
            db = uow.session
            pipeline_row = self._pipeline(db, pipeline)
            row = db.scalar(select(RetrainPolicyRow).where(RetrainPolicyRow.pipeline_id == pipeline_row.id))
            before = self._entity(db, row, pipeline_row.name).describe() if row is not None else None
            if row is None:
                row = RetrainPolicyRow(pipeline_id=pipeline_row.id)
                db.add(row)
            row.environment_id, row.dataset, row.labels, row.id_column = (
                where.id,
                found.name,
                labels,
                id_column,
            )
            row.drift_windows, row.metric, row.threshold = drift_windows, metric, threshold
            row.every_hours, row.request_to_id, row.enabled = (
                every_hours,
                target.id if target else None,
                enabled,
            )
            row.updated_by, row.updated_at = actor.username, self.ctx.clock.now()
            db.flush()
            policy = self._entity(db, row, pipeline_row.name)
            uow.record(
                actor,
                "retrain_policy.set",
                object_type="pipeline",
                object_id=pipeline_row.name,
                before={"policy": before} if before else None,
                after={"policy": policy.describe()},
                detail=policy.describe(),
            )
            uow.commit()
            return policy

    def remove(self, actor: Actor, pipeline: str) -> None:
        """Delete ``pipeline``'s policy (its runs go with it); checked at its data's tier and audited."""
        policy = self.get(pipeline)
        if policy is None:
            raise NotFound(f"{str(pipeline)[:100]} has no retrain policy")
        where = EnvironmentService(self.ctx).get(policy.environment)
        authz.check(
            self.ctx,
            actor,
            Action.RETRAIN,
            tier=where.tier,
            object_type="pipeline",
            object_id=policy.pipeline_name,
            what=f"remove the retrain policy of {policy.pipeline_name}",
        )
        with UnitOfWork(self.ctx) as uow:
            row = uow.session.get(RetrainPolicyRow, policy.id)
            if row is not None:
                uow.session.delete(row)
            uow.record(
                actor,
                "retrain_policy.remove",
                object_type="pipeline",
                object_id=policy.pipeline_name,
                before={"policy": policy.describe()},
            )
            uow.commit()

    # ---- reading ------------------------------------------------------------------------------
    def get(self, pipeline: str) -> RetrainPolicy | None:
        with UnitOfWork(self.ctx, write=False) as uow:
            pipeline_row = self._pipeline(uow.session, pipeline)
            row = uow.session.scalar(
                select(RetrainPolicyRow).where(RetrainPolicyRow.pipeline_id == pipeline_row.id)
            )
            return self._entity(uow.session, row, pipeline_row.name) if row is not None else None

    def list(self) -> builtins.list[RetrainPolicy]:
        with UnitOfWork(self.ctx, write=False) as uow:
            rows = uow.session.execute(
                select(RetrainPolicyRow, PipelineRow.name)
                .join(PipelineRow, PipelineRow.id == RetrainPolicyRow.pipeline_id)
                .order_by(PipelineRow.name)
            ).all()
            return [self._entity(uow.session, row, name) for row, name in rows]

    def runs(self, pipeline: str, *, limit: int = RUNS_SHOWN) -> builtins.list[RetrainRun]:
        """The newest retrains ``pipeline``'s policy ran, newest first."""
        with UnitOfWork(self.ctx, write=False) as uow:
            pipeline_row = self._pipeline(uow.session, pipeline)
            rows = uow.session.scalars(
                select(RetrainRunRow)
                .join(RetrainPolicyRow, RetrainPolicyRow.id == RetrainRunRow.policy_id)
                .where(RetrainPolicyRow.pipeline_id == pipeline_row.id)
                .order_by(RetrainRunRow.started_at.desc(), RetrainRunRow.id.desc())
                .limit(limit)
            )
            return [self._run(row, pipeline_row.name) for row in rows]

    # ---- the worker's evaluation --------------------------------------------------------------
    def evaluate(self, actor: Actor, slot: datetime) -> builtins.list[RetrainRun]:
        """Run, once in ``slot``, the retrain of every enabled policy whose condition holds now."""
        started = []
        for policy in self.list():
            if not policy.enabled:
                continue
            why = self._why(policy)
            if why is None:
                continue
            reason, evidence = why
            run_id = self._claim(policy, slot, reason, evidence)
            if run_id is not None:
                started.append(self._retrain(actor, policy, run_id, reason))
        return started

    def _why(self, policy: RetrainPolicy) -> tuple[str, int | None] | None:
        """Why the policy fires now (and the newest window that says so), or None.

        A drift or performance condition fires once per new evidence: a window
        already acted on does not start a second retrain in the next slot.
        """
        serving = [
            d
            for d in DeploymentService(self.ctx).serving(policy.environment)
            if d.pipeline_name == policy.pipeline_name
        ]
        with UnitOfWork(self.ctx, write=False) as uow:
            db = uow.session
            last = db.scalar(
                select(RetrainRunRow)
                .where(RetrainRunRow.policy_id == policy.id)
                .order_by(RetrainRunRow.started_at.desc(), RetrainRunRow.id.desc())
                .limit(1)
            )
            acted_on = last.evidence_window_id if last is not None else None
            last_started = last.started_at if last is not None else None
            windows = (
                _newest_windows(
                    db, serving[0].version_id, policy.environment, max(policy.drift_windows or 0, 1)
                )
                if serving
                else []
            )
        newest = windows[0] if windows else None
        fresh = newest is not None and (acted_on is None or newest.id > acted_on)
        if (
            policy.drift_windows
            and fresh
            and newest is not None
            and drift_persists([w.verdict for w in windows], policy.drift_windows)
        ):
            return f"drift in the last {policy.drift_windows} window(s) in {policy.environment}", newest.id
        if policy.metric and policy.threshold is not None and fresh and newest is not None:
            value = newest.realised(policy.metric)
            if value is not None and metric_crossed(policy.metric, value, policy.threshold):
                return (
                    f"realised {policy.metric} {value:.4g} in window {newest.label} "
                    f"crossed {policy.threshold:g}",
                    newest.id,
                )
        if policy.every_hours and schedule_due(last_started, self.ctx.clock.now(), policy.every_hours):
            return f"scheduled every {policy.every_hours} h", newest.id if newest is not None else None
        return None

    def _claim(self, policy: RetrainPolicy, slot: datetime, reason: str, evidence: int | None) -> int | None:
        """The new run's id, or None when this policy already ran in ``slot`` (the unique row wins)."""
        try:
            with UnitOfWork(self.ctx) as uow:
                row = RetrainRunRow(
                    policy_id=policy.id,
                    slot=slot,
                    status=RUNNING,
                    reason=reason,
                    evidence_window_id=evidence,
                    promotion_note="",
                    error="",
                    started_at=self.ctx.clock.now(),
                )
                uow.session.add(row)
                uow.session.flush()
                run_id = row.id
                uow.commit()
                return run_id
        except DBIntegrityError:
            return None

    def _retrain(self, actor: Actor, policy: RetrainPolicy, run_id: int, reason: str) -> RetrainRun:
        from steward.core.services.promotions import PromotionService
        from steward.core.services.registry import PipelineService

        version, error, request_id, note = None, "", None, "no promotion requested (the policy asks for none)"
        try:
            version = PipelineService(self.ctx).retrain(
                actor,
                policy.pipeline_name,
                dataset=policy.dataset,
                labels=policy.labels,
                id_column=policy.id_column,
                importances=False,
            )
        except Exception as problem:  # a failed retrain is a failed run, never a dead worker
            error = _one_line(problem)
        if version is not None and policy.request_to:
            try:
                request = PromotionService(self.ctx).request(
                    actor,
                    policy.pipeline_name,
                    version.number,
                    policy.request_to,
                    f"retrained by policy: {reason}",
                )
                request_id = request.id
                note = f"promotion to {policy.request_to} requested as #{request.id} ({request.status.value})"
            except StewardError as refused:
                note = f"promotion to {policy.request_to} not requested: {_one_line(refused)}"
        with UnitOfWork(self.ctx) as uow:
            row = uow.session.get(RetrainRunRow, run_id)
            assert row is not None
            row.status = SUCCEEDED if version is not None else FAILED
            row.error = error
            row.version_id = version.id if version is not None else None
            row.version_number = version.number if version is not None else None
            row.promotion_request_id, row.promotion_note = request_id, note if version is not None else ""
            row.finished_at = self.ctx.clock.now()
            done = (
                f"v{version.number} registered; {note}" if version is not None else f"retrain failed: {error}"
            )
            uow.record(
                actor,
                "retrain_policy.run",
                object_type="pipeline",
                object_id=policy.pipeline_name,
                outcome=Outcome.OK if version is not None else Outcome.FAILED,
                detail=f"{reason}: {done}",
                after={"run": run_id, "status": row.status},
            )
            uow.commit()
            return self._run(row, policy.pipeline_name)

    # ---- rows to entities ---------------------------------------------------------------------
    @staticmethod
    def _pipeline(db: Session, name: str) -> PipelineRow:
        row = db.scalar(select(PipelineRow).where(PipelineRow.name == str(name)))
        if row is None:
            raise NotFound(f"no pipeline named {str(name)[:100]!r}")
        return row

    @staticmethod
    def _entity(db: Session, row: RetrainPolicyRow, pipeline: str) -> RetrainPolicy:
        environment = db.get(EnvironmentRow, row.environment_id)
        target = db.get(EnvironmentRow, row.request_to_id) if row.request_to_id is not None else None
        return RetrainPolicy(
            id=row.id,
            pipeline_name=pipeline,
            environment=environment.name if environment is not None else "?",
            dataset=row.dataset,
            labels=row.labels,
            id_column=row.id_column,
            drift_windows=row.drift_windows,
            metric=row.metric,
            threshold=row.threshold,
            every_hours=row.every_hours,
            request_to=target.name if target is not None else None,
            enabled=row.enabled,
            updated_by=row.updated_by,
            updated_at=row.updated_at,
        )

    @staticmethod
    def _run(row: RetrainRunRow, pipeline: str) -> RetrainRun:
        return RetrainRun(
            id=row.id,
            policy_id=row.policy_id,
            pipeline_name=pipeline,
            slot=row.slot,
            status=row.status,
            reason=row.reason,
            version_number=row.version_number,
            promotion_request_id=row.promotion_request_id,
            promotion_note=row.promotion_note,
            error=row.error,
            started_at=row.started_at,
            finished_at=row.finished_at,
        )


@dataclass(frozen=True)
class _Seen:
    """What a policy reads of one judged window."""

    id: int
    label: str
    verdict: str
    performance_json: str | None

    def realised(self, metric: str) -> float | None:
        """The realised value of ``metric`` in this window, when its labels joined."""
        if not self.performance_json:
            return None
        for entry in json.loads(self.performance_json).get("metrics", []):
            if entry.get("metric") == metric and entry.get("value") is not None:
                return float(entry["value"])
        return None


def _newest_windows(db: Session, version_id: str, environment: str, count: int) -> builtins.list[_Seen]:
    """The newest ``count`` judged windows of ``version_id`` in ``environment``, newest first."""
    rows = db.execute(
        select(
            DriftWindowRow.id, DriftWindowRow.label, DriftWindowRow.verdict, DriftWindowRow.performance_json
        )
        .where(
            DriftWindowRow.version_id == version_id,
            DriftWindowRow.environment == environment,
            DriftWindowRow.verdict != "insufficient",
        )
        .order_by(DriftWindowRow.id.desc())
        .limit(count)
    ).all()
    return [_Seen(int(i), str(label), str(verdict), perf) for i, label, verdict, perf in rows]
