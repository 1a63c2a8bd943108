"""The prediction log: every request a deployment answered, whoever asked (a batch run, later HTTP)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql import false

from steward.core.adapters.db.models.base import Base, UTCDateTime


class PredictionRow(Base):
    """One scored request: its inputs as they arrived, what the serving version answered, and when.

    A request id is answered once per deployment (pipeline and environment):
    a batch that meets rows it already scored leaves them alone, and delayed
    labels join on that id.
    """

    __tablename__ = "predictions"
    __table_args__ = (
        UniqueConstraint("pipeline_id", "environment_id", "request_id", name="uq_predictions_request"),
        Index("ix_predictions_deployment", "pipeline_id", "environment_id", "version_id", "event_time"),
        # Service health's slowest and failing requests: a top-N bounded to a window, never a scan.
        # Latency rides in the served index (the slowest are ordered from it); failures are a partial
        # index, so the ``ok`` rows (nearly all) pay no insert into it (migration 0190).
        Index("ix_predictions_served", "pipeline_id", "environment_id", "scored_at", "latency_ms"),
        Index(
            "ix_predictions_failed",
            "pipeline_id",
            "environment_id",
            "scored_at",
            sqlite_where=text("status = 'error'"),
            postgresql_where=text("status = 'error'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    pipeline_id: Mapped[int] = mapped_column(ForeignKey("pipelines.id", ondelete="CASCADE"))
    environment_id: Mapped[int] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"))
    version_id: Mapped[str] = mapped_column(String(32))
    request_id: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(64))  # batch:<run id>; http once the scoring service logs
    event_time: Mapped[datetime] = mapped_column(UTCDateTime())
    scored_at: Mapped[datetime] = mapped_column(UTCDateTime())
    features_json: Mapped[str] = mapped_column(Text)
    prediction: Mapped[float | None] = mapped_column(Float, nullable=True)
    output_json: Mapped[str] = mapped_column(Text)
    # Online requests only (a batch row leaves latency empty): how long, how it ended, who answered.
    latency_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="ok", server_default="ok")  # ok | error
    fallback: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
