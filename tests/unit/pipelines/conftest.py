"""Fixtures for the pipeline core: the committed sample data, small specs, small frames."""

from __future__ import annotations

import pandas as pd
import pytest
from pipelines_testdata import SAMPLE_DATA, SMALL_SPEC, toy_frame

from core.pipelines.spec import PipelineSpec, parse_spec


@pytest.fixture
def small_spec() -> PipelineSpec:
    return parse_spec(SMALL_SPEC)


@pytest.fixture
def toy() -> pd.DataFrame:
    return toy_frame()


@pytest.fixture(scope="session")
def credit_sample() -> pd.DataFrame:
    """3,000 rows of the committed credit training data (enough for real-data behaviour, fast to fit)."""
    frame = pd.read_csv(SAMPLE_DATA / "credit" / "train.csv")
    return frame.sample(n=3000, random_state=0).reset_index(drop=True)
