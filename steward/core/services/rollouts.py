"""Starting, watching and ending shadow and canary rollouts, and rolling a failing canary back by itself.

Who may start one (decided in :func:`RolloutService.start`):

* either kind needs the permission to deploy in that environment (execute a
  promotion at its tier): a rollout puts a version on the serving path;
* a canary answers real callers, so in an environment whose sign-off policy
  asks for approval it also needs a pending promotion request for that very
  version to that environment whose sign-offs are complete. A canary never
  reaches traffic that the version's promotion could not;
* a shadow answers nobody, so the deploy permission is enough.

Ending one needs the permission to roll back there. The scoring service calls
:meth:`RolloutService.supervise` on its poll: a rollout past its time expires,
and a canary whose own requests breach the deployment's SLA (error rate or
latency) is rolled back: an audited ``rollout.rolled_back`` event that opens an
alert. Every change is guarded by the rollout's status, so two scoring
processes supervising at once end it once.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from steward.core.adapters.db import queries
from steward.core.adapters.db.models import (
    EnvironmentRow,
    PipelineRow,
    PredictionRow,
    RolloutRow,
    ShadowPredictionRow,
)
from steward.core.clock import utc
from steward.core.domain.accounts import Actor
from steward.core.domain.audit import Outcome
from steward.core.domain.latency import Tally
from steward.core.domain.names import validate_comment
from steward.core.domain.permissions import Action, Tier
from steward.core.domain.promotions import RequestStatus
from steward.core.domain.rollouts import (
    Agreement,
    Rollout,
    RolloutKind,
    RolloutStatus,
    RolloutWatch,
    agrees,
    arm_stats,
    ends_at,
    judge_canary,
    validated_plan,
)
from steward.core.errors import InvalidInput, NotFound, StaleState
from steward.core.services import authz
from steward.core.services.context import ServiceContext
from steward.core.services.promotions import PromotionService
from steward.core.services.sla import sla_targets
from steward.core.services.uow import UnitOfWork

AGREEMENT_TOLERANCE = 0.05  # regressors: within 5 % of the champion's value counts as the same answer
WATCH_ROWS = 20_000  # newest requests per arm a watch reads: enough for a rate, bounded for a page


def _entity(row: RolloutRow, env: EnvironmentRow, pipeline: str, numbers: dict[str, int]) -> Rollout:
    return Rollout(
        id=row.id,
        kind=RolloutKind(row.kind),
        environment_id=env.id,
        environment_name=env.name,
        pipeline_id=row.pipeline_id,
        pipeline_name=pipeline,
        challenger_version_id=row.challenger_version_id,
        challenger_number=numbers.get(row.challenger_version_id, 0),
        champion_version_id=row.champion_version_id,
        champion_number=numbers.get(row.champion_version_id, 0),
        share=row.share,
        status=RolloutStatus(row.status),
        reason=row.reason,
        started_by=row.started_by,
        started_at=utc(row.started_at),
        ends_at=utc(row.ends_at),
        ended_by=row.ended_by,
        ended_at=utc(row.ended_at) if row.ended_at is not None else None,
        end_reason=row.end_reason,
        promotion_request_id=row.promotion_request_id,
    )


def _entities(db: Session, rows: Sequence[RolloutRow]) -> list[Rollout]:
    envs = {e.id: e for e in db.scalars(select(EnvironmentRow))}
    names = {p.id: p.name for p in queries.pipelines_by_id(db, {r.pipeline_id for r in rows}).values()}
    numbers = queries.version_numbers(
        db, [r.challenger_version_id for r in rows] + [r.champion_version_id for r in rows]
    )
    return [_entity(r, envs[r.environment_id], names[r.pipeline_id], numbers) for r in rows]


def _tally(db: Session, rollout: Rollout, version_id: str) -> Tally:
    """The version's online requests in this deployment since the rollout started (until it ended)."""
    query = select(PredictionRow.latency_ms, PredictionRow.status, PredictionRow.fallback).where(
        PredictionRow.pipeline_id == rollout.pipeline_id,
        PredictionRow.environment_id == rollout.environment_id,
        PredictionRow.version_id == version_id,
        PredictionRow.scored_at >= rollout.started_at,
        PredictionRow.latency_ms.is_not(None),
    )
    if rollout.ended_at is not None:
        query = query.where(PredictionRow.scored_at <= rollout.ended_at)
    tally = Tally()
    for latency, status, fallback in db.execute(query.order_by(PredictionRow.id.desc()).limit(WATCH_ROWS)):
        tally.add_request(latency, error=status != "ok", fallback=bool(fallback))
    return tally


class RolloutService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    # ---- reads -------------------------------------------------------------
    def get(self, rollout_id: int) -> Rollout:
        with UnitOfWork(self.ctx, write=False) as uow:
            row = uow.session.get(RolloutRow, rollout_id)
            if row is None:
                raise NotFound(f"no rollout #{rollout_id}")
            return _entities(uow.session, [row])[0]

    def active(self) -> builtins.list[Rollout]:
        """Every rollout the scoring service should route to now (active and within its time)."""
        now = self.ctx.clock.now()
        with UnitOfWork(self.ctx, write=False) as uow:
            rows = uow.session.scalars(
                select(RolloutRow).where(RolloutRow.status == RolloutStatus.ACTIVE.value)
            ).all()
            return [r for r in _entities(uow.session, rows) if r.live(now)]

    def list(
        self, environment: str | None = None, pipeline: str | None = None, *, limit: int = 50
    ) -> builtins.list[Rollout]:
        """Newest first."""
        with UnitOfWork(self.ctx, write=False) as uow:
            query = select(RolloutRow).order_by(RolloutRow.id.desc()).limit(limit)
            if environment is not None:
                query = query.where(
                    RolloutRow.environment_id == queries.environment_by_name(uow.session, environment).id
                )
            if pipeline is not None:
                query = query.join(PipelineRow, PipelineRow.id == RolloutRow.pipeline_id).where(
                    PipelineRow.name == pipeline
                )
            return _entities(uow.session, uow.session.scalars(query).all())

    def current(self, environment: str, pipeline: str) -> Rollout | None:
        """The active rollout of one deployment, if any."""
        return next(
            (r for r in self.list(environment, pipeline, limit=5) if r.status is RolloutStatus.ACTIVE), None
        )

    def watch(self, rollout_id: int) -> RolloutWatch:
        """The live comparison: requests, errors and latency of both arms; agreement (shadow); SLA verdict."""
        rollout = self.get(rollout_id)
        with UnitOfWork(self.ctx, write=False) as uow:
            db = uow.session
            champion = _tally(db, rollout, rollout.champion_version_id)
            agreement = None
            if rollout.kind is RolloutKind.CANARY:
                challenger = _tally(db, rollout, rollout.challenger_version_id)
                targets = sla_targets(db, rollout.environment_id, rollout.pipeline_id)
                judged = judge_canary(challenger, targets) if targets is not None else None
                verdict = "too few canary requests to judge yet" if judged is None else judged.summary()
            else:
                challenger, agreement = self._shadow(db, rollout)
                verdict = "answers are logged and compared, never returned"
        return RolloutWatch(
            rollout,
            arm_stats(rollout.champion_number, champion),
            arm_stats(rollout.challenger_number, challenger),
            agreement,
            verdict,
        )

    @staticmethod
    def _shadow(db: Session, rollout: Rollout) -> tuple[Tally, Agreement]:
        rows = db.execute(
            select(
                ShadowPredictionRow.latency_ms,
                ShadowPredictionRow.status,
                ShadowPredictionRow.prediction,
                ShadowPredictionRow.champion_prediction,
                ShadowPredictionRow.label,
                ShadowPredictionRow.champion_label,
            )
            .where(ShadowPredictionRow.rollout_id == rollout.id)
            .order_by(ShadowPredictionRow.id.desc())
            .limit(WATCH_ROWS)
        ).all()
        tally = Tally()
        compared = agreeing = 0
        deltas: list[float] = []
        for latency, status, shadow, champion, label, champion_label in rows:
            tally.add_request(latency, error=status != "ok", fallback=False)
            if status != "ok" or champion is None or shadow is None:
                continue
            compared += 1
            agreeing += agrees(champion, shadow, champion_label, label, AGREEMENT_TOLERANCE)
            deltas.append(shadow - champion)
        mean = sum(deltas) / len(deltas) if deltas else None
        mean_abs = sum(abs(d) for d in deltas) / len(deltas) if deltas else None
        return tally, Agreement(compared, agreeing, mean, mean_abs)

    # ---- changes -----------------------------------------------------------
    def start(
        self,
        actor: Actor,
        kind: RolloutKind,
        environment: str,
        pipeline: str,
        version: int,
        *,
        minutes: float,
        share: float | None = None,
        reason: str = "",
    ) -> Rollout:
        """Put ``version`` beside what serves ``pipeline`` in ``environment`` (audited)."""
        share, minutes = validated_plan(kind, share, minutes)
        text = validate_comment(reason, "reason")
        with UnitOfWork(self.ctx, write=False) as uow:
            env = queries.environment_by_name(uow.session, environment)
            tier, env_name, env_id = Tier(env.tier), env.name, env.id
        where = f"{env_name}/{pipeline}"
        authz.check(
            self.ctx,
            actor,
            Action.EXECUTE_PROMOTION,
            tier=tier,
            object_type="deployment",
            object_id=where,
            what=f"start a {kind.value} of {pipeline} in {env_name}",
        )
        request_id = self._signed_off_request(actor, kind, env_name, pipeline, version, where)
        with UnitOfWork(self.ctx) as uow:
            db, now = uow.session, self.ctx.clock.now()
            env_row = queries.lock_environment(db, env_id)
            pipeline_row, version_row = queries.version_rows(db, pipeline, version)
            pointer = queries.pointer(db, env_row.id, pipeline_row.id)
            if pointer is None:
                raise InvalidInput(f"nothing serves {pipeline_row.name} in {env_name}: deploy it first")
            if pointer.version_id == version_row.id:
                raise InvalidInput(f"v{version} already serves {pipeline_row.name} in {env_name}")
            busy = db.scalar(
                select(RolloutRow.id).where(
                    RolloutRow.environment_id == env_row.id,
                    RolloutRow.pipeline_id == pipeline_row.id,
                    RolloutRow.status == RolloutStatus.ACTIVE.value,
                    RolloutRow.ends_at > now,  # one past its time is over even before a supervisor closes it
                )
            )
            if busy is not None:
                raise StaleState(f"rollout #{busy} is already running in {where}: end it first")
            if kind is RolloutKind.CANARY and sla_targets(db, env_row.id, pipeline_row.id) is None:
                raise InvalidInput(
                    f"a canary is rolled back against {where}'s SLA, and it has none: set targets first"
                )
            row = RolloutRow(
                pipeline_id=pipeline_row.id,
                environment_id=env_row.id,
                kind=kind.value,
                challenger_version_id=version_row.id,
                champion_version_id=pointer.version_id,
                share=share,
                status=RolloutStatus.ACTIVE.value,
                reason=text,
                promotion_request_id=request_id,
                started_by=actor.username,
                started_at=now,
                ends_at=ends_at(now, minutes),
                end_reason="",
            )
            db.add(row)
            db.flush()
            rollout = _entities(db, [row])[0]
            uow.record(
                actor,
                "rollout.started",
                object_type="deployment",
                object_id=where,
                after=rollout.snapshot(),
                detail=f"{rollout.label} for {minutes:g} min" + (f": {text}" if text else ""),
            )
            uow.commit()
            return rollout

    def _signed_off_request(
        self, actor: Actor, kind: RolloutKind, environment: str, pipeline: str, version: int, where: str
    ) -> int | None:
        """For a canary where sign-off is required: the pending request whose sign-offs are complete."""
        if kind is not RolloutKind.CANARY:
            return None
        promotions = PromotionService(self.ctx)
        policy = promotions.policy(environment)
        if not policy.signoff.needs_approval:
            return None
        for request in promotions.list(
            status=RequestStatus.PENDING, environment=environment, pipeline=pipeline
        ):
            if request.version_number == version and promotions.evidence(request.id).signoff.satisfied:
                return request.id
        message = (
            f"a canary answers real callers: {pipeline} v{version} needs a promotion request to "
            f"{environment} with its sign-offs complete ({policy.signoff.describe()}) first"
        )
        with UnitOfWork(self.ctx) as uow:
            uow.record(
                actor,
                "rollout.started",
                object_type="deployment",
                object_id=where,
                outcome=Outcome.DENIED,
                detail=message,
            )
            uow.commit()
        raise InvalidInput(message)

    def end(self, actor: Actor, rollout_id: int, reason: str = "") -> Rollout:
        """End an active rollout by hand (audited ``rollout.ended``); the champion alone serves again."""
        rollout = self.get(rollout_id)
        authz.check(
            self.ctx,
            actor,
            Action.ROLLBACK,
            tier=self._tier(rollout),
            object_type="deployment",
            object_id=rollout.where,
            what=f"end the {rollout.kind.value} of {rollout.pipeline_name} in {rollout.environment_name}",
        )
        text = validate_comment(reason, "reason")
        ended = self._close(actor, rollout, RolloutStatus.ENDED, text or "ended by hand")
        if ended is None:
            raise StaleState(f"rollout #{rollout_id} already ended; nothing was changed")
        return ended

    def supervise(self, actor: Actor) -> builtins.list[str]:
        """Expire rollouts past their time and roll back canaries in breach; what changed, in words."""
        now = self.ctx.clock.now()
        changes: builtins.list[str] = []
        with UnitOfWork(self.ctx, write=False) as uow:
            rows = uow.session.scalars(
                select(RolloutRow).where(RolloutRow.status == RolloutStatus.ACTIVE.value)
            ).all()
            rollouts = _entities(uow.session, rows)
            breaches: dict[int, str] = {}
            for rollout in rollouts:
                if rollout.kind is not RolloutKind.CANARY or now >= rollout.ends_at:
                    continue
                targets = sla_targets(uow.session, rollout.environment_id, rollout.pipeline_id)
                if targets is None:
                    breaches[rollout.id] = "its SLA targets were removed"
                    continue
                verdict = judge_canary(_tally(uow.session, rollout, rollout.challenger_version_id), targets)
                if verdict is not None and not verdict.within:
                    breaches[rollout.id] = verdict.summary()
        for rollout in rollouts:
            if now >= rollout.ends_at:
                if self._close(actor, rollout, RolloutStatus.EXPIRED, "its time ran out") is not None:
                    changes.append(f"{rollout.where} {rollout.kind.value} expired")
            elif rollout.id in breaches:
                detail = f"the canary breached the SLA: {breaches[rollout.id]}"
                if self._close(actor, rollout, RolloutStatus.ROLLED_BACK, detail) is not None:
                    changes.append(f"{rollout.where} canary rolled back")
        return changes

    def _tier(self, rollout: Rollout) -> Tier:
        with UnitOfWork(self.ctx, write=False) as uow:
            env = uow.session.get(EnvironmentRow, rollout.environment_id)
            if env is None:
                raise NotFound(f"environment #{rollout.environment_id} no longer exists")
            return Tier(env.tier)

    def _close(self, actor: Actor, rollout: Rollout, status: RolloutStatus, why: str) -> Rollout | None:
        """End it once: None when someone else already did (the status guard lost)."""
        with UnitOfWork(self.ctx) as uow:
            db, now = uow.session, self.ctx.clock.now()
            moved = db.execute(
                update(RolloutRow)
                .where(RolloutRow.id == rollout.id, RolloutRow.status == RolloutStatus.ACTIVE.value)
                .values(status=status.value, ended_by=actor.username, ended_at=now, end_reason=why[:2000])
            ).rowcount  # type: ignore[attr-defined]
            if moved != 1:
                return None
            row = db.get(RolloutRow, rollout.id, populate_existing=True)
            assert row is not None
            ended = _entities(db, [row])[0]
            rolled_back = status is RolloutStatus.ROLLED_BACK
            uow.record(
                actor,
                "rollout.rolled_back" if rolled_back else "rollout.ended",
                object_type="deployment",
                object_id=rollout.where,
                before=rollout.snapshot(),
                after=ended.snapshot(),
                outcome=Outcome.FAILED if rolled_back else Outcome.OK,
                detail=f"{rollout.label}: {why}",
            )
            uow.commit()
            return ended
