"""Shared fixtures: real databases (an SQLite file always, PostgreSQL when reachable), a fixed clock."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from steward.core.adapters.db import migrate
from steward.core.adapters.db.engine import create_engines
from steward.core.clock import FixedClock
from steward.core.domain.accounts import Actor
from steward.core.steward import Steward
from testkit import create_pg_database, drop_pg_database, make_settings, postgres_problem, reset_database


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (migrating every time is slow)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    engines = create_engines(f"sqlite:///{path}")
    migrate.upgrade(engines)
    engines.dispose()  # the last connection closing checkpoints the WAL into the main file
    return path


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """One PostgreSQL database per test run (per xdist worker), created and dropped by the run."""
    problem = postgres_problem()
    if problem:
        pytest.skip(problem)
    url = create_pg_database()
    engines = create_engines(url)
    migrate.upgrade(engines)
    engines.dispose()
    try:
        yield url
    finally:
        drop_pg_database(url)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    """Each integration test runs on a fresh SQLite file and on an emptied PostgreSQL database."""
    if request.param == "sqlite":
        target = tmp_path / "steward.db"
        shutil.copyfile(sqlite_template, target)
        return f"sqlite:///{target}"
    url: str = request.getfixturevalue("postgres_database")
    reset_database(url)
    return url


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
