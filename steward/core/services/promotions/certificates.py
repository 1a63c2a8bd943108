"""Release certificates: what an executed promotion bound, with the audit events that record it.

Read in one transaction: the ledger entry (with its records of policy,
signatures, gates and evidence), the request, both versions and the audit
events of the request, each approval and the execution, each event's hash
recomputed from its stored content.
"""

from __future__ import annotations

from sqlalchemy import select

from steward.core.adapters.certificates import render_html, render_pdf
from steward.core.adapters.db import queries
from steward.core.adapters.db.mappers.promotions import to_version_facts
from steward.core.adapters.db.models import AuditEventRow, PipelineRow
from steward.core.domain.audit import StoredEvent
from steward.core.domain.promotions import Certificate, LedgerKind
from steward.core.errors import InvalidInput
from steward.core.services.context import ServiceContext
from steward.core.services.deployments import entries
from steward.core.services.promotions.reading import PromotionReader
from steward.core.services.uow import UnitOfWork


def certificate(ctx: ServiceContext, entry_id: int) -> Certificate:
    with UnitOfWork(ctx, write=False) as uow:
        db = uow.session
        [entry] = entries(db, [queries.ledger_row(db, entry_id)])
        if entry.kind is not LedgerKind.PROMOTION or entry.request_id is None:
            raise InvalidInput(
                f"ledger entry #{entry_id} is a {entry.kind.value}; certificates are for promotions"
            )
        versions = queries.versions_by_id(db, [entry.version_id, entry.previous_version_id])
        request = PromotionReader(db, ctx.clock.now()).request(queries.request_row(db, entry.request_id))
        pipeline = db.get(PipelineRow, entry.pipeline_id)
        assert pipeline is not None
        champion = versions.get(entry.previous_version_id or "")
        seqs = sorted(
            {s for s in [request.audit_seq, entry.audit_seq, *(a.audit_seq for a in request.approvals)] if s}
        )
        audit = []
        intact = True
        for row in db.scalars(
            select(AuditEventRow).where(AuditEventRow.seq.in_(seqs)).order_by(AuditEventRow.seq)
        ):
            stored = StoredEvent(
                row.seq,
                row.event_id,
                row.occurred_at,
                row.actor,
                row.action,
                row.object_type,
                row.object_id,
                row.outcome,
                row.before_json,
                row.after_json,
                row.detail,
                row.source,
                row.prev_hash,
                row.hash,
            )
            intact = intact and stored.recomputed_hash() == row.hash
            audit.append((row.seq, row.action, row.actor, row.occurred_at.isoformat(), row.hash))
        return Certificate(
            entry=entry,
            request=request,
            challenger=to_version_facts(versions[entry.version_id]),
            champion=to_version_facts(champion) if champion is not None else None,
            pipeline_owner=pipeline.owner,
            audit=tuple(audit),
            issued_at=ctx.clock.now(),
            chain_ok=intact and len(audit) == len(seqs),
        )


def certificate_html(ctx: ServiceContext, entry_id: int) -> str:
    return render_html(certificate(ctx, entry_id))


def certificate_pdf(ctx: ServiceContext, entry_id: int) -> bytes:
    return render_pdf(certificate(ctx, entry_id))
