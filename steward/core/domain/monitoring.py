"""Monitors, batch runs and drift windows as entities, and how production data is cut into windows."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from steward.core.domain.estimates import PerformanceEstimates
from steward.core.domain.predictions import PredictionLogSummary
from steward.core.errors import InvalidInput

WINDOW_HELP = "day, week, month (with a time column) or rows:N (fixed-size slices in file order)"
_ROWS = re.compile(r"^rows:(\d{1,9})$")


@dataclass(frozen=True)
class WindowRule:
    """How a batch is cut: by calendar period of a time column, or into slices of N rows."""

    period: str | None = None  # day | week | month
    rows: int | None = None

    @property
    def text(self) -> str:
        return self.period if self.period else f"rows:{self.rows}"


def parse_window(text: str, time_column: str | None) -> WindowRule:
    value = (text or "").strip().lower()
    if value in ("day", "week", "month"):
        if not time_column:
            raise InvalidInput(f"window {value!r} needs a time column")
        return WindowRule(period=value)
    match = _ROWS.match(value)
    if match:
        rows = int(match.group(1))
        if rows < 10:
            raise InvalidInput("a window of rows must hold at least 10 rows")
        return WindowRule(rows=rows)
    raise InvalidInput(f"window {text!r} is not one of: {WINDOW_HELP}")


@dataclass(frozen=True)
class Monitor:
    id: int
    pipeline_name: str
    environment: str
    dataset: str
    time_column: str | None
    window: str
    labels_dataset: str | None
    labels_database: str | None
    labels_query: str | None
    id_column: str | None
    label_column: str | None
    mode: str
    every_minutes: int
    enabled: bool
    created_at: datetime
    created_by: str
    max_rejected_share: float = 0.1  # a run rejecting more than this share of its rows fails
    paused_at: datetime | None = None  # set while paused (enabled is false): the worker skips it
    paused_by: str | None = None

    @property
    def state(self) -> str:
        """In words, for pages and the CLI."""
        return "running on schedule" if self.enabled else "paused"

    @property
    def labels_source(self) -> str | None:
        """Where delayed labels come from, in words."""
        if self.labels_dataset:
            return f"data set {self.labels_dataset}"
        if self.labels_database:
            return f"a query on database {self.labels_database}"
        return None


RUN_STATUSES = ("running", "succeeded", "partial", "failed")
SAMPLE_REJECTED = 100  # rejected rows kept with a run, with their reasons


@dataclass(frozen=True)
class RowReason:
    """Why one row was set aside: which field broke which rule, and the value found."""

    column: str
    rule: str  # type | null | not_finite | not_integer | below_min | above_max | unknown_category
    value: str

    def to_dict(self) -> dict[str, str]:
        return {"column": self.column, "rule": self.rule, "value": self.value}


@dataclass(frozen=True)
class RejectedRow:
    """A production row the schema refused: its 1-based data row (header not counted), values, reasons."""

    row: int
    values: Mapping[str, str]
    reasons: tuple[RowReason, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"row": self.row, "values": dict(self.values), "reasons": [r.to_dict() for r in self.reasons]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RejectedRow:
        return cls(
            row=int(data["row"]),
            values={str(k): str(v) for k, v in data.get("values", {}).items()},
            reasons=tuple(
                RowReason(str(r["column"]), str(r["rule"]), str(r.get("value", "")))
                for r in data.get("reasons", [])
            ),
        )


def rejected_csv(rows: tuple[RejectedRow, ...]) -> str:
    """The sample as CSV for download: the row, its reasons in words, then the row's values."""
    columns: list[str] = []
    for row in rows:
        columns.extend(c for c in row.values if c not in columns)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["row", "reasons", *columns])
    for row in rows:
        reasons = "; ".join(f"{r.column}: {r.rule} ({r.value})" for r in row.reasons)
        writer.writerow([row.row, reasons, *(row.values.get(c, "") for c in columns)])
    return out.getvalue()


def run_status(rows_in: int, rejected: int) -> str:
    """succeeded when every row was scored, partial when some were set aside."""
    return "partial" if rejected and rows_in else "succeeded"


def too_many_rejected(rows_in: int, rejected: int, max_share: float) -> str | None:
    """Why the run fails on its rejected share, or None when the share is within the monitor's threshold."""
    if not rows_in or not rejected:
        return None
    share = rejected / rows_in
    if share <= max_share:
        return None
    return (
        f"{rejected} of {rows_in} rows ({share:.1%}) broke the schema, more than the monitor's "
        f"threshold of {max_share:.1%}: nothing was scored"
    )


@dataclass(frozen=True)
class BatchRun:
    id: str
    monitor_id: int | None
    pipeline_name: str
    version_id: str | None
    environment: str
    dataset: str
    dataset_sha256: str
    status: str  # running | succeeded | partial | failed
    rows: int  # rows scored and logged
    windows: int
    detail: str
    started_at: datetime
    finished_at: datetime
    actor: str
    rows_in: int = 0
    rows_rejected: int = 0
    rejected: tuple[RejectedRow, ...] = ()  # a sample (at most SAMPLE_REJECTED) with reasons
    error: str = ""  # one clear line when the run failed
    traceback: str = ""  # for operators, when the failure was not a known problem
    dataset_changed: bool = False  # the data set's bytes differ from what was registered

    @property
    def seconds(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()

    @property
    def ok(self) -> bool:
        """Finished and kept: succeeded, or partial (some rows set aside)."""
        return self.status in ("succeeded", "partial")


@dataclass(frozen=True)
class DriftWindow:
    id: int
    batch_run_id: str
    pipeline_name: str
    version_id: str
    version_number: int
    environment: str
    position: int
    label: str
    window_start: datetime | None
    window_end: datetime | None
    rows: int
    verdict: str  # drift | no_drift | insufficient
    reason: str
    prediction_verdict: str | None
    quality_findings: int
    performance_status: str | None
    report: Mapping[str, Any]
    performance: Mapping[str, Any] | None
    created_at: datetime

    def drifted_columns(self) -> list[Mapping[str, Any]]:
        """Feature columns that drifted, largest effect size (Jensen-Shannon distance) first."""
        columns = [
            c
            for c in self.report.get("columns", [])
            if c.get("drift") is True and c.get("role") != "prediction"
        ]
        return sorted(columns, key=lambda c: -float(c.get("effect_size") or 0.0))


ROLLUP_PERIODS = ("week", "month", "quarter", "year", "all")
_PERIOD_RANK = {"day": 0, "week": 1, "month": 2, "quarter": 3, "year": 4, "all": 5}


def rollup_periods(window: str) -> tuple[str, ...]:
    """The periods a monitor's windows can be rolled up into: only longer ones (rows:N windows: all)."""
    rank = _PERIOD_RANK.get(window)
    if rank is None:
        return ("all",)
    return tuple(p for p in ROLLUP_PERIODS if _PERIOD_RANK[p] > rank)


@dataclass(frozen=True)
class DriftRollup:
    """A longer window judged from the merged profiles of the windows inside it (no row read again)."""

    label: str
    start: datetime | None
    windows: int
    rows: int
    verdict: str
    reason: str
    prediction_verdict: str | None
    drifted: tuple[str, ...]  # largest effect first
    exact: bool  # False when a merged profile was thinned to its point budget


@dataclass(frozen=True)
class DriftPage:
    """Everything the Drift page shows, read in one call: the monitors, the chosen one's windows, the runs.

    The choices of the "Add a monitor" form come from the catalogue by role
    (production data, label data), never from how a data set is named.
    """

    monitors: tuple[Monitor, ...]
    chosen: Monitor | None
    may_run: bool  # the actor may start a run of the chosen monitor in its environment
    last_run: BatchRun | None
    windows: tuple[DriftWindow, ...]
    task: str | None  # the chosen pipeline's task, for the headline metric
    logged: PredictionLogSummary | None  # what the chosen deployment logged
    runs: tuple[BatchRun, ...]
    may_manage: bool
    pipelines: tuple[str, ...]
    environments: tuple[str, ...]
    production_datasets: tuple[str, ...]
    label_datasets: tuple[str, ...]
    may_pause: bool = False  # the actor may pause, resume and remove the chosen monitor
    estimates: PerformanceEstimates | None = None  # classifier monitors: CBPE beside realised, per window
    filtered: str = ""  # the filter the page was opened with, in words ("" when it shows everything)
