"""Reading promotion requests: one, a list, their evidence, where a version may go, what someone decided.

Each read is one read transaction whose statement count does not depend on
how many requests it returns (see :class:`PromotionReader`).
"""

from __future__ import annotations

from sqlalchemy import select

from steward.core.adapters.db import queries
from steward.core.adapters.db.mappers.approvals import to_approval
from steward.core.adapters.db.models import PipelineRow, PromotionRequestRow
from steward.core.domain.accounts import Actor
from steward.core.domain.promotions import (
    Approval,
    Evidence,
    LedgerEntry,
    PromotionRequest,
    RequestStatus,
    awaits,
    path_problem,
)
from steward.core.services.context import ServiceContext
from steward.core.services.deployments import entries
from steward.core.services.promotions.reading import PromotionReader
from steward.core.services.promotions.signers import approver_roles_now
from steward.core.services.uow import UnitOfWork


def get(ctx: ServiceContext, request_id: int) -> PromotionRequest:
    with UnitOfWork(ctx, write=False) as uow:
        db = uow.session
        return PromotionReader(db, ctx.clock.now()).request(queries.request_row(db, request_id))


def list_requests(
    ctx: ServiceContext,
    *,
    status: RequestStatus | None = None,
    environment: str | None = None,
    pipeline: str | None = None,
    limit: int = 200,
) -> list[PromotionRequest]:
    """Newest first."""
    with UnitOfWork(ctx, write=False) as uow:
        db = uow.session
        query = select(PromotionRequestRow).order_by(PromotionRequestRow.id.desc()).limit(limit)
        if status is not None:
            query = query.where(PromotionRequestRow.status == status.value)
        if environment is not None:
            env = queries.environment_by_name(db, environment)
            query = query.where(PromotionRequestRow.environment_id == env.id)
        if pipeline is not None:
            query = query.join(PipelineRow, PipelineRow.id == PromotionRequestRow.pipeline_id).where(
                PipelineRow.name == pipeline
            )
        return PromotionReader(db, ctx.clock.now()).requests(list(db.scalars(query)))


def evidence(ctx: ServiceContext, request_id: int) -> Evidence:
    """What a reviewer needs, gathered now: champion vs challenger, lineage, gates, sign-offs so far."""
    with UnitOfWork(ctx, write=False) as uow:
        db = uow.session
        return PromotionReader(db, ctx.clock.now()).evidence([queries.request_row(db, request_id)])[0]


def awaiting(ctx: ServiceContext, actor: Actor) -> list[Evidence]:
    """Pending requests that still need a role the actor holds and that the actor may sign, oldest first."""
    with UnitOfWork(ctx, write=False) as uow:
        db = uow.session
        mine = approver_roles_now(db, [actor.username]).get(actor.username, frozenset())
        if not mine:
            return []
        found = PromotionReader(db, ctx.clock.now()).evidence(queries.pending_requests(db))
    return [e for e in found if awaits(e, actor.username, mine)]


def decisions_by(ctx: ServiceContext, username: str) -> list[tuple[PromotionRequest, Approval]]:
    """What someone approved or rejected, newest first, with the request as it stands now."""
    with UnitOfWork(ctx, write=False) as uow:
        db = uow.session
        return decisions_with(PromotionReader(db, ctx.clock.now()), username)


def decisions_with(
    reader: PromotionReader, username: str, known: dict[int, PromotionRequest] | None = None
) -> list[tuple[PromotionRequest, Approval]]:
    """:func:`decisions_by` in the reader's transaction; ``known``: requests already read (not read again)."""
    rows = queries.decisions_by(reader.db, username)
    requests = dict(known or {})
    missing = {row.request_id for row in rows} - set(requests)
    loaded = queries.requests_by_id(reader.db, missing)
    requests.update({r.id: r for r in reader.requests(list(loaded.values()))})
    return [(requests[row.request_id], to_approval(row)) for row in rows]


def targets(ctx: ServiceContext, pipeline: str, number: int) -> list[tuple[str, str]]:
    """Each environment and why this version may not be requested there ('' when it may)."""
    with UnitOfWork(ctx, write=False) as uow:
        db = uow.session
        pipeline_row, version = queries.version_rows(db, pipeline, number)
        envs = queries.ordered_environments(db)
        served = set(queries.served_in(db, version.id))
        pointers = {key: p.version_id for key, p in queries.pointers_for(db, [pipeline_row.id]).items()}
        pending = queries.pending_targets(db, version.id)
        order = [(e.id, e.name) for e in envs]
        pipeline_id, version_id = pipeline_row.id, version.id
    result = []
    for env_id, name in order:
        problem = path_problem(order, env_id, served)
        serving = pointers.get((env_id, pipeline_id))
        if not problem and serving is not None and serving == version_id:
            problem = "it serves there now"
        if not problem and env_id in pending:
            problem = "a request for it there is already pending"
        result.append((name, problem))
    return result


def executed_for(ctx: ServiceContext, request_id: int) -> LedgerEntry | None:
    """The ledger entry that executed a request, if it was executed."""
    with UnitOfWork(ctx, write=False) as uow:
        found = entries(uow.session, queries.promotion_entries(uow.session, [request_id]))
    return found[0] if found else None
