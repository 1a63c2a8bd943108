"""Alerts: opened by an audit event, closed by a person; at most one unresolved alert per fingerprint."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, Text, text
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
    # Incidents (0090): where, who owns it, quiet until when, how often it came back after a resolve.
    environment: Mapped[str | None] = mapped_column(String(64), nullable=True)
    assigned_to: Mapped[str | None] = mapped_column(String(200), nullable=True)
    snoozed_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    reopened_count: Mapped[int] = mapped_column(Integer, default=0)
    notified_key: Mapped[str] = mapped_column(String(64), default="")  # the state last told to channels


class AlertOccurrenceRow(Base):
    """One firing: on an incident's timeline, or pending (no alert yet) until its rule's condition holds."""

    __tablename__ = "alert_occurrences"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(400), index=True)
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id"), nullable=True, index=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    seq: Mapped[int | None] = mapped_column(AuditSeq, nullable=True)
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    detail: Mapped[str] = mapped_column(Text, default="")


class AlertRuleRow(Base):
    """Operators' settings of one kind of alert (see ``steward.core.domain.alert_rules``)."""

    __tablename__ = "alert_rules"

    kind: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    severity: Mapped[str] = mapped_column(String(16))
    page: Mapped[str] = mapped_column(String(64))
    comparison: Mapped[str] = mapped_column(String(8), default="none")
    threshold: Mapped[float | None] = mapped_column(Float, nullable=True)
    windows: Mapped[int] = mapped_column(Integer, default=1)
    minutes: Mapped[int] = mapped_column(Integer, default=0)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    runbook: Mapped[str] = mapped_column(Text, default="")
    updated_by: Mapped[str] = mapped_column(String(200), default="default")
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
