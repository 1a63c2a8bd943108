"""The overview: what Steward knows right now and what the viewer should do next."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select

from steward.core.adapters.db.models import AuditEventRow, DatasetRow, SessionRow, UserRow
from steward.core.domain.accounts import Actor
from steward.core.domain.environments import Environment
from steward.core.domain.permissions import Action, Tier, is_allowed
from steward.core.services.context import ServiceContext
from steward.core.services.environments import EnvironmentService
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
