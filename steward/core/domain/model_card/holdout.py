"""What the hold-out recorded at training time, read back: the confusion matrix, recall, calibration."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from steward.core.domain.registry import PipelineVersion


@dataclass(frozen=True)
class _Confusion:
    """The hold-out confusion matrix (rows: actual, columns: predicted at the most likely class)."""

    labels: tuple[Any, ...]
    matrix: tuple[tuple[int, ...], ...]

    @property
    def total(self) -> int:
        return sum(sum(row) for row in self.matrix)

    def actual(self, index: int) -> int:
        return sum(self.matrix[index])

    def predicted(self, index: int) -> int:
        return sum(row[index] for row in self.matrix)

    def majority(self) -> tuple[Any, float]:
        counts = [self.actual(i) for i in range(len(self.labels))]
        best = max(range(len(counts)), key=lambda i: counts[i])
        return self.labels[best], counts[best] / self.total

    def share(self, index: int) -> float:
        return self.actual(index) / self.total


def _confusion(version: PipelineVersion) -> _Confusion | None:
    data = version.charts.get("confusion")
    if not data:
        return None
    labels = tuple(data.get("labels") or ())
    matrix = tuple(tuple(int(cell) for cell in row) for row in data.get("matrix") or ())
    if not labels or len(matrix) != len(labels) or not any(any(row) for row in matrix):
        return None
    return _Confusion(labels, matrix)


def recall_of(version: PipelineVersion) -> float | None:
    """Share of the positive test cases a binary classifier catches at the default cut-off."""
    confusion = _confusion(version)
    positive = version.lineage.get("positive_class")
    if confusion is None or positive is None or positive not in confusion.labels:
        return None
    index = confusion.labels.index(positive)
    actual = confusion.actual(index)
    return confusion.matrix[index][index] / actual if actual else None


def calibration_gap(bins: Sequence[Mapping[str, Any]] | None) -> float | None:
    """Mean distance between predicted probability and observed frequency, weighted by cases per bin."""
    if not bins:
        return None
    total = sum(int(b.get("count", 0)) for b in bins)
    if total == 0:
        return None
    return (
        sum(
            abs(float(b["mean_predicted"]) - float(b["fraction_positive"])) * int(b.get("count", 0))
            for b in bins
        )
        / total
    )


def _quantile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return math.nan
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
