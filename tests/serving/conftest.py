"""Scoring-service tests: a real SQLite file (copied from the migrated template) and a real server process."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "integration"))

from steward.core.steward import Steward
from testkit import make_settings


@pytest.fixture
def live_steward(tmp_path: Path, sqlite_template: Path) -> Iterator[Steward]:
    """A migrated Steward on an SQLite file, on the system clock (the server uses it too)."""
    target = tmp_path / "steward.db"
    shutil.copyfile(sqlite_template, target)
    instance = Steward(make_settings(tmp_path, f"sqlite:///{target}"))
    instance.upgrade_database()
    yield instance
    instance.close()
