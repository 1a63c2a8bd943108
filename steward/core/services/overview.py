"""The overview: what Steward knows right now and what the viewer should do next."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select

from steward.core.adapters.db.models import (
    AuditEventRow,
    DatasetRow,
    EnvironmentRow,
    PipelineRow,
    SessionRow,
    SlaTargetRow,
    UserRow,
)
from steward.core.domain.accounts import Actor
from steward.core.domain.environments import Environment
from steward.core.domain.overview import QUESTIONS, BoardLight, BoardRow, link, worst_first
from steward.core.domain.permissions import Action, Tier, is_allowed
from steward.core.domain.signals import Light
from steward.core.domain.sla import SlaState
from steward.core.services.context import ServiceContext
from steward.core.services.deployments import DeploymentService
from steward.core.services.environments import EnvironmentService
from steward.core.services.infrastructure import InfrastructureService
from steward.core.services.monitoring import MonitoringService
from steward.core.services.sla_evaluation import SlaEvaluation, SlaStanding
from steward.core.services.uow import UnitOfWork


@dataclass(frozen=True)
class Overview:
    users: int
    active_sessions: int
    datasets: int
    audit_events: int
    environments: list[Environment]
    next_steps: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


class OverviewService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def summary(self, actor: Actor) -> Overview:
        now = self.ctx.clock.now()
        with UnitOfWork(self.ctx, write=False) as uow:
            s = uow.session
            users = s.scalar(select(func.count()).select_from(UserRow).where(UserRow.active.is_(True))) or 0
            sessions = (
                s.scalar(
                    select(func.count())
                    .select_from(SessionRow)
                    .where(SessionRow.revoked_at.is_(None), SessionRow.expires_at > now)
                )
                or 0
            )
            datasets = s.scalar(select(func.count()).select_from(DatasetRow)) or 0
            events = s.scalar(select(func.count()).select_from(AuditEventRow)) or 0
        environments = EnvironmentService(self.ctx).list()
        steps = self.next_steps(actor, datasets=int(datasets), environments=environments)
        return Overview(int(users), int(sessions), int(datasets), int(events), environments, steps)

    def board(self) -> list[BoardRow]:
        """One row per pipeline and environment with its four lights, worst first."""
        return OverviewBoard(self.ctx).rows()

    @staticmethod
    def next_steps(actor: Actor, *, datasets: int, environments: list[Environment]) -> list[str]:
        """Plain-language suggestions for an install that is still empty, tailored to the viewer's roles."""
        steps: list[str] = []
        if not environments:
            steps.append("Run `steward db upgrade` to create the default environments.")
        if datasets == 0 and is_allowed(actor.roles, Action.REGISTER_PIPELINE):
            steps.append("Register a data set under the data folder so pipelines have something to train on.")
        if is_allowed(actor.roles, Action.REGISTER_PIPELINE):
            steps.append(
                "Register a pipeline from a spec (Pipelines page or `steward pipelines register spec.toml`)."
            )
        if is_allowed(actor.roles, Action.APPROVE_PROMOTION, Tier.PROD):
            steps.append("Check the Approvals page for promotions waiting on your sign-off.")
        if is_allowed(actor.roles, Action.MANAGE_USERS):
            steps.append(
                "Invite your team on the Admin page and map your identity provider's groups to roles."
            )
        return steps


class OverviewBoard:
    """The Overview's rows: for each deployment (and each monitored pair), four lights with their evidence."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def rows(self) -> list[BoardRow]:
        monitoring = MonitoringService(self.ctx)
        environments = {env.name: env for env in EnvironmentService(self.ctx).list()}
        serving = {(d.pipeline_name, d.environment_name): d for d in DeploymentService(self.ctx).serving()}
        monitors = monitoring.monitors()
        pairs = set(serving) | {(m.pipeline_name, m.environment) for m in monitors}
        runs = {(r.pipeline_name, r.environment): r for r in monitoring.batch_health()}
        infra = {name: InfrastructureService(self.ctx).status(name) for name in {env for _, env in pairs}}
        states = {(s.pipeline, s.environment): s for s in SlaEvaluation(self.ctx).standings()}
        with UnitOfWork(self.ctx, write=False) as uow:
            targets = {
                (pipeline, env)
                for pipeline, env in uow.session.execute(
                    select(PipelineRow.name, EnvironmentRow.name)
                    .join(SlaTargetRow, SlaTargetRow.pipeline_id == PipelineRow.id)
                    .join(EnvironmentRow, EnvironmentRow.id == SlaTargetRow.environment_id)
                ).all()
            }
        rows = []
        for pipeline, env in pairs:
            f = {"environment": env, "pipeline": pipeline}
            run = runs.get((pipeline, env))
            if run is None:
                runs_light = BoardLight(
                    QUESTIONS[0], Light.GREY, "no batch run yet", "Drift", link("drift", **f)
                )
            elif run.status == "partial":
                runs_light = BoardLight(
                    QUESTIONS[0],
                    Light.AMBER,
                    f"last batch run partial: {run.detail}",
                    "Drift",
                    link("drift", **f),
                )
            elif run.status not in ("succeeded", "running"):
                runs_light = BoardLight(
                    QUESTIONS[0],
                    Light.RED,
                    f"last batch run failed: {run.detail}",
                    "Drift",
                    link("drift", **f),
                )
            else:
                runs_light = BoardLight(
                    QUESTIONS[0],
                    Light.GREEN,
                    f"last batch run ok ({run.rows} rows)",
                    "Drift",
                    link("drift", **f),
                )
            data_light = self._data(
                monitoring,
                pipeline,
                env,
                f,
                any(m.pipeline_name == pipeline and m.environment == env for m in monitors),
            )
            status = infra[env]
            infra_light = BoardLight(
                QUESTIONS[2],
                status.health.light,
                f"{status.health.value}: {status.reason}",
                "Infrastructure",
                link("infrastructure", environment=env),
            )
            rows.append(
                BoardRow(
                    pipeline,
                    env,
                    environments[env].position if env in environments else 0,
                    serving[(pipeline, env)].version_number if (pipeline, env) in serving else None,
                    (runs_light, data_light, infra_light, self._service(states, targets, pipeline, env, f)),
                )
            )
        return worst_first(rows)

    @staticmethod
    def _data(
        monitoring: MonitoringService, pipeline: str, env: str, f: dict[str, str], monitored: bool
    ) -> BoardLight:
        page = link("drift", **f)
        if not monitored:
            return BoardLight(QUESTIONS[1], Light.GREY, "no drift monitor on this deployment", "Drift", page)
        windows = monitoring.windows(pipeline, env)
        if not windows:
            return BoardLight(
                QUESTIONS[1], Light.GREY, "the monitor has not judged a window yet", "Drift", page
            )
        last = windows[-1]
        if last.performance_status == "degraded":
            words = f"window {last.label}: performance below the hold-out"
            return BoardLight(QUESTIONS[1], Light.RED, words, "Drift", page)
        if last.verdict == "drift" or last.quality_findings:
            parts = ["input drift"] if last.verdict == "drift" else []
            parts += [f"{last.quality_findings} data-quality finding(s)"] if last.quality_findings else []
            return BoardLight(
                QUESTIONS[1], Light.AMBER, f"window {last.label}: " + ", ".join(parts), "Drift", page
            )
        return BoardLight(QUESTIONS[1], Light.GREEN, f"window {last.label}: no drift", "Drift", page)

    @staticmethod
    def _service(
        states: dict[tuple[str, str], SlaStanding],
        targets: set[tuple[str, str]],
        pipeline: str,
        env: str,
        f: dict[str, str],
    ) -> BoardLight:
        page = link("service_health", **f)
        state = states.get((pipeline, env))
        if (pipeline, env) not in targets:
            return BoardLight(QUESTIONS[3], Light.GREY, "no SLA set", "Service health", page)
        if state is None:
            return BoardLight(QUESTIONS[3], Light.GREY, "SLA not judged yet", "Service health", page)
        if state.state is SlaState.BREACHED:
            return BoardLight(
                QUESTIONS[3], Light.RED, f"SLA breached: {state.detail}", "Service health", page
            )
        if state.state is SlaState.IDLE:
            return BoardLight(
                QUESTIONS[3], Light.GREY, "idle: no request in the SLA window", "Service health", page
            )
        return BoardLight(
            QUESTIONS[3], Light.GREEN, f"within the SLA: {state.detail}", "Service health", page
        )
