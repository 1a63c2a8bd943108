"""Challenger against champion on the same rows: the maths, then bike demand's real retraining story."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from steward.core.drift.comparison import compare, decision_diff
from steward.core.pipelines.spec import load_spec
from steward.core.pipelines.training import train
from testkit import REPO_ROOT

SAMPLES = REPO_ROOT / "steward" / "sample_data"


def test_a_clearly_better_regressor_wins_every_metric_with_intervals_excluding_zero():
    rng = np.random.default_rng(3)
    truth = rng.normal(100, 20, 2000)
    champion = truth + rng.normal(0, 15, truth.size)
    challenger = truth + rng.normal(0, 5, truth.size)
    results = {r.metric: r for r in compare("regression", truth, champion, challenger)}
    assert {r.verdict for r in results.values()} == {"challenger"}
    assert results["rmse"].ci_high < 0 and results["rmse"].p_value < 1e-6
    assert results["rmse"].test == "Wilcoxon signed-rank test"
    assert "the challenger is better" in results["mae"].sentence()


def test_two_versions_right_on_different_rows_as_often_are_undecided():
    rng = np.random.default_rng(5)
    truth = rng.integers(0, 2, 3000)
    champion = np.where(rng.random(truth.size) < 0.2, 1 - truth, truth)
    challenger = champion.copy()
    right, wrong = np.flatnonzero(champion == truth), np.flatnonzero(champion != truth)
    challenger[right[:60]] = 1 - truth[right[:60]]  # 60 rows only the champion gets right
    challenger[wrong[:60]] = truth[wrong[:60]]  # and 60 only the challenger gets right
    accuracy = next(
        r for r in compare("classification", truth, champion, challenger) if r.metric == "accuracy"
    )
    assert accuracy.difference == 0 and accuracy.verdict == "undecided" and accuracy.p_value > 0.9
    assert accuracy.test == "McNemar exact test" and accuracy.ci_low < 0 < accuracy.ci_high
    assert "includes zero" in accuracy.sentence()


def test_the_decision_diff_counts_changed_decisions_by_segment_most_changed_first():
    champion = np.array([1, 1, 0, 0, 1, 0])
    challenger = np.array([1, 0, 1, 0, 1, 1])
    diff = decision_diff(champion, challenger, {"EDUCATION": [1, 2, 2, 1, 1, 2]})
    assert (diff.rows, diff.changed) == (6, 3) and diff.share == 0.5
    assert diff.segments[0].value == "2" and (diff.segments[0].rows, diff.segments[0].changed) == (3, 3)


@pytest.mark.parametrize(
    ("call", "problem"),
    [
        (lambda: compare("regression", [1.0] * 20, [1.0] * 20, [1.0] * 19), "same rows"),
        (lambda: compare("regression", [1.0] * 20, [1.0] * 20, [1.0] * 20, resamples=10), "resamples"),
        (lambda: compare("regression", [1.0] * 20, [1.0] * 20, [1.0] * 20, confidence=1.5), "confidence"),
        (lambda: decision_diff([1, 0], [1, 0], {"s": [1]}), "one value per row"),
    ],
)
def test_bad_input_is_refused_naming_the_problem(call, problem):
    with pytest.raises(ValueError, match=problem):
        call()


def test_bike_demand_retrained_on_early_2012_beats_the_2011_champion_on_later_2012():
    """The demo's story: ridership grew in 2012, so a model trained on 2011 under-predicts it."""
    spec = load_spec(SAMPLES / "specs" / "bike_demand.toml")
    year_2011 = pd.read_csv(SAMPLES / "bike" / "train_2011.csv")
    year_2012 = pd.read_csv(SAMPLES / "bike" / "production_2012.csv").merge(
        pd.read_csv(SAMPLES / "bike" / "labels_2012.csv"), on="instant", validate="one_to_one"
    )
    month = pd.to_datetime(year_2012["dteday"]).dt.month
    early, later = year_2012[month <= 8], year_2012[month >= 9]

    champion = train(spec, year_2011, importances=False).pipeline
    challenger = train(spec, early, importances=False).pipeline  # retrained on fresh production data
    truth = later[spec.target].to_numpy(dtype=float)
    rows = spec.schema.coerce(later)
    results = {
        r.metric: r
        for r in compare("regression", truth, champion.predict(rows), challenger.predict(rows), resamples=200)
    }
    rmse = results["rmse"]
    print(f"\n{rmse.sentence()}")
    # Measured 2026-12-07: champion RMSE 130.7, challenger 74.6 on September-December 2012 (2,900 rows).
    assert rmse.champion > 110 and rmse.challenger < 90
    assert rmse.verdict == "challenger" and rmse.p_value < 1e-6
    diff = decision_diff(champion.predict(rows), challenger.predict(rows), {"hr": later["hr"]}, tolerance=50)
    assert diff.changed > 0.2 * diff.rows  # many hourly forecasts move by more than 50 bikes
