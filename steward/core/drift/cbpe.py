"""Performance before labels arrive: confidence-based performance estimation (CBPE) for binary classifiers.

A classifier whose probabilities are calibrated says, for each row, how likely
it is to be right: a row scored 0.8 and predicted positive is a true positive
with probability 0.8 and a false positive with probability 0.2. Summing those
over a window gives the *expected* confusion matrix, and from it the expected
accuracy, precision, recall, F1 and ROC AUC, on the day the rows are scored,
weeks before their labels join.

Two assumptions, stated in the user docs because they bound what it can see:
- the probabilities are calibrated on data like production (so a calibrator is
  fitted on a labelled reference: the hold-out, by isotonic regression);
- the relation between inputs and target has not changed (covariate shift is
  fine, concept drift is not: CBPE cannot see a change that only labels show).
That is why the estimate is shown beside the realised figure once labels
arrive, with its measured error.

Everything here is plain numpy: the calibrator is two arrays (breakpoints and
values) that serialise to JSON and apply by interpolation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Calibrator:
    """A monotone map from the model's score to a calibrated probability (isotonic, as breakpoints)."""

    scores: tuple[float, ...]
    probabilities: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.scores) != len(self.probabilities) or not self.scores:
            raise ValueError("a calibrator needs as many probabilities as breakpoints, at least one")
        if any(b < a for a, b in zip(self.scores, self.scores[1:], strict=False)):
            raise ValueError("calibrator breakpoints must be in increasing order")
        if any(not 0.0 <= p <= 1.0 for p in self.probabilities):
            raise ValueError("calibrated probabilities must lie in [0, 1]")

    def apply(self, scores: ArrayLike) -> FloatArray:
        values = np.asarray(scores, dtype=np.float64)
        return np.interp(values, self.scores, self.probabilities).astype(np.float64)

    def to_dict(self) -> dict[str, Any]:
        return {"scores": list(self.scores), "probabilities": list(self.probabilities)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibrator:
        return cls(tuple(float(s) for s in data["scores"]), tuple(float(p) for p in data["probabilities"]))

    @classmethod
    def identity(cls) -> Calibrator:
        """For a model already known to be calibrated."""
        return cls((0.0, 1.0), (0.0, 1.0))


def fit_calibrator(scores: ArrayLike, labels: ArrayLike) -> Calibrator:
    """Isotonic regression of the observed outcome (0/1) on the score, over a labelled reference."""
    from sklearn.isotonic import IsotonicRegression

    x = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1 or len(x) < 20:
        raise ValueError("calibration needs one score per label, and at least 20 labelled rows")
    if not np.isfinite(x).all():
        raise ValueError("calibration scores must be finite")
    if not set(np.unique(y)) <= {0.0, 1.0} or len(np.unique(y)) < 2:
        raise ValueError("calibration labels must be 0 and 1, with both present")
    model = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(x, y)
    return Calibrator(
        tuple(float(v) for v in model.X_thresholds_), tuple(float(v) for v in model.y_thresholds_)
    )


def calibrator_from_reliability(bins: Sequence[Mapping[str, Any]]) -> Calibrator:
    """A calibrator from the hold-out's reliability bins stored at training time (mean score, share positive,
    count per bin): isotonic over the bin means weighted by their counts, so no hold-out row is re-scored."""
    from sklearn.isotonic import IsotonicRegression

    kept = [b for b in bins if int(b.get("count") or 0) > 0]
    if len(kept) < 2:
        raise ValueError("calibration needs the hold-out's reliability curve with at least two bins")
    x = np.array([float(b["mean_predicted"]) for b in kept])
    y = np.array([float(b["fraction_positive"]) for b in kept])
    weights = np.array([float(b["count"]) for b in kept])
    model = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(x, y, sample_weight=weights)
    return Calibrator(
        tuple(float(v) for v in model.X_thresholds_), tuple(float(v) for v in model.y_thresholds_)
    )


@dataclass(frozen=True)
class ConfusionCounts:
    """A confusion matrix; for an estimate the counts are expectations, so not whole numbers."""

    true_positive: float
    false_positive: float
    false_negative: float
    true_negative: float

    @property
    def rows(self) -> float:
        return self.true_positive + self.false_positive + self.false_negative + self.true_negative

    @property
    def accuracy(self) -> float | None:
        return _ratio(self.true_positive + self.true_negative, self.rows)

    @property
    def precision(self) -> float | None:
        return _ratio(self.true_positive, self.true_positive + self.false_positive)

    @property
    def recall(self) -> float | None:
        return _ratio(self.true_positive, self.true_positive + self.false_negative)

    @property
    def f1(self) -> float | None:
        return _ratio(
            2 * self.true_positive, 2 * self.true_positive + self.false_positive + self.false_negative
        )


def _ratio(numerator: float, denominator: float) -> float | None:
    return None if denominator <= 0 else float(numerator / denominator)


@dataclass(frozen=True)
class PerformanceFigures:
    """Accuracy, precision, recall, F1 and ROC AUC of one window, estimated or realised."""

    rows: int
    confusion: ConfusionCounts
    roc_auc: float | None

    def metric(self, name: str) -> float | None:
        if name == "roc_auc":
            return self.roc_auc
        if name in ("accuracy", "precision", "recall", "f1"):
            value: float | None = getattr(self.confusion, name)
            return value
        raise KeyError(f"CBPE does not estimate {name!r}")


ESTIMATED_METRICS: tuple[str, ...] = ("accuracy", "precision", "recall", "f1", "roc_auc")


def estimate(probabilities: ArrayLike, threshold: float = 0.5) -> PerformanceFigures:
    """Expected performance of a window from calibrated probabilities of the positive class alone."""
    p = _probabilities(probabilities)
    predicted = p >= threshold
    confusion = ConfusionCounts(
        true_positive=float(p[predicted].sum()),
        false_positive=float((1 - p[predicted]).sum()),
        false_negative=float(p[~predicted].sum()),
        true_negative=float((1 - p[~predicted]).sum()),
    )
    return PerformanceFigures(len(p), confusion, _expected_roc_auc(p))


def _expected_roc_auc(p: FloatArray) -> float | None:
    """Area under the expected ROC curve: each row is positive with weight p and negative with 1 - p.

    Rows are ranked by probability (ties as one step); at each cut the expected
    true- and false-positive rates are the cumulative weights above it.
    """
    positives, negatives = p.sum(), (1 - p).sum()
    if positives <= 0 or negatives <= 0:
        return None
    order = np.argsort(-p, kind="stable")
    ranked = p[order]
    distinct = np.r_[np.flatnonzero(np.diff(ranked)), len(ranked) - 1]
    tpr = np.r_[0.0, np.cumsum(ranked)[distinct] / positives]
    fpr = np.r_[0.0, np.cumsum(1 - ranked)[distinct] / negatives]
    return float(np.trapezoid(tpr, fpr))


def realised(scores: ArrayLike, labels: ArrayLike, threshold: float = 0.5) -> PerformanceFigures:
    """The same figures from labels that have arrived, so estimate and truth are computed alike."""
    from sklearn.metrics import roc_auc_score

    s = _probabilities(scores)
    y = np.asarray(labels, dtype=np.float64)
    if y.shape != s.shape:
        raise ValueError("one label per score is needed")
    predicted, actual = s >= threshold, y == 1
    confusion = ConfusionCounts(
        true_positive=float((predicted & actual).sum()),
        false_positive=float((predicted & ~actual).sum()),
        false_negative=float((~predicted & actual).sum()),
        true_negative=float((~predicted & ~actual).sum()),
    )
    auc = float(roc_auc_score(actual, s)) if 0 < actual.sum() < len(actual) else None
    return PerformanceFigures(len(s), confusion, auc)


def _probabilities(values: ArrayLike) -> FloatArray:
    p = np.asarray(values, dtype=np.float64)
    if p.ndim != 1 or len(p) == 0:
        raise ValueError("a window needs at least one probability")
    if not (np.isfinite(p).all() and (p >= 0).all() and (p <= 1).all()):
        raise ValueError("probabilities must be finite and within [0, 1]")
    return p


@dataclass(frozen=True)
class EstimateError:
    """How far the estimate was from the realised figure, per metric, over windows whose labels joined."""

    metric: str
    windows: int
    mean_absolute_error: float
    worst_absolute_error: float


def estimate_errors(
    pairs: Sequence[tuple[PerformanceFigures, PerformanceFigures]], metrics: Sequence[str] = ESTIMATED_METRICS
) -> list[EstimateError]:
    """The measured error of CBPE on labelled windows: (estimated, realised) pairs, metric by metric."""
    errors = []
    for name in metrics:
        gaps = [
            abs(e - r)
            for est, real in pairs
            if (e := est.metric(name)) is not None and (r := real.metric(name)) is not None
        ]
        if gaps:
            errors.append(EstimateError(name, len(gaps), float(np.mean(gaps)), float(np.max(gaps))))
    return errors
