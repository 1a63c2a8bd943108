"""Monitor, batch-run and drift-window rows to entities: the one place that says what their columns mean."""

from __future__ import annotations

import json

from steward.core.adapters.db.models import BatchRunRow, DriftWindowRow, MonitorRow
from steward.core.domain.monitoring import BatchRun, DriftWindow, Monitor, RejectedRow


def to_monitor(row: MonitorRow, pipeline: str, environment: str) -> Monitor:
    return Monitor(
        id=row.id,
        pipeline_name=pipeline,
        environment=environment,
        dataset=row.dataset,
        time_column=row.time_column,
        window=row.window,
        labels_dataset=row.labels_dataset,
        labels_database=row.labels_database,
        labels_query=row.labels_query,
        id_column=row.id_column,
        label_column=row.label_column,
        mode=row.mode,
        every_minutes=row.every_minutes,
        enabled=row.enabled,
        created_at=row.created_at,
        created_by=row.created_by,
        max_rejected_share=row.max_rejected_share,
        paused_at=row.paused_at,
        paused_by=row.paused_by,
    )


def to_run(row: BatchRunRow, pipeline: str) -> BatchRun:
    return BatchRun(
        id=row.id,
        monitor_id=row.monitor_id,
        pipeline_name=pipeline,
        version_id=row.version_id,
        environment=row.environment,
        dataset=row.dataset,
        dataset_sha256=row.dataset_sha256,
        status=row.status,
        rows=row.rows,
        windows=row.windows,
        detail=row.detail,
        started_at=row.started_at,
        finished_at=row.finished_at,
        actor=row.actor,
        rows_in=row.rows_in,
        rows_rejected=row.rows_rejected,
        rejected=tuple(RejectedRow.from_dict(r) for r in json.loads(row.rejected_sample or "[]")),
        error=row.error,
        traceback=row.traceback,
        dataset_changed=row.dataset_changed,
    )


def to_window(row: DriftWindowRow, pipeline: str, version_number: int) -> DriftWindow:
    return DriftWindow(
        id=row.id,
        batch_run_id=row.batch_run_id,
        pipeline_name=pipeline,
        version_id=row.version_id,
        version_number=version_number,
        environment=row.environment,
        position=row.position,
        label=row.label,
        window_start=row.window_start,
        window_end=row.window_end,
        rows=row.rows,
        verdict=row.verdict,
        reason=row.reason,
        prediction_verdict=row.prediction_verdict,
        quality_findings=row.quality_findings,
        performance_status=row.performance_status,
        report=json.loads(row.report_json),
        performance=json.loads(row.performance_json) if row.performance_json else None,
        created_at=row.created_at,
    )
