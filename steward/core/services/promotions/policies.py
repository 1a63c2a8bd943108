"""Sign-off policies: who must sign in each environment, for how long a signature holds, which gates apply.

Stored per environment and changed by admins (audited with before and
after); an environment without a stored policy follows its tier's default.
Pending requests are judged by the policy in force when they execute.

Production is guarded twice (:mod:`steward.core.domain.policy_rules`): a
policy asking fewer than two people besides the requester is refused, and a
change that lowers a production policy becomes a proposal that a second admin
approves (or rejects) before it applies.
"""

from __future__ import annotations

from sqlalchemy import select

from steward.core.adapters.db import queries
from steward.core.adapters.db.mappers.policies import fill_policy_row, to_policy, to_policy_change
from steward.core.adapters.db.models import EnvironmentRow, PolicyChangeRow, SignoffPolicyRow
from steward.core.domain.accounts import Actor
from steward.core.domain.audit import Outcome
from steward.core.domain.gates import GatePolicy
from steward.core.domain.names import validate_comment
from steward.core.domain.permissions import Action, Tier
from steward.core.domain.policy_rules import ChangeStatus, PolicyChange, check_floor, lowerings
from steward.core.domain.promotions import EnvironmentPolicy
from steward.core.domain.signoff import SignoffPolicy
from steward.core.errors import InvalidInput, NotFound, StaleState
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
    reason: str = "",
) -> EnvironmentPolicy | PolicyChange:
    """Change an environment's sign-off policy and gates (admins; audited with before and after).

    For a production environment, a change that makes the policy easier to
    satisfy is returned as a pending :class:`PolicyChange` instead: it applies
    once another admin approves it. One below the floor is refused (and audited).
    """
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

    text = validate_comment(reason, "reason")

    def work() -> EnvironmentPolicy | PolicyChange:
        with UnitOfWork(ctx) as uow:
            env = queries.environment_by_name(uow.session, environment)
            row = uow.session.get(SignoffPolicyRow, env.id)
            before = to_policy(env, row)
            if expected_version is not None and before.version != expected_version:
                raise StaleState(f"the policy of {env.name} {STALE}")
            tier = Tier(env.tier)
            check_floor(tier, signoff)
            lowered = lowerings(before.signoff, before.gates, signoff, gates) if before.version else []
            if tier is Tier.PROD and lowered:
                change = _propose(ctx, uow, actor, env, before, signoff, gates, lowered, text)
                uow.commit()
                return change
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

    try:
        return guarded(work)
    except InvalidInput as refusal:
        if "production environment needs" in str(refusal):
            _record_refusal(ctx, actor, str(environment)[:64], str(refusal))
        raise


def _record_refusal(ctx: ServiceContext, actor: Actor, environment: str, message: str) -> None:
    with UnitOfWork(ctx) as uow:
        uow.record(
            actor,
            "policy.update",
            object_type="environment",
            object_id=environment,
            outcome=Outcome.FAILED,
            detail=message,
        )
        uow.commit()


def _propose(
    ctx: ServiceContext,
    uow: UnitOfWork,
    actor: Actor,
    env: EnvironmentRow,
    before: EnvironmentPolicy,
    signoff: SignoffPolicy,
    gates: GatePolicy,
    lowered: list[str],
    reason: str,
) -> PolicyChange:
    """Store a lowering of a production policy as a proposal; it supersedes an earlier pending one."""
    db, now = uow.session, ctx.clock.now()
    for earlier in db.scalars(
        select(PolicyChangeRow).where(
            PolicyChangeRow.environment_id == env.id, PolicyChangeRow.status == ChangeStatus.PENDING.value
        )
    ):
        earlier.status, earlier.decided_at, earlier.decided_by = (
            ChangeStatus.SUPERSEDED.value,
            now,
            actor.username,
        )
    proposed = EnvironmentPolicy(env.id, env.name, Tier(env.tier), signoff, gates)
    row = PolicyChangeRow(
        environment_id=env.id,
        base_version=before.version,
        proposed=proposed.snapshot(),
        lowers=lowered,
        reason=reason,
        status=ChangeStatus.PENDING.value,
        proposed_by=actor.username,
        proposed_at=now,
        comment="",
    )
    db.add(row)
    db.flush()
    event = uow.record(
        actor,
        "policy.change_proposed",
        object_type="environment",
        object_id=env.name,
        before=before.snapshot(),
        after={**proposed.snapshot(), "change": row.id, "lowers": lowered},
        detail=reason or "lowers a production policy: waits for a second admin",
    )
    row.audit_seq = event.seq
    db.flush()
    return to_policy_change(row, env)


def policy_changes(ctx: ServiceContext, *, pending_only: bool = False, limit: int = 50) -> list[PolicyChange]:
    """Proposed changes of production policies, newest first (pending ones that lapsed say so)."""
    with UnitOfWork(ctx, write=False) as uow:
        query = select(PolicyChangeRow).order_by(PolicyChangeRow.id.desc()).limit(limit)
        if pending_only:
            query = query.where(PolicyChangeRow.status == ChangeStatus.PENDING.value)
        envs = {e.id: e for e in queries.ordered_environments(uow.session)}
        now = ctx.clock.now()
        changes = [to_policy_change(row, envs[row.environment_id]) for row in uow.session.scalars(query)]
    return [c for c in changes if not (pending_only and now >= c.expires_at)]


def decide_change(
    ctx: ServiceContext, actor: Actor, change_id: int, *, approve: bool, comment: str = ""
) -> PolicyChange:
    """A second admin applies (or rejects) a proposed lowering; the proposer may only withdraw it."""
    authz.check(
        ctx,
        actor,
        Action.MANAGE_POLICIES,
        object_type="policy_change",
        object_id=str(change_id)[:20],
        what=f"{'approve' if approve else 'reject'} policy change #{str(change_id)[:20]}",
    )
    text = validate_comment(comment)

    def work() -> PolicyChange:
        with UnitOfWork(ctx) as uow:
            db, now = uow.session, ctx.clock.now()
            row = db.get(PolicyChangeRow, change_id, with_for_update=True, populate_existing=True)
            if row is None:
                raise NotFound(f"no policy change #{str(change_id)[:20]}")
            env = db.get(EnvironmentRow, row.environment_id)
            assert env is not None
            change = to_policy_change(row, env)
            if not change.pending:
                raise StaleState(f"policy change #{row.id} {STALE}: it was {change.status.value}")
            persons = queries.persons_of(db, [actor.username, row.proposed_by])
            own = persons[actor.username] == persons[row.proposed_by]
            if approve and own:
                raise InvalidInput(
                    f"you proposed policy change #{row.id}; another admin must approve it (four eyes)"
                )
            if approve and now >= change.expires_at:
                raise InvalidInput(
                    f"policy change #{row.id} lapsed on {change.expires_at:%Y-%m-%d}; propose it again"
                )
            current = to_policy(env, db.get(SignoffPolicyRow, env.id))
            if approve and current.version != row.base_version:
                raise StaleState(
                    f"the policy of {env.name} changed after change #{row.id} was proposed; propose it again"
                )
            if approve:
                check_floor(Tier(env.tier), change.signoff)
            status = (
                ChangeStatus.APPLIED
                if approve
                else (ChangeStatus.WITHDRAWN if own else ChangeStatus.REJECTED)
            )
            row.status, row.decided_by, row.decided_at, row.comment = status.value, actor.username, now, text
            db.flush()
            uow.record(
                actor,
                f"policy.change_{status.value}",
                object_type="environment",
                object_id=env.name,
                after=change.summary() | {"status": status.value},
                detail=text,
            )
            if approve:
                policy_row = db.get(SignoffPolicyRow, env.id)
                assert policy_row is not None  # a proposal exists only against a stored policy
                fill_policy_row(
                    policy_row, change.signoff, change.gates, updated_by=actor.username, updated_at=now
                )
                db.flush()
                uow.record(
                    actor,
                    "policy.update",
                    object_type="environment",
                    object_id=env.name,
                    before=current.snapshot(),
                    after=to_policy(env, policy_row).snapshot(),
                    detail=f"change #{row.id} proposed by {row.proposed_by}, approved by {actor.username}",
                )
            result = to_policy_change(row, env)
            uow.commit()
            return result

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
