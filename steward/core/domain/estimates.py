"""Performance estimated before labels arrive (CBPE), beside the realised figure once they join."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

ESTIMATE_METRICS: tuple[str, ...] = ("accuracy", "roc_auc")


@dataclass(frozen=True)
class WindowEstimate:
    """One window: what the calibrated probabilities expect, and what the labels said (if any joined)."""

    label: str
    rows: int
    estimated: Mapping[str, float | None]
    realised: Mapping[str, float | None] | None  # None until labels join
    labelled: int

    def error(self, metric: str) -> float | None:
        """Estimated minus realised; None while the window has no realised figure."""
        real = (self.realised or {}).get(metric)
        guess = self.estimated.get(metric)
        return None if real is None or guess is None else guess - real


@dataclass(frozen=True)
class EstimateAccuracy:
    """The measured error of the estimate over the windows whose labels joined."""

    metric: str
    windows: int
    mean_absolute_error: float
    worst_absolute_error: float


@dataclass(frozen=True)
class PerformanceEstimates:
    """CBPE for a classifier monitor's windows, with its measured error; ``note`` says why it may be empty."""

    windows: tuple[WindowEstimate, ...]
    accuracy: tuple[EstimateAccuracy, ...]
    calibration: str  # how the probabilities were calibrated, in words
    note: str = ""

    def measured(self, metric: str) -> EstimateAccuracy | None:
        return next((a for a in self.accuracy if a.metric == metric), None)


def measure(windows: tuple[WindowEstimate, ...]) -> tuple[EstimateAccuracy, ...]:
    """Mean and worst absolute error per metric, over windows that have both figures."""
    out = []
    for metric in ESTIMATE_METRICS:
        gaps = [abs(e) for w in windows if (e := w.error(metric)) is not None]
        if gaps:
            out.append(EstimateAccuracy(metric, len(gaps), sum(gaps) / len(gaps), max(gaps)))
    return tuple(out)
