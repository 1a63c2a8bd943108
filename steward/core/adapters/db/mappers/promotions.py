"""Promotion request rows and registered versions to the entities reviewers read."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from steward.core.adapters.db.mappers.json_values import decoded
from steward.core.adapters.db.models import EnvironmentRow, PipelineVersionRow, PromotionRequestRow
from steward.core.domain.permissions import Tier
from steward.core.domain.promotions import (
    Approval,
    PromotionRequest,
    RequestStatus,
    RocCurve,
    VersionFacts,
)


def to_request(
    row: PromotionRequestRow,
    env: EnvironmentRow,
    pipeline_name: str,
    numbers: Mapping[str, int],
    approvals: Sequence[Approval],
) -> PromotionRequest:
    """``numbers``: version id -> number, for the requested version and the champion it was compared with."""
    return PromotionRequest(
        id=row.id,
        pipeline_id=row.pipeline_id,
        pipeline_name=pipeline_name,
        version_id=row.version_id,
        version_number=numbers.get(row.version_id, 0),
        environment_id=env.id,
        environment_name=env.name,
        tier=Tier(env.tier),
        artifact_sha256=row.artifact_sha256,
        champion_version_id=row.champion_version_id,
        champion_number=numbers.get(row.champion_version_id) if row.champion_version_id else None,
        status=RequestStatus(row.status),
        requested_by=row.requested_by,
        requested_by_name=row.requested_by_name or row.requested_by,
        reason=row.reason,
        requested_at=row.requested_at,
        closed_at=row.closed_at,
        closed_by=row.closed_by,
        close_comment=row.close_comment,
        audit_seq=row.audit_seq,
        version=row.version,
        approvals=tuple(approvals),
    )


def _lineage(row: PipelineVersionRow) -> Mapping[str, Any]:
    lineage = decoded(row.lineage_json, {})
    return lineage if isinstance(lineage, Mapping) else {}


def to_version_facts(row: PipelineVersionRow) -> VersionFacts:
    lineage = _lineage(row)
    split = lineage.get("split") or {}
    charts = decoded(row.charts_json, {})
    code_version = lineage.get("code_version")
    return VersionFacts(
        version_id=row.id,
        number=row.number,
        estimator=str(lineage.get("estimator", "")),
        artifact_sha256=row.artifact_sha256,
        spec_digest=row.spec_digest,
        data_digest=row.data_digest,
        data_rows=row.data_rows,
        holdout_rows=int(split.get("holdout_rows") or 0),
        metrics=decoded(row.metrics_json, {}),
        trained_by=row.trained_by,
        trained_at=row.trained_at,
        source=str(lineage.get("source") or ""),
        code_version=str(code_version) if code_version is not None else None,
        roc=RocCurve.from_chart(charts.get("roc") if isinstance(charts, Mapping) else None),
    )


def holdout_fingerprint(row: PipelineVersionRow) -> str:
    """Same training data and same hold-out rows: metrics of two versions are comparable."""
    split = _lineage(row).get("split") or {}
    positions = ",".join(str(p) for p in split.get("holdout_positions") or [])
    return hashlib.sha256(f"{row.data_digest}|{positions}".encode()).hexdigest()
