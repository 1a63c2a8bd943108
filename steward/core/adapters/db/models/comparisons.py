"""Head-to-head comparisons: a challenger and the champion scored on the same labelled rows.

Written once per comparison run and never changed, so the champion gate and
the reviewer read exactly what was measured, with the data set's digest.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from steward.core.adapters.db.models.base import Base, UTCDateTime


class VersionComparisonRow(Base):
    __tablename__ = "version_comparisons"
    __table_args__ = (
        Index(
            "ix_version_comparisons_pair", "challenger_version_id", "champion_version_id", "environment_id"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pipeline_id: Mapped[int] = mapped_column(ForeignKey("pipelines.id", ondelete="CASCADE"))
    environment_id: Mapped[int] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"))
    challenger_version_id: Mapped[str] = mapped_column(ForeignKey("pipeline_versions.id", ondelete="CASCADE"))
    champion_version_id: Mapped[str] = mapped_column(ForeignKey("pipeline_versions.id", ondelete="CASCADE"))
    dataset: Mapped[str] = mapped_column(String(100))
    dataset_sha256: Mapped[str] = mapped_column(String(64))
    labels: Mapped[str | None] = mapped_column(String(100), nullable=True)
    rows: Mapped[int] = mapped_column(Integer)
    rows_rule: Mapped[str] = mapped_column(Text)
    metrics: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    decisions: Mapped[dict[str, Any]] = mapped_column(JSON)
    compared_by: Mapped[str] = mapped_column(String(200))
    compared_at: Mapped[datetime] = mapped_column(UTCDateTime())
