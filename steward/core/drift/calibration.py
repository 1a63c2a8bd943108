"""Calibrated thresholds: learn from the reference what a no-drift window looks like.

For each column, windows with no drift are simulated from the reference
itself: a resampled reference of n rows and a resampled window of m rows (the
size of the window being checked) are drawn from the reference distribution
and the column's statistic is computed between them, ``replicates`` times.
Those values are the statistic's distribution when nothing has changed, at this
window size; the p-value of the observed statistic is its rank among them, so
a threshold at p = 0.05 raises a false alarm on 5% of no-drift windows.

Resampling draws counts, not rows: a multinomial over the reference's
distinct values (thinned to ``grid_points`` quantile points for continuous
columns, and the observed statistic is then measured on the same grid so both
sides are alike). A replicate costs the size of the grid, not the window, so
calibrating a million-row window costs the same as a thousand-row one.

New categories: a window can contain values the reference never showed
without anything having changed (rare categories). The Good-Turing estimate
of that probability, singletons / n, is given to the simulated windows, so
calibration does not mistake ordinary rarity for drift.

Across columns, Benjamini-Hochberg controls the false-discovery rate; under no
drift at all, the chance that any column is flagged is then at most ``fdr``,
which is the false-alarm rate of the dataset verdict.

Assumption, stated in the user doc: rows are exchangeable. A reference with
strong seasonality makes calibrated thresholds tighter than its real variation.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from steward.core.drift.sketch import CategoricalSummary, FloatArray, IntArray, NumericSummary
from steward.core.drift.stats import (
    PSI_FLOOR,
    NumericPair,
    _bin_edge_index,
    _binned,
    align_categories,
    chi2_from_counts,
    jensenshannon_from_counts,
    psi_from_counts,
    wasserstein_scale,
)
from steward.core.errors import InvalidInput

DEFAULT_GRID_POINTS = 512
MIN_REPLICATES = 499
MAX_REPLICATES = 19_999


def replicates_for(columns: int, fdr: float) -> int:
    """Enough replicates that the smallest p-value, 1/(B+1), can pass BH's first cut fdr/columns."""
    needed = math.ceil(2 * max(columns, 1) / fdr) - 1
    return int(min(max(MIN_REPLICATES, needed), MAX_REPLICATES))


def column_rng(seed: int, column: str) -> np.random.Generator:
    """A generator per column, so results do not depend on column order."""
    return np.random.default_rng([seed, zlib.crc32(column.encode())])


@dataclass(frozen=True, eq=False)
class NullDistribution:
    """A statistic's values on simulated no-drift windows of one size."""

    test: str
    current_rows: int
    values: FloatArray

    def p_value(self, observed: float) -> float:
        """Share of no-drift windows at least as extreme (with the observed one counted)."""
        tol = 1e-12 * max(1.0, abs(observed))
        exceed = int(np.count_nonzero(self.values >= observed - tol))
        return (exceed + 1) / (self.values.size + 1)

    def quantile(self, level: float) -> float:
        """The value no-drift windows exceed with probability ``1 - level``."""
        return float(np.quantile(self.values, level))

    def false_alarm_rate(self, threshold: float) -> float:
        """Share of no-drift windows a fixed threshold would flag."""
        return float(np.count_nonzero(self.values > threshold) / self.values.size)


# ----------------------------------------------------------------- statistics on count rows


def _cdf_rows(counts: NDArray[np.int64]) -> FloatArray:
    cum = np.cumsum(counts, axis=1, dtype=np.float64)
    out: FloatArray = cum / cum[:, -1:]
    return out


def _ks_rows(a: NDArray[np.int64], b: NDArray[np.int64]) -> FloatArray:
    return np.asarray(np.max(np.abs(_cdf_rows(a) - _cdf_rows(b)), axis=1), dtype=np.float64)


def _wasserstein_rows(a: NDArray[np.int64], b: NDArray[np.int64], widths: FloatArray) -> FloatArray:
    diff = np.abs(_cdf_rows(a) - _cdf_rows(b))[:, :-1]
    return np.asarray(diff @ widths, dtype=np.float64)


def _shares(counts: NDArray[np.int64]) -> FloatArray:
    out: FloatArray = counts / counts.sum(axis=1, keepdims=True)
    return out


def _psi_rows(a: NDArray[np.int64], b: NDArray[np.int64]) -> FloatArray:
    p = np.maximum(_shares(a), PSI_FLOOR)
    q = np.maximum(_shares(b), PSI_FLOOR)
    return np.asarray(np.sum((q - p) * np.log(q / p), axis=1), dtype=np.float64)


def _js_rows(a: NDArray[np.int64], b: NDArray[np.int64]) -> FloatArray:
    p = _shares(a)
    q = _shares(b)
    m = (p + q) / 2.0
    with np.errstate(divide="ignore", invalid="ignore"):
        left = np.where(p > 0, p * np.log(p / m), 0.0)
        right = np.where(q > 0, q * np.log(q / m), 0.0)
    js = (left.sum(axis=1) + right.sum(axis=1)) / np.log(2.0)
    return np.asarray(np.sqrt(np.maximum(js, 0.0) / 2.0), dtype=np.float64)


def _chi2_rows(a: NDArray[np.int64], b: NDArray[np.int64]) -> FloatArray:
    """Chi-squared statistic per row, with scipy's Yates correction on rows of one degree of freedom."""
    obs_a = a.astype(np.float64)
    obs_b = b.astype(np.float64)
    col = obs_a + obs_b
    occupied = col > 0
    dof = occupied.sum(axis=1) - 1
    na = obs_a.sum(axis=1, keepdims=True)
    nb = obs_b.sum(axis=1, keepdims=True)
    n = na + nb
    with np.errstate(divide="ignore", invalid="ignore"):
        ea = na * col / n
        eb = nb * col / n
        yates = (dof == 1)[:, None]
        da = ea - obs_a
        db = eb - obs_b
        obs_a = np.where(yates, obs_a + np.minimum(0.5, np.abs(da)) * np.sign(da), obs_a)
        obs_b = np.where(yates, obs_b + np.minimum(0.5, np.abs(db)) * np.sign(db), obs_b)
        terms = np.where(occupied, (obs_a - ea) ** 2 / ea + (obs_b - eb) ** 2 / eb, 0.0)
    stat = terms.sum(axis=1)
    return np.asarray(np.where(dof > 0, stat, 0.0), dtype=np.float64)


_ROW_STATS = {"psi": _psi_rows, "jensenshannon": _js_rows, "chi2": _chi2_rows}


def _draw(rng: np.random.Generator, n: int, p: FloatArray, replicates: int) -> NDArray[np.int64]:
    p = np.clip(p, 0.0, None)
    p = p / p.sum()
    return np.asarray(rng.multinomial(n, p, size=replicates), dtype=np.int64)


# ------------------------------------------------------------------------ numeric


@dataclass(frozen=True, eq=False)
class NumericNull:
    """Null distribution of a numeric statistic and how to measure a window like it."""

    null: NullDistribution
    grid_index: NDArray[np.intp]  # reference points used as the grid (KS, Wasserstein)
    scale: float

    def observed(self, pair: NumericPair) -> float:
        """The window's statistic measured the way the null was: on the grid, or on the bins."""
        test = self.null.test
        if test in ("psi", "jensenshannon"):
            ref_counts, cur_counts = _binned(pair)
            stat = psi_from_counts if test == "psi" else jensenshannon_from_counts
            return stat(ref_counts, cur_counts)
        # Measured like the simulated windows, which never leave the training
        # range: values beyond it count at its edge (how far beyond is the
        # out_of_range quality check's business, and a shift past the range
        # still moves all that mass to the edge, which the statistic sees).
        f = pair.f[self.grid_index]
        g = pair.g_at[self.grid_index].copy()
        g[-1] = 1.0
        if test == "ks":
            return float(np.max(np.abs(f - g)))
        grid = pair.reference.values[self.grid_index]
        return float(np.dot(np.abs(f - g)[:-1], np.diff(grid))) / self.scale


def calibrate_numeric(
    reference: NumericSummary,
    test: str,
    current_rows: int,
    *,
    replicates: int,
    rng: np.random.Generator,
    grid_points: int = DEFAULT_GRID_POINTS,
) -> NumericNull:
    ref = reference.distinct()
    n = ref.total
    if n == 0 or current_rows == 0:
        raise InvalidInput("calibration needs values in the reference and the window")
    cum = np.concatenate(([0.0], ref.cumulative()))
    if test in ("psi", "jensenshannon"):
        idx = _bin_edge_index(ref, 10)
        bounds = np.concatenate(([0.0], cum[idx], [float(n)]))
        p = np.diff(bounds) / n
        a = _draw(rng, n, p, replicates)
        b = _draw(rng, current_rows, p, replicates)
        values = _ROW_STATS[test](a, b)
        return NumericNull(NullDistribution(test, current_rows, values), idx, 1.0)
    if test not in ("ks", "wasserstein"):
        raise InvalidInput(f"test {test!r} cannot be calibrated on a numeric column")
    size = ref.values.size
    if size <= grid_points:
        grid_index = np.arange(size)
    else:
        targets = np.arange(1, grid_points, dtype=np.float64) * n / grid_points
        grid_index = np.unique(np.append(np.searchsorted(cum[1:], targets, side="left"), size - 1))
    grid_cum = cum[1:][grid_index]
    p = np.diff(np.concatenate(([0.0], grid_cum))) / n
    a = _draw(rng, n, p, replicates)
    b = _draw(rng, current_rows, p, replicates)
    if test == "ks":
        return NumericNull(NullDistribution(test, current_rows, _ks_rows(a, b)), grid_index, 1.0)
    scale = wasserstein_scale(ref)
    widths = np.diff(ref.values[grid_index])
    values = _wasserstein_rows(a, b, widths) / scale
    return NumericNull(NullDistribution(test, current_rows, values), grid_index, scale)


# -------------------------------------------------------------------- categorical


@dataclass(frozen=True, eq=False)
class CategoricalNull:
    """Null distribution of a categorical statistic; unseen categories share one cell."""

    null: NullDistribution

    def observed(self, reference: CategoricalSummary, current: CategoricalSummary) -> float:
        ref, cur, n_new = align_categories(reference, current)
        k = ref.size - n_new
        unseen = int(cur[k:].sum())
        ref_cells = np.append(ref[:k], 0)
        cur_cells = np.append(cur[:k], unseen)
        test = self.null.test
        if test == "unseen_share":
            return unseen / max(int(cur.sum()), 1)
        if test == "chi2":
            return chi2_from_counts(ref_cells, cur_cells).statistic
        if test == "psi":
            return psi_from_counts(ref_cells, cur_cells)
        return jensenshannon_from_counts(ref_cells, cur_cells)


def calibrate_categorical(
    reference: CategoricalSummary,
    test: str,
    current_rows: int,
    *,
    replicates: int,
    rng: np.random.Generator,
) -> CategoricalNull:
    n = reference.total
    if n == 0 or current_rows == 0:
        raise InvalidInput("calibration needs values in the reference and the window")
    unseen = reference.singletons() / n  # Good-Turing
    p_ref = reference.counts / n
    p_cur = np.append(p_ref * (1.0 - unseen), unseen)
    if test == "unseen_share":
        values = rng.binomial(current_rows, unseen, size=replicates) / current_rows
        return CategoricalNull(NullDistribution(test, current_rows, values.astype(np.float64)))
    if test not in _ROW_STATS:
        raise InvalidInput(f"test {test!r} cannot be calibrated on a categorical column")
    a = _draw(rng, n, np.append(p_ref, 0.0), replicates)
    b = _draw(rng, current_rows, p_cur, replicates)
    return CategoricalNull(NullDistribution(test, current_rows, _ROW_STATS[test](a, b)))


# --------------------------------------------------------------------------- FDR


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    """Adjusted p-values (q-values): reject where adjusted <= fdr to control the false-discovery rate."""
    p = np.asarray(p_values, dtype=np.float64)
    m = p.size
    if m == 0:
        return []
    order = np.argsort(p, kind="stable")
    ranked = p[order] * m / np.arange(1, m + 1)
    adjusted_sorted = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(adjusted_sorted, 1.0)
    return [float(x) for x in out]


def int_counts(values: IntArray) -> IntArray:
    """Counts as int64 (helper for callers building nulls from plain arrays)."""
    return np.asarray(values, dtype=np.int64)
