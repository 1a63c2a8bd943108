"""Asking for a version to serve in an environment, and taking the request back.

A version enters the first environment from the registry, and every later
one only if it has served in the environment right before it (the ledger).
Where the policy says so (Dev by default) the request executes itself at
once when the gates pass.
"""

from __future__ import annotations

from steward.core.adapters.db import queries
from steward.core.adapters.db.mappers.policies import to_policy
from steward.core.adapters.db.models import PromotionRequestRow, SignoffPolicyRow
from steward.core.domain.accounts import Actor
from steward.core.domain.names import validate_comment
from steward.core.domain.permissions import Action, Tier
from steward.core.domain.promotions import EnvironmentPolicy, PromotionRequest, RequestStatus, path_problem
from steward.core.errors import AlreadyExists, InvalidInput
from steward.core.services import authz
from steward.core.services.context import ServiceContext
from steward.core.services.deployments import guarded
from steward.core.services.promotions import notices
from steward.core.services.promotions.checks import check_open, read_before_change
from steward.core.services.promotions.execution import auto_execute
from steward.core.services.promotions.reading import PromotionReader
from steward.core.services.uow import UnitOfWork


def request(
    ctx: ServiceContext, actor: Actor, pipeline: str, version: int, environment: str, reason: str
) -> PromotionRequest:
    """Ask for ``pipeline`` v``version`` to serve in ``environment``, saying why."""
    with UnitOfWork(ctx, write=False) as uow:
        env = queries.environment_by_name(uow.session, environment)
        env_id, tier = env.id, Tier(env.tier)
        roles = authz.roles_now(uow.session, actor)
    label = f"{str(pipeline)[:100]} v{version}"
    authz.enforce(
        ctx,
        actor,
        roles,
        Action.REQUEST_PROMOTION,
        tier=tier,
        object_type="pipeline_version",
        object_id=label.replace(" ", "/"),
        what=f"request {label}",
    )
    text = validate_comment(reason, "reason")
    if not text:
        raise InvalidInput("say why: a promotion request needs a reason")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise InvalidInput("the version is a number such as 2")

    def work() -> tuple[PromotionRequest, EnvironmentPolicy, tuple[str, ...], str]:
        with UnitOfWork(ctx) as uow:
            db = uow.session
            env_row = queries.lock_environment(db, env_id)
            pipeline_row, version_row = queries.version_rows(db, pipeline, version)
            if version_row.status != "ready":
                raise InvalidInput(
                    f"{pipeline_row.name} v{version} is {version_row.status} and cannot be promoted"
                )
            pointer = queries.pointer(db, env_row.id, pipeline_row.id)
            if pointer is not None and pointer.version_id == version_row.id:
                raise InvalidInput(f"{pipeline_row.name} v{version} already serves in {env_row.name}")
            envs = queries.ordered_environments(db)
            problem = path_problem(
                [(e.id, e.name) for e in envs], env_row.id, set(queries.served_in(db, version_row.id))
            )
            if problem:
                raise InvalidInput(f"{pipeline_row.name} v{version} cannot go to {env_row.name}: {problem}")
            duplicate = queries.pending_duplicate(db, version_row.id, env_row.id)
            if duplicate is not None:
                raise AlreadyExists(
                    f"request #{duplicate} for {pipeline_row.name} v{version} to {env_row.name} "
                    "is already pending"
                )
            row = PromotionRequestRow(
                pipeline_id=pipeline_row.id,
                version_id=version_row.id,
                environment_id=env_row.id,
                artifact_sha256=version_row.artifact_sha256,
                champion_version_id=pointer.version_id if pointer is not None else None,
                status=RequestStatus.PENDING.value,
                requested_by=actor.username,
                requested_by_name=queries.display_name(db, actor.username),
                reason=text,
                requested_at=ctx.clock.now(),
                close_comment="",
            )
            db.add(row)
            db.flush()
            reader = PromotionReader(db, ctx.clock.now())
            event = uow.record(
                actor,
                "promotion.request",
                object_type="promotion_request",
                object_id=str(row.id),
                after={**reader.request(row).summary(), "reason": text},
            )
            row.audit_seq = event.seq
            db.flush()
            policy = to_policy(env_row, db.get(SignoffPolicyRow, env_row.id))
            recipients = notices.people_with(db, policy.signoff.counts, excluding=actor.username)
            result = reader.request(row)
            uow.commit()
            return result, policy, recipients, version_row.artifact_uri

    created, policy, recipients, artifact_uri = guarded(work)
    notices.send(ctx, notices.requested(created, recipients))
    if policy.signoff.auto_execute:
        return auto_execute(ctx, created, artifact_uri)
    return created


def withdraw(
    ctx: ServiceContext, actor: Actor, request_id: int, comment: str, expected_version: int | None
) -> PromotionRequest:
    """The requester takes their request back."""
    seen = read_before_change(ctx, actor, request_id)
    authz.enforce(
        ctx,
        actor,
        seen.roles,
        Action.REQUEST_PROMOTION,
        tier=seen.request.tier,
        object_type="promotion_request",
        object_id=str(request_id),
        what=f"withdraw request #{request_id}",
    )
    text = validate_comment(comment)
    if actor.username != seen.request.requested_by:
        raise InvalidInput(
            f"only {seen.request.requested_by} who asked for it can withdraw request #{request_id}"
        )

    def work() -> PromotionRequest:
        with UnitOfWork(ctx) as uow:
            db = uow.session
            row = queries.locked_request(db, request_id)
            reader = PromotionReader(db, ctx.clock.now())
            check_open(reader.request(row), expected_version)
            before = row.status
            row.status, row.closed_at = RequestStatus.WITHDRAWN.value, ctx.clock.now()
            row.closed_by, row.close_comment = actor.username, text
            db.flush()
            uow.record(
                actor,
                "promotion.withdraw",
                object_type="promotion_request",
                object_id=str(row.id),
                before={"status": before},
                after={"status": row.status},
                detail=text,
            )
            result = reader.request(row)
            uow.commit()
            return result

    return guarded(work)
