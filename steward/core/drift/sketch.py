"""Mergeable summaries of one column: a weighted sorted sample and category counts.

Numeric values are kept as sorted distinct points with their counts. Up to
``max_points`` distinct values the summary *is* the data (``rank_error == 0``), so
Kolmogorov-Smirnov and Wasserstein against it are exact. Above the cap the
points are thinned to ``max_points`` quantile points; every dropped point's
count moves to the next kept point, so the summary's cumulative distribution
never exceeds the data's and trails it by less than ``1 / (max_points - 1)``. That
bound is stored as ``rank_error`` and adds up when summaries are merged (hour
into day into week), so the error of any statistic is always known.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from steward.core.errors import InvalidInput

DEFAULT_MAX_POINTS = 100_000

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class NumericSummary:
    """Finite values of a numeric column as sorted points with counts.

    ``counts is None`` means one observation per entry (duplicates allowed); that
    is how a current window is read in memory, without the cost of de-duplicating.
    Profiles always hold distinct points with counts.
    """

    values: FloatArray
    counts: IntArray | None
    total: int
    mean: float
    m2: float
    rank_error: float = 0.0

    @classmethod
    def empty(cls) -> NumericSummary:
        return cls(np.empty(0, np.float64), np.empty(0, np.int64), 0, 0.0, 0.0, 0.0)

    @classmethod
    def thinned_from_values(cls, values: FloatArray, max_points: int = DEFAULT_MAX_POINTS) -> NumericSummary:
        """``from_values(values).thin(max_points)`` in fewer passes, for large chunks.

        When there are more distinct values than the cap, the kept points are
        read straight off the sorted values (the value whose rank reaches each
        target) and their counts come from one ``searchsorted``: the same result
        as de-duplicating first, without building the 1M-entry distinct arrays.
        """
        if values.size <= max_points:
            return cls.from_values(values).thin(max_points)
        ordered = np.sort(values)
        n = ordered.size
        if int(np.count_nonzero(ordered[1:] != ordered[:-1])) + 1 <= max_points:
            return cls.from_values(values).thin(max_points)
        mean = float(ordered.mean())
        m2 = float(np.var(ordered)) * n  # numpy's own loop: np.dot would start BLAS threads
        steps = max_points - 1
        targets = np.arange(1, steps, dtype=np.float64) * n / steps
        ranks = np.concatenate(([0], np.ceil(targets).astype(np.intp) - 1, [n - 1]))
        points = ordered[ranks]
        first = np.concatenate(([True], points[1:] != points[:-1]))
        points, ranks = points[first], ranks[first]
        # The first value reaching a target owns every copy of itself: its count
        # runs to its last copy. Without ties that is its own rank; only values
        # repeated after their rank need a search.
        cum = ranks + 1
        tied = np.flatnonzero((ranks < n - 1) & (ordered[np.minimum(ranks + 1, n - 1)] == points))
        if tied.size:
            cum[tied] = np.searchsorted(ordered, points[tied], side="right")
        counts = np.diff(np.concatenate(([0], cum))).astype(np.int64)
        return cls(points, counts, n, mean, m2, 1.0 / steps)

    @classmethod
    def from_values(
        cls, values: FloatArray, *, distinct: bool = True, moments: bool = True
    ) -> NumericSummary:
        """Summary of finite values.

        ``distinct=False`` keeps duplicates and ``moments=False`` skips mean and
        variance (NaN): both save a pass when a window is only compared, not stored.
        """
        if values.size == 0:
            return cls.empty()
        if moments:
            mean = float(values.mean())
            m2 = float(np.var(values)) * values.size
        else:
            mean = m2 = float("nan")
        ordered = np.sort(values)
        if not distinct:
            return cls(ordered, None, int(ordered.size), mean, m2)
        keep = np.empty(ordered.size, dtype=bool)
        keep[0] = True
        np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
        starts = np.flatnonzero(keep)
        counts = np.diff(np.append(starts, ordered.size)).astype(np.int64)
        return cls(ordered[starts], counts, int(ordered.size), mean, m2)

    @property
    def exact(self) -> bool:
        return self.rank_error == 0.0

    @property
    def std(self) -> float:
        """Population standard deviation (ddof=0), exact whatever the thinning."""
        return float(np.sqrt(self.m2 / self.total)) if self.total else 0.0

    @property
    def min(self) -> float:
        return float(self.values[0]) if self.values.size else float("nan")

    @property
    def max(self) -> float:
        return float(self.values[-1]) if self.values.size else float("nan")

    def cumulative(self) -> FloatArray:
        """Cumulative counts at each point (float, so ratios divide exactly as scipy does)."""
        if self.counts is None:
            return np.arange(1, self.values.size + 1, dtype=np.float64)
        return np.cumsum(self.counts).astype(np.float64)

    def count_at_or_below(self, x: FloatArray) -> FloatArray:
        """Number of observations <= each x."""
        return self._count(np.searchsorted(self.values, x, side="right"))

    def count_below(self, x: FloatArray) -> FloatArray:
        """Number of observations < each x."""
        return self._count(np.searchsorted(self.values, x, side="left"))

    def _count(self, positions: NDArray[np.intp]) -> FloatArray:
        if self.counts is None:
            return positions.astype(np.float64)
        cum = np.concatenate(([0.0], self.cumulative()))
        return cum[positions]

    def distinct(self) -> NumericSummary:
        """The same summary with distinct points (needed where the summary is the reference)."""
        if self.counts is not None:
            return self
        if self.values.size == 0:
            return NumericSummary.empty()
        keep = np.empty(self.values.size, dtype=bool)
        keep[0] = True
        np.not_equal(self.values[1:], self.values[:-1], out=keep[1:])
        starts = np.flatnonzero(keep)
        counts = np.diff(np.append(starts, self.values.size)).astype(np.int64)
        return NumericSummary(self.values[starts], counts, self.total, self.mean, self.m2, self.rank_error)

    def thin(self, max_points: int = DEFAULT_MAX_POINTS) -> NumericSummary:
        """At most ``max_points`` points; adds ``1 / (max_points - 1)`` to ``rank_error``."""
        if max_points < 2:
            raise InvalidInput(f"max_points must be at least 2, got {max_points}")
        base = self.distinct()
        if base.values.size <= max_points:
            return base
        cum = base.cumulative()
        total = cum[-1]
        # First point, last point and the first point reaching each of max_points - 2
        # evenly spaced ranks: at most max_points points, gaps below total / (max_points - 1).
        steps = max_points - 1
        targets = np.arange(1, steps, dtype=np.float64) * total / steps
        chosen = np.concatenate(([0], np.searchsorted(cum, targets, side="left"), [cum.size - 1]))
        chosen = chosen[np.concatenate(([True], np.diff(chosen) > 0))]  # sorted already: drop repeats
        kept_cum = cum[chosen]
        counts = np.diff(np.concatenate(([0.0], kept_cum))).astype(np.int64)
        return NumericSummary(
            base.values[chosen],
            counts,
            base.total,
            base.mean,
            base.m2,
            base.rank_error + 1.0 / (max_points - 1),
        )

    def to_arrays(self, prefix: str) -> dict[str, NDArray[Any]]:
        base = self.distinct()
        assert base.counts is not None
        return {f"{prefix}.values": base.values, f"{prefix}.counts": base.counts}

    def header(self) -> dict[str, Any]:
        return {"total": self.total, "mean": self.mean, "m2": self.m2, "rank_error": self.rank_error}

    @classmethod
    def from_parts(
        cls, header: Mapping[str, Any], values: NDArray[Any], counts: NDArray[Any]
    ) -> NumericSummary:
        """Rebuild from stored parts, refusing anything inconsistent (stored data is untrusted)."""
        if (
            values.dtype != np.float64
            or counts.dtype != np.int64
            or values.ndim != 1
            or values.shape != counts.shape
        ):
            raise InvalidInput("corrupt profile: numeric arrays have the wrong type or shape")
        total = int(header["total"])
        if values.size and (
            not np.all(np.isfinite(values)) or np.any(np.diff(values) <= 0) or np.any(counts <= 0)
        ):
            raise InvalidInput("corrupt profile: numeric points are not sorted, finite and positive")
        if int(counts.sum()) != total:
            raise InvalidInput("corrupt profile: numeric counts do not add up to the total")
        return cls(
            values, counts, total, float(header["mean"]), float(header["m2"]), float(header["rank_error"])
        )


def merge_numeric(parts: Iterable[NumericSummary], max_points: int = DEFAULT_MAX_POINTS) -> NumericSummary:
    """Exact merge of summaries (moments by Chan's formula), thinned only above ``max_points``."""
    items = [p for p in parts if p.total > 0]
    if not items:
        return NumericSummary.empty()
    if len(items) == 1:
        return items[0].thin(max_points)
    total = sum(p.total for p in items)
    mean = items[0].mean
    m2 = items[0].m2
    n = items[0].total
    for p in items[1:]:
        delta = p.mean - mean
        new_n = n + p.total
        mean += delta * p.total / new_n
        m2 += p.m2 + delta * delta * n * p.total / new_n
        n = new_n
    # The merged cumulative distribution trails the truth by at most the weighted
    # average of the parts' errors.
    rank_error = sum(p.rank_error * p.total for p in items) / total
    distinct = [p.distinct() for p in items]
    values = np.concatenate([p.values for p in distinct])
    counts = np.concatenate([p.counts for p in distinct if p.counts is not None])
    order = np.argsort(values, kind="stable")  # sorted runs: a merge, not a full sort
    values = values[order]
    counts = counts[order]
    starts = np.flatnonzero(np.concatenate(([True], values[1:] != values[:-1])))
    merged = NumericSummary(values[starts], np.add.reduceat(counts, starts), total, mean, m2, rank_error)
    return merged.thin(max_points)


@dataclass(frozen=True, eq=False)
class CategoricalSummary:
    """Counts per category key (keys are canonical strings, see ``coerce.category_key``)."""

    categories: tuple[str, ...]
    counts: IntArray

    @classmethod
    def empty(cls) -> CategoricalSummary:
        return cls((), np.empty(0, np.int64))

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, int]) -> CategoricalSummary:
        keys = tuple(sorted(k for k, v in mapping.items() if v > 0))
        return cls(keys, np.array([mapping[k] for k in keys], dtype=np.int64))

    @property
    def total(self) -> int:
        return int(self.counts.sum())

    def as_mapping(self) -> dict[str, int]:
        return {k: int(v) for k, v in zip(self.categories, self.counts, strict=True)}

    def singletons(self) -> int:
        """Categories seen once: the Good-Turing estimate of unseen mass is singletons / total."""
        return int(np.count_nonzero(self.counts == 1))


def merge_categorical(parts: Iterable[CategoricalSummary]) -> CategoricalSummary:
    """Exact merge: counts add per category."""
    acc: dict[str, int] = {}
    for p in parts:
        for k, v in zip(p.categories, p.counts.tolist(), strict=True):
            acc[k] = acc.get(k, 0) + int(v)
    return CategoricalSummary.from_mapping(acc)
