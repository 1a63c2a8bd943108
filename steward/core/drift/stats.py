"""The registry of drift tests: small pure functions over column summaries.

Every statistic is computed from a reference summary and a current summary
(see :mod:`steward.core.drift.sketch`), never from rows held twice, and equals scipy's
on the same data (``ks_2samp``, ``wasserstein_distance``, ``chi2_contingency``,
``jensenshannon``); the unit tests hold them to 1e-9.

Numeric statistics never sort the current data against the reference point by
point: the current window is sorted once, the reference points are located in
it with one ``searchsorted`` (reference points are few and sorted, so that is
cheap), and both empirical CDFs are then known at every jump point.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from scipy import special
from scipy import stats as sps

from steward.core.drift.kinds import ColumnKind
from steward.core.drift.sketch import CategoricalSummary, FloatArray, IntArray, NumericSummary
from steward.core.errors import InvalidInput

ThresholdOn = Literal["statistic", "p_value"]

# Numeric PSI and Jensen-Shannon compare frequencies in reference deciles.
NUMERIC_BINS = 10
# PSI treats a share below this as this, so an empty bin does not make it infinite.
PSI_FLOOR = 1e-4
# scipy's ks_2samp(method="auto") computes the exact p-value up to this size.
_KS_EXACT_MAX_N = 10_000


@dataclass(frozen=True)
class Outcome:
    """A statistic and, for hypothesis tests, its p-value."""

    statistic: float
    p_value: float | None = None


# --------------------------------------------------------------------------- numeric


class NumericPair:
    """A reference and a current summary located against each other once.

    ``searchsorted`` of the (few, sorted) reference points into the sorted current
    values gives the current CDF at and just below every reference point; KS, the
    binned statistics and the range checks all read from that one alignment.
    """

    def __init__(self, reference: NumericSummary, current: NumericSummary) -> None:
        if reference.total == 0 or current.total == 0:
            raise InvalidInput("a numeric drift statistic needs values on both sides")
        self.reference = reference.distinct()
        self.current = current
        r = self.reference.values
        c = current.values
        self.f = self.reference.cumulative() / self.reference.total
        self.at_or_below = np.searchsorted(c, r, side="right")
        below = self.at_or_below.copy()
        # Only reference points that also occur in the current data need a second search.
        tied = np.flatnonzero(self.at_or_below > 0)
        tied = tied[c[self.at_or_below[tied] - 1] == r[tied]]
        if tied.size:
            below[tied] = np.searchsorted(c, r[tied], side="left")
        self.below = below
        self.cum_current = None if current.counts is None else np.concatenate(([0.0], current.cumulative()))

    def current_count(self, positions: NDArray[np.intp]) -> FloatArray:
        """Current observations before each position of the sorted current values."""
        if self.cum_current is None:
            return positions.astype(np.float64)
        return self.cum_current[positions]

    @functools.cached_property
    def g_at(self) -> FloatArray:
        """Current CDF at each reference point."""
        return self.current_count(self.at_or_below) / self.current.total

    @functools.cached_property
    def g_below(self) -> FloatArray:
        """Current CDF just below each reference point."""
        return self.current_count(self.below) / self.current.total


def ks_statistic(reference: NumericSummary, current: NumericSummary) -> float:
    """Two-sample Kolmogorov-Smirnov distance: the largest gap between the two CDFs."""
    return _ks_statistic(NumericPair(reference, current))


def _ks_statistic(pair: NumericPair) -> float:
    # Between two reference points the reference CDF is flat and the current one
    # rises, so the supremum is at a reference point or just below the next one.
    f = pair.f
    f_before = np.concatenate(([0.0], f[:-1]))
    return float(max(np.max(np.abs(f - pair.g_at)), np.max(np.abs(f_before - pair.g_below))))


def ks_pvalue(d: float, n1: int, n2: int) -> float:
    """Two-sided p-value exactly as ``scipy.stats.ks_2samp(method="auto")`` computes it."""
    if max(n1, n2) <= _KS_EXACT_MAX_N:
        exact = _ks_exact_pvalue(d, n1, n2)
        if exact is not None:
            return exact
    m, n = sorted([float(n1), float(n2)], reverse=True)
    en = m * n / (m + n)
    return float(np.clip(sps.kstwo.sf(d, np.round(en)), 0.0, 1.0))


def _ks_exact_pvalue(d: float, n1: int, n2: int) -> float | None:
    try:  # scipy's own exact path, so the p-value is scipy's to the last bit
        from scipy.stats._stats_py import _attempt_exact_2kssamp
    except ImportError:  # pragma: no cover - scipy moved it; fall back to asymptotic
        return None
    g = math.gcd(n1, n2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        success, _, prob = _attempt_exact_2kssamp(n1, n2, g, d, "two-sided")
    if not success:
        return None
    return float(np.clip(prob, 0.0, 1.0))


def _ks(pair: NumericPair) -> Outcome:
    d = _ks_statistic(pair)
    return Outcome(d, ks_pvalue(d, pair.reference.total, pair.current.total))


def ks(reference: NumericSummary, current: NumericSummary) -> Outcome:
    """Kolmogorov-Smirnov distance and p-value, equal to ``scipy.stats.ks_2samp``."""
    return _ks(NumericPair(reference, current))


def wasserstein_distance(reference: NumericSummary, current: NumericSummary) -> float:
    """First Wasserstein distance (area between the CDFs), equal to scipy's."""
    return _wasserstein(NumericPair(reference, current))


def _wasserstein(pair: NumericPair) -> float:
    """Area between the two CDFs, exactly, in one pass over the current values.

    On the interval [r_j, r_j+1) between reference points the reference CDF is a
    constant f_j and the current CDF starts at G(r_j). Where the current CDF stays
    on one side of f_j, the area is |(f_j - G(r_j)) * width - sum(w_i * (r_j+1 - c_i)) / W|
    over the current points strictly inside the interval: one ``reduceat`` for all
    intervals (values far from zero are shifted by the reference mean first, so
    the difference does not cancel). Only intervals where the current CDF crosses
    f_j are walked point by point; ties at reference points never are.
    """
    ref = pair.reference
    r = ref.values
    f = pair.f
    cur = pair.current
    c = cur.values
    total = float(cur.total)
    k = r.size
    counts_w = None if cur.counts is None else cur.counts.astype(np.float64)

    # Current points below the first reference point: the reference CDF is 0 there.
    n_low = int(pair.below[0])
    area = 0.0
    if n_low:
        low = r[0] - c[:n_low]
        area += float(np.sum(low if counts_w is None else low * counts_w[:n_low])) / total
    # Points above the last reference point: the reference CDF is 1 there.
    top_start = int(pair.at_or_below[-1])
    if top_start < c.size:
        high = c[top_start:] - r[-1]
        area += float(np.sum(high if counts_w is None else high * counts_w[top_start:])) / total
    if k == 1:
        return area

    # Finite intervals j = 0 .. k-2; inside = current points strictly between r_j and r_j+1.
    lo = pair.at_or_below[:-1]
    hi = pair.below[1:]
    g_lo = pair.g_at[:-1]  # current CDF on [r_j, first inside point)
    g_hi = pair.g_below[1:]  # current CDF just below r_j+1
    fj = f[:-1]
    width = np.diff(r)
    occupied = np.flatnonzero(hi > lo)
    weights_in = (g_hi - g_lo) * total
    sums = np.zeros(k - 1)
    shift = ref.mean if abs(ref.mean) > 4.0 * ref.std else 0.0
    if occupied.size:
        end = int(hi[occupied[-1]])
        span = c[:end]
        if shift != 0.0:
            span = span - shift
        if counts_w is not None:
            span = span * counts_w[:end]
        # Inside points of each occupied interval are one contiguous run [lo, hi);
        # interleaving starts and stops makes reduceat sum each run (even slots)
        # and whatever lies between runs, ties at reference points (odd slots).
        starts = lo[occupied]
        bounds = np.empty(2 * starts.size - 1, dtype=np.intp)
        bounds[0::2] = starts
        bounds[1::2] = hi[occupied][:-1]
        run_sums = np.add.reduceat(span, bounds)[0::2]
        sums[occupied] = run_sums
    # sum(w_i * (r_j+1 - c_i)) = W_j * (r_j+1 - shift) - sum(w_i * (c_i - shift))
    inner = (weights_in * (r[1:] - shift) - sums) / total
    signed = (fj - g_lo) * width - inner
    crossing = (g_lo < fj) & (fj < g_hi)
    area += float(np.sum(np.abs(signed[~crossing])))

    cross = np.flatnonzero(crossing)
    if cross.size:
        # Piece from r_j to the first inside point.
        area += float(np.sum(np.abs(fj[cross] - g_lo[cross]) * (c[lo[cross]] - r[cross])))
        # Pieces from each inside point to the next point (inside, or r_j+1).
        lengths = hi[cross] - lo[cross]
        owner = np.repeat(cross, lengths)
        offsets = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        idx = lo[owner] + offsets
        nxt = np.where(idx + 1 < hi[owner], c[np.minimum(idx + 1, c.size - 1)], r[owner + 1])
        g_after = pair.current_count(idx + 1) / total
        area += float(np.sum(np.abs(fj[owner] - g_after) * (nxt - c[idx])))
    return area


def wasserstein_scale(reference: NumericSummary) -> float:
    """Reference standard deviation; 1 for a constant reference (then the distance is in units)."""
    std = reference.std
    return std if std > 0 and math.isfinite(std) else 1.0


def _wasserstein_normed(pair: NumericPair) -> Outcome:
    return Outcome(_wasserstein(pair) / wasserstein_scale(pair.reference))


def wasserstein_normed(reference: NumericSummary, current: NumericSummary) -> Outcome:
    """Wasserstein distance in reference standard deviations: 0.1 means a shift of a tenth of a std."""
    return _wasserstein_normed(NumericPair(reference, current))


def numeric_bin_edges(reference: NumericSummary, n_bins: int = NUMERIC_BINS) -> FloatArray:
    """Inner edges of reference quantile bins; bins are [e_i, e_i+1), outer bins are open."""
    ref = reference.distinct()
    return ref.values[_bin_edge_index(ref, n_bins)]


def _bin_edge_index(ref: NumericSummary, n_bins: int) -> NDArray[np.intp]:
    """Indices of the reference points used as inner bin edges (distinct, above the minimum)."""
    if ref.values.size < 2:
        return np.empty(0, np.intp)
    cum = ref.cumulative()
    targets = np.arange(1, n_bins, dtype=np.float64) * cum[-1] / n_bins
    idx = np.unique(np.searchsorted(cum, targets, side="left") + 1)
    return idx[(idx > 0) & (idx < ref.values.size)]


def numeric_bin_counts(summary: NumericSummary, edges: FloatArray) -> FloatArray:
    """Counts of a summary in the bins delimited by ``edges``."""
    below = summary.count_below(edges)
    return np.diff(np.concatenate(([0.0], below, [float(summary.total)])))


def _binned(pair: NumericPair, n_bins: int = NUMERIC_BINS) -> tuple[FloatArray, FloatArray]:
    idx = _bin_edge_index(pair.reference, n_bins)
    ref_cum = np.concatenate(([0.0], pair.reference.cumulative()))
    ref_below = ref_cum[idx]
    cur_below = pair.current_count(pair.below[idx])
    ref_counts = np.diff(np.concatenate(([0.0], ref_below, [float(pair.reference.total)])))
    cur_counts = np.diff(np.concatenate(([0.0], cur_below, [float(pair.current.total)])))
    return ref_counts, cur_counts


def _psi_numeric(pair: NumericPair) -> Outcome:
    return Outcome(psi_from_counts(*_binned(pair)))


def _jensenshannon_numeric(pair: NumericPair) -> Outcome:
    return Outcome(jensenshannon_from_counts(*_binned(pair)))


def psi_numeric(reference: NumericSummary, current: NumericSummary) -> Outcome:
    """PSI over reference deciles."""
    return _psi_numeric(NumericPair(reference, current))


def jensenshannon_numeric(reference: NumericSummary, current: NumericSummary) -> Outcome:
    """Jensen-Shannon distance over reference deciles."""
    return _jensenshannon_numeric(NumericPair(reference, current))


# ---------------------------------------------------------------- frequencies


def psi_from_counts(reference: FloatArray | IntArray, current: FloatArray | IntArray) -> float:
    """Population stability index over aligned counts; shares floored at ``PSI_FLOOR``."""
    p = np.maximum(np.asarray(reference, np.float64) / np.sum(reference), PSI_FLOOR)
    q = np.maximum(np.asarray(current, np.float64) / np.sum(current), PSI_FLOOR)
    return float(np.sum((q - p) * np.log(q / p)))


def jensenshannon_from_counts(reference: FloatArray | IntArray, current: FloatArray | IntArray) -> float:
    """Jensen-Shannon distance in base 2 (0 = same, 1 = disjoint), as scipy computes it."""
    p = np.asarray(reference, np.float64)
    q = np.asarray(current, np.float64)
    p = p / np.sum(p)
    q = q / np.sum(q)
    m = (p + q) / 2.0
    js = (np.sum(special.rel_entr(p, m)) + np.sum(special.rel_entr(q, m))) / np.log(2.0)
    return float(np.sqrt(max(js, 0.0) / 2.0))


def chi2_from_counts(reference: FloatArray | IntArray, current: FloatArray | IntArray) -> Outcome:
    """Chi-squared test of homogeneity on the 2 x k table, as ``scipy.stats.chi2_contingency``.

    Like scipy's default, Yates' continuity correction applies when there is one
    degree of freedom (two categories).
    """
    observed = np.vstack([np.asarray(reference, np.float64), np.asarray(current, np.float64)])
    observed = observed[:, observed.sum(axis=0) > 0]
    dof = observed.shape[1] - 1
    if dof <= 0:
        return Outcome(0.0, 1.0)
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0)) / observed.sum()
    if dof == 1:
        diff = expected - observed
        observed = observed + np.minimum(0.5, np.abs(diff)) * np.sign(diff)
    statistic = float(np.sum((observed - expected) ** 2 / expected))
    return Outcome(statistic, float(sps.chi2.sf(statistic, dof)))


def align_categories(
    reference: CategoricalSummary, current: CategoricalSummary
) -> tuple[IntArray, IntArray, int]:
    """Counts over the union of categories (reference first) and how many are new."""
    index = {k: i for i, k in enumerate(reference.categories)}
    new = [k for k in current.categories if k not in index]
    for k in new:
        index[k] = len(index)
    ref = np.zeros(len(index), np.int64)
    ref[: len(reference.categories)] = reference.counts
    cur = np.zeros(len(index), np.int64)
    if current.categories:
        positions = np.fromiter((index[k] for k in current.categories), np.int64, len(current.categories))
        cur[positions] = current.counts
    return ref, cur, len(new)


def chi2(reference: CategoricalSummary, current: CategoricalSummary) -> Outcome:
    ref, cur, _ = align_categories(reference, current)
    return chi2_from_counts(ref, cur)


def psi_categorical(reference: CategoricalSummary, current: CategoricalSummary) -> Outcome:
    ref, cur, _ = align_categories(reference, current)
    return Outcome(psi_from_counts(ref, cur))


def jensenshannon_categorical(reference: CategoricalSummary, current: CategoricalSummary) -> Outcome:
    ref, cur, _ = align_categories(reference, current)
    return Outcome(jensenshannon_from_counts(ref, cur))


def unseen_share(reference: CategoricalSummary, current: CategoricalSummary) -> Outcome:
    """Share of current rows whose category never appeared in training."""
    ref, cur, n_new = align_categories(reference, current)
    total = cur.sum()
    return Outcome(float(cur[ref.size - n_new :].sum() / total) if n_new and total else 0.0)


# ------------------------------------------------------------------ registry


Summary = NumericSummary | CategoricalSummary


@dataclass(frozen=True)
class DriftTest:
    """A named statistic, the kinds it applies to, and its default cut-off with the reason."""

    name: str
    title: str
    kinds: frozenset[ColumnKind]
    default_threshold: float
    threshold_on: ThresholdOn
    reason: str
    numeric: Callable[[NumericPair], Outcome] | None = None
    categorical: Callable[[CategoricalSummary, CategoricalSummary], Outcome] | None = None

    def run(self, reference: Summary, current: Summary) -> Outcome:
        if isinstance(reference, NumericSummary) and isinstance(current, NumericSummary) and self.numeric:
            return self.numeric(NumericPair(reference, current))
        if (
            isinstance(reference, CategoricalSummary)
            and isinstance(current, CategoricalSummary)
            and self.categorical
        ):
            return self.categorical(reference, current)
        raise InvalidInput(f"test {self.name!r} does not apply to this kind of column")

    def drifted(self, outcome: Outcome, threshold: float) -> bool:
        if self.threshold_on == "p_value":
            return outcome.p_value is not None and outcome.p_value < threshold
        return outcome.statistic > threshold

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "kinds": sorted(str(k) for k in self.kinds),
            "default_threshold": self.default_threshold,
            "threshold_on": self.threshold_on,
            "reason": self.reason,
        }


_NUM = frozenset({ColumnKind.NUMERIC})
_CAT = frozenset({ColumnKind.CATEGORICAL})
_BOTH = _NUM | _CAT

REGISTRY: dict[str, DriftTest] = {
    t.name: t
    for t in (
        DriftTest(
            "ks",
            "Kolmogorov-Smirnov",
            _NUM,
            0.05,
            "p_value",
            "distribution-free and exact on small samples; its p-value is meaningful where an effect "
            "size is still noise, and meaningless at a million rows, where it flags any difference",
            numeric=_ks,
        ),
        DriftTest(
            "wasserstein",
            "Wasserstein distance / reference std",
            _NUM,
            0.1,
            "statistic",
            "an effect size in the column's own units: 0.1 is a shift of a tenth of a standard deviation, "
            "large enough to matter, and its no-drift noise is below a third of that from 1,000 rows",
            numeric=_wasserstein_normed,
        ),
        DriftTest(
            "psi",
            "Population stability index",
            _BOTH,
            0.2,
            "statistic",
            "the credit-risk convention: below 0.1 stable, 0.1-0.2 watch, above 0.2 shifted",
            numeric=_psi_numeric,
            categorical=psi_categorical,
        ),
        DriftTest(
            "jensenshannon",
            "Jensen-Shannon distance",
            _BOTH,
            0.1,
            "statistic",
            "bounded in [0, 1] and defined when a category is new or gone; 0.1 is a clear change of "
            "frequencies, far above its noise once there are 200 rows per category",
            numeric=_jensenshannon_numeric,
            categorical=jensenshannon_categorical,
        ),
        DriftTest(
            "chi2",
            "Chi-squared",
            _CAT,
            0.05,
            "p_value",
            "the standard test of equal frequencies on small samples, where distances are still noise",
            categorical=chi2,
        ),
        DriftTest(
            "unseen_share",
            "Share of categories never seen in training",
            _CAT,
            0.01,
            "statistic",
            "the model has never seen these rows' value; 1% of traffic on undefined behaviour "
            "deserves a look",
            categorical=unseen_share,
        ),
    )
}


def get_test(name: str) -> DriftTest:
    try:
        return REGISTRY[name]
    except KeyError:
        raise InvalidInput(f"unknown drift test {name!r}; known: {', '.join(sorted(REGISTRY))}") from None


def tests_for(kind: ColumnKind) -> list[DriftTest]:
    return [t for t in REGISTRY.values() if kind in t.kinds]
