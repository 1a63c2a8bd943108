"""Pipelines, their immutable versions, and each version's reference data profile.

Structured values (spec, schema, metrics, lineage, charts, warnings) are JSON columns: the
database holds structures, not text each reader parses (migration 0030)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from steward.core.adapters.db.models.base import Base, UTCDateTime


class PipelineRow(Base):
    __tablename__ = "pipelines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    owner: Mapped[str] = mapped_column(String(100))
    task: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    spec_json: Mapped[dict[str, Any]] = mapped_column(JSON)
    spec_digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PipelineVersionRow(Base):
    """One trained pipeline, never changed after it is written (only its status may be set)."""

    __tablename__ = "pipeline_versions"
    __table_args__ = (UniqueConstraint("pipeline_id", "number", name="uq_pipeline_versions_pipeline_number"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    pipeline_id: Mapped[int] = mapped_column(ForeignKey("pipelines.id", ondelete="RESTRICT"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    origin: Mapped[str] = mapped_column(String(16))  # trained | retrained | uploaded
    status: Mapped[str] = mapped_column(String(16), default="ready")  # ready | quarantined
    artifact_uri: Mapped[str] = mapped_column(String(500))
    artifact_sha256: Mapped[str] = mapped_column(String(64))
    artifact_size: Mapped[int] = mapped_column(Integer)
    spec_json: Mapped[dict[str, Any]] = mapped_column(JSON)
    spec_digest: Mapped[str] = mapped_column(String(64))
    schema_json: Mapped[dict[str, Any]] = mapped_column(JSON)
    data_digest: Mapped[str] = mapped_column(String(64))
    data_rows: Mapped[int] = mapped_column(Integer)
    metrics_json: Mapped[dict[str, Any]] = mapped_column(JSON)
    lineage_json: Mapped[dict[str, Any]] = mapped_column(JSON)
    charts_json: Mapped[dict[str, Any]] = mapped_column(JSON)
    warnings_json: Mapped[list[str]] = mapped_column(JSON, default=list)
    trained_by: Mapped[str] = mapped_column(String(200))
    trained_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ReferenceProfileRow(Base):
    """The training data's compact profile, so drift checks never reload the training set."""

    __tablename__ = "reference_profiles"

    version_id: Mapped[str] = mapped_column(
        ForeignKey("pipeline_versions.id", ondelete="CASCADE"), primary_key=True
    )
    profile: Mapped[bytes] = mapped_column(LargeBinary)
    rows: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
