"""Shared fixtures: real databases (an SQLite file always, PostgreSQL when reachable), a fixed clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.clock import FixedClock
from core.domain.accounts import Actor
from core.steward import Steward
from testkit import create_pg_database, drop_pg_database, make_settings, postgres_problem


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each integration test runs on a fresh SQLite file and on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'steward.db'}"
        return
    problem = postgres_problem()
    if problem:
        pytest.skip(problem)
    url = create_pg_database()
    try:
        yield url
    finally:
        drop_pg_database(url)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'steward.db'}"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 11, 26, 9, 0, tzinfo=UTC))


@pytest.fixture
def steward(tmp_path: Path, database_url: str, clock: FixedClock) -> Iterator[Steward]:
    """A migrated Steward on a real database with a fixed clock."""
    instance = Steward(make_settings(tmp_path, database_url), clock=clock)
    instance.upgrade_database()
    yield instance
    instance.close()


@pytest.fixture
def system() -> Actor:
    return Actor.system_actor("test")
