"""Profiles: exact up to the cap, bounded error above it, exact merges, safe bytes."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from steward.core.drift import stats
from steward.core.drift.kinds import ColumnKind, ColumnRole, infer_schema
from steward.core.drift.profile import Profile, build_profile, merge
from steward.core.drift.sketch import NumericSummary, merge_numeric
from steward.core.errors import InvalidInput


def ecdf(values: np.ndarray, at: np.ndarray) -> np.ndarray:
    return np.searchsorted(np.sort(values), at, side="right") / values.size


def same(a: object, b: object) -> bool:
    """Equal, floats to 1e-12 relative (merges add in a different order)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float):
        return a == pytest.approx(b, rel=1e-12, abs=1e-12)
    return a == b


def frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "count": rng.poisson(50, n),
            "colour": rng.choice(["red", "green", "blue"], n),
            "flag": rng.integers(0, 2, n),
        }
    )


@settings(max_examples=40, deadline=None)
@given(st.integers(50, 3000), st.integers(3, 60), st.integers(0, 2**31 - 1), st.booleans())
def test_thinning_error_is_bounded_and_one_sided(n, cap, seed, ties):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 40, n).astype(float) if ties else rng.lognormal(size=n)
    thin = NumericSummary.from_values(x).thin(cap)
    assert thin.values.size <= cap
    assert thin.total == n and thin.counts is not None and thin.counts.sum() == n
    assert thin.min == x.min() and thin.max == x.max()
    grid = np.unique(np.concatenate([x, (x[:-1] + x[1:]) / 2]))
    truth = ecdf(x, grid)
    approx = thin.count_at_or_below(grid) / n
    assert np.all(approx <= truth + 1e-12)  # mass only moves right
    assert np.max(truth - approx) <= thin.rank_error + 1e-12
    # Moments stay exact whatever the thinning.
    assert thin.mean == pytest.approx(x.mean()) and thin.std == pytest.approx(x.std())


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 3000), st.integers(2, 500), st.integers(0, 2**31 - 1), st.sampled_from([0, 1, 2, 6]))
def test_thinning_large_chunks_directly_equals_thinning_the_distinct_values(n, cap, seed, decimals):
    rng = np.random.default_rng(seed)
    x = np.round(rng.normal(size=n), decimals)
    fast = NumericSummary.thinned_from_values(x, cap)
    slow = NumericSummary.from_values(x).thin(cap)
    assert np.array_equal(fast.values, slow.values)
    assert fast.counts is not None and slow.counts is not None and np.array_equal(fast.counts, slow.counts)
    assert fast.rank_error == pytest.approx(slow.rank_error) and fast.total == slow.total
    assert fast.mean == pytest.approx(slow.mean) and fast.m2 == pytest.approx(slow.m2)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 400), min_size=2, max_size=6), st.integers(0, 2**31 - 1))
def test_merging_exact_parts_is_exact(sizes, seed):
    rng = np.random.default_rng(seed)
    parts = [np.round(rng.normal(size=s), 2) for s in sizes]
    merged = merge_numeric([NumericSummary.from_values(p) for p in parts])
    whole = NumericSummary.from_values(np.concatenate(parts))
    assert merged.exact
    assert np.array_equal(merged.values, whole.values)
    assert merged.counts is not None and whole.counts is not None
    assert np.array_equal(merged.counts, whole.counts)
    assert merged.mean == pytest.approx(whole.mean) and merged.m2 == pytest.approx(whole.m2)


def test_merged_sketches_carry_their_error_bound():
    rng = np.random.default_rng(3)
    parts = [rng.normal(size=5000) for _ in range(4)]
    merged = merge_numeric([NumericSummary.from_values(p).thin(200) for p in parts], max_points=200)
    x = np.concatenate(parts)
    grid = np.sort(x)
    gap = ecdf(x, grid) - merged.count_at_or_below(grid) / x.size
    assert gap.min() >= -1e-12 and gap.max() <= merged.rank_error + 1e-12
    assert merged.rank_error < 3 / 199


def test_profile_windows_merge_to_the_profile_of_the_whole():
    ref = build_profile(frame(2000, 0))
    a, b, c = frame(700, 1), frame(500, 2), frame(300, 3)
    parts = [build_profile(w, schema=ref.schema) for w in (a, b, c)]
    merged = merge(*parts)
    whole = build_profile(pd.concat([a, b, c]), schema=ref.schema)
    assert merged.rows == whole.rows == 1500
    for col in whole.columns:
        other = merged.column(col.name)
        assert other is not None
        assert same(other.to_dict(), col.to_dict())


def test_chunked_build_equals_whole_build():
    df = frame(3000, 4)
    df.loc[::7, "x"] = np.nan
    whole = build_profile(df)
    chunked = build_profile(df.iloc[i : i + 400] for i in range(0, len(df), 400))
    assert same(chunked.to_dict(), whole.to_dict())


def test_profile_keeps_counts_kinds_and_roles():
    df = frame(500, 5)
    df["pred"] = np.random.default_rng(0).normal(size=500)
    profile = build_profile(df, prediction_columns=["pred"], exclude=["flag"])
    kinds = {c.name: c.kind for c in profile.columns}
    assert kinds == {
        "x": ColumnKind.NUMERIC,
        "count": ColumnKind.NUMERIC,
        "colour": ColumnKind.CATEGORICAL,
        "pred": ColumnKind.NUMERIC,
    }
    pred = profile.column("pred")
    assert pred is not None and pred.spec.role is ColumnRole.PREDICTION
    assert profile.ignored_columns == ("flag",)


def test_bytes_round_trip_and_size():
    df = frame(20_000, 6)
    profile = build_profile(df)
    data = profile.to_bytes()
    back = Profile.from_bytes(data)
    assert back.to_dict() == profile.to_dict()
    # Exact against the original data after the round trip.
    ref = back.column("x")
    assert ref is not None and ref.numeric is not None
    cur = NumericSummary.from_values(np.random.default_rng(1).normal(size=300))
    from scipy.stats import ks_2samp

    assert stats.ks_statistic(ref.numeric, cur) == pytest.approx(
        ks_2samp(df["x"], np.repeat(cur.values, cur.counts)).statistic, abs=1e-12
    )
    assert len(data) < 20_000 * 8  # far smaller than the raw float column alone


def test_profile_json_summary_has_no_raw_points_and_is_serialisable():
    import json

    summary = build_profile(frame(1000, 7)).to_dict()
    text = json.dumps(summary)
    x = next(c for c in summary["columns"] if c["name"] == "x")
    assert set(x["numeric"]) >= {"mean", "std", "quantiles", "bin_edges", "bin_counts", "exact"}
    assert "values" not in x["numeric"] and len(text) < 20_000


@pytest.mark.parametrize(
    "mutate",
    [
        lambda b: b[:10],
        lambda b: b[: len(b) // 2],
        lambda b: b"not a profile at all",
        lambda b: b.replace(b'"format":1', b'"format":9'),
    ],
)
def test_corrupt_bytes_are_refused(mutate):
    data = build_profile(frame(300, 8)).to_bytes()
    with pytest.raises(InvalidInput):
        Profile.from_bytes(mutate(data))


def test_pickled_arrays_are_refused():
    """An object array (which only pickle can hold) in the payload must not load."""
    good = build_profile(frame(300, 9)).to_bytes()
    magic_len = len(b"STEWARD-DRIFT-PROFILE\n")
    header_len = int.from_bytes(good[magic_len : magic_len + 8], "big")
    head = good[: magic_len + 8 + header_len]
    buf = io.BytesIO()
    np.savez(buf, **{"n0.values": np.array([object()], dtype=object), "n0.counts": np.array([1])})
    with pytest.raises(InvalidInput):
        Profile.from_bytes(head + buf.getvalue())
    assert zipfile.is_zipfile(io.BytesIO(buf.getvalue()))


def test_tampered_arrays_are_refused():
    profile = build_profile(frame(300, 10))
    data = profile.to_bytes()
    magic_len = len(b"STEWARD-DRIFT-PROFILE\n")
    header_len = int.from_bytes(data[magic_len : magic_len + 8], "big")
    head = data[: magic_len + 8 + header_len]
    with np.load(io.BytesIO(data[magic_len + 8 + header_len :]), allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["n0.values"] = arrays["n0.values"][::-1].copy()  # no longer sorted
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    with pytest.raises(InvalidInput, match="corrupt profile"):
        Profile.from_bytes(head + buf.getvalue())


def test_kind_inference_rules():
    df = pd.DataFrame(
        {
            "coded": np.tile(np.arange(5), 40),
            "real": np.linspace(0, 1, 200),
            "text": ["a", "b"] * 100,
            "ident": [f"id{i}" for i in range(200)],
            "when": pd.date_range("2026-01-01", periods=200, freq="h"),
            "ok": [True, False] * 100,
        }
    )
    schema = infer_schema(df)
    kinds = {c.name: c.kind for c in schema.columns}
    assert kinds["coded"] is ColumnKind.CATEGORICAL
    assert kinds["real"] is ColumnKind.NUMERIC
    assert kinds["text"] is ColumnKind.CATEGORICAL
    assert kinds["ok"] is ColumnKind.CATEGORICAL
    assert kinds["ident"] is ColumnKind.UNSUPPORTED and "identifier" in (schema.get("ident").reason or "")
    assert kinds["when"] is ColumnKind.UNSUPPORTED
    overridden = infer_schema(df, kinds={"coded": "numeric"})
    assert overridden.get("coded").kind is ColumnKind.NUMERIC
    with pytest.raises(InvalidInput, match="not in the reference"):
        infer_schema(df, kinds={"nope": "numeric"})


def test_categories_are_canonical_across_file_types():
    """1, 1.0 and '1' are the same category whichever reader produced them."""
    ref = build_profile(pd.DataFrame({"c": [1, 2, 1, 2] * 10}))
    col = ref.column("c")
    assert col is not None and col.categorical is not None
    window = build_profile(pd.DataFrame({"c": [1.0, 2.0, np.nan, 2.0] * 10}), schema=ref.schema)
    wcol = window.column("c")
    assert wcol is not None and wcol.categorical is not None
    assert wcol.categorical.categories == col.categorical.categories == ("1", "2")
    assert wcol.missing == 10
