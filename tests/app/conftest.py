"""A seeded demo for AppTests: seeded once per test worker, copied for each module.

Seeding trains pipelines and runs monitors (tens of seconds); copying the data
folder takes a fraction of a second and keeps each module's changes its own.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st

from steward.core.steward import Steward
from testkit import DEMO_SECRET_KEY, TEST_SCRYPT_N, seeded_demo_copy, session_root

SECRET = DEMO_SECRET_KEY


def _environment(data_dir: Path) -> dict[str, str]:
    return {
        "STEWARD_DATA_DIR": str(data_dir),
        "STEWARD_SCRYPT_N": str(TEST_SCRYPT_N),
        "STEWARD_SECRET_KEY": SECRET,
    }


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("demo-template") / "data"
    seeded_demo_copy(data_dir, session_root(tmp_path_factory.getbasetemp()), secret_key=SECRET)
    return data_dir


@pytest.fixture(scope="module")
def demo_steward(demo_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Steward]:
    """This module's own copy of the seeded demo, with STEWARD_* pointing at it for the app under test."""
    data_dir = tmp_path_factory.mktemp("demo") / "data"
    shutil.copytree(demo_template, data_dir)
    with pytest.MonkeyPatch.context() as patch:
        for key in [k for k in os.environ if k.startswith("STEWARD_")]:
            patch.delenv(key)
        for key, value in _environment(data_dir).items():
            patch.setenv(key, value)
        steward = Steward()
        yield steward
        steward.close()
        st.cache_resource.clear()
