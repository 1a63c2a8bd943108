"""A swap candidate's warm-up rows come from the training data's stored profile, not made-up values."""

from __future__ import annotations

import numpy as np
import pandas as pd

from steward.core.drift.profile import build_profile
from steward.core.pipelines.schema import InputSchema
from steward.core.scoring.candidate import WARMUP_ROWS, warmup_frame

SCHEMA = InputSchema.from_dict(
    {
        "columns": [
            {"name": "amount", "kind": "numeric", "min": 0, "max": 1_000_000},
            {"name": "age", "kind": "integer", "min": 18, "max": 120},
            {"name": "region", "kind": "categorical", "categories": ["north", "south", "east"]},
        ]
    }
)


def _training() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    return pd.DataFrame(
        {
            "amount": rng.lognormal(8, 0.5, 2_000).round(2),
            "age": rng.integers(25, 60, 2_000),
            "region": rng.choice(["east", "north", "south"], 2_000, p=[0.6, 0.3, 0.1]),
        }
    )


def test_warmup_rows_are_the_training_datas_own_values() -> None:
    training = _training()
    frame = warmup_frame(SCHEMA, build_profile(training))
    assert len(frame) == WARMUP_ROWS
    assert set(frame["amount"]).issubset(set(training["amount"]))
    assert set(frame["age"]).issubset(set(training["age"]))
    # quantiles (i+1)/(n+1) of the training amounts, in order: the median is the middle row
    assert frame["amount"].is_monotonic_increasing
    assert abs(frame["amount"].iloc[1] - training["amount"].median()) < training["amount"].std() * 0.05
    # the most frequent training category first
    assert list(frame["region"]) == ["east", "north", "south"]


def test_without_a_profile_the_schema_gives_values_inside_its_ranges() -> None:
    frame = warmup_frame(SCHEMA)
    assert frame["amount"].between(0, 1_000_000).all()
    assert frame["age"].between(18, 120).all()
    assert set(frame["region"]).issubset({"north", "south", "east"})
    # made-up values are nowhere near what a real training set holds
    assert not set(frame["age"]).issubset(set(range(25, 60)))


def test_a_numeric_column_profiled_as_categories_warms_up_with_numbers() -> None:
    """Drift profiles a low-cardinality integer column (a month, a payment status) as categories."""
    schema = InputSchema.from_dict(
        {
            "columns": [
                {"name": "month", "kind": "integer", "min": 1, "max": 12},
                {"name": "status", "kind": "integer", "min": -2, "max": 8},
            ]
        }
    )
    training = pd.DataFrame({"month": [5, 5, 7, 10] * 50, "status": [0, -1, 1, 0] * 50})
    profile = build_profile(training, kinds={"month": "categorical", "status": "categorical"})
    frame = warmup_frame(schema, profile)
    assert frame["month"].iloc[0] == 5  # the most frequent training month first
    assert sorted(frame["month"]) == [5, 7, 10]
    assert set(frame["status"]).issubset({0, -1, 1})
    assert pd.api.types.is_numeric_dtype(frame["month"])
