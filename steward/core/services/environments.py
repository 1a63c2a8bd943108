"""Environments: Dev, Test, Prod by default; admins may add or rename them."""

from __future__ import annotations

import builtins

from sqlalchemy import func, select

from steward.core.adapters.db import queries
from steward.core.adapters.db.mappers.environments import to_environment
from steward.core.adapters.db.models import EnvironmentRow
from steward.core.domain.accounts import Actor
from steward.core.domain.environments import DEFAULT_ENVIRONMENTS, Environment
from steward.core.domain.names import validate_label
from steward.core.domain.permissions import Action, Tier
from steward.core.errors import AlreadyExists, InvalidInput, NotFound
from steward.core.pipelines.names import validate_name
from steward.core.services import authz
from steward.core.services.context import ServiceContext
from steward.core.services.uow import UnitOfWork


class EnvironmentService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def list(self) -> list[Environment]:
        with UnitOfWork(self.ctx, write=False) as uow:
            return [to_environment(row) for row in queries.ordered_environments(uow.session)]

    def get(self, name: str) -> Environment:
        with UnitOfWork(self.ctx, write=False) as uow:
            return to_environment(queries.environment_by_name(uow.session, name))

    def ensure_defaults(self, actor: Actor) -> builtins.list[Environment]:
        """Create Dev, Test and Prod when no environment exists yet (idempotent, audited)."""
        with UnitOfWork(self.ctx) as uow:
            if (uow.session.scalar(select(func.count()).select_from(EnvironmentRow)) or 0) == 0:
                now = self.ctx.clock.now()
                for position, (name, tier, description) in enumerate(DEFAULT_ENVIRONMENTS, start=1):
                    row = EnvironmentRow(
                        name=name,
                        tier=tier.value,
                        position=position * 10,
                        description=description,
                        created_at=now,
                    )
                    uow.session.add(row)
                    uow.session.flush()
                    uow.record(
                        actor,
                        "environment.create",
                        object_type="environment",
                        object_id=name,
                        after={"name": name, "tier": tier.value, "position": row.position},
                    )
            uow.commit()
        return self.list()

    def add(self, actor: Actor, name: str, tier: str, *, after: str, description: str = "") -> Environment:
        """Insert an environment right after another (e.g. Staging after Test)."""
        authz.check(
            self.ctx, actor, Action.MANAGE_POLICIES, object_type="environment", object_id=str(name)[:64]
        )
        label = environment_name(name)
        try:
            tier_value = Tier(tier)
        except ValueError:
            raise InvalidInput(
                f"unknown tier {tier!r}; use one of {', '.join(t.value for t in Tier)}"
            ) from None
        purpose = validate_label(description, "description", max_length=500, allow_empty=True)
        with UnitOfWork(self.ctx) as uow:
            self._refuse_clash(uow, label)
            anchor = queries.environment_by_name(uow.session, after)
            following = uow.session.scalar(
                select(func.min(EnvironmentRow.position)).where(EnvironmentRow.position > anchor.position)
            )
            if following is not None and following - anchor.position < 2:
                raise InvalidInput("no room between those environments; renumber first")
            position = anchor.position + 5 if following is None else (anchor.position + following) // 2
            row = EnvironmentRow(
                name=label,
                tier=tier_value.value,
                position=position,
                description=purpose,
                created_at=self.ctx.clock.now(),
            )
            uow.session.add(row)
            uow.session.flush()
            uow.record(
                actor,
                "environment.create",
                object_type="environment",
                object_id=label,
                after={"id": row.id, "name": label, "tier": tier_value.value, "position": position},
            )
            uow.commit()
            return to_environment(row)

    def rename(self, actor: Actor, name: str, new_name: str) -> Environment:
        """Give an environment a new name; what serves there, its policy and its history stay with it.

        Deployments, sign-off policies, requests, the ledger and monitors refer
        to the environment by id, so they follow the rename. Who may act there
        is decided by the tier, which a rename does not change.
        """
        authz.check(
            self.ctx, actor, Action.MANAGE_POLICIES, object_type="environment", object_id=str(name)[:64]
        )
        label = environment_name(new_name)
        with UnitOfWork(self.ctx) as uow:
            row = uow.session.scalar(
                select(EnvironmentRow).where(EnvironmentRow.name == name).with_for_update()
            )
            if row is None:
                raise NotFound(f"no environment named {str(name)[:64]!r}")
            if label == row.name:
                raise InvalidInput(f"environment {row.name!r} already has that name")
            self._refuse_clash(uow, label, ignore_id=row.id)
            old = row.name
            row.name = label
            uow.session.flush()
            uow.record(
                actor,
                "environment.rename",
                object_type="environment",
                object_id=old,
                before={"id": row.id, "name": old},
                after={"id": row.id, "name": label},
                detail=f"environment #{row.id} renamed from {old} to {label}",
            )
            uow.commit()
            return to_environment(row)

    @staticmethod
    def _refuse_clash(uow: UnitOfWork, label: str, *, ignore_id: int | None = None) -> None:
        """Names that differ only in case would read as the same environment on a page: refuse them too."""
        query = select(EnvironmentRow.name).where(func.lower(EnvironmentRow.name) == label.lower())
        if ignore_id is not None:
            query = query.where(EnvironmentRow.id != ignore_id)
        existing = uow.session.scalar(query)
        if existing is not None:
            raise AlreadyExists(f"environment {existing!r} already exists")


def environment_name(value: object) -> str:
    """An environment name: it appears in pages, certificates, file names of exports and audit events,
    so markup, path separators and invisible characters are refused (surrounding spaces are trimmed)."""
    return validate_name(
        value.strip() if isinstance(value, str) else value, "environment name", max_length=64
    )
