"""Every signature against its audit event: what ``steward audit verify`` adds to the chain check.

The chain proves no event was altered; this proves no signature exists without
its event. An approval row inserted with raw SQL (pointing at no event, or at
another event's number) is named here, with what its event says instead.
"""

from __future__ import annotations

from sqlalchemy import select

from steward.core.adapters.db.models import PromotionRequestRow
from steward.core.services.context import ServiceContext
from steward.core.services.promotions.reading import PromotionReader
from steward.core.services.promotions.signers import EventCheck, approval_problems, signer_facts
from steward.core.services.uow import UnitOfWork

BATCH = 500


def signature_problems(ctx: ServiceContext, authentic: EventCheck | None = None) -> list[str]:
    """One line per approval that does not stand on its own audit event (empty when all do)."""
    lines: list[str] = []
    with UnitOfWork(ctx, write=False) as uow:
        db = uow.session
        reader = PromotionReader(db, ctx.clock.now(), authentic)
        ids = list(db.scalars(select(PromotionRequestRow.id).order_by(PromotionRequestRow.id)))
        for start in range(0, len(ids), BATCH):
            rows = list(
                db.scalars(
                    select(PromotionRequestRow)
                    .where(PromotionRequestRow.id.in_(ids[start : start + BATCH]))
                    .order_by(PromotionRequestRow.id)
                )
            )
            requests = reader.requests(rows)
            facts = signer_facts(db, requests, authentic)
            for request in requests:
                by_id = {a.id: a for a in request.approvals}
                for approval_id, problem in approval_problems(request, facts).items():
                    who = by_id[approval_id].approver
                    lines.append(f"approval #{approval_id} of request #{request.id} by {who}: {problem}")
    return lines
