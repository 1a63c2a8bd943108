"""Shared test data for the pipeline core: a plain module (not conftest) so tests can import it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[3]
SAMPLE_DATA = REPO / "steward" / "sample_data"
SPECS = SAMPLE_DATA / "specs"

SMALL_SPEC = """
spec_version = 1

[pipeline]
name = "toy"
owner = "tests"
task = "classification"
target = "y"

[source]
type = "file"
path = "toy.csv"

[training]
seed = 7
holdout = 0.25

[schema]
columns = [
  { name = "amount", kind = "numeric", min = 0 },
  { name = "age", kind = "integer", min = 18, max = 120, nullable = true },
  { name = "colour", kind = "categorical", categories = ["red", "green", "blue"] },
  { name = "member", kind = "boolean" },
]

[model]
estimator = "LogisticRegression"
params = { C = 1.0, max_iter = 500 }

[[preprocess]]
name = "numbers"
columns = ["amount", "age", "member"]
steps = [{ transformer = "SimpleImputer", strategy = "median" }, "StandardScaler"]

[[preprocess]]
name = "codes"
columns = ["colour"]
steps = ["OneHotEncoder"]
"""


def toy_frame(rows: int = 400, seed: int = 0) -> pd.DataFrame:
    """A learnable toy classification table matching SMALL_SPEC (a few missing ages, an extra id column)."""
    rng = np.random.default_rng(seed)
    amount = rng.gamma(2.0, 100.0, size=rows)
    age = rng.integers(18, 90, size=rows).astype("float64")
    age[rng.choice(rows, size=rows // 20, replace=False)] = np.nan
    colour = rng.choice(["red", "green", "blue"], size=rows)
    member = rng.integers(0, 2, size=rows).astype(bool)
    logit = 0.01 * (amount - 200) + 0.8 * (colour == "red") - 0.5 * member
    y = (logit + rng.normal(scale=0.7, size=rows) > 0).astype("int64")
    return pd.DataFrame(
        {"id": np.arange(rows), "amount": amount, "age": age, "colour": colour, "member": member, "y": y}
    )
