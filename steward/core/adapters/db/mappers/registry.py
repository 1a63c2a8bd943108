"""Pipeline and version rows to entities: what the registry's columns mean."""

from __future__ import annotations

from steward.core.adapters.db.mappers.json_values import decoded
from steward.core.adapters.db.models import PipelineRow, PipelineVersionRow
from steward.core.domain.registry import Pipeline, PipelineVersion


def to_pipeline(row: PipelineRow) -> Pipeline:
    return Pipeline(
        id=row.id,
        name=row.name,
        owner=row.owner,
        task=row.task,
        target=row.target,
        description=row.description,
        spec=decoded(row.spec_json, {}),
        spec_digest=row.spec_digest,
        created_at=row.created_at,
        created_by=row.created_by,
        updated_at=row.updated_at,
    )


def to_version(row: PipelineVersionRow, pipeline_name: str) -> PipelineVersion:
    return PipelineVersion(
        id=row.id,
        pipeline_id=row.pipeline_id,
        pipeline_name=pipeline_name,
        number=row.number,
        origin=row.origin,
        status=row.status,
        artifact_uri=row.artifact_uri,
        artifact_sha256=row.artifact_sha256,
        artifact_size=row.artifact_size,
        spec=decoded(row.spec_json, {}),
        spec_digest=row.spec_digest,
        schema=decoded(row.schema_json, {}),
        data_digest=row.data_digest,
        data_rows=row.data_rows,
        metrics=decoded(row.metrics_json, {}),
        lineage=decoded(row.lineage_json, {}),
        charts=decoded(row.charts_json, {}),
        warnings=tuple(decoded(row.warnings_json, [])),
        trained_by=row.trained_by,
        trained_at=row.trained_at,
    )
