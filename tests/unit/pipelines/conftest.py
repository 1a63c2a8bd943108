"""Fixtures for the pipeline core: the committed sample data, small specs, small frames."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest
from pipelines_testdata import SAMPLE_DATA, SMALL_SPEC, toy_frame
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from steward.core.pipelines.spec import PipelineSpec, parse_spec


@pytest.fixture(scope="session", autouse=True)
def one_thread_per_test_process() -> Iterator[None]:
    """OpenMP (HistGradientBoosting) busy-waits when cores are oversubscribed, as on a shared CI box.

    Results do not depend on the thread count; only the time does.
    """
    with threadpool_limits(limits=1):
        yield


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
