"""The one vocabulary of model metrics: what each is called, which way is better, how it is shown.

Gates, model cards, realised performance and pages all say something about a
metric; they used to keep their own tables, which disagreed (two spellings of
a label, a direction missing for one consumer). Every consumer now asks here,
so a metric is named, compared and formatted the same way everywhere.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class Direction(StrEnum):
    HIGHER = "higher"
    LOWER = "lower"


class Scale(StrEnum):
    """Where a metric's values live, so a chart or a tolerance knows what a difference means."""

    UNIT = "0-1"  # a score between 0 and 1 (R² can fall below 0, never above 1)
    TARGET = "target units"  # an error in the target's own units, 0 or more
    UNBOUNDED = "unbounded"  # 0 or more, no natural ceiling (log loss)


@dataclass(frozen=True)
class Metric:
    """One metric. ``training``: measured on the hold-out when a version is trained (gates may use it);
    the others are measured only on live predictions once labels arrive."""

    name: str
    label: str  # for headings and tables: "Root mean squared error"
    short_label: str  # where space is short: "RMSE"
    direction: Direction
    scale: Scale
    decimals: int  # in tables: errors in the target's units with one decimal, scores with three
    tasks: tuple[str, ...]
    training: bool = True

    @property
    def higher_is_better(self) -> bool:
        return self.direction is Direction.HIGHER

    @property
    def phrase(self) -> str:
        """The name inside a sentence: "accuracy at least 0.7", "RMSE at most 60"."""
        short = self.short_label
        return short if short[:2].isupper() or short[:1].isdigit() else short[:1].lower() + short[1:]

    def format(self, value: float | None) -> str:
        if value is None or not math.isfinite(value):
            return "-"
        return f"{value:,.{self.decimals}f}"


_C, _R = ("classification",), ("regression",)
METRICS: tuple[Metric, ...] = (
    Metric("roc_auc", "ROC AUC", "ROC AUC", Direction.HIGHER, Scale.UNIT, 3, _C),
    Metric("accuracy", "Accuracy", "Accuracy", Direction.HIGHER, Scale.UNIT, 3, _C),
    Metric(
        "balanced_accuracy",
        "Balanced accuracy",
        "Balanced accuracy",
        Direction.HIGHER,
        Scale.UNIT,
        3,
        _C,
        False,
    ),
    Metric("f1", "F1", "F1", Direction.HIGHER, Scale.UNIT, 3, _C),
    Metric("f1_macro", "Macro F1", "Macro F1", Direction.HIGHER, Scale.UNIT, 3, _C, False),
    Metric("log_loss", "Log loss", "Log loss", Direction.LOWER, Scale.UNBOUNDED, 3, _C),
    Metric("mae", "Mean absolute error", "MAE", Direction.LOWER, Scale.TARGET, 1, _R),
    Metric("rmse", "Root mean squared error", "RMSE", Direction.LOWER, Scale.TARGET, 1, _R),
    Metric("r2", "R²", "R²", Direction.HIGHER, Scale.UNIT, 3, _R),
)
"""In the order tables list them."""

BY_NAME: Mapping[str, Metric] = {metric.name: metric for metric in METRICS}
TRAINING_METRICS: tuple[str, ...] = tuple(metric.name for metric in METRICS if metric.training)
"""What training records on the hold-out: the metrics a gate may set a threshold on."""

PRIMARY_METRIC: Mapping[str, str] = {"classification": "roc_auc", "regression": "rmse"}
"""The headline per task: ROC AUC ranks regardless of the cut-off; RMSE is in the target's units."""


def metric(name: str) -> Metric | None:
    return BY_NAME.get(name)


def primary_metric(task: str) -> str:
    """The headline metric of a task ("" for an unknown task)."""
    return PRIMARY_METRIC.get(task, "")


def metric_label(name: str, *, short: bool = False, direction: bool = False) -> str:
    """A metric's name for headings and tables; ``direction`` adds "(lower is better)" where so."""
    known = BY_NAME.get(name)
    if known is None:
        return name
    label = known.short_label if short else known.label
    return label + (" (lower is better)" if direction and not known.higher_is_better else "")


def metric_phrase(name: str) -> str:
    """A metric's name inside a sentence (an unknown name as it is)."""
    known = BY_NAME.get(name)
    return name if known is None else known.phrase


def higher_is_better(name: str) -> bool:
    """An unknown metric is taken as a score (higher is better), the safer reading for a floor."""
    known = BY_NAME.get(name)
    return True if known is None else known.higher_is_better


def format_metric(name: str, value: float | None) -> str:
    """A value for tables ("-" when missing); an unknown metric as a score."""
    known = BY_NAME.get(name)
    if known is None:
        return "-" if value is None or not math.isfinite(value) else f"{value:.3f}"
    return known.format(value)


def is_better(name: str, value: float | None, other: float | None) -> bool | None:
    """True if ``value`` beats ``other`` on ``name``; None when either is missing, they are equal, or
    the metric is unknown (no direction to judge by)."""
    known = BY_NAME.get(name)
    if known is None or value is None or other is None or value == other:
        return None
    return (value > other) == known.higher_is_better


def ordered_metrics(metrics: Mapping[str, float | None]) -> list[str]:
    """Names of ``metrics`` in the vocabulary's order, unknown ones after, alphabetically."""
    known = [m.name for m in METRICS if m.name in metrics]
    return known + sorted(name for name in metrics if name not in BY_NAME)


__all__ = [
    "BY_NAME",
    "METRICS",
    "PRIMARY_METRIC",
    "TRAINING_METRICS",
    "Direction",
    "Metric",
    "Scale",
    "format_metric",
    "higher_is_better",
    "is_better",
    "metric",
    "metric_label",
    "metric_phrase",
    "ordered_metrics",
    "primary_metric",
]
