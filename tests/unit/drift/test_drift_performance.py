"""Realised metrics per window once labels arrive, against the training hold-out."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from steward.core.drift.performance import classification_metrics, realised_performance, regression_metrics
from steward.core.errors import InvalidInput


def test_regression_metrics_by_hand():
    m = regression_metrics(np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.0, 5.0]))
    assert m["mae"] == pytest.approx(1.0)
    assert m["rmse"] == pytest.approx(np.sqrt(5 / 3))
    assert m["r2"] == pytest.approx(1 - 5 / 2)


def test_classification_metrics_match_sklearn():
    from sklearn import metrics as skm

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    score = np.clip(y * 0.3 + rng.random(400) * 0.8, 0, 1)
    pred = (score > 0.5).astype(int)
    m = classification_metrics(y, pred, score)
    assert m["accuracy"] == pytest.approx(skm.accuracy_score(y, pred))
    assert m["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(y, pred))
    assert m["f1_macro"] == pytest.approx(skm.f1_score(y, pred, average="macro"))
    assert m["roc_auc"] == pytest.approx(skm.roc_auc_score(y, score))


def log(n: int, seed: int, noise_after: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    times = pd.date_range("2026-11-01", periods=n, freq="h", tz="UTC")
    truth = rng.normal(10, 2, n)
    noise = np.where(np.arange(n) < n // 2, 0.5, noise_after)
    predictions = pd.DataFrame({"rid": np.arange(n), "at": times, "yhat": truth + rng.normal(0, noise)})
    labels = pd.DataFrame({"rid": np.arange(n), "y": truth}).sample(frac=0.9, random_state=1)
    return predictions, labels


def test_windows_flag_degradation_against_the_holdout():
    predictions, labels = log(96, 0, noise_after=3.0)
    report = realised_performance(
        predictions, labels, task="regression", id_column="rid", prediction_column="yhat",
        label_column="y", time_column="at", window="1D", baseline={"mae": 0.4, "rmse": 0.5}, min_rows=10,
    )  # fmt: skip
    statuses = [w.status for w in report.windows]
    assert statuses == ["ok", "ok", "degraded", "degraded"]
    assert all(0.7 < w.coverage <= 1.0 for w in report.windows)
    assert "mae" in report.windows[-1].reason
    assert report.to_dict()["windows"][0]["metrics"]


def test_small_windows_get_no_verdict_and_duplicates_are_refused():
    predictions, labels = log(48, 1, noise_after=0.5)
    report = realised_performance(
        predictions, labels, task="regression", id_column="rid", prediction_column="yhat",
        label_column="y", time_column="at", window="1D", min_rows=30,
    )  # fmt: skip
    assert {w.status for w in report.windows} == {"insufficient"}
    with pytest.raises(InvalidInput, match="duplicate ids"):
        realised_performance(
            predictions, pd.concat([labels, labels.head(1)]), task="regression", id_column="rid",
            prediction_column="yhat", label_column="y",
        )  # fmt: skip
    with pytest.raises(InvalidInput, match="not in the labels"):
        realised_performance(
            predictions,
            labels,
            task="regression",
            id_column="rid",
            prediction_column="yhat",
            label_column="nope",
        )
