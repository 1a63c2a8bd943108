"""The event timeline: one chronological read across deployments, approvals, alerts, runs and swaps."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import select

from steward.core.adapters.db.models import AuditEventRow
from steward.core.domain.timeline import TimelineEntry, category_of, where_of
from steward.core.services.context import ServiceContext
from steward.core.services.uow import UnitOfWork

SCAN_LIMIT = 20_000  # events read per query; the time filter narrows it first


class TimelineService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def entries(
        self,
        *,
        pipeline: str | None = None,
        environment: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        categories: frozenset[str] | None = None,
        limit: int = 500,
    ) -> list[TimelineEntry]:
        """Newest first, filtered by pipeline, environment, time and category."""
        query = select(AuditEventRow).order_by(AuditEventRow.seq.desc()).limit(SCAN_LIMIT)
        if since is not None:
            query = query.where(AuditEventRow.occurred_at >= since)
        if until is not None:
            query = query.where(AuditEventRow.occurred_at <= until)
        found: list[TimelineEntry] = []
        with UnitOfWork(self.ctx, write=False) as uow:
            for row in uow.session.scalars(query):
                category = category_of(row.action)
                if category is None or (categories and category not in categories):
                    continue
                after = json.loads(row.after_json) if row.after_json else None
                before = json.loads(row.before_json) if row.before_json else None
                where = where_of(
                    row.object_id,
                    after if isinstance(after, dict) else None,
                    before if isinstance(before, dict) else None,
                )
                if (pipeline and where[0] != pipeline) or (environment and where[1] != environment):
                    continue
                found.append(
                    TimelineEntry(
                        row.seq,
                        row.occurred_at,
                        category,
                        row.action,
                        row.actor,
                        row.outcome,
                        where[0],
                        where[1],
                        f"{row.object_type}:{row.object_id}",
                        row.detail[:500],
                    )
                )
                if len(found) >= limit:
                    break
        return found
