"""How a log is cut into windows, and how a window's report is stored (pure functions, no storage)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from steward.core.domain.monitoring import DriftWindow, WindowRule
from steward.core.drift.report import DriftReport
from steward.core.errors import InvalidInput


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


@dataclass(frozen=True)
class Piece:
    """New rows of one window: ``key`` names the window across runs (its position, or its period)."""

    key: str
    label: str
    start: datetime | None
    end: datetime | None
    frame: pd.DataFrame
    first_row: int = 0  # row windows: rows the window held before this piece


def rows_label(position: int, size: int, rows: int) -> str:
    first = position * size
    return f"rows {first + 1}-{first + rows}"


def cut_pieces(
    frame: pd.DataFrame, rule: WindowRule, time_column: str | None, *, rows_in_log: int = 0
) -> Iterator[Piece]:
    """New rows (in arrival order) cut into the windows they belong to, given what the log held before.

    Row windows count rows in arrival order, so new rows fill the last window
    first (``rows_in_log`` rows came before them); calendar windows are keyed
    by their period. Cutting a log in one go or in any number of pieces gives
    the same windows with the same rows, which is what lets a run read only
    the rows logged since the last run.
    """
    if rule.rows:
        size = rule.rows
        taken = 0
        while taken < len(frame):
            position, held = divmod(rows_in_log + taken, size)
            part = frame.iloc[taken : taken + size - held]
            yield Piece(str(position), rows_label(position, size, held + len(part)), None, None, part, held)
            taken += len(part)
        return
    for window in cut_windows(frame, rule, time_column):
        yield Piece(window.label, window.label, window.start, window.end, window.frame)


def _finite(value: Any) -> Any:
    return None if isinstance(value, float) and not math.isfinite(value) else value


def report_dict(report: DriftReport) -> dict[str, Any]:
    """The report as stored: JSON, with each column's severity (how far past its threshold) added."""
    data = report.to_dict()
    severities = {column.name: _finite(column.severity()) for column in report.columns}
    for column in data["columns"]:
        column["severity"] = severities.get(column["name"])
    return data


def period_label(start: datetime | None, period: str) -> str:
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


def drift_share(windows: list[DriftWindow]) -> float:
    """Share of judged windows that drifted (for headline figures)."""
    judged = [w for w in windows if w.verdict != "insufficient"]
    return float(np.mean([w.verdict == "drift" for w in judged])) if judged else 0.0
