"""SLA targets per deployment (environment + pipeline): read by everyone, set by operators and admins.

Each change is one transaction holding the new targets and the audit event
with the targets before and after. Targets may be set before anything serves
in an environment, so the first promotion's load-test gate has something to
be judged against.
"""

from __future__ import annotations

import builtins
from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.core.adapters.db.models import EnvironmentRow, PipelineRow, SlaTargetRow
from steward.core.domain.accounts import Actor
from steward.core.domain.permissions import Action
from steward.core.domain.sla import DeploymentSla, SlaTargets
from steward.core.errors import NotFound, StaleState
from steward.core.services import authz
from steward.core.services.context import ServiceContext
from steward.core.services.uow import UnitOfWork

STALE = "changed since you loaded it; reload and try again"


def targets_of(row: SlaTargetRow) -> SlaTargets:
    return SlaTargets(
        p50_ms=row.p50_ms,
        p95_ms=row.p95_ms,
        p99_ms=row.p99_ms,
        min_throughput_rps=row.min_throughput_rps,
        max_error_rate=row.max_error_rate,
        window_minutes=row.window_minutes,
    )


def sla_targets(db: Session, environment_id: int, pipeline_id: int) -> SlaTargets | None:
    """The targets of one deployment, or None when nobody set any (what the load-test gate reads)."""
    row = db.scalar(
        select(SlaTargetRow).where(
            SlaTargetRow.environment_id == environment_id, SlaTargetRow.pipeline_id == pipeline_id
        )
    )
    return targets_of(row) if row is not None else None


def sla_targets_many(db: Session, pairs: Collection[tuple[int, int]]) -> dict[tuple[int, int], SlaTargets]:
    """(environment id, pipeline id) -> targets, for many deployments in one statement."""
    pipelines = {pipeline for _env, pipeline in pairs}
    if not pipelines:
        return {}
    rows = db.scalars(select(SlaTargetRow).where(SlaTargetRow.pipeline_id.in_(pipelines)))
    return {
        (row.environment_id, row.pipeline_id): targets_of(row)
        for row in rows
        if (row.environment_id, row.pipeline_id) in pairs
    }


def _deployment(db: Session, environment: str, pipeline: str) -> tuple[EnvironmentRow, PipelineRow]:
    env = db.scalar(select(EnvironmentRow).where(EnvironmentRow.name == str(environment)))
    if env is None:
        raise NotFound(f"no environment named {str(environment)[:64]!r}")
    found = db.scalar(select(PipelineRow).where(PipelineRow.name == str(pipeline)))
    if found is None:
        raise NotFound(f"no pipeline named {str(pipeline)[:100]!r}")
    return env, found


def _entity(row: SlaTargetRow, env: EnvironmentRow, pipeline: PipelineRow) -> DeploymentSla:
    return DeploymentSla(
        environment_id=env.id,
        environment_name=env.name,
        pipeline_id=pipeline.id,
        pipeline_name=pipeline.name,
        targets=targets_of(row),
        updated_at=row.updated_at,
        updated_by=row.updated_by,
        version=row.version,
    )


class SlaService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def list(self) -> builtins.list[DeploymentSla]:
        """Every deployment that has targets, in environment order then pipeline name."""
        with UnitOfWork(self.ctx, write=False) as uow:
            rows = uow.session.execute(
                select(SlaTargetRow, EnvironmentRow, PipelineRow)
                .join(EnvironmentRow, EnvironmentRow.id == SlaTargetRow.environment_id)
                .join(PipelineRow, PipelineRow.id == SlaTargetRow.pipeline_id)
                .order_by(EnvironmentRow.position, PipelineRow.name)
            ).all()
            return [_entity(row, env, pipeline) for row, env, pipeline in rows]

    def get(self, environment: str, pipeline: str) -> DeploymentSla | None:
        with UnitOfWork(self.ctx, write=False) as uow:
            env, found = _deployment(uow.session, environment, pipeline)
            row = uow.session.scalar(
                select(SlaTargetRow).where(
                    SlaTargetRow.environment_id == env.id, SlaTargetRow.pipeline_id == found.id
                )
            )
            return _entity(row, env, found) if row is not None else None

    def set(
        self,
        actor: Actor,
        environment: str,
        pipeline: str,
        targets: SlaTargets,
        *,
        expected_version: int | None = None,
    ) -> DeploymentSla:
        """Replace the deployment's targets (audited with before and after).

        ``expected_version`` is the version the page showed (0: it showed none): if the
        targets changed since, nothing changes and StaleState says so.
        """
        where = f"{str(environment)[:64]}/{str(pipeline)[:100]}"
        authz.check(
            self.ctx,
            actor,
            Action.MANAGE_SLA,
            object_type="sla",
            object_id=where,
            what=f"for {where}",
        )
        with UnitOfWork(self.ctx) as uow:
            db = uow.session
            env, found = _deployment(db, environment, pipeline)
            row = db.scalar(
                select(SlaTargetRow)
                .where(SlaTargetRow.environment_id == env.id, SlaTargetRow.pipeline_id == found.id)
                .with_for_update()
            )
            seen = row.version if row is not None else 0
            if expected_version is not None and expected_version != seen:
                raise StaleState(f"the SLA of {found.name} in {env.name} {STALE}")
            before = targets_of(row).snapshot() if row is not None else None
            now = self.ctx.clock.now()
            if row is None:
                row = SlaTargetRow(environment_id=env.id, pipeline_id=found.id)
                db.add(row)
            row.p50_ms, row.p95_ms, row.p99_ms = targets.p50_ms, targets.p95_ms, targets.p99_ms
            row.min_throughput_rps, row.max_error_rate = targets.min_throughput_rps, targets.max_error_rate
            row.window_minutes = targets.window_minutes
            row.updated_at, row.updated_by = now, actor.username
            db.flush()
            uow.record(
                actor,
                "sla.set",
                object_type="sla",
                object_id=f"{env.name}/{found.name}",
                before=before,
                after=targets.snapshot(),
                detail=f"{found.name} in {env.name}: " + ("; ".join(targets.describe()) or "no targets"),
            )
            result = _entity(row, env, found)
            uow.commit()
        return result
