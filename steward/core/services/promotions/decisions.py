"""Approving or rejecting a request: one read, the artifact hashed once, one write transaction.

1. One read transaction: the request as it stands, the actor's roles now and
   where the artifact is. Permission is decided from those roles (a refusal
   is audited as ``permission.denied``); a self-approval, a stale page or a
   closed request is refused before anything is hashed.
2. For an approval, the artifact's bytes are hashed: they must still be the
   digest the request is bound to (else the integrity alarm and a refusal).
3. One write transaction re-reads and locks the request (nothing changed
   since step 1, or StaleState), re-reads the actor's roles against the
   environment's policy, writes the signature bound to artifact, version and
   environment with its audit event, and works out whether sign-off is now
   complete; notifications go out after the commit.
"""

from __future__ import annotations

from datetime import datetime

from steward.core.adapters.db import queries
from steward.core.adapters.db.mappers.approvals import role_values, to_approval
from steward.core.adapters.db.mappers.policies import to_policy
from steward.core.adapters.db.mappers.promotions import to_request
from steward.core.adapters.db.models import PromotionApprovalRow, SignoffPolicyRow
from steward.core.domain.accounts import Actor
from steward.core.domain.names import validate_comment
from steward.core.domain.permissions import APPROVERS, Action, Tier
from steward.core.domain.policy_rules import roles_that_may_sign
from steward.core.domain.promotions import (
    Decision,
    EnvironmentPolicy,
    PromotionRequest,
    RequestStatus,
)
from steward.core.domain.signoff import PolicyResult
from steward.core.errors import AlreadyExists, InvalidInput
from steward.core.services import authz
from steward.core.services.context import ServiceContext
from steward.core.services.deployments import guarded
from steward.core.services.promotions import notices
from steward.core.services.promotions.checks import check_open, read_before_change, verify_artifact
from steward.core.services.promotions.execution import auto_execute
from steward.core.services.promotions.reading import PromotionReader
from steward.core.services.promotions.signers import signer_facts, signoff_now
from steward.core.services.uow import UnitOfWork


def decide(
    ctx: ServiceContext,
    actor: Actor,
    request_id: int,
    decision: Decision,
    comment: str,
    expected_version: int | None,
) -> PromotionRequest:
    seen = read_before_change(ctx, actor, request_id)
    request = seen.request
    authz.enforce(
        ctx,
        actor,
        seen.roles,
        Action.APPROVE_PROMOTION,
        tier=request.tier,
        object_type="promotion_request",
        object_id=str(request_id),
        what=f"{decision.value} {request.label}",
    )
    text = validate_comment(comment)
    if decision is Decision.REJECT and not text:
        raise InvalidInput("a rejection needs a comment saying why")
    if actor.username == request.requested_by:
        raise InvalidInput("you asked for this promotion; someone else must sign it off")
    check_open(request, expected_version)
    if decision is Decision.APPROVE:
        verify_artifact(ctx, actor, request, seen.artifact_uri, "promotion.approve")

    def work() -> tuple[PromotionRequest, EnvironmentPolicy, PolicyResult]:
        with UnitOfWork(ctx) as uow:
            db, now = uow.session, ctx.clock.now()
            row = queries.locked_request(db, request_id)
            versions = queries.versions_by_id(db, [row.version_id, row.champion_version_id])
            reader = PromotionReader(db, now)
            current = reader.request(row, versions)
            check_open(current, expected_version)
            persons = queries.persons_of(db, [actor.username, row.requested_by])
            if persons[actor.username] == persons[row.requested_by]:  # another account of the requester
                raise InvalidInput(
                    f"{actor.username} and {row.requested_by} are accounts of one person; "
                    "someone else must sign this promotion off"
                )
            env = reader.environments()[row.environment_id]
            policy = to_policy(env, db.get(SignoffPolicyRow, env.id))
            held = authz.current_roles(db, actor) & APPROVERS
            if not held & roles_that_may_sign(Tier(env.tier), policy.signoff):
                raise InvalidInput(
                    f"{env.name}'s policy asks for {policy.signoff.describe()}; your roles are not among them"
                    if policy.signoff.needs_approval
                    else f"{env.name} needs no sign-off"
                )
            if decision is Decision.APPROVE:
                _refuse_repeat(current, actor, policy, now)
            version = versions[row.version_id]
            approval = PromotionApprovalRow(
                request_id=row.id,
                approver=actor.username,
                approver_name=queries.display_name(db, actor.username),
                roles=role_values(held),
                decision=decision.value,
                comment=text,
                decided_at=now,
                version_id=version.id,
                artifact_sha256=version.artifact_sha256,
                environment_id=env.id,
            )
            db.add(approval)
            if decision is Decision.REJECT:
                row.status, row.closed_at = RequestStatus.REJECTED.value, now
                row.closed_by, row.close_comment = actor.username, text
            db.flush()
            numbers = {vid: v.number for vid, v in versions.items()}
            pipeline_name = current.pipeline_name
            event = uow.record(
                actor,
                f"promotion.{decision.value}",
                object_type="promotion_request",
                object_id=str(row.id),
                after={
                    **to_request(row, env, pipeline_name, numbers, current.approvals).summary(),
                    "roles": role_values(held),
                    "bound_to": {
                        "version_id": version.id,
                        "artifact_sha256": version.artifact_sha256,
                        "environment": env.name,
                    },
                },
                detail=text,
            )
            approval.audit_seq = event.seq
            db.flush()
            result = to_request(row, env, pipeline_name, numbers, (*current.approvals, to_approval(approval)))
            signoff = signoff_now(result, policy, signer_facts(db, [result]), now)
            uow.commit()
            return result, policy, signoff

    result, policy, signoff = guarded(work)
    notices.send(ctx, notices.decided(actor, result, decision, text, signoff))
    if decision is Decision.APPROVE and policy.signoff.auto_execute and signoff.satisfied:
        # The bytes were hashed for this approval a moment ago: the execution it triggers relies on that.
        return auto_execute(ctx, result, seen.artifact_uri, verified=True)
    return result


def _refuse_repeat(request: PromotionRequest, actor: Actor, policy: EnvironmentPolicy, now: datetime) -> None:
    """One standing approval per person: a new one only once theirs expired, was voided or no longer binds."""
    previous = next(
        (
            a
            for a in reversed(request.approvals)
            if a.approver == actor.username and a.decision is Decision.APPROVE and not a.void_reason
        ),
        None,
    )
    if (
        previous is not None
        and previous.artifact_sha256 == request.artifact_sha256
        and previous.version_id == request.version_id
        and now < previous.decided_at + policy.signoff.approval_ttl
    ):
        raise AlreadyExists(f"you already approved request #{request.id}; your approval still stands")
