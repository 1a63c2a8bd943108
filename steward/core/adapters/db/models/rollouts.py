"""Shadow and canary rollouts of a challenger beside a deployment's champion, and the shadow's answers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from steward.core.adapters.db.models.base import Base, UTCDateTime


class RolloutRow(Base):
    """One rollout: started once, ended once (by a person, by its clock, or by an automatic rollback)."""

    __tablename__ = "rollouts"
    __table_args__ = (Index("ix_rollouts_deployment", "environment_id", "pipeline_id", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pipeline_id: Mapped[int] = mapped_column(ForeignKey("pipelines.id", ondelete="CASCADE"))
    environment_id: Mapped[int] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # shadow | canary
    challenger_version_id: Mapped[str] = mapped_column(ForeignKey("pipeline_versions.id", ondelete="CASCADE"))
    champion_version_id: Mapped[str] = mapped_column(ForeignKey("pipeline_versions.id", ondelete="CASCADE"))
    share: Mapped[float | None] = mapped_column(Float, nullable=True)  # canary only
    status: Mapped[str] = mapped_column(String(16))  # active | ended | expired | rolled_back
    reason: Mapped[str] = mapped_column(Text)
    promotion_request_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    started_by: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    end_reason: Mapped[str] = mapped_column(Text, default="", server_default="")


class ShadowPredictionRow(Base):
    """What the shadow answered for one request the champion answered (never returned to the caller)."""

    __tablename__ = "shadow_predictions"
    __table_args__ = (UniqueConstraint("rollout_id", "request_id", name="uq_shadow_predictions_request"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    rollout_id: Mapped[int] = mapped_column(ForeignKey("rollouts.id", ondelete="CASCADE"))
    request_id: Mapped[str] = mapped_column(String(200))  # the champion's row in the prediction log
    version_id: Mapped[str] = mapped_column(String(32))
    champion_version_id: Mapped[str] = mapped_column(String(32))
    prediction: Mapped[float | None] = mapped_column(Float, nullable=True)
    champion_prediction: Mapped[float | None] = mapped_column(Float, nullable=True)
    label: Mapped[str | None] = mapped_column(String(200), nullable=True)
    champion_label: Mapped[str | None] = mapped_column(String(200), nullable=True)
    latency_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    status: Mapped[str] = mapped_column(String(16))  # ok | error
    scored_at: Mapped[datetime] = mapped_column(UTCDateTime())
