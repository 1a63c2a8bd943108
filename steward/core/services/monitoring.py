"""Batch pipelines on production data, and the drift, data-quality and performance monitors they feed.

A run is a batch pipeline and a monitor in one job: it scores the production
rows the deployment has not answered yet with the version serving there,
appends them to the deployment's prediction log, then reads that version's
log back window by window and compares each window with the version's
reference profile (stored at training time, so the training set is never
reloaded). The new log rows, the run, every window's findings and its profile
(mergeable later into longer windows) are written in one transaction; a run
that fails is recorded as failed, which is how "did my data pipeline run
without errors?" gets its answer.
"""

from __future__ import annotations

import builtins
import json
import math
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Select, select

from steward.core.adapters.db.models import (
    BatchRunRow,
    DriftWindowRow,
    EnvironmentRow,
    MonitorRow,
    PipelineRow,
    PipelineVersionRow,
)
from steward.core.domain.accounts import Actor
from steward.core.domain.audit import Outcome
from steward.core.domain.monitoring import (
    BatchRun,
    DriftRollup,
    DriftWindow,
    Monitor,
    WindowRule,
    parse_window,
    rollup_periods,
)
from steward.core.domain.names import validate_label
from steward.core.domain.permissions import Action
from steward.core.domain.registry import PipelineVersion
from steward.core.drift.overlay import categorical_overlay, numeric_overlay
from steward.core.drift.performance import realised_performance
from steward.core.drift.profile import Profile, build_profile, merge
from steward.core.drift.report import DriftOptions, DriftReport, compare
from steward.core.errors import AlreadyExists, InvalidInput, NotFound, StewardError
from steward.core.pipelines.sources import SqlSource
from steward.core.services import authz
from steward.core.services.catalog import DatasetService
from steward.core.services.context import ServiceContext
from steward.core.services.environments import EnvironmentService
from steward.core.services.predictions import (
    EVENT_TIME,
    PREDICTED_LABEL,
    REQUEST_ID,
    PredictionLog,
    ScoredBatch,
    request_ids,
)
from steward.core.services.registry import PREDICTION_COLUMN, PipelineService
from steward.core.services.uow import UnitOfWork


@dataclass(frozen=True)
class Window:
    position: int
    label: str
    start: datetime | None
    end: datetime | None
    frame: pd.DataFrame


def event_times(frame: pd.DataFrame, time_column: str) -> pd.Series:
    """The time column as UTC timestamps; a value that is not a date is refused, naming it."""
    if time_column not in frame.columns:
        raise InvalidInput(f"time column {time_column!r} is not in the production data")
    stamps = pd.to_datetime(frame[time_column], errors="coerce", utc=True)
    if stamps.isna().any():
        bad = frame.loc[stamps.isna(), time_column].iloc[0]
        raise InvalidInput(f"time column {time_column!r} holds a value that is not a date: {str(bad)[:40]!r}")
    return stamps


def cut_windows(frame: pd.DataFrame, rule: WindowRule, time_column: str | None) -> Iterator[Window]:
    """Calendar windows of a time column, or slices of N rows in log order."""
    if rule.rows:
        for position, first in enumerate(range(0, len(frame), rule.rows)):
            part = frame.iloc[first : first + rule.rows]
            yield Window(position, f"rows {first + 1}-{first + len(part)}", None, None, part)
        return
    assert time_column is not None and rule.period is not None
    stamps = event_times(frame, time_column)
    freq = {"day": "D", "week": "W-MON", "month": "M"}[rule.period]
    periods = stamps.dt.tz_localize(None).dt.to_period(freq)
    for position, (period, part) in enumerate(frame.groupby(periods, sort=True)):
        start = period.start_time.tz_localize(UTC).to_pydatetime()
        end = (period + 1).start_time.tz_localize(UTC).to_pydatetime()
        label = {
            "day": start.strftime("%Y-%m-%d"),
            "week": f"week of {start:%Y-%m-%d}",
            "month": start.strftime("%Y-%m"),
        }[rule.period]
        yield Window(position, label, start, end, part)


def _finite(value: Any) -> Any:
    return None if isinstance(value, float) and not math.isfinite(value) else value


def report_dict(report: DriftReport) -> dict[str, Any]:
    """The report as stored: JSON, with each column's severity (how far past its threshold) added."""
    data = report.to_dict()
    severities = {column.name: _finite(column.severity()) for column in report.columns}
    for column in data["columns"]:
        column["severity"] = severities.get(column["name"])
    return data


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


@dataclass(frozen=True)
class _WindowResult:
    window: Window
    report: dict[str, Any]
    verdict: str
    reason: str
    prediction_verdict: str | None
    quality: int
    performance: dict[str, Any] | None
    profile: bytes


class MonitoringService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self.pipelines = PipelineService(ctx)
        self.datasets = DatasetService(ctx)
        self.log = PredictionLog(ctx)

    # ---- monitors ------------------------------------------------------------
    def monitors(self) -> builtins.list[Monitor]:
        with UnitOfWork(self.ctx, write=False) as uow:
            rows = uow.session.execute(
                select(MonitorRow, PipelineRow.name, EnvironmentRow.name)
                .join(PipelineRow, PipelineRow.id == MonitorRow.pipeline_id)
                .join(EnvironmentRow, EnvironmentRow.id == MonitorRow.environment_id)
                .order_by(PipelineRow.name, EnvironmentRow.position)
            ).all()
            return [to_monitor(row, pipeline, environment) for row, pipeline, environment in rows]

    def monitor(self, monitor_id: int) -> Monitor:
        for monitor in self.monitors():
            if monitor.id == monitor_id:
                return monitor
        raise NotFound(f"no monitor #{monitor_id}")

    def add_monitor(
        self,
        actor: Actor,
        *,
        pipeline: str,
        environment: str,
        dataset: str,
        window: str,
        time_column: str | None = None,
        labels_dataset: str | None = None,
        labels_database: str | None = None,
        labels_query: str | None = None,
        id_column: str | None = None,
        label_column: str | None = None,
        mode: str = "fixed",
        every_minutes: int = 1440,
    ) -> Monitor:
        """Watch ``pipeline`` in ``environment`` on ``dataset``; all names are checked before writing."""
        authz.check(
            self.ctx, actor, Action.MANAGE_MONITORS, object_type="monitor", object_id=str(pipeline)[:100]
        )
        rule = parse_window(window, time_column)
        if mode not in ("fixed", "calibrated"):
            raise InvalidInput(f"mode {mode!r} must be fixed or calibrated")
        if every_minutes < 5:
            raise InvalidInput("a monitor runs at most every 5 minutes")
        if labels_dataset and (labels_database or labels_query):
            raise InvalidInput("labels come from a data set or from a database query, not both")
        if bool(labels_database) != bool(labels_query):
            raise InvalidInput("labels from a database need both the database name and the query")
        if labels_database:
            configured = self.ctx.settings.source_databases
            if labels_database not in configured:
                known = ", ".join(sorted(configured)) or "none"
                raise InvalidInput(
                    f"labels database {labels_database!r} is not configured (configured: {known})"
                )
            SqlSource(
                configured[labels_database], labels_query or "", label=labels_database
            )  # checks the query
        if (labels_dataset or labels_database) and not (id_column and label_column):
            raise InvalidInput("labels need an id column (to join on) and a label column")
        columns = {
            name: validate_label(value, name.replace("_", " "), max_length=200)
            for name, value in (
                ("time_column", time_column),
                ("id_column", id_column),
                ("label_column", label_column),
            )
            if value
        }
        production = self.datasets.get(dataset)
        for name in ("time_column", "id_column"):
            if name in columns and columns[name] not in production.columns:
                raise InvalidInput(f"{name.replace('_', ' ')} {columns[name]!r} is not a column of {dataset}")
        if labels_dataset:
            labels = self.datasets.get(labels_dataset)
            for name in ("id_column", "label_column"):
                if columns[name] not in labels.columns:
                    raise InvalidInput(
                        f"{name.replace('_', ' ')} {columns[name]!r} is not a column of {labels_dataset}"
                    )
        with UnitOfWork(self.ctx) as uow:
            pipeline_row = uow.session.scalar(select(PipelineRow).where(PipelineRow.name == pipeline))
            env_row = uow.session.scalar(select(EnvironmentRow).where(EnvironmentRow.name == environment))
            if pipeline_row is None:
                raise NotFound(f"no pipeline named {pipeline[:100]!r}")
            if env_row is None:
                raise NotFound(f"no environment named {environment[:64]!r}")
            exists = uow.session.scalar(
                select(MonitorRow.id).where(
                    MonitorRow.pipeline_id == pipeline_row.id,
                    MonitorRow.environment_id == env_row.id,
                    MonitorRow.dataset == dataset,
                )
            )
            if exists is not None:
                raise AlreadyExists(f"{pipeline} in {environment} is already monitored on {dataset}")
            row = MonitorRow(
                pipeline_id=pipeline_row.id,
                environment_id=env_row.id,
                dataset=dataset,
                time_column=columns.get("time_column"),
                window=rule.text,
                labels_dataset=labels_dataset or None,
                labels_database=labels_database or None,
                labels_query=labels_query or None,
                id_column=columns.get("id_column"),
                label_column=columns.get("label_column"),
                mode=mode,
                every_minutes=every_minutes,
                enabled=True,
                created_at=self.ctx.clock.now(),
                created_by=actor.username,
            )
            uow.session.add(row)
            uow.session.flush()
            monitor = to_monitor(row, pipeline_row.name, env_row.name)
            uow.record(
                actor,
                "monitor.add",
                object_type="monitor",
                object_id=str(row.id),
                after={
                    "pipeline": pipeline,
                    "environment": environment,
                    "dataset": dataset,
                    "window": rule.text,
                    "labels": labels_dataset or (f"sql:{labels_database}" if labels_database else None),
                    "mode": mode,
                },
            )
            uow.commit()
        return monitor

    def due(self, now: datetime | None = None) -> builtins.list[Monitor]:
        """Enabled monitors whose last run is older than their interval (or that never ran)."""
        now = now or self.ctx.clock.now()
        due = []
        for monitor in self.monitors():
            if not monitor.enabled:
                continue
            last = self.last_run(monitor.id)
            if last is None or (now - last.started_at).total_seconds() >= monitor.every_minutes * 60:
                due.append(monitor)
        return due

    def last_run(self, monitor_id: int) -> BatchRun | None:
        with UnitOfWork(self.ctx, write=False) as uow:
            row = uow.session.execute(
                select(BatchRunRow, PipelineRow.name)
                .join(PipelineRow, PipelineRow.id == BatchRunRow.pipeline_id)
                .where(BatchRunRow.monitor_id == monitor_id)
                .order_by(BatchRunRow.started_at.desc())
                .limit(1)
            ).first()
            return to_run(row[0], row[1]) if row else None

    # ---- running -------------------------------------------------------------
    def run(self, actor: Actor, monitor_id: int) -> BatchRun:
        """Score and log the production rows not answered yet; judge the serving version's log per window."""
        monitor = self.monitor(monitor_id)
        tier = EnvironmentService(self.ctx).get(monitor.environment).tier
        authz.check(
            self.ctx,
            actor,
            Action.RUN_BATCH,
            tier=tier,
            object_type="monitor",
            object_id=str(monitor_id),
            what=f"run {monitor.pipeline_name} on {monitor.dataset}",
        )
        started, clock_started = self.ctx.clock.now(), time.perf_counter()
        run_id = uuid.uuid4().hex
        version: PipelineVersion | None = None
        try:
            version = self._serving(monitor)
            production = self.datasets.get(monitor.dataset)
            frame = pd.read_csv(self.datasets.resolve(production.path))
            batch, answered_before = self._score_new(monitor, version, production.sha256, frame)
            logged = self.log.frame(monitor.pipeline_name, monitor.environment, version.id, PREDICTION_COLUMN)
            if len(batch):
                new = batch.frame(PREDICTION_COLUMN)
                logged = pd.concat([logged, new], ignore_index=True) if len(logged) else new
                logged = logged.sort_values(EVENT_TIME, kind="stable", ignore_index=True)
            results = self._evaluate(monitor, version, logged)
        except StewardError as problem:
            return self._record_run(
                actor,
                monitor,
                version,
                started,
                clock_started,
                run_id=run_id,
                status="failed",
                detail=str(problem),
                batch=None,
                results=[],
                sha256="",
            )
        logged_words = f"{len(batch)} new prediction(s) logged" + (
            f" ({answered_before} answered before)" if answered_before else ""
        )
        return self._record_run(
            actor,
            monitor,
            version,
            started,
            clock_started,
            run_id=run_id,
            status="ok",
            detail=f"{logged_words}; {self._summary(results)}",
            batch=batch,
            results=results,
            sha256=production.sha256,
        )

    def _score_new(
        self, monitor: Monitor, version: PipelineVersion, sha256: str, frame: pd.DataFrame
    ) -> tuple[ScoredBatch, int]:
        """The rows of ``frame`` this deployment has not answered, scored; and how many it had answered."""
        if frame.empty:
            raise InvalidInput(f"data set {monitor.dataset} has no rows")
        if monitor.id_column:
            if monitor.id_column not in frame.columns:
                raise InvalidInput(f"id column {monitor.id_column!r} is not in the production data")
            ids = request_ids(frame[monitor.id_column])
            repeated = ids[ids.duplicated()]
            if len(repeated):
                raise InvalidInput(
                    f"id column {monitor.id_column!r} repeats {repeated.iloc[0][:40]!r}: "
                    "each request needs its own id"
                )
        else:  # rows of this exact file: a changed file is new data
            ids = pd.Series([f"{sha256[:16]}:{i}" for i in range(len(frame))], index=frame.index)
        if monitor.time_column:
            stamps = event_times(frame, monitor.time_column)
        else:
            stamps = pd.Series(pd.Timestamp(self.ctx.clock.now()), index=frame.index)
        known = self.log.known(monitor.pipeline_name, monitor.environment, ids)
        fresh = ~ids.isin(known)
        new = frame.loc[fresh]
        drop = [c for c in (monitor.id_column, monitor.time_column) if c and c in frame.columns]
        if new.empty:
            empty = new.drop(columns=drop)
            return ScoredBatch([], [], empty, [], None), len(frame)
        scores = self.pipelines.score(version, new)
        return (
            ScoredBatch(
                request_ids=ids[fresh].tolist(),
                event_times=[stamp.to_pydatetime() for stamp in stamps[fresh]],
                features=new.drop(columns=drop).reset_index(drop=True),
                predictions=[float(v) for v in scores[PREDICTION_COLUMN]],
                labels=scores["label"].tolist() if "label" in scores else None,
            ),
            int((~fresh).sum()),
        )

    def _serving(self, monitor: Monitor) -> PipelineVersion:
        from steward.core.services.deployments import DeploymentService

        for deployment in DeploymentService(self.ctx).serving(monitor.environment):
            if deployment.pipeline_name == monitor.pipeline_name:
                return self.pipelines.version_by_id(deployment.version_id)
        raise NotFound(
            f"nothing serves {monitor.pipeline_name} in {monitor.environment}: deploy a version first"
        )

    def _evaluate(
        self, monitor: Monitor, version: PipelineVersion, logged: pd.DataFrame
    ) -> builtins.list[_WindowResult]:
        if logged.empty:  # a version deployed after the last batch: nothing of its own to judge yet
            return []
        reference = self.pipelines.reference_profile(version.id)
        labels = self._labels(monitor)
        options = DriftOptions(mode=monitor.mode)  # type: ignore[arg-type]
        bookkeeping = [c for c in (REQUEST_ID, EVENT_TIME, PREDICTED_LABEL) if c in logged.columns]
        rule = parse_window(monitor.window, monitor.time_column)
        results = []
        for window in cut_windows(logged, rule, EVENT_TIME if rule.period else None):
            inputs = window.frame.drop(columns=bookkeeping)
            report = compare(reference, inputs, options)
            profile = build_profile(inputs, schema=reference.schema, max_points=reference.max_points)
            performance = None
            if labels is not None:
                performance = self._performance(monitor, version, window, labels)
            stored = report_dict(report)
            results.append(
                _WindowResult(
                    window=window,
                    report=stored,
                    verdict=report.verdict.status,
                    reason=report.verdict.reason,
                    prediction_verdict=report.prediction_verdict.status
                    if report.prediction_verdict
                    else None,
                    quality=len(report.quality),
                    performance=performance,
                    profile=profile.to_bytes(),
                )
            )
        return results

    def _labels(self, monitor: Monitor) -> pd.DataFrame | None:
        """Delayed labels, from a registered file or a query on a configured database, read at run time."""
        if monitor.labels_database and monitor.labels_query:
            configured = self.ctx.settings.source_databases
            if monitor.labels_database not in configured:
                raise InvalidInput(f"labels database {monitor.labels_database!r} is no longer configured")
            source = SqlSource(
                configured[monitor.labels_database],
                monitor.labels_query,
                label=monitor.labels_database,
                max_bytes=self.ctx.settings.max_upload_bytes,
            )
            frame = source.load()
        elif monitor.labels_dataset:
            labels = self.datasets.get(monitor.labels_dataset)
            frame = pd.read_csv(self.datasets.resolve(labels.path))
        else:
            return None
        for column in (monitor.id_column, monitor.label_column):
            if column not in frame.columns:
                raise InvalidInput(
                    f"the labels have no column {column!r} (they have: {', '.join(map(str, frame.columns))})"
                )
        return frame

    def _performance(
        self,
        monitor: Monitor,
        version: PipelineVersion,
        window: Window,
        labels: pd.DataFrame,
    ) -> dict[str, Any]:
        """Realised metrics of one window: its logged predictions joined with the labels on the request id."""
        assert monitor.id_column and monitor.label_column
        frame = window.frame
        classification = version.task == "classification"
        predicted = PREDICTED_LABEL if classification and PREDICTED_LABEL in frame else PREDICTION_COLUMN
        predictions = pd.DataFrame(
            {
                "id": frame[REQUEST_ID].to_numpy(),
                "predicted": frame[predicted].to_numpy(),
                "score": frame[PREDICTION_COLUMN].to_numpy(),
            }
        )
        joined_labels = pd.DataFrame(
            {
                "id": request_ids(labels[monitor.id_column]).to_numpy(),
                "actual": labels[monitor.label_column].to_numpy(),
            }
        )
        baseline = {k: v for k, v in version.metrics.items() if isinstance(v, float)}
        report = realised_performance(
            predictions,
            joined_labels,
            task="classification" if classification else "regression",
            id_column="id",
            prediction_column="predicted",
            label_column="actual",
            score_column="score" if classification else None,
            baseline=baseline,
        )
        return report.windows[0].to_dict() | {"baseline": baseline}

    @staticmethod
    def _summary(results: builtins.list[_WindowResult]) -> str:
        if not results:
            return "the serving version has answered no requests here yet: no window to judge"
        drifted = [r.window.label for r in results if r.verdict == "drift"]
        degraded = [
            r.window.label for r in results if r.performance and r.performance.get("status") == "degraded"
        ]
        parts = [
            f"{len(results)} window(s); drift in {len(drifted)}"
            + (f" ({', '.join(drifted[:6])}" + ("..." if len(drifted) > 6 else "") + ")" if drifted else "")
        ]
        if degraded:
            parts.append(f"performance degraded in {len(degraded)}")
        return "; ".join(parts)

    def _record_run(
        self,
        actor: Actor,
        monitor: Monitor,
        version: PipelineVersion | None,
        started: datetime,
        clock_started: float,
        *,
        run_id: str,
        status: str,
        detail: str,
        batch: ScoredBatch | None,
        results: builtins.list[_WindowResult],
        sha256: str,
    ) -> BatchRun:
        rows = len(batch) if batch is not None else 0
        finished = self.ctx.clock.now()
        if finished == started:  # a fixed clock in tests: record the real duration
            finished = started + timedelta(seconds=time.perf_counter() - clock_started)
        with UnitOfWork(self.ctx) as uow:
            pipeline_row = uow.session.scalar(
                select(PipelineRow).where(PipelineRow.name == monitor.pipeline_name)
            )
            assert pipeline_row is not None
            row = BatchRunRow(
                id=run_id,
                monitor_id=monitor.id,
                pipeline_id=pipeline_row.id,
                version_id=version.id if version else None,
                environment=monitor.environment,
                dataset=monitor.dataset,
                dataset_sha256=sha256,
                status=status,
                rows=rows,
                windows=len(results),
                detail=detail[:4000],
                started_at=started,
                finished_at=finished,
                actor=actor.username,
            )
            uow.session.add(row)
            uow.session.flush()
            if batch is not None and len(batch):
                assert version is not None
                self.log.append(
                    uow,
                    batch,
                    pipeline=monitor.pipeline_name,
                    environment=monitor.environment,
                    version_id=version.id,
                    source=f"batch:{run_id}",
                )
            for result in results:
                assert version is not None
                uow.session.add(
                    DriftWindowRow(
                        batch_run_id=run_id,
                        pipeline_id=pipeline_row.id,
                        version_id=version.id,
                        environment=monitor.environment,
                        position=result.window.position,
                        label=result.window.label,
                        window_start=result.window.start,
                        window_end=result.window.end,
                        rows=len(result.window.frame),
                        verdict=result.verdict,
                        reason=result.reason[:4000],
                        prediction_verdict=result.prediction_verdict,
                        quality_findings=result.quality,
                        performance_status=result.performance.get("status") if result.performance else None,
                        report_json=json.dumps(result.report, default=str),
                        performance_json=json.dumps(result.performance, default=str)
                        if result.performance
                        else None,
                        profile=result.profile,
                        created_at=finished,
                    )
                )
            uow.record(
                actor,
                "batch.run",
                object_type="monitor",
                object_id=str(monitor.id),
                outcome=Outcome.OK if status == "ok" else Outcome.FAILED,
                detail=detail[:2000],
                after={
                    "run": run_id,
                    "pipeline": monitor.pipeline_name,
                    "environment": monitor.environment,
                    "version": version.number if version else None,
                    "dataset": monitor.dataset,
                    "rows": rows,
                    "windows": len(results),
                    "status": status,
                },
            )
            uow.commit()
            return to_run(row, pipeline_row.name)

    # ---- reading -------------------------------------------------------------
    def runs(self, *, pipeline: str | None = None, limit: int = 50) -> builtins.list[BatchRun]:
        with UnitOfWork(self.ctx, write=False) as uow:
            query = (
                select(BatchRunRow, PipelineRow.name)
                .join(PipelineRow, PipelineRow.id == BatchRunRow.pipeline_id)
                .order_by(BatchRunRow.started_at.desc())
                .limit(limit)
            )
            if pipeline:
                query = query.where(PipelineRow.name == pipeline)
            return [to_run(row, name) for row, name in uow.session.execute(query).all()]

    def windows(
        self, pipeline: str, environment: str, *, run_id: str | None = None
    ) -> builtins.list[DriftWindow]:
        """The windows of the latest successful run (or of ``run_id``), in time order."""
        with UnitOfWork(self.ctx, write=False) as uow:
            pipeline_row = uow.session.scalar(select(PipelineRow).where(PipelineRow.name == pipeline))
            if pipeline_row is None:
                raise NotFound(f"no pipeline named {pipeline[:100]!r}")
            if run_id is None:
                run_id = uow.session.scalar(_latest_ok_run(pipeline_row.id, environment, BatchRunRow.id))
            if run_id is None:
                return []
            rows = uow.session.execute(
                select(DriftWindowRow, PipelineVersionRow.number)
                .join(PipelineVersionRow, PipelineVersionRow.id == DriftWindowRow.version_id)
                .where(DriftWindowRow.batch_run_id == run_id)
                .order_by(DriftWindowRow.position)
            ).all()
            return [to_window(row, pipeline_row.name, number) for row, number in rows]

    def overlay(self, window_id: int, column: str) -> dict[str, Any] | None:
        """Training vs production distribution of one column in one window, from the two profiles."""
        with UnitOfWork(self.ctx, write=False) as uow:
            row = uow.session.get(DriftWindowRow, window_id)
            if row is None:
                raise NotFound(f"no drift window #{window_id}")
            window_profile = Profile.from_bytes(row.profile)
            version_id = row.version_id
        reference = self.pipelines.reference_profile(version_id)
        ref_column, cur_column = reference.column(column), window_profile.column(column)
        if ref_column is None or cur_column is None:
            return None
        if ref_column.numeric is not None:
            data = numeric_overlay(ref_column, cur_column)
            return None if data is None else {"kind": "numeric", **data}
        data = categorical_overlay(ref_column, cur_column)
        return None if data is None else {"kind": "categorical", **data}

    def rollup(self, pipeline: str, environment: str, period: str) -> builtins.list[DriftRollup]:
        """The latest run's windows merged into longer ones (hour into day into week) and judged again.

        Window profiles are mergeable, so a month or a year is judged from the
        profiles stored with its windows: no production row is read again.
        """
        with UnitOfWork(self.ctx, write=False) as uow:
            pipeline_row = uow.session.scalar(select(PipelineRow).where(PipelineRow.name == pipeline))
            if pipeline_row is None:
                raise NotFound(f"no pipeline named {pipeline[:100]!r}")
            run = uow.session.execute(
                _latest_ok_run(pipeline_row.id, environment, BatchRunRow.id, MonitorRow.window)
            ).first()
            if run is None:
                return []
            allowed = rollup_periods(run.window)
            if period not in allowed:
                raise InvalidInput(
                    f"windows of {run.window!r} roll up into {', '.join(allowed)}, not {period!r}"
                )
            rows = uow.session.scalars(
                select(DriftWindowRow)
                .where(DriftWindowRow.batch_run_id == run.id)
                .order_by(DriftWindowRow.position)
            ).all()
            parts = [(row.window_start, row.version_id, row.report_json, row.profile) for row in rows]
        if not parts:
            return []
        groups: dict[str, builtins.list[tuple[datetime | None, bytes]]] = {}
        for start, _version, _report, blob in parts:
            groups.setdefault(_period_label(start, period), []).append((start, blob))
        version_id = parts[-1][1]
        mode = json.loads(parts[-1][2]).get("mode", "fixed")
        reference = self.pipelines.reference_profile(version_id)
        rollups = []
        for label, members in groups.items():
            profiles = [Profile.from_bytes(blob) for _, blob in members]
            merged = profiles[0] if len(profiles) == 1 else merge(*profiles)
            report = compare(reference, merged, DriftOptions(mode=mode))
            starts = [start for start, _ in members if start is not None]
            drifted = sorted(
                (c for c in report.columns if c.drift and c.role != "prediction"),
                key=lambda c: -(c.effect_size or 0.0),
            )
            rollups.append(
                DriftRollup(
                    label=label,
                    start=min(starts) if starts else None,
                    windows=len(members),
                    rows=merged.rows,
                    verdict=report.verdict.status,
                    reason=report.verdict.reason,
                    prediction_verdict=report.prediction_verdict.status
                    if report.prediction_verdict
                    else None,
                    drifted=tuple(c.name for c in drifted),
                    exact=all(c.exact for c in report.columns),
                )
            )
        return rollups

    def batch_health(self) -> builtins.list[BatchRun]:
        """The latest run of each monitor: did the data pipelines run without errors?"""
        latest: dict[int | None, BatchRun] = {}
        for run in self.runs(limit=500):
            latest.setdefault(run.monitor_id, run)
        return sorted(latest.values(), key=lambda run: (run.pipeline_name, run.environment))


def _latest_ok_run(pipeline_id: int, environment: str, *columns: Any) -> Select[Any]:
    """The latest successful run of the pipeline's monitors in ``environment``.

    Found through the monitor's environment id, not the name stored on the run,
    so history stays in view when an environment is renamed.
    """
    return (
        select(*columns)
        .join(MonitorRow, MonitorRow.id == BatchRunRow.monitor_id)
        .join(EnvironmentRow, EnvironmentRow.id == MonitorRow.environment_id)
        .where(
            BatchRunRow.pipeline_id == pipeline_id,
            EnvironmentRow.name == environment,
            BatchRunRow.status == "ok",
        )
        .order_by(BatchRunRow.started_at.desc())
        .limit(1)
    )


def _period_label(start: datetime | None, period: str) -> str:
    """Which longer window a window starting at ``start`` falls in."""
    if period == "all" or start is None:
        return "all windows"
    if period == "week":
        monday = (start - timedelta(days=start.weekday())).date()
        return f"week of {monday:%Y-%m-%d}"
    if period == "month":
        return f"{start:%Y-%m}"
    if period == "quarter":
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    return f"{start.year}"


def drift_share(windows: builtins.list[DriftWindow]) -> float:
    """Share of judged windows that drifted (for headline figures)."""
    judged = [w for w in windows if w.verdict != "insufficient"]
    return float(np.mean([w.verdict == "drift" for w in judged])) if judged else 0.0
