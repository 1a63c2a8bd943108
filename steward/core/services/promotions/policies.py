"""Sign-off policies: who must sign in each environment, for how long a signature holds, which gates apply.

Stored per environment and changed by admins (audited with before and
after); an environment without a stored policy follows its tier's default.
Pending requests are judged by the policy in force when they execute.
"""

from __future__ import annotations

from sqlalchemy import select

from steward.core.adapters.db import queries
from steward.core.adapters.db.mappers.policies import fill_policy_row, to_policy
from steward.core.adapters.db.models import SignoffPolicyRow
from steward.core.domain.accounts import Actor
from steward.core.domain.gates import GatePolicy
from steward.core.domain.permissions import Action
from steward.core.domain.promotions import EnvironmentPolicy
from steward.core.domain.signoff import SignoffPolicy
from steward.core.errors import InvalidInput, StaleState
from steward.core.services import authz
from steward.core.services.context import ServiceContext
from steward.core.services.deployments import STALE, guarded
from steward.core.services.uow import UnitOfWork


def policies(ctx: ServiceContext) -> list[EnvironmentPolicy]:
    """Every environment's policy, in environment order."""
    with UnitOfWork(ctx, write=False) as uow:
        rows = {row.environment_id: row for row in uow.session.scalars(select(SignoffPolicyRow))}
        return [to_policy(env, rows.get(env.id)) for env in queries.ordered_environments(uow.session)]


def policy(ctx: ServiceContext, environment: str) -> EnvironmentPolicy:
    with UnitOfWork(ctx, write=False) as uow:
        env = queries.environment_by_name(uow.session, environment)
        return to_policy(env, uow.session.get(SignoffPolicyRow, env.id))


def ensure_default_policies(ctx: ServiceContext, actor: Actor) -> list[EnvironmentPolicy]:
    """Give every environment without a policy its tier's default (idempotent, audited)."""
    with UnitOfWork(ctx) as uow:
        for env in queries.ordered_environments(uow.session):
            if uow.session.get(SignoffPolicyRow, env.id) is None:
                default = to_policy(env, None)
                uow.session.add(_new_row(ctx, env.id, default.signoff, default.gates, actor))
                uow.session.flush()
                uow.record(
                    actor,
                    "policy.create",
                    object_type="environment",
                    object_id=env.name,
                    after=default.snapshot(),
                )
        uow.commit()
    return policies(ctx)


def set_policy(
    ctx: ServiceContext,
    actor: Actor,
    environment: str,
    signoff: SignoffPolicy,
    gates: GatePolicy,
    *,
    expected_version: int | None = None,
) -> EnvironmentPolicy:
    """Change an environment's sign-off policy and gates (admins; audited with before and after)."""
    authz.check(
        ctx,
        actor,
        Action.MANAGE_POLICIES,
        object_type="environment",
        object_id=str(environment)[:64],
        what=f"change the sign-off policy of {str(environment)[:64]}",
    )
    if not isinstance(signoff, SignoffPolicy) or not isinstance(gates, GatePolicy):
        raise InvalidInput("a policy needs its sign-off rules and its gates")
    if signoff.approval_ttl.total_seconds() % 3600:
        raise InvalidInput("approval validity is set in whole hours")

    def work() -> EnvironmentPolicy:
        with UnitOfWork(ctx) as uow:
            env = queries.environment_by_name(uow.session, environment)
            row = uow.session.get(SignoffPolicyRow, env.id)
            before = to_policy(env, row)
            if expected_version is not None and before.version != expected_version:
                raise StaleState(f"the policy of {env.name} {STALE}")
            if row is None:
                row = _new_row(ctx, env.id, signoff, gates, actor)
                uow.session.add(row)
            else:
                fill_policy_row(row, signoff, gates, updated_by=actor.username, updated_at=ctx.clock.now())
            uow.session.flush()
            after = to_policy(env, row)
            if after.snapshot() == before.snapshot() and before.version:
                return before
            uow.record(
                actor,
                "policy.update",
                object_type="environment",
                object_id=env.name,
                before=before.snapshot(),
                after=after.snapshot(),
            )
            uow.commit()
            return after

    return guarded(work)


def _new_row(
    ctx: ServiceContext, env_id: int, signoff: SignoffPolicy, gates: GatePolicy, actor: Actor
) -> SignoffPolicyRow:
    return fill_policy_row(
        SignoffPolicyRow(environment_id=env_id),
        signoff,
        gates,
        updated_by=actor.username,
        updated_at=ctx.clock.now(),
    )
