"""Real data: bike trained on 2011 drifts in 2012; credit on a random hold-out does not."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from steward.core.drift.profile import build_profile
from steward.core.drift.report import DriftOptions, compare

SAMPLE = Path(__file__).resolve().parents[3] / "steward" / "sample_data"
BIKE_TRAIN = SAMPLE / "bike" / "train_2011.csv"
BIKE_PROD = SAMPLE / "bike" / "production_2012.csv"
CREDIT_TRAIN = SAMPLE / "credit" / "train.csv"
CREDIT_PROD = SAMPLE / "credit" / "production.csv"


def need(*paths: Path) -> None:
    missing = [str(p.relative_to(SAMPLE.parent)) for p in paths if not p.exists()]
    if missing:
        pytest.skip(f"sample data not present: {', '.join(missing)}")


@pytest.mark.parametrize("mode", ["fixed", "calibrated"])
def test_bike_2011_to_2012_drifts(mode):
    need(BIKE_TRAIN, BIKE_PROD)
    train = pd.read_csv(BIKE_TRAIN)
    reference = build_profile(train, exclude=["instant", "dteday", "yr", "cnt"])
    report = compare(reference, pd.read_csv(BIKE_PROD), DriftOptions(mode=mode))
    assert report.verdict.status == "drift"
    assert "hum" in report.verdict.drifted  # 2012 was a measurably more humid year
    assert not [q for q in report.quality if q.check in ("missing_column", "extra_column")]


@pytest.mark.parametrize("mode", ["fixed", "calibrated"])
def test_credit_random_holdout_does_not_drift(mode):
    need(CREDIT_TRAIN, CREDIT_PROD)
    reference = build_profile(pd.read_csv(CREDIT_TRAIN), exclude=["ID", "default_next_month"])
    report = compare(reference, pd.read_csv(CREDIT_PROD), DriftOptions(mode=mode))
    assert report.verdict.status == "no_drift", report.verdict.reason
    assert not report.quality
