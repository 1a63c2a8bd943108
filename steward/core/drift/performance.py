"""Realised model performance per window, once delayed labels arrive.

Predictions are logged with a request id; labels come later (a file, or a SQL
source read by the caller) with the same id. They are joined on the id, cut
into time windows, and each window's metrics are compared with the training
hold-out's. A window with fewer labelled rows than ``min_rows`` gets no
verdict, as with drift.

Degradation thresholds: a bounded score (accuracy, F1, R^2, AUC) is degraded
when it is more than ``score_tolerance`` (0.05) below the hold-out value; an
error (MAE, RMSE) when it is more than ``error_tolerance`` (10%) above it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from steward.core.domain.metrics import metric
from steward.core.errors import InvalidInput

Task = Literal["classification", "regression"]


def _roc_auc(y_true: NDArray[Any], score: NDArray[np.float64]) -> float | None:
    """Binary AUC by ranks (ties averaged); None when only one class is present."""
    classes = np.unique(y_true)
    if classes.size != 2:
        return None
    positive = y_true == classes[1]
    ranks = pd.Series(score).rank(method="average").to_numpy()
    n_pos = int(positive.sum())
    n_neg = positive.size - n_pos
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def classification_metrics(
    y_true: NDArray[Any], y_pred: NDArray[Any], score: NDArray[np.float64] | None = None
) -> dict[str, float]:
    """Accuracy, balanced accuracy, macro F1 and (binary, with scores) ROC AUC."""
    truth = pd.Series(y_true).astype(str).to_numpy()
    pred = pd.Series(y_pred).astype(str).to_numpy()
    labels = np.unique(np.concatenate([truth, pred]))
    recalls = []
    f1s = []
    for label in labels:
        t = truth == label
        p = pred == label
        tp = float(np.sum(t & p))
        if t.any():
            recalls.append(tp / t.sum())
        precision = tp / p.sum() if p.any() else 0.0
        recall = tp / t.sum() if t.any() else 0.0
        f1s.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    out = {
        "accuracy": float(np.mean(truth == pred)),
        "balanced_accuracy": float(np.mean(recalls)) if recalls else 0.0,
        "f1_macro": float(np.mean(f1s)) if f1s else 0.0,
    }
    if score is not None:
        auc = _roc_auc(truth, np.asarray(score, dtype=np.float64))
        if auc is not None:
            out["roc_auc"] = auc
    return out


def regression_metrics(y_true: NDArray[Any], y_pred: NDArray[Any]) -> dict[str, float]:
    """MAE, RMSE and R^2 (R^2 omitted when the truth is constant)."""
    t = np.asarray(y_true, dtype=np.float64)
    p = np.asarray(y_pred, dtype=np.float64)
    err = p - t
    out = {"mae": float(np.mean(np.abs(err))), "rmse": float(np.sqrt(np.mean(err**2)))}
    ss_tot = float(np.sum((t - t.mean()) ** 2))
    if ss_tot > 0:
        out["r2"] = 1.0 - float(np.sum(err**2)) / ss_tot
    return out


def compute_metrics(
    task: Task, y_true: NDArray[Any], y_pred: NDArray[Any], score: NDArray[np.float64] | None = None
) -> dict[str, float]:
    """The metrics of one task; the same function scores the hold-out at training time."""
    if task == "classification":
        return classification_metrics(y_true, y_pred, score)
    if task == "regression":
        return regression_metrics(y_true, y_pred)
    raise InvalidInput(f"unknown task {task!r}; use 'classification' or 'regression'")


@dataclass(frozen=True)
class MetricChange:
    """One metric in one window against the hold-out."""

    metric: str
    value: float
    baseline: float | None
    degraded: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "value": self.value,
            "baseline": self.baseline,
            "degraded": self.degraded,
        }


@dataclass(frozen=True)
class WindowPerformance:
    """Realised metrics of one window."""

    start: str | None
    end: str | None
    predictions: int
    labelled: int
    metrics: tuple[MetricChange, ...]
    status: Literal["degraded", "ok", "insufficient"]
    reason: str

    @property
    def coverage(self) -> float:
        return self.labelled / self.predictions if self.predictions else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "end": self.end,
            "predictions": self.predictions,
            "labelled": self.labelled,
            "coverage": self.coverage,
            "metrics": [m.to_dict() for m in self.metrics],
            "status": self.status,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class PerformanceReport:
    """Per-window realised performance and the hold-out it is judged against."""

    task: Task
    baseline: Mapping[str, float]
    windows: tuple[WindowPerformance, ...]
    settings: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "baseline": dict(self.baseline),
            "windows": [w.to_dict() for w in self.windows],
            "settings": dict(self.settings),
        }


def _require(frame: pd.DataFrame, columns: list[str], what: str) -> None:
    for c in columns:
        if c not in frame.columns:
            raise InvalidInput(f"column {c!r} is not in the {what}")


def _judge(
    metrics: Mapping[str, float],
    baseline: Mapping[str, float],
    score_tolerance: float,
    error_tolerance: float,
) -> tuple[tuple[MetricChange, ...], list[str]]:
    changes = []
    worse = []
    for name, value in metrics.items():
        base, known = baseline.get(name), metric(name)
        degraded = False
        if base is not None and known is not None:
            # Scores move by points (absolute tolerance); errors scale with the target (relative one).
            if known.higher_is_better:
                degraded = value < base - score_tolerance
            else:
                degraded = value > base * (1 + error_tolerance)
        if degraded:
            worse.append(f"{name} {value:.4g} vs {base:.4g}")
        changes.append(MetricChange(name, value, base, degraded))
    return tuple(changes), worse


def realised_performance(
    predictions: pd.DataFrame,
    labels: pd.DataFrame,
    *,
    task: Task,
    id_column: str,
    prediction_column: str,
    label_column: str,
    time_column: str | None = None,
    window: str | None = None,
    score_column: str | None = None,
    baseline: Mapping[str, float] | None = None,
    min_rows: int = 30,
    score_tolerance: float = 0.05,
    error_tolerance: float = 0.10,
) -> PerformanceReport:
    """Join labels to predictions on the request id and score each time window.

    ``window`` is a pandas frequency (``"1D"``, ``"1h"``); without it (or without
    ``time_column``) the whole log is one window. Duplicate label ids are refused:
    which label is true would be a guess.
    """
    _require(predictions, [id_column, prediction_column], "predictions")
    _require(labels, [id_column, label_column], "labels")
    if score_column is not None:
        _require(predictions, [score_column], "predictions")
    if time_column is not None:
        _require(predictions, [time_column], "predictions")
    dupes = labels[id_column][labels[id_column].duplicated()]
    if len(dupes):
        raise InvalidInput(f"labels hold duplicate ids (e.g. {dupes.iloc[0]!r}): one label per request")
    keep = [id_column, prediction_column, *([score_column] if score_column else [])]
    keep += [time_column] if time_column else []
    joined = predictions[keep].merge(
        labels[[id_column, label_column]].rename(columns={label_column: "__label__"}),
        on=id_column,
        how="left",
    )
    if time_column is not None and window is not None:
        times = pd.to_datetime(joined[time_column], errors="coerce", utc=True)
        if times.isna().all() and len(times):
            raise InvalidInput(f"column {time_column!r} holds no readable timestamps")
        groups = joined.groupby(times.dt.floor(window), sort=True)
        parts: list[tuple[str | None, str | None, pd.DataFrame]] = [
            (str(start), str(start + pd.Timedelta(window)), g) for start, g in groups
        ]
    else:
        parts = [(None, None, joined)]
    base = dict(baseline or {})
    windows = []
    for start, end, part in parts:
        labelled = part[part["__label__"].notna()]
        n = len(labelled)
        if n < min_rows:
            reason = f"not enough labelled rows: {n}, minimum {min_rows}"
            windows.append(WindowPerformance(start, end, len(part), n, (), "insufficient", reason))
            continue
        score = labelled[score_column].to_numpy(dtype=np.float64) if score_column else None
        try:
            metrics = compute_metrics(
                task, labelled["__label__"].to_numpy(), labelled[prediction_column].to_numpy(), score
            )
        except (TypeError, ValueError):
            raise InvalidInput(
                f"labels or predictions are not numbers in a regression window starting {start}"
            ) from None
        changes, worse = _judge(metrics, base, score_tolerance, error_tolerance)
        status: Literal["degraded", "ok"] = "degraded" if worse else "ok"
        reason = "; ".join(worse) if worse else "no metric worse than the hold-out beyond tolerance"
        windows.append(WindowPerformance(start, end, len(part), n, changes, status, reason))
    return PerformanceReport(
        task,
        base,
        tuple(windows),
        {
            "min_rows": min_rows,
            "score_tolerance": score_tolerance,
            "error_tolerance": error_tolerance,
            "window": window,
        },
    )
