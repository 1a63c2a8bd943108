"""Service health in one read: each deployment's live traffic, SLA standing and evidence, from rollups.

Latency, throughput and errors come from the minute or hour rollups, never
from raw log rows. The only reads of the log itself are the slowest and the
failing requests: top-N queries on the (pipeline, environment, scored_at)
and (pipeline, environment, status, scored_at) indexes, bounded to the last
``SAMPLE_WINDOW``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session

from steward.core.adapters.db import queries
from steward.core.adapters.db.models import (
    PredictionRow,
    RequestRollupRow,
    SlaStateRow,
    SlaTargetRow,
)
from steward.core.clock import utc
from steward.core.domain.loadtest import LoadTestRun
from steward.core.domain.promotions import Deployment
from steward.core.domain.service_health import DeploymentHealth, RequestSample, SeriesPoint, ServiceHealthView
from steward.core.domain.sla import DEFAULT_WINDOW_MINUTES, DeploymentSla, live_measurement
from steward.core.services.context import ServiceContext
from steward.core.services.deployments import DeploymentService
from steward.core.services.environments import EnvironmentService
from steward.core.services.loadtest import LoadTestService
from steward.core.services.promotions import PromotionService
from steward.core.services.rollups import BATCH, HOUR, MINUTE, ONLINE, RollupService, floor_to
from steward.core.services.sla import targets_of
from steward.core.services.uow import UnitOfWork

SAMPLE_WINDOW = timedelta(hours=1)
TOP_N = 10
RANGES_HOURS = (1, 6, 24, 168)


def _tests_of(tests: list[LoadTestRun], d: Deployment) -> list[LoadTestRun]:
    """The deployment's five newest load tests (``tests`` is newest first)."""
    return [t for t in tests if (t.environment_id, t.pipeline_id) == (d.environment_id, d.pipeline_id)][:5]


class ServiceHealthService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def view(
        self, *, hours: int = 6, environment: str | None = None, pipeline: str | None = None
    ) -> ServiceHealthView:
        now = self.ctx.clock.now()
        hours = hours if hours in RANGES_HOURS else 6
        span = MINUTE if hours <= 6 else HOUR
        # Minutes end at the last whole minute (a partial one would read as a drop); hours include this one.
        until = floor_to(now, span) + (timedelta(seconds=span) if span == HOUR else timedelta(0))
        since = floor_to(now - timedelta(hours=hours), span)
        samples_since = now - SAMPLE_WINDOW
        environments = EnvironmentService(self.ctx).list()
        serving = [
            d
            for d in DeploymentService(self.ctx).serving()
            if (environment is None or d.environment_name == environment)
            and (pipeline is None or d.pipeline_name == pipeline)
        ]
        gated = frozenset(
            p.environment for p in PromotionService(self.ctx).policies() if p.gates.require_load_test
        )
        tests = LoadTestService(self.ctx).list(environment, pipeline, limit=100)
        with UnitOfWork(self.ctx, write=False) as uow:
            db = uow.session
            last_id, _ = RollupService(self.ctx).mark()
            healths = [
                self._one(db, d, now, since, until, span, samples_since, _tests_of(tests, d)) for d in serving
            ]
        return ServiceHealthView(environments, healths, since, until, span, samples_since, gated, last_id)

    def _one(
        self,
        db: Session,
        d: Deployment,
        now: datetime,
        since: datetime,
        until: datetime,
        span: int,
        samples_since: datetime,
        tests: list[LoadTestRun],
    ) -> DeploymentHealth:
        key = (d.environment_id, d.pipeline_id)
        target = db.scalar(
            select(SlaTargetRow).where(
                SlaTargetRow.environment_id == d.environment_id, SlaTargetRow.pipeline_id == d.pipeline_id
            )
        )
        sla = (
            DeploymentSla(
                d.environment_id,
                d.environment_name,
                d.pipeline_id,
                d.pipeline_name,
                targets_of(target),
                utc(target.updated_at),
                target.updated_by,
                target.version,
            )
            if target is not None
            else None
        )
        minutes = sla.targets.window_minutes if sla is not None else DEFAULT_WINDOW_MINUTES
        tally = RollupService.window(db, *key, until=now, minutes=minutes)
        standing = db.scalar(
            select(SlaStateRow).where(
                SlaStateRow.environment_id == d.environment_id, SlaStateRow.pipeline_id == d.pipeline_id
            )
        )
        if sla is None or sla.targets.empty:
            sla, standing = None, None  # targets removed: an old verdict is not a standing
        points = RollupService.points(db, *key, since=since, until=until, span_seconds=span)
        numbers = queries.version_numbers(db, {p.version_id for p in points} | {d.version_id})
        series = []
        online = 0
        for p in points:
            p50, p95, p99 = p.tally.percentiles()
            online += p.tally.requests
            series.append(
                SeriesPoint(
                    p.start,
                    numbers.get(p.version_id, 0),
                    p.tally.requests,
                    p.tally.errors,
                    p.tally.fallbacks,
                    p50,
                    p95,
                    p99,
                    p.tally.requests / span,
                )
            )
        batch = db.scalar(
            select(func.coalesce(func.sum(RequestRollupRow.requests), 0)).where(
                RequestRollupRow.environment_id == d.environment_id,
                RequestRollupRow.pipeline_id == d.pipeline_id,
                RequestRollupRow.span_seconds == HOUR,
                RequestRollupRow.channel == BATCH,
            )
        )
        last_minute = db.scalar(
            select(func.max(RequestRollupRow.start)).where(
                RequestRollupRow.environment_id == d.environment_id,
                RequestRollupRow.pipeline_id == d.pipeline_id,
                RequestRollupRow.span_seconds == MINUTE,
                RequestRollupRow.channel == ONLINE,
            )
        )
        slowest, failing = self._samples(db, d, samples_since)
        return DeploymentHealth(
            deployment=d,
            sla=sla,
            state=standing.state if standing is not None else ("not judged" if sla else "no SLA"),
            state_since=utc(standing.since) if standing is not None else None,
            state_detail=standing.detail if standing is not None else "",
            window_minutes=minutes,
            window=live_measurement(tally, minutes),
            window_fallbacks=tally.fallbacks,
            online_requests=online,
            batch_requests=int(batch or 0),
            last_minute=utc(last_minute) if last_minute is not None else None,
            series=series,
            slowest=slowest,
            failing=failing,
            load_tests=tests,
        )

    @staticmethod
    def _samples(
        db: Session, d: Deployment, since: datetime
    ) -> tuple[list[RequestSample], list[RequestSample]]:
        columns = (
            PredictionRow.request_id,
            PredictionRow.version_id,
            PredictionRow.scored_at,
            PredictionRow.latency_ms,
            PredictionRow.status,
            PredictionRow.fallback,
        )
        where = (
            PredictionRow.pipeline_id == d.pipeline_id,
            PredictionRow.environment_id == d.environment_id,
        )
        slow = db.execute(
            select(*columns)
            .where(*where, PredictionRow.scored_at >= since, PredictionRow.latency_ms.is_not(None))
            .order_by(PredictionRow.latency_ms.desc(), PredictionRow.id)
            .limit(TOP_N)
        ).all()
        failed = db.execute(
            select(*columns)
            .where(*where, PredictionRow.status == "error", PredictionRow.scored_at >= since)
            .order_by(PredictionRow.scored_at.desc(), PredictionRow.id)
            .limit(TOP_N)
        ).all()
        numbers = queries.version_numbers(db, {r.version_id for r in (*slow, *failed)})

        def sample(row: Row[str, str, datetime, float | None, str, bool]) -> RequestSample:
            return RequestSample(
                row.request_id,
                numbers.get(row.version_id, 0),
                utc(row.scored_at),
                row.latency_ms,
                row.status,
                bool(row.fallback),
            )

        return [sample(r) for r in slow], [sample(r) for r in failed]
