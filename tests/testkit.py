"""Helpers for tests in every folder (importable as ``testkit``; fixtures live in conftest.py)."""

from __future__ import annotations

import os
import sys
import types
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from steward.core.config import Settings
from steward.core.domain.accounts import Actor, User
from steward.core.steward import Steward

REPO_ROOT = Path(__file__).resolve().parent.parent
TEST_SCRYPT_N = 2**12  # tests only; production refuses anything below OWASP's 2**17
PG_ADMIN_URL = os.environ.get("STEWARD_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
PASSWORD = "a-long-test-password"
# The key AppTests, browser tests and the audit CLI test run the seeded demo with: one template serves all.
DEMO_SECRET_KEY = "apptest-secret-key-long-enough-0123456789"

_pg_problem: str | None = None
_pg_checked = False


def postgres_problem() -> str | None:
    """None when a PostgreSQL server answers at PG_ADMIN_URL, else why not (checked once)."""
    global _pg_checked, _pg_problem
    if not _pg_checked:
        _pg_checked = True
        try:
            engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            engine.dispose()
        except Exception as exc:  # any failure means: skip with the reason
            _pg_problem = (
                f"PostgreSQL not reachable at {make_url(PG_ADMIN_URL).render_as_string()}: "
                + (str(exc).splitlines()[0])
            )
    return _pg_problem


def create_pg_database() -> str:
    name = f"steward_test_{uuid.uuid4().hex[:12]}"
    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def drop_pg_database(url: str) -> None:
    name = make_url(url).database
    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def reset_database(url: str) -> None:
    """Empty every table (keeping the schema) and restore the audit chain's genesis head."""
    from steward.core.adapters.db.engine import create_engines
    from steward.core.adapters.db.migrate import upgrade
    from steward.core.adapters.db.models import Base
    from steward.core.domain.audit import GENESIS_HASH

    engines = create_engines(url)
    upgrade(engines)  # a test may have downgraded
    names = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    with engines.write.begin() as connection:
        connection.execute(text(f"TRUNCATE TABLE {names} RESTART IDENTITY CASCADE"))
        connection.execute(
            text("INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, :g)"), {"g": GENESIS_HASH}
        )
    engines.dispose()


def make_settings(tmp_path: Path, database_url: str | None = None, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "data_dir": tmp_path / "data",
        "database_url": database_url,
        "scrypt_n": TEST_SCRYPT_N,
        "secret_key": "test-secret-key-that-is-long-enough-0123456789",
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def add_user(steward: Steward, name: str, *roles: str, password: str = PASSWORD) -> User:
    return steward.users.create(Actor.system_actor("test"), name, roles=roles, password=password)


def sign_in(steward: Steward, name: str, password: str = PASSWORD) -> Actor:
    return steward.auth.login(name, password, source="127.0.0.1").actor


@contextmanager
def plain_main() -> Iterator[None]:
    """Start child processes with a bare ``__main__``.

    ``spawn`` and ``forkserver`` children re-run the parent's ``__main__`` from
    its file. Under pytest that can be a Streamlit script an AppTest left
    behind in ``sys.modules``, which the child then tries to run and dies.
    """
    original = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = original


def demo_tokens(steward: Steward) -> dict[str, str]:
    """A fresh session per demo account."""
    from steward.core.setup.demo import DEMO_ACCOUNTS, DEMO_PASSWORD

    return {
        account.username: steward.auth.login(account.username, DEMO_PASSWORD).token
        for account in DEMO_ACCOUNTS
    }


def seeded_demo_copy(dest: Path, shared_root: Path, *, secret_key: str = DEMO_SECRET_KEY) -> None:
    """Put a copy of the seeded demo's SQLite data folder at ``dest``; seeded once per test session.

    Seeding trains pipelines and runs monitors (about 20 s of CPU); a suite that
    seeded it per test file spent minutes on the same database. The template is
    built once under ``shared_root`` (the session's temporary folder, which every
    xdist worker sees) behind a file lock, then copied: each caller owns its copy.
    The secret key is part of the template's name because the demo's audit
    checkpoints are signed with it.
    """
    import fcntl
    import hashlib
    import shutil

    from steward.core.setup.demo import seed_demo

    name = "demo-template-" + hashlib.sha256(secret_key.encode()).hexdigest()[:12]
    template = shared_root / name
    with (shared_root / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (template / "seeded").exists():
            shutil.rmtree(template, ignore_errors=True)
            settings = Settings(data_dir=template / "data", scrypt_n=TEST_SCRYPT_N, secret_key=secret_key)
            steward = Steward(settings)
            steward.upgrade_database()
            seed_demo(steward, REPO_ROOT / "steward" / "sample_data", progress=lambda _line: None, quick=True)
            steward.close()  # the last connection closing folds SQLite's WAL into the file we copy
            (template / "seeded").touch()
    shutil.copytree(template / "data", dest)


def session_root(base_temp: Path) -> Path:
    """The session's temporary folder shared by every xdist worker (each worker's own is below it)."""
    return base_temp.parent if os.environ.get("PYTEST_XDIST_WORKER") else base_temp
