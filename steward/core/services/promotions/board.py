"""The Approvals page in one read transaction: what waits for you, what is ready, what you decided.

The statements it costs are fixed (about two dozen), whether one request is
pending or fifty: every kind of row is loaded once for all of them.
"""

from __future__ import annotations

from steward.core.adapters.db import queries
from steward.core.domain.accounts import Actor
from steward.core.domain.permissions import APPROVERS, Action, is_allowed
from steward.core.domain.promotions import ApprovalsBoard, awaits
from steward.core.services import authz
from steward.core.services.context import ServiceContext
from steward.core.services.deployments import entries
from steward.core.services.promotions.reading import PromotionReader
from steward.core.services.promotions.reads import decisions_with
from steward.core.services.uow import UnitOfWork


def approvals_board(ctx: ServiceContext, actor: Actor) -> ApprovalsBoard:
    """Everything the Approvals page shows ``actor``, judged with their roles as they are now."""
    with UnitOfWork(ctx, write=False) as uow:
        db = uow.session
        reader = PromotionReader(db, ctx.clock.now())
        in_flight = reader.evidence(queries.pending_requests(db))  # oldest first
        decisions = decisions_with(reader, actor.username, {e.request.id: e.request for e in in_flight})
        executed = {r.id for r, _ in decisions if r.executed}
        certificates = {
            entry.request_id: entry
            for entry in entries(db, queries.promotion_entries(db, executed))
            if entry.request_id is not None
        }
        roles = authz.roles_now(db, actor) or frozenset()  # last: a failure to read them shows no rights
    signing = roles & APPROVERS
    waiting = tuple(e for e in in_flight if awaits(e, actor.username, signing))
    shown = {e.request.id for e in waiting}
    newest_first = [e for e in reversed(in_flight) if e.request.id not in shown]
    ready = tuple(
        e for e in newest_first if e.ready and is_allowed(roles, Action.EXECUTE_PROMOTION, e.request.tier)
    )
    shown |= {e.request.id for e in ready}
    others = tuple(e for e in newest_first if e.request.id not in shown)
    return ApprovalsBoard(
        username=actor.username,
        signing_roles=signing,
        waiting=waiting,
        ready=ready,
        others=others,
        decisions=tuple(decisions),
        certificates=certificates,
    )
