"""Batch runs: score the production rows not answered yet, log them, judge the log window by window."""

from __future__ import annotations

import builtins
import json
import time
import traceback
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from steward.core.adapters.db.log_reads import Deployment, LoggedRow, ids_written_by, rows_after, rows_in_gaps
from steward.core.adapters.db.mappers.monitoring import to_run
from steward.core.adapters.db.models import BatchRunRow, DriftWindowRow, PipelineRow
from steward.core.domain.accounts import Actor
from steward.core.domain.audit import Outcome
from steward.core.domain.log_mark import LogMark
from steward.core.domain.monitoring import (
    BatchRun,
    Monitor,
    RejectedRow,
    parse_window,
    run_status,
    too_many_rejected,
)
from steward.core.domain.permissions import Action
from steward.core.domain.registry import PipelineVersion
from steward.core.drift.performance import realised_performance
from steward.core.drift.profile import Profile
from steward.core.drift.report import DriftOptions, compare
from steward.core.errors import IntegrityError, InvalidInput, NotFound, StewardError
from steward.core.pipelines.schema import InputSchema
from steward.core.pipelines.sources import SqlSource
from steward.core.services import authz
from steward.core.services.environments import EnvironmentService
from steward.core.services.monitoring.incremental import (
    CHUNK_ROWS,
    WindowFolder,
    WindowState,
    copy_windows,
    labels_digest,
    load_prior,
    log_frame,
)
from steward.core.services.monitoring.monitors import Monitors
from steward.core.services.monitoring.rejects import RowSplit, split_rows
from steward.core.services.monitoring.windows import event_times, report_dict
from steward.core.services.predictions import (
    EVENT_TIME,
    PREDICTED_LABEL,
    REQUEST_ID,
    PredictionLog,
    ScoredBatch,
    request_ids,
)
from steward.core.services.registry import PREDICTION_COLUMN
from steward.core.services.uow import UnitOfWork


@dataclass(frozen=True)
class _WindowResult:
    """A window judged again in this run (it gained rows, or its labels changed)."""

    state: WindowState
    report: dict[str, Any]
    verdict: str
    reason: str
    prediction_verdict: str | None
    quality: int
    performance: dict[str, Any] | None
    profile: bytes
    outputs: bytes | None


@dataclass
class _Outcome:
    """What a run found, filled in as it goes, so a failure at any step still records all it knew."""

    status: str = "failed"
    detail: str = ""
    error: str = ""
    trace: str = ""
    changed: bool = False
    sha256: str = ""
    rows_in: int = 0
    rejected: int = 0
    sample: tuple[RejectedRow, ...] = ()
    version: PipelineVersion | None = None
    batch: ScoredBatch | None = None
    results: builtins.list[_WindowResult] = field(default_factory=list)
    copies: builtins.list[WindowState] = field(default_factory=list)  # windows kept as the last run left them
    mark: LogMark = field(default_factory=LogMark)
    labels_sha256: str = ""
    log_rows_read: int = 0  # the deployment's log rows this run read (those logged since the last run)

    def fail(self, error: str, *, trace: str = "", changed: bool = False) -> None:
        self.status, self.error, self.trace = "failed", error, trace
        self.changed = self.changed or changed


def _one_line(problem: BaseException) -> str:
    """An unexpected error in one line: its type and the first line of its message."""
    text = str(problem).strip().splitlines()
    return f"{type(problem).__name__}: {text[0][:300]}" if text else type(problem).__name__


class BatchRuns(Monitors):
    def run(self, actor: Actor, monitor_id: int) -> BatchRun:
        """Score and log the production rows not answered yet; judge the serving version's log per window.

        The run is recorded as ``running`` first (so a process killed mid-run
        leaves a record, closed as failed by the next run), then finished in
        one transaction with its log rows and windows: a failed run writes
        neither. Every failure, expected or not, ends as a failed run with one
        line (and the traceback for operators) and opens an alert.
        """
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
        if not monitor.enabled:
            raise InvalidInput(f"monitor #{monitor_id} is paused: resume it before running it")
        started, clock_started = self.ctx.clock.now(), time.perf_counter()
        run_id = self._open_run(actor, monitor, started)
        outcome = _Outcome()
        try:
            self._work(monitor, outcome)
        except StewardError as problem:
            outcome.fail(str(problem), changed=isinstance(problem, IntegrityError))
        except MemoryError:
            outcome.fail(
                "the run ran out of memory (its memory budget is exhausted): "
                "split the production file or give the worker more memory",
                trace=traceback.format_exc(),
            )
        except Exception as problem:
            outcome.fail(_one_line(problem), trace=traceback.format_exc())
        try:
            return self._record_run(actor, monitor, started, clock_started, run_id=run_id, outcome=outcome)
        except SQLAlchemyError as problem:  # the finishing write failed: record the failure on its own
            outcome.fail(
                f"the database refused the run's results: {_one_line(problem)}", trace=traceback.format_exc()
            )
            return self._record_run(actor, monitor, started, clock_started, run_id=run_id, outcome=outcome)

    def _open_run(self, actor: Actor, monitor: Monitor, started: datetime) -> str:
        """Record the run as running (committed at once); close runs a killed process left running."""
        run_id = uuid.uuid4().hex
        with UnitOfWork(self.ctx) as uow:
            pipeline_row = uow.session.scalar(
                select(PipelineRow).where(PipelineRow.name == monitor.pipeline_name)
            )
            assert pipeline_row is not None
            for stale in uow.session.scalars(
                select(BatchRunRow).where(
                    BatchRunRow.monitor_id == monitor.id, BatchRunRow.status == "running"
                )
            ):
                stale.status, stale.finished_at = "failed", started
                stale.error = "the run stopped before it finished (its process ended); nothing of it was kept"
                stale.detail = stale.error
            uow.session.add(
                BatchRunRow(
                    id=run_id,
                    monitor_id=monitor.id,
                    pipeline_id=pipeline_row.id,
                    version_id=None,
                    environment=monitor.environment,
                    dataset=monitor.dataset,
                    dataset_sha256="",
                    status="running",
                    rows=0,
                    windows=0,
                    detail="running",
                    started_at=started,
                    finished_at=started,
                    actor=actor.username,
                )
            )
            uow.commit()
        return run_id

    def _work(self, monitor: Monitor, outcome: _Outcome) -> None:
        """Read (hashing the bytes read), split bad rows off, score, judge: everything but writing."""
        outcome.version = version = self._serving(monitor)
        production, frame = self.datasets.read_frame(
            monitor.dataset, max_bytes=self.ctx.settings.max_upload_bytes
        )
        outcome.sha256 = production.sha256
        outcome.rows_in = len(frame)
        batch, answered_before, split = self._score_new(monitor, version, production.sha256, frame)
        outcome.rejected, outcome.sample = split.rejected, split.sample
        too_many = too_many_rejected(len(frame) - answered_before, split.rejected, monitor.max_rejected_share)
        if too_many:
            raise InvalidInput(too_many)
        self._evaluate(monitor, version, batch, outcome)
        outcome.batch = batch
        words = f"{len(batch)} new prediction(s) logged" + (
            f" ({answered_before} answered before)" if answered_before else ""
        )
        if split.rejected:
            words += f", {split.rejected} row(s) rejected by the schema"
        outcome.detail = f"{words}; {self._summary(outcome)}"
        outcome.status = run_status(outcome.rows_in, split.rejected)

    def _score_new(
        self, monitor: Monitor, version: PipelineVersion, sha256: str, frame: pd.DataFrame
    ) -> tuple[ScoredBatch, int, RowSplit]:
        """New rows that conform, scored; how many rows were answered before; the rejected rows."""
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
        split = split_rows(InputSchema.from_dict(version.schema), frame.loc[fresh])
        new = split.accepted
        drop = [c for c in (monitor.id_column, monitor.time_column) if c and c in frame.columns]
        answered = int((~fresh).sum())
        if new.empty:
            empty = new.drop(columns=drop)
            return ScoredBatch([], [], empty, [], None), answered, split
        scores = self.pipelines.score(version, new)
        return (
            ScoredBatch(
                request_ids=ids[new.index].tolist(),
                event_times=[stamp.to_pydatetime() for stamp in stamps[new.index]],
                features=new.drop(columns=drop).reset_index(drop=True),
                predictions=[float(v) for v in scores[PREDICTION_COLUMN]],
                labels=scores["label"].tolist() if "label" in scores else None,
            ),
            answered,
            split,
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
        self, monitor: Monitor, version: PipelineVersion, batch: ScoredBatch, outcome: _Outcome
    ) -> None:
        """Fold the log rows logged since the last run, and this batch, into the windows; judge what changed.

        Reads the log above the monitor's mark in chunks (memory bounded by
        ``CHUNK_ROWS``); windows that gained no rows (and whose labels did
        not change) are copied from the last run untouched.
        """
        reference = self.pipelines.reference_profile(version.id)
        labels = self._labels(monitor)
        outcome.labels_sha256 = labels_digest(labels)
        rule = parse_window(monitor.window, monitor.time_column)
        with UnitOfWork(self.ctx, write=False) as uow:
            db = uow.session
            prior = load_prior(db, monitor.id, version.id)
            pipeline_id, environment_id = PredictionLog._ids(db, monitor.pipeline_name, monitor.environment)

            def load(window_id: int) -> tuple[bytes, bytes | None]:
                row = db.get(DriftWindowRow, window_id)
                assert row is not None
                return row.profile, row.outputs

            folder = WindowFolder(
                rule,
                reference,
                prior,
                load,
                prediction_column=PREDICTION_COLUMN,
                keep_outputs=labels is not None,
            )
            deployment = Deployment(pipeline_id, environment_id, version.id)
            mark, now = prior.mark, self.ctx.clock.now()
            if mark.gaps:
                late = rows_in_gaps(db, deployment, [(low, high) for low, high, _ in mark.gaps])
                self._fold(folder, late.rows)
                outcome.log_rows_read += len(late.rows)
                mark = mark.advance(late.ids, now)
            while True:
                chunk = rows_after(db, deployment, mark.last_id, CHUNK_ROWS)
                self._fold(folder, chunk.rows)
                outcome.log_rows_read += len(chunk.rows)
                mark = mark.advance(chunk.ids, now)
                if len(chunk.ids) < CHUNK_ROWS:
                    break
            if len(batch):
                folder.add(batch.frame(PREDICTION_COLUMN).sort_values(EVENT_TIME, kind="stable"))
            outcome.mark = mark
            relabelled = labels is not None and outcome.labels_sha256 != prior.labels_sha256
            options = DriftOptions(mode=monitor.mode)  # type: ignore[arg-type]
            for state in folder.ordered():
                if not state.touched and not relabelled:
                    outcome.copies.append(state)
                    continue
                folder.ensure_loaded(state)
                outcome.results.append(self._judge(monitor, version, reference, options, state, labels))

    @staticmethod
    def _fold(folder: WindowFolder, rows: builtins.list[LoggedRow]) -> None:
        if rows:
            folder.add(log_frame(rows, PREDICTION_COLUMN).sort_values(EVENT_TIME, kind="stable"))

    def _judge(
        self,
        monitor: Monitor,
        version: PipelineVersion,
        reference: Profile,
        options: DriftOptions,
        state: WindowState,
        labels: pd.DataFrame | None,
    ) -> _WindowResult:
        """One window's verdicts from its merged profile (no raw row is read again)."""
        assert state.profile is not None
        report = compare(reference, state.profile, options)
        performance = None
        if labels is not None and state.outputs is not None:
            performance = self._performance(monitor, version, state.outputs.frame(PREDICTION_COLUMN), labels)
        return _WindowResult(
            state=state,
            report=report_dict(report),
            verdict=report.verdict.status,
            reason=report.verdict.reason,
            prediction_verdict=report.prediction_verdict.status if report.prediction_verdict else None,
            quality=len(report.quality),
            performance=performance,
            profile=state.profile.to_bytes(),
            outputs=state.outputs.to_bytes() if state.outputs is not None else None,
        )

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
        frame: pd.DataFrame,
        labels: pd.DataFrame,
    ) -> dict[str, Any]:
        """Realised metrics of one window: its logged predictions joined with the labels on the request id."""
        assert monitor.id_column and monitor.label_column
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
    def _summary(outcome: _Outcome) -> str:
        judged = [
            (r.state, r.verdict, r.performance.get("status") if r.performance else None)
            for r in outcome.results
        ]
        kept = [(w, w.verdict, w.performance_status) for w in outcome.copies]
        windows = sorted(judged + kept, key=lambda item: item[0].position)
        if not windows:
            return "the serving version has answered no requests here yet: no window to judge"
        drifted = [w.label for w, verdict, _ in windows if verdict == "drift"]
        degraded = [w.label for w, _, status in windows if status == "degraded"]
        parts = [
            f"{len(windows)} window(s); drift in {len(drifted)}"
            + (f" ({', '.join(drifted[:6])}" + ("..." if len(drifted) > 6 else "") + ")" if drifted else "")
        ]
        if outcome.copies:
            parts.append(f"{len(outcome.results)} judged again, {len(outcome.copies)} unchanged")
        if degraded:
            parts.append(f"performance degraded in {len(degraded)}")
        return "; ".join(parts)

    def _record_run(
        self,
        actor: Actor,
        monitor: Monitor,
        started: datetime,
        clock_started: float,
        *,
        run_id: str,
        outcome: _Outcome,
    ) -> BatchRun:
        """Finish the run in one transaction: the run's numbers, its log rows and windows, the audit event."""
        failed = outcome.status == "failed"
        batch = None if failed else outcome.batch
        results = [] if failed else outcome.results
        copies = [] if failed else outcome.copies
        version = outcome.version
        rows = len(batch) if batch is not None else 0
        with UnitOfWork(self.ctx) as uow:
            pipeline_row = uow.session.scalar(
                select(PipelineRow).where(PipelineRow.name == monitor.pipeline_name)
            )
            row = uow.session.get(BatchRunRow, run_id)
            assert pipeline_row is not None and row is not None
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
            finished = self.ctx.clock.now()  # after the log is written: the run's true length
            if finished == started:  # a fixed clock in tests: record the real duration
                finished = started + timedelta(seconds=time.perf_counter() - clock_started)
            detail = outcome.error if failed else outcome.detail
            row.version_id = version.id if version else None
            row.dataset_sha256 = outcome.sha256
            row.status = outcome.status
            row.rows, row.rows_in, row.rows_rejected = rows, outcome.rows_in, outcome.rejected
            row.rejected_sample = json.dumps([r.to_dict() for r in outcome.sample]) if outcome.sample else ""
            row.error, row.traceback = outcome.error[:4000], outcome.trace[:20000]
            row.dataset_changed = outcome.changed
            row.windows = len(results) + len(copies)
            if not failed:  # a failed run keeps mark 0: it is never the state the next run starts from
                own = ids_written_by(uow.session, f"batch:{run_id}", outcome.mark.last_id) if rows else []
                mark = outcome.mark.advance(own, self.ctx.clock.now())
                row.log_mark, row.log_gaps = mark.last_id, mark.gaps_json()
                row.labels_sha256 = outcome.labels_sha256
            row.detail = detail[:4000]
            row.finished_at = finished
            for result in results:
                assert version is not None
                state = result.state
                uow.session.add(
                    DriftWindowRow(
                        batch_run_id=run_id,
                        pipeline_id=pipeline_row.id,
                        version_id=version.id,
                        environment=monitor.environment,
                        position=state.position,
                        label=state.label,
                        window_start=state.start,
                        window_end=state.end,
                        rows=state.rows,
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
                        outputs=result.outputs,
                        created_at=finished,
                    )
                )
            copy_windows(uow.session, run_id, copies)
            uow.record(
                actor,
                "batch.run",
                object_type="monitor",
                object_id=str(monitor.id),
                outcome=Outcome.FAILED if failed else Outcome.OK,
                detail=detail[:2000],
                after={
                    "run": run_id,
                    "pipeline": monitor.pipeline_name,
                    "environment": monitor.environment,
                    "version": version.number if version else None,
                    "dataset": monitor.dataset,
                    "rows": rows,
                    "rows_in": outcome.rows_in,
                    "rejected": outcome.rejected,
                    "windows": len(results) + len(copies),
                    "windows_judged": len(results),
                    "log_rows_read": outcome.log_rows_read,
                    "status": outcome.status,
                },
            )
            uow.commit()
            return to_run(row, pipeline_row.name)
