"""Challenger against champion on the same rows: paired differences with confidence intervals.

A retrained version's own hold-out says how it does on *its* data; to decide
whether it should replace what serves, both versions must be scored on the
same recent labelled rows from production (the champion re-scored). Because
the rows are shared, the comparison is *paired*: the bootstrap resamples rows
(the same rows for both versions in each replicate), so the interval of the
difference is much narrower than two separate intervals would suggest, and a
paired test per metric says whether the difference could be chance:

- accuracy: McNemar's exact test on the rows where exactly one version is right;
- MAE / RMSE: Wilcoxon's signed-rank test on the per-row loss differences;
- other metrics (ROC AUC, R², F1...): the bootstrap's own two-sided p-value.

The decision diff says how many decisions change, and for which segments, in
words a business reviewer can weigh ("1,204 of 3,000 loan decisions change;
most in EDUCATION = 2").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from steward.core.domain.head_to_head import DecisionDiff, MetricComparison, SegmentChange
from steward.core.domain.metrics import higher_is_better
from steward.core.drift.performance import Task, compute_metrics


def compare(
    task: Task,
    y_true: Sequence[Any] | NDArray[Any],
    champion: Sequence[Any] | NDArray[Any],
    challenger: Sequence[Any] | NDArray[Any],
    *,
    champion_score: NDArray[np.float64] | None = None,
    challenger_score: NDArray[np.float64] | None = None,
    resamples: int = 400,
    confidence: float = 0.95,
    seed: int = 2026,
) -> list[MetricComparison]:
    """Every metric of the task for both versions on the same rows, with paired intervals and tests.

    ``champion``/``challenger`` are predictions (labels or values); scores
    (probability of the positive class) add ROC AUC for binary classifiers.
    """
    truth, a, b = np.asarray(y_true), np.asarray(champion), np.asarray(challenger)
    if not (len(truth) == len(a) == len(b)) or len(truth) < 10:
        raise ValueError("both versions need a prediction for each of the same rows, at least 10 of them")
    if not 0.5 < confidence < 1:
        raise ValueError("confidence must lie between 0.5 and 1")
    if resamples < 100:
        raise ValueError("resamples must be at least 100 for a stable interval")
    base_a = compute_metrics(task, truth, a, champion_score)
    base_b = compute_metrics(task, truth, b, challenger_score)
    names = [name for name in base_a if name in base_b]
    rng = np.random.default_rng(seed)
    draws: dict[str, list[float]] = {name: [] for name in names}
    n = len(truth)
    for _ in range(resamples):
        rows = rng.integers(0, n, n)
        score_a = None if champion_score is None else champion_score[rows]
        score_b = None if challenger_score is None else challenger_score[rows]
        ma = compute_metrics(task, truth[rows], a[rows], score_a)
        mb = compute_metrics(task, truth[rows], b[rows], score_b)
        for name in names:
            if name in ma and name in mb:
                draws[name].append(mb[name] - ma[name])
    tail = (1 - confidence) / 2
    out = []
    for name in names:
        diffs = np.asarray(draws[name])
        p_value, test = _paired_test(task, name, truth, a, b, diffs)
        out.append(
            MetricComparison(
                metric=name,
                champion=base_a[name],
                challenger=base_b[name],
                difference=base_b[name] - base_a[name],
                ci_low=float(np.quantile(diffs, tail)),
                ci_high=float(np.quantile(diffs, 1 - tail)),
                p_value=p_value,
                test=test,
                higher_is_better=higher_is_better(name),
                confidence=confidence,
            )
        )
    return out


def _paired_test(
    task: Task, name: str, truth: NDArray[Any], a: NDArray[Any], b: NDArray[Any], diffs: NDArray[np.float64]
) -> tuple[float, str]:
    from scipy import stats

    if task == "classification" and name == "accuracy":
        right_a = pd.Series(a).astype(str).to_numpy() == pd.Series(truth).astype(str).to_numpy()
        right_b = pd.Series(b).astype(str).to_numpy() == pd.Series(truth).astype(str).to_numpy()
        only_a, only_b = int((right_a & ~right_b).sum()), int((right_b & ~right_a).sum())
        if only_a + only_b == 0:
            return 1.0, "McNemar exact test"
        return float(stats.binomtest(only_b, only_a + only_b, 0.5).pvalue), "McNemar exact test"
    if task == "regression" and name in ("mae", "rmse"):
        t, pa, pb = (np.asarray(v, dtype=np.float64) for v in (truth, a, b))
        loss_a, loss_b = (np.abs(pa - t), np.abs(pb - t)) if name == "mae" else ((pa - t) ** 2, (pb - t) ** 2)
        if np.allclose(loss_a, loss_b):
            return 1.0, "Wilcoxon signed-rank test"
        return float(stats.wilcoxon(loss_b, loss_a).pvalue), "Wilcoxon signed-rank test"
    # Two-sided bootstrap p-value: how often the resampled difference lands on the other side of zero.
    below, above = float(np.mean(diffs <= 0)), float(np.mean(diffs >= 0))
    return min(1.0, 2 * min(below, above)), "paired bootstrap"


def decision_diff(
    champion: Sequence[Any] | NDArray[Any],
    challenger: Sequence[Any] | NDArray[Any],
    segments: Mapping[str, Sequence[Any] | NDArray[Any]] | pd.DataFrame,
    *,
    tolerance: float = 0.0,
    top: int = 10,
) -> DecisionDiff:
    """Rows whose decision differs (labels unequal, values further apart than ``tolerance``), by segment."""
    a, b = np.asarray(champion), np.asarray(challenger)
    if len(a) != len(b):
        raise ValueError("both versions need a decision for each of the same rows")
    if np.issubdtype(a.dtype, np.number) and np.issubdtype(b.dtype, np.number) and tolerance > 0:
        changed = np.abs(a.astype(np.float64) - b.astype(np.float64)) > tolerance
    else:
        changed = pd.Series(a).astype(str).to_numpy() != pd.Series(b).astype(str).to_numpy()
    columns = segments if isinstance(segments, pd.DataFrame) else pd.DataFrame(dict(segments))
    found: list[SegmentChange] = []
    for column in columns.columns:
        values = columns[column].astype(str).to_numpy()
        if len(values) != len(a):
            raise ValueError(f"segment column {column!r} needs one value per row")
        frame = pd.DataFrame({"value": values, "changed": changed})
        grouped = frame.groupby("value", sort=False)["changed"].agg(["size", "sum"])
        for value, row in grouped.iterrows():
            found.append(SegmentChange(str(column), str(value), int(row["size"]), int(row["sum"])))
    found.sort(key=lambda s: (-s.changed, s.column, s.value))
    return DecisionDiff(len(a), int(changed.sum()), tuple(found[:top]), tolerance)
