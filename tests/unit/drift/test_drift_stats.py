"""Every drift statistic equals scipy's on the same data, and hand-computed values on tiny ones."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps
from scipy.spatial.distance import jensenshannon

from steward.core.drift import stats
from steward.core.drift.kinds import ColumnKind
from steward.core.drift.sketch import CategoricalSummary, NumericSummary, merge_numeric
from steward.core.errors import InvalidInput

TOL = 1e-9


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=TOL, abs_tol=TOL)


# Values with plenty of ties (rounded) and varied scales, including offsets far from zero.
samples = st.tuples(
    st.integers(1, 150),
    st.integers(1, 150),
    st.sampled_from([0, 1, 3, 8]),
    st.sampled_from([0.0, 1e6, -50.0]),
    st.floats(-2, 2),
    st.integers(0, 2**31 - 1),
)


def draw(n: int, m: int, decimals: int, offset: float, shift: float, seed: int):
    rng = np.random.default_rng(seed)
    x = offset + np.round(rng.normal(0, 1, n), decimals) if decimals else offset + rng.integers(0, 5, n)
    y = offset + np.round(rng.normal(shift, 1.3, m), decimals) if decimals else offset + rng.integers(0, 6, m)
    return x.astype(float), y.astype(float)


@settings(max_examples=150, deadline=None)
@given(samples)
def test_ks_equals_scipy(case):
    x, y = draw(*case)
    ref = NumericSummary.from_values(x)
    expected = sps.ks_2samp(x, y)
    for cur in (NumericSummary.from_values(y, distinct=False), NumericSummary.from_values(y)):
        got = stats.ks(ref, cur)
        assert close(got.statistic, float(expected.statistic))
        assert got.p_value is not None and close(got.p_value, float(expected.pvalue))


@settings(max_examples=150, deadline=None)
@given(samples)
def test_wasserstein_equals_scipy(case):
    x, y = draw(*case)
    ref = NumericSummary.from_values(x)
    expected = sps.wasserstein_distance(x, y)
    # Absolute tolerance on the data's spread, not its magnitude: an offset of 1e6 changes nothing.
    spread = max(1.0, float(np.ptp(np.concatenate([x, y]))))
    for cur in (NumericSummary.from_values(y, distinct=False), NumericSummary.from_values(y)):
        assert math.isclose(stats.wasserstein_distance(ref, cur), expected, rel_tol=TOL, abs_tol=TOL * spread)
    normed = stats.wasserstein_normed(ref, NumericSummary.from_values(y)).statistic
    scale = float(np.std(x)) if np.std(x) > 0 else 1.0
    assert math.isclose(normed, expected / scale, rel_tol=TOL, abs_tol=TOL * spread / scale)


def decile_counts(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """An independent decile binning: inner edges are the distinct reference values at each tenth."""
    values, counts = np.unique(x, return_counts=True)
    cum = np.cumsum(counts)
    idx = np.unique(np.searchsorted(cum, np.arange(1, 10) * len(x) / 10, side="left") + 1)
    edges = values[idx[(idx > 0) & (idx < len(values))]]
    bins_x = np.bincount(np.searchsorted(edges, x, side="right"), minlength=len(edges) + 1)
    bins_y = np.bincount(np.searchsorted(edges, y, side="right"), minlength=len(edges) + 1)
    return bins_x.astype(float), bins_y.astype(float)


@settings(max_examples=150, deadline=None)
@given(samples)
def test_numeric_psi_and_jensenshannon_equal_an_independent_binning(case):
    x, y = draw(*case)
    ref, cur = NumericSummary.from_values(x), NumericSummary.from_values(y)
    a, b = decile_counts(x, y)
    assert close(stats.jensenshannon_numeric(ref, cur).statistic, float(jensenshannon(a, b, base=2)))
    p = np.maximum(a / a.sum(), stats.PSI_FLOOR)
    q = np.maximum(b / b.sum(), stats.PSI_FLOOR)
    assert close(stats.psi_numeric(ref, cur).statistic, float(np.sum((q - p) * np.log(q / p))))


def test_small_samples_take_scipys_exact_ks_path():
    """The exact p-value comes from scipy's own routine; if scipy moves it, this fails instead of drifting."""
    assert stats._ks_exact_pvalue(0.5, 40, 30) is not None
    x, y = np.arange(40.0), np.arange(30.0) + 12.5
    got = stats.ks(NumericSummary.from_values(x), NumericSummary.from_values(y))
    assert got.p_value == sps.ks_2samp(x, y, method="exact").pvalue


@settings(max_examples=60, deadline=None)
@given(samples, st.integers(2, 40))
def test_weighted_summaries_equal_scipy_weighted(case, cap):
    """Thinned or merged summaries are weighted samples; scipy agrees on the same weights."""
    x, y = draw(*case)
    ref = NumericSummary.from_values(x).thin(cap)
    cur = merge_numeric(
        [NumericSummary.from_values(y[: len(y) // 2]), NumericSummary.from_values(y[len(y) // 2 :])]
    )
    assert ref.counts is not None and cur.counts is not None
    expected = sps.wasserstein_distance(ref.values, cur.values, ref.counts, cur.counts)
    got = stats.wasserstein_distance(ref, cur)
    assert math.isclose(got, expected, rel_tol=1e-8, abs_tol=1e-8 * max(1, abs(x).max()))
    expanded_ref = np.repeat(ref.values, ref.counts)
    expanded_cur = np.repeat(cur.values, cur.counts)
    assert close(stats.ks_statistic(ref, cur), float(sps.ks_2samp(expanded_ref, expanded_cur).statistic))


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.integers(0, 60), min_size=2, max_size=12),
    st.lists(st.integers(0, 60), min_size=2, max_size=12),
)
def test_chi2_equals_scipy(ref_counts, cur_counts):
    k = min(len(ref_counts), len(cur_counts))
    a = np.array(ref_counts[:k])
    b = np.array(cur_counts[:k])
    if a.sum() == 0 or b.sum() == 0:
        return
    table = np.vstack([a, b])
    table = table[:, table.sum(axis=0) > 0]
    got = stats.chi2_from_counts(a, b)
    if table.shape[1] < 2:
        assert got.statistic == 0.0 and got.p_value == 1.0
        return
    expected = sps.chi2_contingency(table)
    assert close(got.statistic, float(expected.statistic))
    assert got.p_value is not None and close(got.p_value, float(expected.pvalue))


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.integers(0, 500), min_size=1, max_size=15),
    st.lists(st.integers(0, 500), min_size=1, max_size=15),
)
def test_jensenshannon_equals_scipy(p, q):
    k = min(len(p), len(q))
    a, b = np.array(p[:k], float), np.array(q[:k], float)
    if a.sum() == 0 or b.sum() == 0:
        return
    assert close(stats.jensenshannon_from_counts(a, b), float(jensenshannon(a, b, base=2)))


def test_categorical_tests_align_categories_like_a_contingency_table():
    ref = CategoricalSummary.from_mapping({"a": 50, "b": 30, "c": 20})
    cur = CategoricalSummary.from_mapping({"a": 40, "b": 35, "d": 25})
    table = np.array([[50, 30, 20, 0], [40, 35, 0, 25]])
    expected = sps.chi2_contingency(table)
    got = stats.chi2(ref, cur)
    assert close(got.statistic, float(expected.statistic))
    assert close(
        stats.jensenshannon_categorical(ref, cur).statistic, float(jensenshannon(table[0], table[1], base=2))
    )
    assert stats.unseen_share(ref, cur).statistic == pytest.approx(0.25)


# ------------------------------------------------------------------ hand-computed


def test_ks_by_hand():
    # reference {1, 2, 3}, current {2, 3, 4, 5}: at 1 the CDFs are 1/3 and 0; at 3, 1 and 1/2.
    ref = NumericSummary.from_values(np.array([1.0, 2.0, 3.0]))
    cur = NumericSummary.from_values(np.array([2.0, 3.0, 4.0, 5.0]), distinct=False)
    assert stats.ks_statistic(ref, cur) == pytest.approx(0.5)


def test_wasserstein_by_hand():
    # Moving every point of {0, 1} right by 2 costs 2.
    ref = NumericSummary.from_values(np.array([0.0, 1.0]))
    cur = NumericSummary.from_values(np.array([2.0, 3.0]), distinct=False)
    assert stats.wasserstein_distance(ref, cur) == pytest.approx(2.0)
    # std of {0, 1} is 0.5: the shift is 4 reference standard deviations.
    assert stats.wasserstein_normed(ref, cur).statistic == pytest.approx(4.0)


def test_psi_by_hand():
    # Shares 0.5/0.5 against 0.25/0.75: (0.25-0.5)ln(0.5) + (0.75-0.5)ln(1.5).
    expected = -0.25 * math.log(0.5) + 0.25 * math.log(1.5)
    assert stats.psi_from_counts(np.array([50, 50]), np.array([25, 75])) == pytest.approx(expected)
    # An empty bin counts as 0.0001, so PSI stays finite.
    assert math.isfinite(stats.psi_from_counts(np.array([100, 0]), np.array([50, 50])))


def test_jensenshannon_by_hand():
    # Disjoint supports are at distance 1 in base 2; identical ones at 0.
    assert stats.jensenshannon_from_counts(np.array([1, 0]), np.array([0, 1])) == pytest.approx(1.0)
    assert stats.jensenshannon_from_counts(np.array([3, 7]), np.array([30, 70])) == pytest.approx(0.0)


def test_chi2_two_categories_uses_yates_like_scipy():
    table = np.array([[30, 10], [20, 20]])
    expected = sps.chi2_contingency(table)  # correction=True by default
    got = stats.chi2_from_counts(table[0], table[1])
    assert close(got.statistic, float(expected.statistic))
    uncorrected = sps.chi2_contingency(table, correction=False).statistic
    assert not close(got.statistic, float(uncorrected))


def test_numeric_bins_are_reference_deciles():
    ref = NumericSummary.from_values(np.arange(1000, dtype=float))
    edges = stats.numeric_bin_edges(ref)
    assert edges.size == 9
    counts = stats.numeric_bin_counts(ref, edges)
    assert counts.sum() == 1000
    assert np.all(np.abs(counts - 100) <= 1)


def test_identical_samples_have_zero_distance_and_p_value_one():
    x = np.random.default_rng(0).normal(size=500)
    ref = NumericSummary.from_values(x)
    cur = NumericSummary.from_values(x, distinct=False)
    for name in ("ks", "wasserstein", "psi", "jensenshannon"):
        assert stats.get_test(name).run(ref, cur).statistic == pytest.approx(0.0, abs=1e-12)
    assert stats.ks(ref, cur).p_value == pytest.approx(1.0)


def test_registry_describes_every_test():
    assert set(stats.REGISTRY) == {"ks", "wasserstein", "psi", "jensenshannon", "chi2", "unseen_share"}
    for test in stats.REGISTRY.values():
        d = test.to_dict()
        assert d["reason"] and d["kinds"] and d["default_threshold"] > 0
    assert {t.name for t in stats.tests_for(ColumnKind.NUMERIC)} == {
        "ks",
        "wasserstein",
        "psi",
        "jensenshannon",
    }
    with pytest.raises(InvalidInput, match="unknown drift test"):
        stats.get_test("anderson")


def test_a_test_refuses_the_wrong_kind_and_empty_sides():
    num = NumericSummary.from_values(np.arange(5.0))
    cat = CategoricalSummary.from_mapping({"a": 1})
    with pytest.raises(InvalidInput):
        stats.get_test("chi2").run(num, num)
    with pytest.raises(InvalidInput):
        stats.get_test("ks").run(cat, cat)
    with pytest.raises(InvalidInput, match="values on both sides"):
        stats.ks(num, NumericSummary.empty())
