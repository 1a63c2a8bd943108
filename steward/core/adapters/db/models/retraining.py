"""Retrain policies (one per pipeline) and the retrains they ran, one row per policy and slot."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from steward.core.adapters.db.models.base import Base, UTCDateTime


class RetrainPolicyRow(Base):
    __tablename__ = "retrain_policies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pipeline_id: Mapped[int] = mapped_column(
        ForeignKey("pipelines.id", ondelete="CASCADE"), unique=True, index=True
    )
    environment_id: Mapped[int] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"))
    dataset: Mapped[str] = mapped_column(String(100))
    labels: Mapped[str | None] = mapped_column(String(100), nullable=True)
    id_column: Mapped[str | None] = mapped_column(String(200), nullable=True)
    drift_windows: Mapped[int | None] = mapped_column(Integer, nullable=True)
    metric: Mapped[str | None] = mapped_column(String(32), nullable=True)
    threshold: Mapped[float | None] = mapped_column(Float, nullable=True)
    every_hours: Mapped[int | None] = mapped_column(Integer, nullable=True)
    request_to_id: Mapped[int | None] = mapped_column(
        ForeignKey("environments.id", ondelete="SET NULL"), nullable=True
    )
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RetrainRunRow(Base):
    __tablename__ = "retrain_runs"
    # The second guard of "once per slot" (the job claim is the first): one run per policy and slot.
    __table_args__ = (UniqueConstraint("policy_id", "slot", name="uq_retrain_runs_policy_slot"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("retrain_policies.id", ondelete="CASCADE"), index=True)
    slot: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16))  # running | succeeded | failed
    reason: Mapped[str] = mapped_column(Text)
    evidence_window_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    version_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    version_number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    promotion_request_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    promotion_note: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str] = mapped_column(Text, default="")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
