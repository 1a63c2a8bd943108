"""The report: defaults, verdicts, false-alarm rates over many seeds, quality, bad input."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from steward.core.drift import calibration as cal
from steward.core.drift.kinds import ColumnKind
from steward.core.drift.profile import build_profile
from steward.core.drift.report import DriftOptions, compare, compare_frames, default_test
from steward.core.errors import InvalidInput


def data(n: int, seed: int, *, shift: float = 0.0, cat_shift: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    p = [0.5, 0.3, 0.2] if not cat_shift else [0.3, 0.3, 0.4]
    return pd.DataFrame(
        {
            "a": rng.normal(shift, 1, n),
            "b": rng.exponential(1, n),
            "c": rng.choice(["x", "y", "z"], n, p=p),
        }
    )


# ------------------------------------------------------------------ defaults


def test_default_test_depends_on_kind_and_effective_size():
    assert default_test(ColumnKind.NUMERIC, 500, 500).name == "ks"
    assert default_test(ColumnKind.NUMERIC, 100_000, 500).name == "ks"
    assert default_test(ColumnKind.NUMERIC, 100_000, 5000).name == "wasserstein"
    assert default_test(ColumnKind.CATEGORICAL, 500, 500, categories=3).name == "chi2"
    assert default_test(ColumnKind.CATEGORICAL, 10_000, 10_000, categories=3).name == "jensenshannon"
    # Many categories need more rows before a distance stops being noise.
    assert default_test(ColumnKind.CATEGORICAL, 10_000, 10_000, categories=40).name == "chi2"


def test_no_verdict_below_the_minimum_sample_size():
    report = compare_frames(data(500, 0), data(8, 1, shift=3.0))
    assert report.verdict.status == "insufficient"
    for col in report.columns:
        assert (
            col.drift is None and "not enough data" in col.reason and col.to_dict()["drift"] == "insufficient"
        )


def test_shifted_column_is_found_in_both_modes():
    ref, cur = data(3000, 0), data(3000, 1, shift=0.5, cat_shift=True)
    for mode in ("fixed", "calibrated"):
        report = compare_frames(ref, cur, DriftOptions(mode=mode))
        assert report.verdict.status == "drift"
        assert set(report.verdict.drifted) == {"a", "c"}
        b = report.column("b")
        assert b is not None and b.drift is False
        assert "a" in report.verdict.reason


def test_small_shift_is_found_by_ks_on_small_samples():
    report = compare_frames(data(200, 0), data(200, 1, shift=0.8))
    a = report.column("a")
    assert a is not None and a.test == "ks" and a.drift is True
    assert (
        a.threshold_on == "adjusted_p_value" and a.adjusted_p_value is not None and a.adjusted_p_value < 0.05
    )


# ------------------------------------------------------------ false alarms


def test_fixed_mode_false_alarm_rate_on_small_samples():
    """p-value tests, adjusted across columns: the dataset verdict is wrong at most ~5% of the time."""
    seeds = range(300)
    alarms = 0
    for seed in seeds:
        ref = build_profile(data(60, 10_000 + seed))
        report = compare(ref, data(50, 20_000 + seed))
        alarms += report.verdict.status == "drift"
    rate = alarms / len(seeds)
    assert rate <= 0.09  # 5% plus three binomial standard deviations


def test_fixed_mode_effect_sizes_do_not_fire_on_large_no_drift_samples():
    alarms = 0
    for seed in range(40):
        report = compare_frames(data(4000, 30_000 + seed), data(4000, 40_000 + seed))
        assert {c.test for c in report.columns} == {"wasserstein", "jensenshannon"}
        alarms += report.verdict.status == "drift"
    assert alarms == 0


def test_calibrated_mode_false_alarm_rate_over_many_seeds():
    seeds = range(200)
    alarms = 0
    for seed in seeds:
        report = compare_frames(
            data(300, 50_000 + seed),
            data(200, 60_000 + seed),
            DriftOptions(mode="calibrated", replicates=199),
        )
        alarms += report.verdict.status == "drift"
    assert report.false_alarm_rate == 0.05
    assert alarms / len(seeds) <= 0.1  # 5% plus three binomial standard deviations


def test_calibrated_p_values_are_roughly_uniform_without_drift():
    """A test that cannot fail would give p = 1 everywhere; an overconfident one piles up near 0."""
    ps = []
    for seed in range(150):
        report = compare_frames(
            data(400, 70_000 + seed)[["a"]], data(300, 80_000 + seed)[["a"]],
            DriftOptions(mode="calibrated", replicates=199),
        )  # fmt: skip
        col = report.column("a")
        assert col is not None and col.p_value is not None
        ps.append(col.p_value)
    ps_arr = np.array(ps)
    assert 0.02 <= np.mean(ps_arr < 0.1) <= 0.2
    assert 0.35 <= np.mean(ps_arr) <= 0.65


def test_benjamini_hochberg_matches_the_textbook_procedure():
    p = [0.01, 0.04, 0.03, 0.005, 0.5]
    adjusted = cal.benjamini_hochberg(p)
    # sorted 0.005 0.01 0.03 0.04 0.5 -> *5/rank 0.025 0.025 0.05 0.05 0.5, then running minimum from the top
    assert adjusted == pytest.approx([0.025, 0.05, 0.05, 0.025, 0.5])
    assert cal.benjamini_hochberg([]) == []


def test_replicates_allow_the_first_bh_cut():
    b = cal.replicates_for(25, 0.05)
    assert 1 / (b + 1) <= 0.05 / 25


# ------------------------------------------------------------------ verdicts


def test_verdict_is_one_answer_with_reason_and_json():
    report = compare_frames(data(3000, 0), data(3000, 1, shift=1.0))
    payload = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert payload["verdict"]["status"] == "drift" and payload["verdict"]["drift"] is True
    assert "1 of 3 feature columns drifted" in payload["verdict"]["reason"]
    a = next(c for c in payload["columns"] if c["name"] == "a")
    assert set(a) >= {"name", "kind", "test", "statistic", "threshold", "p_value", "drift"}
    assert a["drift"] is True and a["test"] == "wasserstein"


def test_predictions_have_their_own_verdict():
    ref = data(2000, 0)
    ref["score"] = np.random.default_rng(1).normal(size=2000)
    cur = data(2000, 2)
    cur["score"] = np.random.default_rng(3).normal(2.0, 1, size=2000)
    report = compare_frames(ref, cur, prediction_columns=["score"])
    assert report.verdict.status == "no_drift"
    assert report.prediction_verdict is not None and report.prediction_verdict.status == "drift"


def test_window_profile_gives_the_same_answer_as_the_frame():
    ref = build_profile(data(3000, 0))
    cur = data(2500, 1, shift=0.3)
    direct = compare(ref, cur)
    via_profile = compare(ref, build_profile(cur, schema=ref.schema))
    chunked = compare(ref, (cur.iloc[i : i + 700] for i in range(0, len(cur), 700)))
    for other in (via_profile, chunked):
        for a, b in zip(direct.columns, other.columns, strict=True):
            assert a.statistic == pytest.approx(b.statistic, rel=1e-9) and a.drift == b.drift
            assert b.exact


def test_options_are_validated():
    with pytest.raises(InvalidInput, match="unknown drift test"):
        DriftOptions(test="nope")
    with pytest.raises(InvalidInput, match="fdr"):
        DriftOptions(fdr=2.0)
    with pytest.raises(InvalidInput, match="mode"):
        DriftOptions(mode="bayesian")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="does not apply"):
        compare_frames(data(100, 0), data(100, 1), DriftOptions(tests={"c": "wasserstein"}))
    with pytest.raises(InvalidInput, match="not in the reference"):
        compare_frames(data(100, 0), data(100, 1), DriftOptions(columns=["zzz"]))


def test_chosen_test_and_threshold_are_used():
    report = compare_frames(
        data(3000, 0), data(3000, 1, shift=0.15), DriftOptions(test="psi", thresholds={"psi": 0.01})
    )
    a = report.column("a")
    assert a is not None and a.test == "psi" and a.threshold == 0.01 and a.drift is True


# ------------------------------------------------------------------- quality


def test_quality_findings_are_separate_from_drift():
    ref = data(2000, 0)
    cur = data(2000, 1)
    cur.loc[:299, "b"] = np.nan  # 15% missing
    cur["c"] = cur["c"].where(np.arange(2000) >= 100, "new-value")  # 5% new category
    cur.loc[2000 - 50 :, "a"] = 1e6  # 2.5% beyond the training range
    cur["extra"] = 1
    report = compare_frames(ref, cur.drop(columns=[]))
    checks = {(q.check, q.column) for q in report.quality}
    assert ("missing_share", "b") in checks
    assert ("new_categories", "c") in checks
    assert ("out_of_range", "a") in checks
    assert ("extra_column", "extra") in checks
    b = report.column("b")
    assert b is not None and b.drift is False  # missing values are not drift
    new_cat = next(q for q in report.quality if q.check == "new_categories")
    assert "'new-value' (100)" in new_cat.message


def test_schema_change_missing_column():
    report = compare_frames(data(500, 0), data(500, 1).drop(columns=["b"]))
    assert any(q.check == "missing_column" and q.column == "b" for q in report.quality)
    b = report.column("b")
    assert b is not None and b.drift is None and "not in the current data" in b.reason
    assert report.verdict.status == "no_drift"


# ----------------------------------------------------------------- bad input


def test_empty_current_data():
    report = compare_frames(data(500, 0), data(0, 1))
    assert report.verdict.status == "insufficient" and "no rows" in report.verdict.reason
    assert any(q.check == "empty" for q in report.quality)


def test_all_nan_column():
    cur = data(500, 1)
    cur["a"] = np.nan
    report = compare_frames(data(500, 0), cur)
    a = report.column("a")
    assert a is not None and a.drift is None
    assert any(
        q.check == "missing_share" and q.column == "a" and "all values" in q.message for q in report.quality
    )
    ref = data(500, 0)
    ref["a"] = np.nan
    report = compare_frames(ref, data(500, 1))
    assert report.column("a") is not None and report.column("a").drift is None


def test_infinities_are_counted_not_compared():
    cur = data(1000, 1)
    cur.loc[:99, "a"] = np.inf
    cur.loc[100:109, "a"] = -np.inf
    report = compare_frames(data(1000, 0), cur)
    a = report.column("a")
    assert a is not None and a.current_values == 890 and a.statistic is not None
    finding = next(q for q in report.quality if q.check == "non_finite")
    assert finding.value == pytest.approx(0.11)
    assert json.dumps(report.to_dict(), allow_nan=False)


def test_mixed_types_are_type_errors():
    cur = data(600, 1)
    cur["a"] = cur["a"].astype(object)
    cur.loc[:59, "a"] = "oops"
    report = compare_frames(data(600, 0), cur)
    finding = next(q for q in report.quality if q.check == "type_errors")
    assert finding.column == "a" and finding.value == pytest.approx(0.1)
    a = report.column("a")
    assert a is not None and a.current_values == 540 and a.drift is not None


def test_mixed_type_reference_column_is_a_category():
    ref = pd.DataFrame({"m": [1, "one", 2.0, None, "two"] * 40})
    cur = pd.DataFrame({"m": ["1", 1, "one", 2, "two"] * 40})
    report = compare_frames(ref, cur)
    m = report.column("m")
    assert m is not None and m.kind == "categorical" and m.drift is not None


def test_huge_cardinality_is_not_monitored_without_crashing():
    n = 100_000
    ref = pd.DataFrame({"id": [f"u{i}" for i in range(n)], "a": np.random.default_rng(0).normal(size=n)})
    cur = pd.DataFrame({"id": [f"v{i}" for i in range(n)], "a": np.random.default_rng(1).normal(size=n)})
    report = compare_frames(ref, cur)
    assert ("id" in dict(report.not_monitored)) and "distinct" in dict(report.not_monitored)["id"]
    assert report.column("id") is None
    assert report.verdict.status == "no_drift"


def test_current_data_without_any_reference_column():
    report = compare_frames(data(500, 0), pd.DataFrame({"other": np.arange(100)}))
    assert report.verdict.status == "insufficient"
    assert "none of the reference's feature columns" in report.verdict.reason
    assert {q.check for q in report.quality} == {"missing_column", "extra_column"}


def test_duplicate_columns_are_refused():
    cur = pd.DataFrame([[1.0, 2.0]] * 40, columns=["a", "a"])
    with pytest.raises(InvalidInput, match="duplicate"):
        compare(build_profile(data(100, 0)), cur)
