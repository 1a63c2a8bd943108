"""Drift views: runs, a run's windows, overlays and roll-ups, all read from stored profiles."""

from __future__ import annotations

import builtins
import json
from datetime import datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Select, select

from steward.core.adapters.db.mappers.monitoring import to_run, to_window
from steward.core.adapters.db.models import (
    BatchRunRow,
    DriftWindowRow,
    EnvironmentRow,
    MonitorRow,
    PipelineRow,
    PipelineVersionRow,
)
from steward.core.domain.accounts import Actor
from steward.core.domain.estimates import (
    ESTIMATE_METRICS,
    PerformanceEstimates,
    WindowEstimate,
    measure,
)
from steward.core.domain.monitoring import (
    BatchRun,
    DriftPage,
    DriftRollup,
    DriftWindow,
    Monitor,
    rollup_periods,
)
from steward.core.domain.permissions import Action, is_allowed
from steward.core.drift.cbpe import Calibrator, calibrator_from_reliability, estimate
from steward.core.drift.overlay import categorical_overlay, numeric_overlay
from steward.core.drift.profile import Profile, merge
from steward.core.drift.report import DriftOptions, compare
from steward.core.errors import InvalidInput, NotFound
from steward.core.services.monitoring.monitors import Monitors
from steward.core.services.monitoring.windows import period_label
from steward.core.services.registry import PREDICTION_COLUMN
from steward.core.services.uow import UnitOfWork


class DriftViews(Monitors):
    def runs(self, *, pipeline: str | None = None, limit: int = 50) -> builtins.list[BatchRun]:
        with UnitOfWork(self.ctx, write=False) as uow:
            query = (
                select(BatchRunRow, PipelineRow.name)
                .join(PipelineRow, PipelineRow.id == BatchRunRow.pipeline_id)
                .outerjoin(MonitorRow, MonitorRow.id == BatchRunRow.monitor_id)
                .where(MonitorRow.removed_at.is_(None))  # a removed monitor's runs leave the pages
                .order_by(BatchRunRow.started_at.desc())
                .limit(limit)
            )
            if pipeline:
                query = query.where(PipelineRow.name == pipeline)
            return [to_run(row, name) for row, name in uow.session.execute(query).all()]

    def windows(
        self, pipeline: str, environment: str, *, run_id: str | None = None, monitor_id: int | None = None
    ) -> builtins.list[DriftWindow]:
        """The windows of the latest successful run (of ``monitor_id``'s, or ``run_id``), in time order.

        Without a monitor, the latest run of any monitor of the deployment: two
        monitors of one deployment on different data keep their own evidence
        only when the monitor is named.
        """
        with UnitOfWork(self.ctx, write=False) as uow:
            pipeline_row = uow.session.scalar(select(PipelineRow).where(PipelineRow.name == pipeline))
            if pipeline_row is None:
                raise NotFound(f"no pipeline named {pipeline[:100]!r}")
            if run_id is None:
                run_id = uow.session.scalar(
                    _latest_ok_run(pipeline_row.id, environment, BatchRunRow.id, monitor_id=monitor_id)
                )
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

    def rollup(
        self, pipeline: str, environment: str, period: str, *, monitor_id: int | None = None
    ) -> builtins.list[DriftRollup]:
        """The latest run's windows merged into longer ones (hour into day into week) and judged again.

        Window profiles are mergeable, so a month or a year is judged from the
        profiles stored with its windows: no production row is read again.
        """
        with UnitOfWork(self.ctx, write=False) as uow:
            pipeline_row = uow.session.scalar(select(PipelineRow).where(PipelineRow.name == pipeline))
            if pipeline_row is None:
                raise NotFound(f"no pipeline named {pipeline[:100]!r}")
            run = uow.session.execute(
                _latest_ok_run(
                    pipeline_row.id, environment, BatchRunRow.id, MonitorRow.window, monitor_id=monitor_id
                )
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
            groups.setdefault(period_label(start, period), []).append((start, blob))
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

    def page(
        self,
        actor: Actor,
        monitor_id: int | None = None,
        *,
        pipeline: str | None = None,
        environment: str | None = None,
        runs: int = 20,
    ) -> DriftPage:
        """The Drift page in one read: the monitors, the chosen one (or the first), its windows, the runs.

        ``pipeline`` and ``environment`` (the Overview's links) narrow the
        monitors offered; a filter that matches none says so and shows all.
        Whether the actor may run, add or pause monitors is decided here from
        the roles, so the page only shows what it is given.
        """
        from steward.core.services.environments import EnvironmentService

        every = tuple(self.monitors())
        monitors, filtered = _narrowed(every, pipeline, environment)
        chosen = next((m for m in monitors if m.id == monitor_id), monitors[0] if monitors else None)
        environments = EnvironmentService(self.ctx).list()
        tiers = {env.name: env.tier for env in environments}
        may_manage = is_allowed(actor.roles, Action.MANAGE_MONITORS)
        may_run, may_pause, last, task, logged, estimates = False, False, None, None, None, None
        windows: tuple[DriftWindow, ...] = ()
        if chosen is not None:
            tier = tiers.get(chosen.environment)
            may_run = tier is not None and is_allowed(actor.roles, Action.RUN_BATCH, tier)
            may_pause = may_manage and may_run  # the rule MonitorAdmin enforces
            last = self.last_run(chosen.id)
            windows = tuple(self.windows(chosen.pipeline_name, chosen.environment, monitor_id=chosen.id))
            task = self.pipelines.get(chosen.pipeline_name).task
            logged = self.log.summary(chosen.pipeline_name, chosen.environment)
            if task == "classification":
                estimates = self.estimates(windows)
        return DriftPage(
            monitors=monitors,
            chosen=chosen,
            may_run=may_run,
            last_run=last,
            windows=windows,
            task=task,
            logged=logged,
            runs=tuple(self.runs(limit=runs)),
            may_manage=may_manage,
            pipelines=tuple(item.pipeline.name for item in self.pipelines.list()) if may_manage else (),
            environments=tuple(env.name for env in environments),
            production_datasets=tuple(d.name for d in self.datasets.list(role="production")),
            label_datasets=tuple(d.name for d in self.datasets.list(role="labels")),
            may_pause=may_pause,
            estimates=estimates,
            filtered=filtered,
        )

    def estimates(self, windows: tuple[DriftWindow, ...]) -> PerformanceEstimates:
        """CBPE per window of a binary classifier, beside the realised figures where labels joined.

        The probabilities come from each window's stored profile (its
        prediction column holds every score with its count), calibrated by the
        serving version's hold-out reliability curve stored at training: no
        log row is read again and no hold-out row is re-scored.
        """
        profiles: dict[int, bytes] = {}
        if windows:
            with UnitOfWork(self.ctx, write=False) as uow:
                profiles = dict(
                    uow.session.execute(
                        select(DriftWindowRow.id, DriftWindowRow.profile).where(
                            DriftWindowRow.id.in_([w.id for w in windows])
                        )
                    ).all()
                )
        calibrators: dict[str, Calibrator | None] = {}
        calibration, notes, out = "", [], []
        for window in windows:
            if window.version_id not in calibrators:
                version = self.pipelines.version_by_id(window.version_id)
                bins = version.charts.get("calibration")
                if len(version.classes or ()) != 2:
                    calibrators[window.version_id] = None
                    notes.append(f"v{version.number} is not a two-class classifier: CBPE needs one")
                elif not bins:
                    calibrators[window.version_id] = None
                    notes.append(f"v{version.number} stored no reliability curve at training")
                else:
                    calibrators[window.version_id] = calibrator_from_reliability(bins)
                    calibration = (
                        f"calibrated on v{version.number}'s hold-out reliability curve "
                        f"({sum(int(b.get('count') or 0) for b in bins):,} rows in {len(bins)} bins)"
                    )
            calibrator = calibrators[window.version_id]
            scores = _scores(profiles.get(window.id))
            if calibrator is None or scores is None:
                continue
            figures = estimate(calibrator.apply(scores))
            performance = window.performance or {}
            realised = {
                str(m["metric"]): float(m["value"])
                for m in performance.get("metrics", [])
                if m.get("metric") in ESTIMATE_METRICS and isinstance(m.get("value"), int | float)
            }
            out.append(
                WindowEstimate(
                    label=window.label,
                    rows=window.rows,
                    estimated={name: figures.metric(name) for name in ESTIMATE_METRICS},
                    realised=realised or None,
                    labelled=int(performance.get("labelled") or 0),
                )
            )
        found = tuple(out)
        return PerformanceEstimates(found, measure(found), calibration, "; ".join(dict.fromkeys(notes)))

    def batch_health(self) -> builtins.list[BatchRun]:
        """The latest run of each monitor: did the data pipelines run without errors?"""
        latest: dict[int | None, BatchRun] = {}
        for run in self.runs(limit=500):
            latest.setdefault(run.monitor_id, run)
        return sorted(latest.values(), key=lambda run: (run.pipeline_name, run.environment))


def _narrowed(
    monitors: tuple[Monitor, ...], pipeline: str | None, environment: str | None
) -> tuple[tuple[Monitor, ...], str]:
    """The monitors a filter keeps, and the filter in words (all of them, saying so, when none match)."""
    if not pipeline and not environment:
        return monitors, ""
    words = f"{pipeline or 'every pipeline'} in {environment or 'every environment'}"
    kept = tuple(
        m
        for m in monitors
        if (not pipeline or m.pipeline_name == pipeline) and (not environment or m.environment == environment)
    )
    if not kept:
        return monitors, f"no monitor watches {words}: showing every monitor"
    return kept, f"showing the monitors of {words}"


def _scores(blob: bytes | None) -> NDArray[np.float64] | None:
    """Every score of a window's prediction column, from its profile's values and counts."""
    if blob is None:
        return None
    column = Profile.from_bytes(blob).column(PREDICTION_COLUMN)
    numeric = column.numeric if column is not None else None
    if numeric is None or numeric.values.size == 0:
        return None
    if numeric.counts is None:
        return numeric.values
    return np.repeat(numeric.values, numeric.counts)


def _latest_ok_run(
    pipeline_id: int, environment: str, *columns: Any, monitor_id: int | None = None
) -> Select[Any]:
    """The latest successful run of the pipeline's live monitors in ``environment`` (or of one monitor).

    Found through the monitor's environment id, not the name stored on the run,
    so history stays in view when an environment is renamed.
    """
    query = (
        select(*columns)
        .join(MonitorRow, MonitorRow.id == BatchRunRow.monitor_id)
        .join(EnvironmentRow, EnvironmentRow.id == MonitorRow.environment_id)
        .where(
            BatchRunRow.pipeline_id == pipeline_id,
            EnvironmentRow.name == environment,
            BatchRunRow.status.in_(("succeeded", "partial")),
            MonitorRow.removed_at.is_(None),
        )
    )
    if monitor_id is not None:
        query = query.where(BatchRunRow.monitor_id == monitor_id)
    return query.order_by(BatchRunRow.started_at.desc()).limit(1)
