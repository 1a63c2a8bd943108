"""Alerts: opened by an audit event, closed by a person; at most one unresolved alert per fingerprint."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from steward.core.adapters.db.models.base import Base, UTCDateTime

AuditSeq = BigInteger().with_variant(Integer, "sqlite")  # the type of audit_events.seq
UNRESOLVED_WHERE = text("status != 'resolved'")


class AlertRow(Base):
    __tablename__ = "alerts"
    __table_args__ = (
        # A repeat of the same event bumps the unresolved alert; the database refuses a second one.
        Index(
            "uq_alerts_unresolved_fingerprint",
            "fingerprint",
            unique=True,
            sqlite_where=UNRESOLVED_WHERE,
            postgresql_where=UNRESOLVED_WHERE,
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(400), index=True)
    kind: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(16))  # critical | warning | info
    title: Mapped[str] = mapped_column(String(200))
    detail: Mapped[str] = mapped_column(Text, default="")
    pipeline: Mapped[str | None] = mapped_column(String(100), nullable=True, index=True)
    object_type: Mapped[str] = mapped_column(String(64), default="")
    object_id: Mapped[str] = mapped_column(String(200), default="")
    first_seq: Mapped[int] = mapped_column(AuditSeq)  # the event that opened it
    last_seq: Mapped[int] = mapped_column(AuditSeq)  # the latest event with this fingerprint
    count: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16), index=True)  # open | acknowledged | resolved
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    acknowledged_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    acknowledge_comment: Mapped[str] = mapped_column(Text, default="")
    resolved_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    resolution: Mapped[str] = mapped_column(Text, default="")
