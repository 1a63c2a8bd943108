"""Entities of the pipeline registry: a pipeline and its immutable versions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from steward.core.domain.metrics import PRIMARY_METRIC


@dataclass(frozen=True)
class Pipeline:
    id: int
    name: str
    owner: str
    task: str
    target: str
    description: str
    spec: Mapping[str, Any]
    spec_digest: str
    created_at: datetime
    created_by: str
    updated_at: datetime


@dataclass(frozen=True)
class PipelineVersion:
    """Data preparation and model trained together, pinned by the artifact's SHA-256."""

    id: str
    pipeline_id: int
    pipeline_name: str
    number: int
    origin: str
    status: str
    artifact_uri: str
    artifact_sha256: str
    artifact_size: int
    spec: Mapping[str, Any]
    spec_digest: str
    schema: Mapping[str, Any]
    data_digest: str
    data_rows: int
    metrics: Mapping[str, float | None]
    lineage: Mapping[str, Any]
    charts: Mapping[str, Any]
    warnings: tuple[str, ...]
    trained_by: str
    trained_at: datetime

    @property
    def label(self) -> str:
        return f"v{self.number}"

    @property
    def task(self) -> str:
        return str(self.spec.get("pipeline", {}).get("task", ""))

    @property
    def target(self) -> str:
        """The column it predicts ("" when the spec does not say)."""
        return str(self.spec.get("pipeline", {}).get("target", ""))

    @property
    def positive_class(self) -> Any:
        """The class a binary classifier's score is the probability of; None otherwise."""
        return self.lineage.get("positive_class")

    @property
    def classes(self) -> tuple[Any, ...]:
        return tuple(self.lineage.get("classes") or ())

    def summary(self) -> dict[str, Any]:
        """What the audit log records about a version."""
        return {
            "pipeline": self.pipeline_name,
            "version": self.number,
            "version_id": self.id,
            "artifact_sha256": self.artifact_sha256,
            "data_digest": self.data_digest,
            "rows": self.data_rows,
            "metrics": dict(self.metrics),
            "origin": self.origin,
        }


@dataclass(frozen=True)
class PipelineOverview:
    """A pipeline with its latest version, for lists."""

    pipeline: Pipeline
    latest: PipelineVersion | None
    version_count: int
    deployed: Mapping[str, int] = field(default_factory=dict)  # environment -> version number


__all__ = [
    "PRIMARY_METRIC",
    "Pipeline",
    "PipelineOverview",
    "PipelineVersion",
]  # PRIMARY_METRIC: for old importers
