"""Release certificates: what an executed promotion bound, with the audit events that record it.

Read in one transaction: the ledger entry (with its records of policy,
signatures, gates and evidence), the request, both versions and the audit
events of the request, each approval and the execution, each event's hash
recomputed from its stored content.
"""

from __future__ import annotations

from steward.core.adapters.certificates import render_html, render_pdf
from steward.core.adapters.db import queries
from steward.core.adapters.db.mappers.audit import stored_events
from steward.core.adapters.db.mappers.promotions import to_version_facts
from steward.core.adapters.db.models import PipelineRow
from steward.core.domain.promotions import Certificate, LedgerKind
from steward.core.errors import InvalidInput
from steward.core.services.context import ServiceContext
from steward.core.services.deployments import entries
from steward.core.services.promotions.reading import PromotionReader
from steward.core.services.promotions.signers import approval_problems, seal_check, signer_facts
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
        events = stored_events(db, seqs)
        audit = [
            (e.seq, e.action, e.actor, e.occurred_at.isoformat(), e.hash) for _, e in sorted(events.items())
        ]
        authentic = seal_check(db)
        intact = all(authentic(e) for e in events.values()) and len(events) == len(seqs)
        signatures = approval_problems(request, signer_facts(db, [request]))
        by_id = {a.id: a for a in request.approvals}
        mismatches = tuple(
            f"{by_id[approval_id].approver}'s signature: {problem}"
            for approval_id, problem in signatures.items()
        )
        return Certificate(
            entry=entry,
            request=request,
            challenger=to_version_facts(versions[entry.version_id]),
            champion=to_version_facts(champion) if champion is not None else None,
            pipeline_owner=pipeline.owner,
            audit=tuple(audit),
            issued_at=ctx.clock.now(),
            chain_ok=intact and not mismatches,
            mismatches=mismatches,
        )


def certificate_html(ctx: ServiceContext, entry_id: int) -> str:
    return render_html(certificate(ctx, entry_id))


def certificate_pdf(ctx: ServiceContext, entry_id: int) -> bytes:
    return render_pdf(certificate(ctx, entry_id))
