"""Executing a request: one read, the artifact hashed, then one transaction that moves everything at once.

The write locks the environment (so executions there queue, on PostgreSQL as
on SQLite's ``BEGIN IMMEDIATE``) and the request, checks it is still pending
and unchanged, that what serves is still what the evidence compared against,
the path rule, the sign-off (everyone's roles now) and the gates; then moves
the pointer, keeps the replaced version as the fallback, appends the ledger
entry with the policy, signatures, gates and evidence as they were, closes
the request, supersedes the others for the same place, and audits. A race or
a stale page changes nothing and says so.
"""

from __future__ import annotations

from steward.core.adapters.db import queries
from steward.core.adapters.db.mappers.deployments import to_entry
from steward.core.adapters.db.mappers.promotions import to_request
from steward.core.adapters.db.models import PipelineVersionRow
from steward.core.domain.accounts import Actor
from steward.core.domain.gates import gates_pass
from steward.core.domain.permissions import Action
from steward.core.domain.promotions import (
    LedgerEntry,
    LedgerKind,
    PromotionRequest,
    RequestStatus,
    path_problem,
)
from steward.core.errors import IntegrityError, InvalidInput, StaleState
from steward.core.services import authz
from steward.core.services.context import ServiceContext
from steward.core.services.deployments import STALE, guarded, move_pointer
from steward.core.services.promotions import notices, reads
from steward.core.services.promotions.checks import (
    check_open,
    read_before_change,
    record_refusal,
    verify_artifact,
)
from steward.core.services.promotions.reading import PromotionReader
from steward.core.services.uow import UnitOfWork

AUTO_EXECUTOR = "auto-execute"


def execute(ctx: ServiceContext, actor: Actor, request_id: int, expected_version: int | None) -> LedgerEntry:
    """Deploy when the policy is satisfied and the gates pass; ``expected_version``: what the page showed."""
    seen = read_before_change(ctx, actor, request_id)
    authz.enforce(
        ctx,
        actor,
        seen.roles,
        Action.EXECUTE_PROMOTION,
        tier=seen.request.tier,
        object_type="promotion_request",
        object_id=str(request_id),
        what=f"execute {seen.request.label}",
    )
    entry, _ = run(ctx, actor, seen.request, seen.artifact_uri, expected_version)
    return entry


def auto_execute(
    ctx: ServiceContext, request: PromotionRequest, artifact_uri: str, *, verified: bool = False
) -> PromotionRequest:
    """The policy executes for itself; if a gate blocks it, the request waits (the evidence says why).

    ``verified``: the caller hashed the artifact's bytes for this same action a moment ago.
    """
    try:
        _, executed = run(
            ctx, Actor.system_actor(AUTO_EXECUTOR), request, artifact_uri, None, verified=verified
        )
    except (StaleState, InvalidInput, IntegrityError):
        return reads.get(ctx, request.id)
    return executed


def run(
    ctx: ServiceContext,
    actor: Actor,
    request: PromotionRequest,
    artifact_uri: str,
    expected_version: int | None,
    *,
    verified: bool = False,
) -> tuple[LedgerEntry, PromotionRequest]:
    """Execute a request the caller has read and the actor may execute; returns the entry and the request."""
    check_open(request, expected_version)
    if not verified:
        verify_artifact(ctx, actor, request, artifact_uri, "promotion.execute")

    def work() -> tuple[LedgerEntry, PromotionRequest]:
        with UnitOfWork(ctx) as uow:
            db, now = uow.session, ctx.clock.now()
            env = queries.lock_environment(db, request.environment_id)
            row = queries.locked_request(db, request.id)
            reader = PromotionReader(db, now)
            [evidence] = reader.evidence([row])
            check_open(evidence.request, expected_version)
            pipeline = reader.pipelines([row.pipeline_id])[row.pipeline_id]
            version = db.get(PipelineVersionRow, row.version_id)  # loaded with the evidence
            assert version is not None
            if version.artifact_sha256 != row.artifact_sha256:
                raise IntegrityError(
                    f"{pipeline.name} v{version.number}'s registered digest changed after the request"
                )
            pointer = queries.pointer(db, env.id, pipeline.id)
            if (pointer.version_id if pointer else None) != row.champion_version_id:
                raise StaleState(f"what serves {pipeline.name} in {env.name} {STALE}")
            envs = [(e.id, e.name) for e in reader.environments().values()]
            problem = path_problem(envs, env.id, set(queries.served_in(db, version.id)))
            if problem:
                raise InvalidInput(f"{pipeline.name} v{version.number} cannot go to {env.name}: {problem}")
            if not evidence.signoff.satisfied:
                raise InvalidInput(
                    f"cannot execute yet: still needs sign-off from {evidence.signoff.describe_missing()}"
                )
            if not gates_pass(evidence.gates):
                raise InvalidInput(
                    "cannot execute: "
                    + "; ".join(
                        f"gate '{g.title}' is {g.status.value} ({g.detail})" for g in evidence.failing_gates
                    )
                )
            automatic = actor.system and actor.username.endswith(AUTO_EXECUTOR)
            entry_row, _pointer, superseded = move_pointer(
                uow,
                actor,
                env=env,
                pipeline=pipeline,
                version=version,
                kind=LedgerKind.PROMOTION,
                reason=row.reason,
                request_id=row.id,
                policy=evidence.policy.record(),
                approvals=evidence.signature_records(),
                gates=evidence.gates,
                evidence=evidence.snapshot(),
                expected_version=pointer.version if pointer is not None else None,
                actor_name=f"{env.name}'s policy, automatically (asked by {row.requested_by_name})"
                if automatic
                else None,
            )
            row.status, row.closed_at = RequestStatus.EXECUTED.value, now
            row.closed_by = actor.username
            db.flush()
            numbers = {version.id: version.number}
            if evidence.champion is not None:
                numbers[evidence.champion.version_id] = evidence.champion.number
            closed = to_request(row, env, pipeline.name, numbers, evidence.request.approvals)
            event = uow.record(
                actor,
                "promotion.execute",
                object_type="promotion_request",
                object_id=str(row.id),
                before={"serving": evidence.champion.number if evidence.champion else None},
                after={
                    **closed.summary(),
                    "ledger_entry": entry_row.id,
                    "approved_by": {name: role.value for name, role in evidence.signoff.counted},
                    "gates": {g.gate: g.status.value for g in evidence.gates},
                    "superseded_requests": superseded,
                },
            )
            entry_row.audit_seq = event.seq
            db.flush()
            entry = to_entry(entry_row, env, pipeline.name, numbers)
            uow.commit()
            return entry, closed

    try:
        entry, closed = guarded(work)
    except (InvalidInput, IntegrityError) as refusal:
        record_refusal(ctx, actor, request, "promotion.execute", str(refusal))
        raise
    notices.send(ctx, notices.executed(entry, request))
    return entry, closed
