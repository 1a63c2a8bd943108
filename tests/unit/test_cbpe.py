"""Confidence-based performance estimation: the maths on known cases, then the credit pipeline on real data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from steward.core.drift.cbpe import (
    Calibrator,
    estimate,
    estimate_errors,
    fit_calibrator,
    realised,
)
from steward.core.pipelines.spec import load_spec
from steward.core.pipelines.training import train
from testkit import REPO_ROOT

SAMPLES = REPO_ROOT / "steward" / "sample_data"


def test_certain_probabilities_estimate_exactly_what_labels_would_say():
    p = np.array([1.0, 1.0, 0.0, 0.0, 1.0])
    figures = estimate(p)
    truth = realised(p, p)
    assert figures.confusion == truth.confusion
    assert figures.metric("accuracy") == 1.0 and figures.metric("roc_auc") == pytest.approx(1.0)


def test_the_expected_confusion_matrix_sums_probabilities_by_predicted_class():
    figures = estimate([0.9, 0.6, 0.3, 0.1])
    c = figures.confusion
    assert (c.true_positive, c.false_positive) == pytest.approx((1.5, 0.5))
    assert (c.false_negative, c.true_negative) == pytest.approx((0.4, 1.6))
    assert figures.metric("accuracy") == pytest.approx(3.1 / 4)


def test_on_calibrated_scores_the_estimate_tracks_the_realised_figures():
    rng = np.random.default_rng(7)
    p = rng.beta(1.2, 3.0, size=200_000)
    y = rng.random(p.size) < p
    est, real = estimate(p), realised(p, y)
    for name in ("accuracy", "precision", "recall", "f1", "roc_auc"):
        assert est.metric(name) == pytest.approx(real.metric(name), abs=0.005), name


def test_an_overconfident_model_is_corrected_by_a_calibrator_fitted_on_labelled_reference():
    rng = np.random.default_rng(11)
    truth = rng.beta(2, 5, size=50_000)
    y = rng.random(truth.size) < truth
    overconfident = truth**0.4  # same ranking, probabilities far too high
    raw_gap = abs(estimate(overconfident).metric("accuracy") - realised(overconfident, y).metric("accuracy"))
    calibrator = fit_calibrator(overconfident[:25_000], y[:25_000])
    fixed = calibrator.apply(overconfident[25_000:])
    gap = abs(estimate(fixed).metric("accuracy") - realised(fixed, y[25_000:]).metric("accuracy"))
    assert raw_gap > 0.1 and gap < 0.01
    assert Calibrator.from_dict(calibrator.to_dict()) == calibrator  # stored on a monitor as JSON


@pytest.mark.parametrize(
    ("call", "problem"),
    [
        (lambda: estimate([]), "at least one"),
        (lambda: estimate([0.2, float("nan")]), "finite"),
        (lambda: estimate([1.2]), "within"),
        (lambda: fit_calibrator(np.linspace(0, 1, 30), np.zeros(30)), "both present"),
        (lambda: fit_calibrator([0.1, 0.2], [0, 1]), "at least 20"),
        (lambda: Calibrator((0.5, 0.1), (0.0, 1.0)), "increasing"),
    ],
)
def test_bad_input_is_refused_naming_the_problem(call, problem):
    with pytest.raises(ValueError, match=problem):
        call()


WINDOW_ROWS = 1000
# Stated tolerance (also in docs/drift.md), per 1,000-row window of the demo's credit production data.
# Measured on 2026-12-07: accuracy mean 0.012, worst 0.023; ROC AUC mean 0.025, worst 0.059 (a window of
# 1,000 rows holds ~220 defaults, so the realised AUC itself varies by about 0.02 from window to window).
ACCURACY_TOLERANCE, AUC_TOLERANCE = 0.04, 0.07


def test_credit_pipeline_estimated_accuracy_and_auc_are_within_tolerance_of_the_realised_figures():
    spec = load_spec(SAMPLES / "specs" / "credit_default.toml")
    training = pd.read_csv(SAMPLES / "credit" / "train.csv")
    result = train(spec, training, importances=False)
    positions = list(result.lineage.split.holdout_positions)
    holdout = training.iloc[positions]
    reference_scores = result.pipeline.predict_proba(spec.schema.coerce(holdout))[:, 1]
    calibrator = fit_calibrator(reference_scores, holdout[spec.target].to_numpy())

    production = pd.read_csv(SAMPLES / "credit" / "production.csv").merge(
        pd.read_csv(SAMPLES / "credit" / "labels.csv"), on="ID", validate="one_to_one"
    )
    scores = calibrator.apply(result.pipeline.predict_proba(spec.schema.coerce(production))[:, 1])
    pairs = []
    for start in range(0, len(production), WINDOW_ROWS):
        window = slice(start, start + WINDOW_ROWS)
        pairs.append((estimate(scores[window]), realised(scores[window], production[spec.target][window])))
    errors = {e.metric: e for e in estimate_errors(pairs, ("accuracy", "roc_auc"))}
    assert errors["accuracy"].windows == len(production) // WINDOW_ROWS == 6
    print(f"\nCBPE on credit: {errors}")
    assert errors["accuracy"].worst_absolute_error <= ACCURACY_TOLERANCE
    assert errors["roc_auc"].worst_absolute_error <= AUC_TOLERANCE
    assert errors["accuracy"].mean_absolute_error <= ACCURACY_TOLERANCE / 2
    assert errors["roc_auc"].mean_absolute_error <= AUC_TOLERANCE / 2
