"""Request rollups: the prediction log summed per minute and per hour, so no page scans raw log rows.

One row per (span, start, environment, pipeline, version, channel): requests,
errors, fallback answers and a latency histogram over fixed log-spaced buckets
(``steward.core.domain.latency``), stored sparse as JSON. Adding two rows'
counts and buckets is exact, so an hour is the sum of its minutes and a window
the sum of its rows. The mark says how far the log has been read (by row id),
with the id ranges that were skipped while another transaction may still
commit into them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from steward.core.adapters.db.models.base import Base, UTCDateTime

LOG_ID = BigInteger().with_variant(Integer, "sqlite")


class RequestRollupRow(Base):
    __tablename__ = "request_rollups"
    __table_args__ = (
        UniqueConstraint(
            "span_seconds",
            "environment_id",
            "pipeline_id",
            "version_id",
            "channel",
            "start",
            name="uq_request_rollups_key",
        ),
        Index("ix_request_rollups_deployment", "environment_id", "pipeline_id", "span_seconds", "start"),
    )

    id: Mapped[int] = mapped_column(LOG_ID, primary_key=True)
    span_seconds: Mapped[int] = mapped_column(Integer)  # 60 or 3600
    start: Mapped[datetime] = mapped_column(UTCDateTime())
    environment_id: Mapped[int] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"))
    pipeline_id: Mapped[int] = mapped_column(ForeignKey("pipelines.id", ondelete="CASCADE"))
    version_id: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(8))  # online | batch
    requests: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    fallbacks: Mapped[int] = mapped_column(Integer, default=0)
    latency_count: Mapped[int] = mapped_column(Integer, default=0)
    latency_sum_ms: Mapped[float] = mapped_column(Float, default=0.0)
    latency_max_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    histogram_json: Mapped[str] = mapped_column(Text, default="{}")


class RollupMarkRow(Base):
    """How far the rollup job has read the prediction log (one row per log it reads)."""

    __tablename__ = "rollup_marks"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_id: Mapped[int] = mapped_column(LOG_ID, default=0)
    gaps_json: Mapped[str] = mapped_column(Text, default="[]")  # [[low, high, first seen ISO], ...]
    rows_read: Mapped[int] = mapped_column(LOG_ID, default=0)
    late_rows: Mapped[int] = mapped_column(LOG_ID, default=0)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class SlaStateRow(Base):
    """The last verdict on one deployment's SLA: within, breached or idle, since when and why."""

    __tablename__ = "sla_states"
    __table_args__ = (UniqueConstraint("environment_id", "pipeline_id", name="uq_sla_states_deployment"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    environment_id: Mapped[int] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"))
    pipeline_id: Mapped[int] = mapped_column(ForeignKey("pipelines.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(16))  # within | breached | idle
    since: Mapped[datetime] = mapped_column(UTCDateTime())
    evaluated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    detail: Mapped[str] = mapped_column(Text, default="")
    measured_json: Mapped[str] = mapped_column(Text, default="{}")
