"""Service levels: the SLA targets of each deployment and the load tests measured against them.

A target row exists per environment and pipeline (set before anything
serves there, so the first promotion's load-test gate can be judged); its
version column turns an edit from a stale page into "changed since you
loaded it". A load-test row is written by the request, claimed and updated
by one runner, and never changed once finished.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from steward.core.adapters.db.models.base import Base, UTCDateTime

SEQ = BigInteger().with_variant(Integer, "sqlite")


class SlaTargetRow(Base):
    __tablename__ = "sla_targets"
    __table_args__ = (UniqueConstraint("environment_id", "pipeline_id", name="uq_sla_targets_deployment"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    environment_id: Mapped[int] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"))
    pipeline_id: Mapped[int] = mapped_column(ForeignKey("pipelines.id", ondelete="CASCADE"))
    p50_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    p95_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    p99_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    min_throughput_rps: Mapped[float | None] = mapped_column(Float, nullable=True)
    max_error_rate: Mapped[float | None] = mapped_column(Float, nullable=True)
    window_minutes: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's declarative API


class LoadTestRow(Base):
    __tablename__ = "load_tests"
    __table_args__ = (
        Index("ix_load_tests_version", "version_id", "id"),
        Index("ix_load_tests_deployment", "environment_id", "pipeline_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    environment_id: Mapped[int] = mapped_column(ForeignKey("environments.id", ondelete="RESTRICT"))
    pipeline_id: Mapped[int] = mapped_column(ForeignKey("pipelines.id", ondelete="RESTRICT"))
    version_id: Mapped[str] = mapped_column(ForeignKey("pipeline_versions.id", ondelete="RESTRICT"))
    status: Mapped[str] = mapped_column(String(16))
    rps: Mapped[int] = mapped_column(Integer)
    duration_seconds: Mapped[int] = mapped_column(Integer)
    rows_source: Mapped[str] = mapped_column(String(16))
    target_url: Mapped[str] = mapped_column(String(500))
    requested_by: Mapped[str] = mapped_column(String(200))
    requested_by_name: Mapped[str] = mapped_column(String(200), default="")
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    runner: Mapped[str] = mapped_column(String(200), default="")
    rows_used: Mapped[int] = mapped_column(Integer, default=0)
    requests: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    p50_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    p95_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    p99_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    throughput_rps: Mapped[float | None] = mapped_column(Float, nullable=True)
    other_answers: Mapped[int] = mapped_column(Integer, default=0)
    answers_json: Mapped[str] = mapped_column(Text, default="{}")
    errors_json: Mapped[str] = mapped_column(Text, default="[]")
    detail: Mapped[str] = mapped_column(Text, default="")
    audit_seq: Mapped[int | None] = mapped_column(SEQ, nullable=True)
