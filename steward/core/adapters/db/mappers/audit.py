"""Audit rows to :class:`StoredEvent`: the event exactly as stored, which is what its seal covers."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.core.adapters.db.models import AuditEventRow
from steward.core.domain.audit import StoredEvent


def to_stored_event(row: AuditEventRow) -> StoredEvent:
    return StoredEvent(
        seq=row.seq,
        event_id=row.event_id,
        occurred_at=row.occurred_at,
        actor=row.actor,
        action=row.action,
        object_type=row.object_type,
        object_id=row.object_id,
        outcome=row.outcome,
        before_json=row.before_json,
        after_json=row.after_json,
        detail=row.detail,
        source=row.source,
        prev_hash=row.prev_hash,
        hash=row.hash,
        key_id=row.key_id or "",
    )


def stored_events(db: Session, seqs: Collection[int | None]) -> dict[int, StoredEvent]:
    """seq -> event, for many events in one statement (missing ones are simply absent)."""
    wanted = sorted({s for s in seqs if s is not None})
    if not wanted:
        return {}
    rows = db.scalars(select(AuditEventRow).where(AuditEventRow.seq.in_(wanted)))
    return {row.seq: to_stored_event(row) for row in rows}
