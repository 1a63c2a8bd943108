"""Engines for SQLite (embedded default) and PostgreSQL, with the same code on top.

SQLite gets WAL, foreign keys and a busy timeout on every connection. Write
transactions begin IMMEDIATE, so a read-then-write unit of work waits for the
lock instead of failing with "database is locked" half-way; reads stay
deferred so they never block writers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, SQLAlchemyError

from steward.core.errors import ConfigurationError

SQLITE_BUSY_TIMEOUT_MS = 5000
WRITE_OPTION = "steward_write"


@dataclass(frozen=True)
class Engines:
    """One connection pool, seen two ways: ``write`` begins IMMEDIATE on SQLite, ``read`` does not."""

    read: Engine
    write: Engine

    @property
    def dialect(self) -> str:
        return self.read.dialect.name

    def dispose(self) -> None:
        self.read.dispose()


def _describe_url(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event decide how each transaction starts.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()


def _sqlite_on_begin(connection: Any) -> None:
    write = connection.get_execution_options().get(WRITE_OPTION, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def create_engines(url: str, *, echo: bool = False) -> Engines:
    """Build engines for ``url`` or raise a one-line ConfigurationError naming the problem."""
    shown = _describe_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigurationError(f"database URL {url!r} is not a valid SQLAlchemy URL") from None
    kwargs: dict[str, Any] = {"echo": echo, "future": True}
    if parsed.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
    else:
        kwargs["pool_pre_ping"] = True
    try:
        engine = create_engine(parsed, **kwargs)
    except (NoSuchModuleError, ImportError) as exc:
        raise ConfigurationError(f"database URL {shown}: driver not available ({exc})") from None
    except (ArgumentError, TypeError) as exc:
        raise ConfigurationError(f"database URL {shown} is not usable: {exc}") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
    return Engines(read=engine, write=engine.execution_options(**{WRITE_OPTION: True}))


def check_connection(engines: Engines) -> None:
    """Open one connection now, so a bad URL fails at start-up with a clear message."""
    shown = engines.read.url.render_as_string(hide_password=True)
    try:
        with engines.read.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise ConfigurationError(f"database {shown} cannot be opened: {reason}") from None
    except SQLAlchemyError as exc:
        raise ConfigurationError(f"database {shown} cannot be opened: {exc.__class__.__name__}") from None
