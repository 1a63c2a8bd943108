"""Challenger against champion on the same rows: the facts a reviewer and the champion gate read.

Computed by :mod:`steward.core.drift.comparison` and stored per comparison run
(``version_comparisons``), so the evidence of a promotion names the rows both
versions were scored on, not two hold-outs that cannot be compared.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

Verdict = Literal["challenger", "champion", "undecided"]


@dataclass(frozen=True)
class MetricComparison:
    """One metric for both versions on the same rows, the paired difference and what it means."""

    metric: str
    champion: float
    challenger: float
    difference: float  # challenger - champion
    ci_low: float
    ci_high: float
    p_value: float
    test: str
    higher_is_better: bool
    confidence: float

    @property
    def verdict(self) -> Verdict:
        """Which version is better, only when the interval of the difference excludes zero."""
        if self.ci_low > 0:
            return "challenger" if self.higher_is_better else "champion"
        if self.ci_high < 0:
            return "champion" if self.higher_is_better else "challenger"
        return "undecided"

    def sentence(self) -> str:
        level = f"{self.confidence:.0%}"
        if self.verdict == "undecided":
            return (
                f"{self.metric}: challenger {self.challenger:.4g} vs champion {self.champion:.4g}; "
                f"the {level} interval of the difference includes zero (p = {self.p_value:.3g}, {self.test})"
            )
        return (
            f"{self.metric}: the {self.verdict} is better ({self.challenger:.4g} vs {self.champion:.4g}; "
            f"difference {self.difference:+.4g}, {level} interval {self.ci_low:+.4g} to {self.ci_high:+.4g}, "
            f"p = {self.p_value:.3g}, {self.test})"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "champion": self.champion,
            "challenger": self.challenger,
            "difference": self.difference,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "p_value": self.p_value,
            "test": self.test,
            "higher_is_better": self.higher_is_better,
            "confidence": self.confidence,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MetricComparison:
        return cls(
            metric=str(data["metric"]),
            champion=float(data["champion"]),
            challenger=float(data["challenger"]),
            difference=float(data["difference"]),
            ci_low=float(data["ci_low"]),
            ci_high=float(data["ci_high"]),
            p_value=float(data["p_value"]),
            test=str(data["test"]),
            higher_is_better=bool(data["higher_is_better"]),
            confidence=float(data["confidence"]),
        )


@dataclass(frozen=True)
class SegmentChange:
    column: str
    value: str
    rows: int
    changed: int


@dataclass(frozen=True)
class DecisionDiff:
    """How many decisions differ between the versions, overall and by segment (most changed first)."""

    rows: int
    changed: int
    segments: tuple[SegmentChange, ...]
    tolerance: float = 0.0  # for regression: how far apart two answers must be to count as a change

    @property
    def share(self) -> float:
        return self.changed / self.rows if self.rows else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "changed": self.changed,
            "tolerance": self.tolerance,
            "segments": [
                {"column": s.column, "value": s.value, "rows": s.rows, "changed": s.changed}
                for s in self.segments
            ],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DecisionDiff:
        return cls(
            rows=int(data["rows"]),
            changed=int(data["changed"]),
            tolerance=float(data.get("tolerance", 0.0)),
            segments=tuple(
                SegmentChange(str(s["column"]), str(s["value"]), int(s["rows"]), int(s["changed"]))
                for s in data["segments"]
            ),
        )


@dataclass(frozen=True)
class HeadToHead:
    """One recorded comparison: which two versions, on which rows, with what result."""

    id: int
    pipeline_name: str
    environment_name: str
    challenger_version_id: str
    challenger_number: int
    champion_version_id: str
    champion_number: int
    dataset: str
    dataset_sha256: str
    labels: str | None
    rows: int
    rows_rule: str  # which rows were used and why (e.g. "the challenger's hold-out")
    metrics: tuple[MetricComparison, ...]
    decisions: DecisionDiff
    compared_by: str
    compared_at: datetime

    def metric(self, name: str) -> MetricComparison | None:
        return next((m for m in self.metrics if m.metric == name), None)

    @property
    def where(self) -> str:
        return f"the same {self.rows:,} rows of {self.dataset} ({self.rows_rule})"
